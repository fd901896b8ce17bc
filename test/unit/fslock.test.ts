// The lock the kernel cache uses so that builds started together compile a kernel once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { withLock } from '../../src/fslock.js';
import { scratchDir } from '../support/scratch.js';

test('fslock: a second holder waits for the first, says so once, and runs after it; the lock is gone after', async () => {
  const lock = join(scratchDir('d2d-lock-'), 'k.lock');
  const order: string[] = [];
  const waits: string[] = [];
  let release!: () => void;
  const first = withLock(lock, {}, async () => {
    order.push('first in');
    await new Promise<void>((r) => (release = r));
    order.push('first out');
  });
  const second = withLock(lock, { pollMs: 20, onWait: (o) => waits.push(o) }, async () => {
    order.push('second');
    return 42;
  });
  // The second is waiting (it said so) while the first holds the lock.
  while (waits.length === 0) await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['first in']);
  release();
  assert.equal(await second, 42);
  await first;
  assert.deepEqual(order, ['first in', 'first out', 'second']);
  assert.deepEqual(waits, [`${hostname()}, pid ${process.pid}`]);
  assert.equal(existsSync(lock), false);
});

test('fslock: a lock left by a process that is gone is taken over at once; a failing holder releases it', async () => {
  const lock = join(scratchDir('d2d-lock-'), 'k.lock');
  mkdirSync(lock);
  writeFileSync(join(lock, 'owner'), `${hostname()} 2147483646`);
  const waits: string[] = [];
  await assert.rejects(withLock(lock, { onWait: (o) => waits.push(o) }, async () => Promise.reject(new Error('compile failed'))), /compile failed/);
  assert.deepEqual(waits, []);
  assert.equal(existsSync(lock), false);
});

test('fslock: another host\'s lock (a builder container) is waited for, and taken over once older than foreignMs', async () => {
  const lock = join(scratchDir('d2d-lock-'), 'k.lock');
  mkdirSync(lock);
  writeFileSync(join(lock, 'owner'), 'some-container 1');
  const waits: string[] = [];
  const t0 = Date.now();
  assert.equal(await withLock(lock, { pollMs: 20, foreignMs: 200, onWait: (o) => waits.push(o) }, async () => 'ran'), 'ran');
  assert.deepEqual(waits, ['some-container, pid 1']);
  assert.ok(Date.now() - t0 >= 200, 'it waited for the lock to age');
});

test('fslock: a lock with this host\'s name but another pid namespace (a container on the host network) counts as foreign', async () => {
  // A container with the host's name (host networking) but its own pid namespace: its pid 18 is not the host's.
  const sameName = join(scratchDir('d2d-lock-'), 'k.lock');
  mkdirSync(sameName);
  writeFileSync(join(sameName, 'owner'), `${hostname()} 1 pid:[4026531999]`);
  const told: string[] = [];
  assert.equal(await withLock(sameName, { pollMs: 20, foreignMs: 100, onWait: (o) => told.push(o) }, async () => 'ran'), 'ran');
  assert.equal(told.length, 1, 'pid 1 is alive on the host, but the lock is another namespace\'s: waited for, as a foreign one');
});
