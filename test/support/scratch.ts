// Temporary folders for tests, removed when the test file's process exits (node --test runs each
// file in its own process), failed builds' work folders in them included.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const atExit: (() => void)[] = [];

/** Run fn when this test file's process exits (after every test in it). */
export function onTestFileExit(fn: () => void): void {
  if (atExit.length === 0) process.on('exit', () => atExit.forEach((f) => f()));
  atExit.push(fn);
}

/** A new folder under the system's temporary folder, removed with its contents when the test file ends. */
export function scratchDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  onTestFileExit(() => rmSync(d, { recursive: true, force: true }));
  return d;
}
