import { Worker } from 'node:worker_threads';

/**
 * What a module thread runs first: the module given, required as it is when it is built
 * JavaScript, or compiled on the way in (transpile only, as the test runner compiles the
 * sources) when it is a TypeScript source, so that the same thread runs under the test runner
 * and from the built package. esbuild's transform when it is installed (a development
 * dependency: a thread is ready in tens of milliseconds), else TypeScript's transpileModule
 * (loading the compiler costs each thread about a second).
 */
const BOOT = `
const { workerData } = require('node:worker_threads');
const boot = workerData.boot;
if (boot.esbuild) {
  const esbuild = require(boot.esbuild);
  const fs = require('node:fs');
  require.extensions['.ts'] = (m, filename) => {
    const out = esbuild.transformSync(fs.readFileSync(filename, 'utf8'), { loader: 'ts', format: 'cjs', target: 'es2022', sourcefile: filename });
    m._compile(out.code, filename);
  };
} else if (boot.typescript) {
  const ts = require(boot.typescript);
  const fs = require('node:fs');
  require.extensions['.ts'] = (m, filename) => {
    const out = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
      fileName: filename,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, sourceMap: false },
    });
    m._compile(out.outputText, filename);
  };
}
require(boot.module);
`;

/**
 * Starts a thread that runs `modulePath` (a path from `require.resolve`), which reads its
 * input from `workerData` and talks over `parentPort`.
 */
export function startModuleThread(modulePath: string, workerData: Readonly<Record<string, unknown>>): Worker {
  const source = modulePath.endsWith('.ts');
  const esbuild = source ? resolveOptional('esbuild') : null;
  const typescript = source && esbuild === null ? require.resolve('typescript') : null;
  return new Worker(BOOT, { eval: true, workerData: { ...workerData, boot: { module: modulePath, esbuild, typescript } } });
}

function resolveOptional(name: string): string | null {
  try {
    return require.resolve(name);
  } catch {
    return null;
  }
}
