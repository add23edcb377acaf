import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The @joinery/core package version (read once from its package.json). */
export const VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
})();
