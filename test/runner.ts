// `npm test`: every *.test.js under dist/test, two files at a time (D2D_TEST_JOBS), the slowest first.
//
// `node --test DIR` sorts its files by path and starts them in that order, so a long file that sorts
// late ran alone at the end of the suite, a core idle. This runner starts the files in the order of
// test/support/order.ts (measured durations, longest first), then every other test file, and prints the
// TAP that CI reads and, at the end, each file's duration and how busy the processors were.
// Two slots on two cores: a guest under TCG keeps one core busy, and so do a build's compressors.
import { join, resolve } from 'node:path';
import { run } from 'node:test';
import { tap } from 'node:test/reporters';
import { PassThrough } from 'node:stream';
import { PACKAGE_ROOT } from '../src/paths.js';
import { countFileTime, formatDurations, type FileTime, type TestEvent } from './reporters/durations.js';
import { jobs, orderFiles, testFiles } from './support/order.js';
import { busyPercent, cpuNow } from './support/cpu.js';

async function main(): Promise<void> {
  const root = join(PACKAGE_ROOT, 'dist/test');
  const only = process.argv.slice(2);
  const files = orderFiles(only.length ? only.map((f) => resolve(f)) : testFiles(root), root);
  const concurrency = jobs();
  const t0 = Date.now();
  const cpu0 = cpuNow();
  const times = new Map<string, FileTime>();
  let failed = 0;
  const events = new PassThrough({ objectMode: true });
  const stream = run({ files, concurrency });
  stream.on('data', (ev: TestEvent) => {
    if (ev.type === 'test:fail') failed++;
    countFileTime(times, ev);
    events.write(ev);
  });
  stream.on('end', () => events.end());
  for await (const chunk of events.compose(tap)) process.stdout.write(chunk as string);
  process.stdout.write(formatDurations(times, Date.now() - t0));
  const busy = busyPercent(cpu0, cpuNow());
  if (busy !== undefined) process.stdout.write(`# ${concurrency} files at a time; processors busy ${busy.toFixed(0)}% of the run\n`);
  process.exitCode = failed > 0 ? 1 : 0;
}

await main();
