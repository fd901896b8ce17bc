// The shared package cache: each run reads a private snapshot and new packages enter the cache whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeAptCache, snapshotAptCache } from '../../src/stages/aptcache.js';
import { mmdebstrapArgv } from '../../src/tools/mmdebstrap.js';

test('snapshot copies the cached packages; merge adds only new ones, by rename, and cleans up', () => {
  const d = mkdtempSync(join(tmpdir(), 'd2d-aptc-'));
  const cache = join(d, 'cache');
  mkdirSync(cache);
  writeFileSync(join(cache, 'a_1_amd64.deb'), 'A');
  writeFileSync(join(cache, 'lock'), '');
  const dirs = snapshotAptCache(cache, join(d, 'work'), 'rootfs');
  assert.deepEqual(readdirSync(dirs.in), ['a_1_amd64.deb']);
  // A copy, never a hard link: linking changes the shared inode's ctime, which another build's tar
  // reading the same file reports as "file changed as we read it".
  assert.notEqual(statSync(join(dirs.in, 'a_1_amd64.deb')).ino, statSync(join(cache, 'a_1_amd64.deb')).ino, 'a copy, not a hard link');
  assert.equal(statSync(join(cache, 'a_1_amd64.deb')).nlink, 1);
  assert.equal(readFileSync(join(dirs.in, 'a_1_amd64.deb'), 'utf8'), 'A');
  // The run wrote back the old package and a new one (and apt's own files).
  writeFileSync(join(dirs.out, 'a_1_amd64.deb'), 'A');
  writeFileSync(join(dirs.out, 'b_2_amd64.deb'), 'B');
  mkdirSync(join(dirs.out, 'partial'));
  assert.equal(mergeAptCache(dirs, cache), 1);
  assert.deepEqual(readdirSync(cache).sort(), ['a_1_amd64.deb', 'b_2_amd64.deb', 'lock']);
  assert.equal(readFileSync(join(cache, 'b_2_amd64.deb'), 'utf8'), 'B');
  assert.ok(!existsSync(join(d, 'work', 'apt-cache')));
});

test('mmdebstrap reads the snapshot and writes to the private folder', () => {
  const a = mmdebstrapArgv({ suite: 'trixie', mirror: '', components: ['main'], variant: 'minbase', packages: ['x'], customizeHook: ['h'], mode: 'root', aptCacheDir: '/w/in', aptCacheOut: '/w/out' });
  assert.ok(a.includes('--setup-hook=sync-in /w/in /var/cache/apt/archives/'));
  assert.ok(a.includes('--customize-hook=sync-out /var/cache/apt/archives /w/out'));
});
