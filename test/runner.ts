// `npm test`: every *.test.js under dist/test, two files at a time, the slowest first.
//
// `node --test DIR` sorts its files by path and starts them in that order, so a long file that sorts
// late (persistence) ran alone at the end of the suite, one core idle. This runner starts the files in
// the order below (measured durations, longest first: the longest-processing-time rule for two slots),
// then every other test file, and prints the TAP that CI reads and, at the end, each file's duration.
// Order constraints: repro reuses core's build (REPRO_SDE), so it starts after core.
import { join, resolve } from 'node:path';
import { run } from 'node:test';
import { tap } from 'node:test/reporters';
import { PassThrough } from 'node:stream';
import { PACKAGE_ROOT } from '../src/paths.js';
import { countFileTime, formatDurations, type FileTime, type TestEvent } from './reporters/durations.js';
import { orderFiles, testFiles } from './support/order.js';

async function main(): Promise<void> {
  const root = join(PACKAGE_ROOT, 'dist/test');
  const only = process.argv.slice(2);
  const files = orderFiles(only.length ? only.map((f) => resolve(f)) : testFiles(root), root);
  const t0 = Date.now();
  const times = new Map<string, FileTime>();
  let failed = 0;
  const events = new PassThrough({ objectMode: true });
  const stream = run({ files, concurrency: 2 });
  stream.on('data', (ev: TestEvent) => {
    if (ev.type === 'test:fail') failed++;
    countFileTime(times, ev);
    events.write(ev);
  });
  stream.on('end', () => events.end());
  for await (const chunk of events.compose(tap)) process.stdout.write(chunk as string);
  process.stdout.write(formatDurations(times, Date.now() - t0));
  process.exitCode = failed > 0 ? 1 : 0;
}

await main();
