// The shared package cache: each run reads a private snapshot and new packages enter the cache whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { debPrefixes, dropAptSnapshot, isWantedDeb, mergeAptCache, snapshotAptCache } from '../../src/stages/aptcache.js';
import { keepOnlyLogs } from '../../src/commands/build.js';
import { mmdebstrapArgv } from '../../src/tools/mmdebstrap.js';
import { scratchDir } from '../support/scratch.js';

test('snapshot copies the cached packages; merge adds only new ones, by rename, and cleans up', () => {
  const d = scratchDir('d2d-aptc-');
  const cache = join(d, 'cache');
  mkdirSync(cache);
  writeFileSync(join(cache, 'a_1_amd64.deb'), 'A');
  writeFileSync(join(cache, 'lock'), '');
  const dirs = snapshotAptCache(cache, join(d, 'work', 'apt-cache'), 'rootfs');
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

test('a snapshot for known package versions holds those versions only (epochs as apt writes them)', () => {
  const d = scratchDir('d2d-aptc-');
  const cache = join(d, 'cache');
  mkdirSync(cache);
  for (const f of ['libc6_2.41-12_amd64.deb', 'libc6_2.41-11_amd64.deb', 'dash_0.5.12-12_amd64.deb', 'tzdata_2025b-4_all.deb', 'libpam0g_1.7.0-5_amd64.deb', 'libpam0g-dev_1.7.0-5_amd64.deb', 'python3-six_1%3a1.17.0-1_all.deb']) writeFileSync(join(cache, f), f);
  const wanted = ['libc6=2.41-12', 'tzdata=2025b-4', 'libpam0g=1.7.0-5', 'python3-six=1:1.17.0-1'];
  assert.ok(isWantedDeb('python3-six_1%3a1.17.0-1_all.deb', debPrefixes(wanted)));
  assert.ok(!isWantedDeb('libpam0g-dev_1.7.0-5_amd64.deb', debPrefixes(wanted)), 'a name that only starts like a wanted one');
  const dirs = snapshotAptCache(cache, join(d, 'work', 'apt-cache'), 'rootfs', wanted);
  assert.deepEqual(readdirSync(dirs.in).sort(), ['libc6_2.41-12_amd64.deb', 'libpam0g_1.7.0-5_amd64.deb', 'python3-six_1%3a1.17.0-1_all.deb', 'tzdata_2025b-4_all.deb']);
  // Without versions (the simulation failed or the cache-key stage did not run): everything.
  const all = snapshotAptCache(cache, join(d, 'work', 'apt-cache'), 'image', undefined);
  assert.equal(readdirSync(all.in).length, 7);
  dropAptSnapshot(dirs);
  assert.ok(existsSync(join(d, 'work', 'apt-cache')), 'the other snapshot is still there');
  dropAptSnapshot(all);
  assert.ok(!existsSync(join(d, 'work', 'apt-cache')), 'the last one takes the folder with it');
  assert.equal(readdirSync(cache).length, 7, 'the cache is untouched');
});

test('a failed build keeps its logs, plan and error reports, and drops the rest of the work folder', () => {
  const d = scratchDir('d2d-fail-');
  mkdirSync(join(d, 'logs'));
  writeFileSync(join(d, 'logs', 'rootfs.log'), 'E: it broke');
  writeFileSync(join(d, 'plan.json'), '{}');
  writeFileSync(join(d, 'inside-error.json'), '{}');
  mkdirSync(join(d, 'kernel', 'boot'), { recursive: true });
  writeFileSync(join(d, 'kernel', 'boot', 'vmlinuz'), 'k');
  mkdirSync(join(d, 'apt-cache', 'rootfs-in'), { recursive: true });
  writeFileSync(join(d, 'vmlinuz'), 'k');
  keepOnlyLogs(d);
  assert.deepEqual(readdirSync(d).sort(), ['inside-error.json', 'logs', 'plan.json']);
  assert.equal(readFileSync(join(d, 'logs', 'rootfs.log'), 'utf8'), 'E: it broke');
});

test('simulated installs: the same question within VERSIONS_TTL_MS is answered from the memo, without apt; its key follows the question', async () => {
  const { mkdtempSync, writeFileSync, readFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { simulatedInstall, simulateKey, readMemo, VERSIONS_TTL_MS } = await import('../../src/stages/aptcache.js');
  const d = mkdtempSync(join(tmpdir(), 'd2d-memo-'));
  const src = join(d, 'x.sources');
  writeFileSync(src, 'Types: deb\n');
  const a = { mode: 'root' as const, suite: 'trixie', mirror: 'http://mirror.invalid/debian', components: ['main'], variant: 'apt', packages: ['b', 'a'], extraSources: [src] };
  const k = simulateKey(a);
  assert.equal(simulateKey({ ...a, packages: ['a', 'b'] }), k, 'the order of packages does not matter');
  assert.notEqual(simulateKey({ ...a, packages: ['a', 'b', 'c'] }), k);
  assert.notEqual(simulateKey({ ...a, suite: 'forky' }), k);
  writeFileSync(src, 'Types: deb deb-src\n');
  assert.notEqual(simulateKey(a), k, 'an extra repository file that changed is another question');
  const memo = join(d, 'versions');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(memo);
  const now = Date.now();
  writeFileSync(join(memo, `${simulateKey(a)}.json`), JSON.stringify({ at: now - 1000, versions: ['a=1', 'b=2'] }));
  const log = join(d, 'log');
  // A mirror that does not exist: an answer can only come from the memo.
  assert.deepEqual(await simulatedInstall(a, log, memo), ['a=1', 'b=2']);
  assert.match(readFileSync(log, 'utf8'), /package versions of trixie from a lookup 1 s ago/);
  const f = join(memo, 'old.json');
  writeFileSync(f, JSON.stringify({ at: now - VERSIONS_TTL_MS - 1, versions: ['a=1'] }));
  assert.equal(readMemo(f, now), undefined, 'too old');
  writeFileSync(f, JSON.stringify({ at: now + 60000, versions: ['a=1'] }));
  assert.equal(readMemo(f, now), undefined, 'from the future (a clock set back)');
  writeFileSync(f, '{"at": 1');
  assert.equal(readMemo(f, now), undefined, 'half-written');
});
