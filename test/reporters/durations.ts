// A node:test reporter that prints, at the end of a run, how long each test file took (the sum of its
// top-level tests and suites, hooks included: node --test runs a file's top-level tests one after
// another) and how many of its tests failed, slowest first. `npm test` uses it beside the TAP reporter,
// so every run, CI's included, ends with the figures that show where the suite's time goes.
import { relative } from 'node:path';

interface TestEvent {
  type: string;
  data: { nesting?: number; file?: string; details?: { duration_ms?: number } };
}

interface FileTime {
  ms: number;
  failed: number;
}

export function formatDurations(files: Map<string, FileTime>, wallMs: number, cwd = process.cwd()): string {
  const rows = [...files].sort((a, b) => b[1].ms - a[1].ms);
  const width = Math.max(4, ...rows.map(([f]) => relative(cwd, f).length));
  const secs = (ms: number): string => (ms / 1000).toFixed(1).padStart(7);
  const lines = rows.map(([f, t]) => `# ${relative(cwd, f).padEnd(width)} ${secs(t.ms)} s${t.failed ? `  (${t.failed} failed)` : ''}`);
  return ['# test file durations (slowest first)', ...lines, `# ${'wall'.padEnd(width)} ${secs(wallMs)} s`].join('\n') + '\n';
}

export default async function* durations(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  const t0 = Date.now();
  const files = new Map<string, FileTime>();
  for await (const ev of source) {
    if ((ev.type !== 'test:pass' && ev.type !== 'test:fail') || ev.data.nesting !== 0 || !ev.data.file) continue;
    const f = files.get(ev.data.file) ?? { ms: 0, failed: 0 };
    f.ms += ev.data.details?.duration_ms ?? 0;
    if (ev.type === 'test:fail') f.failed++;
    files.set(ev.data.file, f);
  }
  yield formatDurations(files, Date.now() - t0);
}
