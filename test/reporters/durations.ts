// How long each test file took (the sum of its top-level tests and suites, hooks included: a file's
// top-level tests run one after another) and how many of them failed, slowest first. test/runner.ts
// (`npm test`) prints it at the end of every run, CI's included; as a node:test reporter
// (`--test-reporter=./dist/test/reporters/durations.js`) it does the same for `node --test`.
import { isAbsolute, relative } from 'node:path';

export interface TestEvent {
  type: string;
  data: { nesting?: number; file?: string; details?: { duration_ms?: number } };
}

export interface FileTime {
  ms: number;
  failed: number;
}

/** Files under a second are summed in one line: the unit tests, mostly. */
export function formatDurations(files: Map<string, FileTime>, wallMs: number, cwd = process.cwd()): string {
  const all = [...files].sort((a, b) => b[1].ms - a[1].ms);
  const quick = all.filter(([, t]) => t.ms < 1000 && !t.failed);
  const rows = all.filter((r) => !quick.includes(r));
  if (quick.length) rows.push([`${quick.length} more files, under a second each`, { ms: quick.reduce((s, [, t]) => s + t.ms, 0), failed: 0 }]);
  const name = (f: string): string => (isAbsolute(f) ? relative(cwd, f) : f);
  const width = Math.max(4, ...rows.map(([f]) => name(f).length));
  const secs = (ms: number): string => (ms / 1000).toFixed(1).padStart(7);
  const lines = rows.map(([f, t]) => `# ${name(f).padEnd(width)} ${secs(t.ms)} s${t.failed ? `  (${t.failed} failed)` : ''}`);
  return ['# test file durations (slowest first)', ...lines, `# ${'wall'.padEnd(width)} ${secs(wallMs)} s`].join('\n') + '\n';
}

/** Add a finished top-level test or suite to its file's time (other events are ignored). */
export function countFileTime(files: Map<string, FileTime>, ev: TestEvent): void {
  if ((ev.type !== 'test:pass' && ev.type !== 'test:fail') || ev.data.nesting !== 0 || !ev.data.file) return;
  const f = files.get(ev.data.file) ?? { ms: 0, failed: 0 };
  f.ms += ev.data.details?.duration_ms ?? 0;
  if (ev.type === 'test:fail') f.failed++;
  files.set(ev.data.file, f);
}

export default async function* durations(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  const t0 = Date.now();
  const files = new Map<string, FileTime>();
  for await (const ev of source) countFileTime(files, ev);
  yield formatDurations(files, Date.now() - t0);
}
