// `debian2docker cache`: the report, and clean with and without --older-than, on real folders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheReport, cleanCaches, formatCacheReport } from '../../src/commands/cache.js';
import { snapshotAptCache } from '../../src/stages/aptcache.js';
import { scratchDir } from '../support/scratch.js';

const DAY = 86400_000;

function fixture(): { packages: string; stages: string; kernels: string; now: number } {
  const d = scratchDir('d2d-cache-');
  const dirs = { packages: join(d, 'apt'), stages: join(d, 'stages'), kernels: join(d, 'kernels') };
  mkdirSync(dirs.packages, { recursive: true });
  const now = Date.now();
  const age = (p: string, days: number): void => utimesSync(p, new Date(now - days * DAY), new Date(now - days * DAY));
  writeFileSync(join(dirs.packages, 'old_1_amd64.deb'), 'x'.repeat(1000));
  age(join(dirs.packages, 'old_1_amd64.deb'), 40);
  writeFileSync(join(dirs.packages, 'new_2_amd64.deb'), 'y'.repeat(500));
  writeFileSync(join(dirs.packages, 'lock'), '');
  writeFileSync(join(dirs.packages, '.gone_1_amd64.deb.123.partial'), 'z');
  age(join(dirs.packages, '.gone_1_amd64.deb.123.partial'), 1);
  for (const [key, days] of [['aaaa', 40], ['bbbb', 1]] as const) {
    mkdirSync(join(dirs.stages, key), { recursive: true });
    writeFileSync(join(dirs.stages, key, 'rootfs.cpio.xz'), 'r'.repeat(2000));
    writeFileSync(join(dirs.stages, key, 'entry.json'), '{}');
    age(join(dirs.stages, key, 'entry.json'), days);
  }
  mkdirSync(join(dirs.stages, 'not-an-entry'));
  for (const [key, days] of [['k-old', 40], ['k-new', 1]] as const) {
    mkdirSync(join(dirs.kernels, key), { recursive: true });
    writeFileSync(join(dirs.kernels, key, 'vmlinuz'), 'v'.repeat(3000));
    writeFileSync(join(dirs.kernels, key, 'kernel.json'), JSON.stringify({ release: `6.12.${days}-d2d`, version: '6.12.118-1' }));
    age(join(dirs.kernels, key), days);
  }
  // A compile still running (its lock and partial folder) is not an entry.
  mkdirSync(join(dirs.kernels, '.k-next.lock'));
  mkdirSync(join(dirs.kernels, '.k-next.77.partial'));
  return { ...dirs, now };
}

test('the report counts packages and root stages, newest stage first', () => {
  const f = fixture();
  const r = cacheReport(f);
  assert.equal(r.packages.files, 2);
  assert.equal(r.packages.bytes, 1500);
  assert.deepEqual(r.stages.entries.map((e) => e.key), ['bbbb', 'aaaa']);
  assert.equal(r.stages.bytes, 2 * 2002);
  assert.match(formatCacheReport(r), /2 packages, 0\.0 MB\n.*2 root stages/);
  assert.deepEqual(r.kernels.entries.map((e) => [e.key, e.release]), [['k-new', '6.12.1-d2d'], ['k-old', '6.12.40-d2d']]);
  assert.match(formatCacheReport(r), /kernel cache .*: 2 compiled kernels, .*\n {2}k-new .* 6\.12\.1-d2d \(source 6\.12\.118-1\)/);
});

test('clean --older-than keeps what builds used recently; clean removes the rest, only the caches\' own files', () => {
  const f = fixture();
  const some = cleanCaches({ packages: true, stages: true, kernels: true, olderThanDays: 30 }, f, f.now);
  assert.deepEqual(some.packages, { files: 1, bytes: 1000 });
  assert.deepEqual(some.stages, { entries: 1, bytes: 2002 });
  assert.equal(some.kernels.entries, 1);
  assert.deepEqual(readdirSync(f.kernels).sort(), ['.k-next.77.partial', '.k-next.lock', 'k-new'], 'a running compile\'s folders stay');
  assert.deepEqual(readdirSync(f.packages).sort(), ['lock', 'new_2_amd64.deb'], 'the stale partial goes too');
  assert.deepEqual(readdirSync(f.stages).sort(), ['bbbb', 'not-an-entry']);
  const only = cleanCaches({ packages: false, stages: true }, f, f.now);
  assert.equal(only.stages.entries, 1);
  assert.ok(existsSync(join(f.packages, 'new_2_amd64.deb')), '--stages leaves the packages');
  cleanCaches({ packages: true, stages: true }, f, f.now);
  assert.deepEqual(readdirSync(f.packages), ['lock']);
  assert.deepEqual(readdirSync(f.stages), ['not-an-entry']);
});

test('a build marks the cached packages it copies as used, and only those', () => {
  const f = fixture();
  const before = statSync(join(f.packages, 'old_1_amd64.deb')).mtimeMs;
  snapshotAptCache(f.packages, scratchDir('d2d-cache-work-'), 'rootfs', ['new=2']);
  assert.equal(statSync(join(f.packages, 'old_1_amd64.deb')).mtimeMs, before, 'not copied, not marked');
  snapshotAptCache(f.packages, scratchDir('d2d-cache-work-'), 'rootfs', ['old=1']);
  assert.ok(statSync(join(f.packages, 'old_1_amd64.deb')).mtimeMs > f.now - DAY, 'copied, so marked used');
  assert.equal(cleanCaches({ packages: true, stages: false, olderThanDays: 30 }, f).packages.files, 0);
});
