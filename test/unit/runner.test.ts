// The order npm test starts its files in (test/runner.ts): the slow end-to-end files first, longest
// first, repro after core; every other test file after them; nothing that is not a test file. And the
// figures it prints at the end: how many files ran at once, how busy the processors were.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { FIRST, jobs, orderFiles } from '../support/order.js';
import { busyPercent, parseCpuLine } from '../support/cpu.js';

test('slow files first in their order, then the rest by path; repro after core', () => {
  const root = '/x/dist/test';
  const files = ['unit/b.test.js', 'e2e/repro.test.js', 'unit/a.test.js', 'e2e/core.test.js', 'e2e/new.test.js', 'e2e/persist-stick.test.js'].map((f) => `${root}/${f}`);
  assert.deepEqual(
    orderFiles(files, root).map((f) => f.slice(root.length + 1)),
    ['e2e/core.test.js', 'e2e/persist-stick.test.js', 'e2e/repro.test.js', 'e2e/new.test.js', 'unit/a.test.js', 'unit/b.test.js'],
  );
  assert.ok(FIRST.indexOf('e2e/repro') > FIRST.indexOf('e2e/core') + 2, "repro starts well after core (it reuses core's build)");
});

test('every end-to-end file has its place in the order (a new one is placed by its measured time)', () => {
  const e2e = readdirSync(join(PACKAGE_ROOT, 'test/e2e')).filter((f) => f.endsWith('.test.ts')).map((f) => `e2e/${f.replace(/\.test\.ts$/, '')}`);
  assert.ok(e2e.length >= 10, e2e.join(' '));
  assert.deepEqual(e2e.filter((f) => !FIRST.includes(f)), []);
  assert.deepEqual(FIRST.filter((f) => !e2e.includes(f)), [], 'no name in the order without its file');
});

test('D2D_TEST_JOBS: 2 by default, a number when given, a clear error otherwise', () => {
  assert.equal(jobs({}), 2);
  assert.equal(jobs({ D2D_TEST_JOBS: '' }), 2);
  assert.equal(jobs({ D2D_TEST_JOBS: '3' }), 3);
  for (const bad of ['0', 'two', '-1', '2.5', '100']) assert.throws(() => jobs({ D2D_TEST_JOBS: bad }), new RegExp(`D2D_TEST_JOBS must be a number of test files from 1 to 99, not '${bad.replace('.', '\\.')}'`));
});

test('processor busy share from two /proc/stat readings: idle and iowait are not busy', () => {
  const a = parseCpuLine('cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3\n');
  assert.deepEqual(a, { busy: 150, total: 1000 });
  const b = parseCpuLine('cpu  450 0 100 1100 150 0 0 0 0 0\n');
  assert.equal(busyPercent(a, b), 50);
  assert.equal(busyPercent(a, a), undefined);
  assert.equal(busyPercent(undefined, b), undefined);
  assert.throws(() => parseCpuLine('intr 1 2 3\n'), /no "cpu " line/);
});
