// The tar and docker-archive writers, checked by the system's own tar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tar } from '../../src/formats/tar.js';
import { busyboxImage } from '../../src/formats/dockerArchive.js';
import { scratchDir } from '../support/scratch.js';

test('tar output is read back by GNU tar with modes, links and contents', () => {
  const dir = scratchDir('d2d-tar-');
  const long = 'a/' + 'x'.repeat(120) + '/f';
  const t = tar(
    [
      { path: 'bin', type: 'dir' },
      { path: 'bin/tool', type: 'file', mode: 0o755, data: Buffer.from('#!/bin/sh\necho hi\n') },
      { path: 'bin/alias', type: 'symlink', target: 'tool' },
      { path: long, type: 'file', data: Buffer.from('deep') },
    ],
    1700000000,
  );
  writeFileSync(join(dir, 't.tar'), t);
  const listing = execFileSync('tar', ['-tvf', join(dir, 't.tar')], { encoding: 'utf8', env: { TZ: 'UTC' } });
  assert.match(listing, /^drwxr-xr-x 0\/0 +0 2023-11-14 22:13 bin\/$/m);
  assert.match(listing, /^-rwxr-xr-x 0\/0 +18 .* bin\/tool$/m);
  assert.match(listing, /bin\/alias -> tool/);
  assert.ok(listing.includes(long));
  execFileSync('tar', ['-xf', join(dir, 't.tar'), '-C', dir]);
  assert.equal(readFileSync(join(dir, long), 'utf8'), 'deep');
});

test('docker-archive: manifest, config and layer digests agree; deterministic', () => {
  const a = busyboxImage(Buffer.from('fake busybox'), 'd2d-test/busybox:1', 0);
  const b = busyboxImage(Buffer.from('fake busybox'), 'd2d-test/busybox:1', 0);
  assert.equal(a.imageId, b.imageId);
  assert.ok(a.tarball.equals(b.tarball));
  const dir = scratchDir('d2d-img-');
  writeFileSync(join(dir, 'i.tar'), a.tarball);
  execFileSync('tar', ['-xf', join(dir, 'i.tar'), '-C', dir]);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { Config: string; RepoTags: string[]; Layers: string[] }[];
  assert.deepEqual(manifest[0]!.RepoTags, ['d2d-test/busybox:1']);
  assert.equal(`sha256:${manifest[0]!.Config.replace('.json', '')}`, a.imageId);
  const config = JSON.parse(readFileSync(join(dir, manifest[0]!.Config), 'utf8')) as { rootfs: { diff_ids: string[] } };
  const layerSha = execFileSync('sha256sum', [join(dir, manifest[0]!.Layers[0]!)], { encoding: 'utf8' }).split(' ')[0];
  assert.equal(config.rootfs.diff_ids[0], `sha256:${layerSha}`);
});
