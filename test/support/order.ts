// The order npm test starts its files in (test/runner.ts runs them; kept apart so a unit test can
// import it without starting the suite).
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * Slowest first, from the durations CI-parity runs printed (docs/harness.md): the longest-processing-time
 * rule, which keeps the slots evenly busy to the end. Two exceptions: core first, since its build compiles the
 * default kernel (minutes of both cores) that most later files' builds take from the kernel cache, and the files
 * whose images carry other kernels (desktop, images, kernel) next, so no slot sits waiting for that compile; and,
 * for the stage cache, the three persistence files start at different times (the later ones take d2d-persist's
 * root from the cache, not build it too).
 */
export const FIRST = [
  'e2e/core',
  'e2e/desktop',
  'e2e/images',
  'e2e/kernel',
  'e2e/secureboot',
  'e2e/wifi',
  'e2e/persist-stick',
  'e2e/persist-install',
  'e2e/indocker',
  'e2e/repro',
  'e2e/persist-powercut',
  'e2e/custom',
  'e2e/badinput',
  'e2e/kernel-build',
  'e2e/desktop-app',
  'e2e/persisthost',
];

/**
 * How many test files run at once: D2D_TEST_JOBS, else 2. Two keep this 2-core machine's processors busy
 * (the runner prints how busy they were); a third would only slow every guest down.
 */
export function jobs(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.D2D_TEST_JOBS;
  if (v === undefined || v === '') return 2;
  if (!/^[1-9][0-9]?$/.test(v)) throw new Error(`D2D_TEST_JOBS must be a number of test files from 1 to 99, not '${v}'`);
  return Number(v);
}

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

