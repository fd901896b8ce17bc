// The stage cache (src/pipeline/stagecache.ts) when builds share it: an entry is whole or absent, a restore
// that loses its entry halfway leaves nothing in the work folder, and the build falls back to building.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENTRY_FILES, StageCache } from '../../src/pipeline/stagecache.js';
import { scratchDir } from '../support/scratch.js';

function workFolder(dir: string, payload: string, tag: string): void {
  mkdirSync(join(dir, 'stage1'), { recursive: true });
  for (const f of ENTRY_FILES) writeFileSync(join(dir, f), f === 'inside.json' ? JSON.stringify({ prunedFiles: [] }) : `${f} ${tag}`);
  writeFileSync(join(dir, payload), `payload ${tag}`);
  writeFileSync(join(dir, 'stage1', 'init'), `init ${tag}`);
}

test('store, look up, restore: the work folder gets the entry\'s files', () => {
  const d = scratchDir('d2d-sc-');
  const cache = new StageCache(join(d, 'cache'));
  workFolder(join(d, 'w1'), 'rootfs.cpio.xz', 'one');
  cache.store({ key: 'k1', sourceDateEpoch: 1, payload: 'rootfs.cpio.xz' }, join(d, 'w1'));
  const e = cache.lookup('k1');
  assert.ok(e);
  mkdirSync(join(d, 'w2'));
  cache.restore(e, join(d, 'w2'));
  assert.equal(readFileSync(join(d, 'w2', 'rootfs.cpio.xz'), 'utf8'), 'payload one');
  assert.equal(readFileSync(join(d, 'w2', 'stage1', 'init'), 'utf8'), 'init one');
  assert.equal(cache.lookup('k2'), undefined);
});

test('a second build storing the same key replaces the entry whole', () => {
  const d = scratchDir('d2d-sc-');
  const cache = new StageCache(join(d, 'cache'));
  workFolder(join(d, 'a'), 'p', 'a');
  workFolder(join(d, 'b'), 'p', 'b');
  cache.store({ key: 'k', sourceDateEpoch: 1, payload: 'p' }, join(d, 'a'));
  cache.store({ key: 'k', sourceDateEpoch: 2, payload: 'p' }, join(d, 'b'));
  assert.equal(cache.lookup('k')?.sourceDateEpoch, 2);
  assert.deepEqual(readdirSync(join(d, 'cache')).filter((n) => n.startsWith('.')), [], 'no temporary folder left');
});

test('an entry removed between lookup and restore: restore throws and leaves none of its files behind', () => {
  const d = scratchDir('d2d-sc-');
  const cache = new StageCache(join(d, 'cache'));
  workFolder(join(d, 'w1'), 'p', 'one');
  cache.store({ key: 'k', sourceDateEpoch: 1, payload: 'p' }, join(d, 'w1'));
  const e = cache.lookup('k');
  assert.ok(e);
  // Another build's eviction takes the payload away.
  rmSync(join(d, 'cache', 'k', 'p'));
  const w = join(d, 'w2');
  mkdirSync(w);
  writeFileSync(join(w, 'plan.json'), '{}');
  assert.throws(() => cache.restore(e, w), /ENOENT/);
  assert.deepEqual(readdirSync(w), ['plan.json']);
  assert.equal(cache.lookup('k'), undefined, 'an incomplete entry is not found');
  assert.ok(!existsSync(join(w, 'stage1')));
});
