import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

/**
 * `npm test` runs the jest projects of jest.config.js: a test file that no project matches is
 * never run, silently (an adapter's tests moved beside it once sat outside both projects). Every
 * `*.test.ts` in the repository is in exactly one project.
 */
const root = resolve(__dirname, '../../..');
const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.git', 'artifacts']);

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.isDirectory()) return SKIPPED_DIRS.has(e.name) ? [] : testFiles(join(dir, e.name));
    return e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [];
  });
}

function listed(project: string): string[] {
  const out = execFileSync(process.execPath, [join(root, 'node_modules/jest/bin/jest.js'), '--selectProjects', project, '--listTests', '--json'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return (JSON.parse(out) as string[]).map((f) => relative(root, f));
}

test('every test file of the repository is in exactly one jest project', () => {
  const files = testFiles(root)
    .map((f) => relative(root, f))
    .sort();
  const unit = listed('unit');
  const integration = listed('integration');
  expect(unit.filter((f) => integration.includes(f))).toEqual([]);
  expect(files.filter((f) => !unit.includes(f) && !integration.includes(f))).toEqual([]);
  expect(files.length).toBeGreaterThan(100);
});
