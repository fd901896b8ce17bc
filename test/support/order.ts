// The order npm test starts its files in (test/runner.ts runs them; kept apart so a unit test can
// import it without starting the suite).
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Slowest first, from the durations the last CI-parity run printed (docs/harness.md). */
export const FIRST = ['e2e/persistence', 'e2e/core', 'e2e/desktop', 'e2e/kernel', 'e2e/images', 'e2e/indocker', 'e2e/repro', 'e2e/badinput', 'e2e/persisthost'];

export function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? testFiles(p) : /\.test\.js$/.test(e.name) ? [p] : [];
  });
}

/** Every test file, the known slow ones first in FIRST's order, the rest by path. */
export function orderFiles(files: string[], root: string): string[] {
  const key = (f: string): string => relative(root, f).replace(/\.test\.js$/, '');
  const rank = (f: string): number => {
    const i = FIRST.indexOf(key(f));
    return i < 0 ? FIRST.length : i;
  };
  return [...files].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

