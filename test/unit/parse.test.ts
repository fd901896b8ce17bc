// Parsers of tool output and small pure helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseShowDepends } from '../../src/tools/kmod.js';
import { parseSimulatedInstalls, debFileName } from '../../src/tools/apt.js';
import { parseDpkgQuery } from '../../src/stages/record.js';
import { parseLdd } from '../../src/stages/stage1extras.js';
import { archiveOrder, cpioOffsetAfter, keepPath, byteSort } from '../../src/stages/pack.js';
import { initrdSegments, writePayloadStreams } from '../../src/stages/initrd.js';
import { lockRoot } from '../../src/stages/overlay.js';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { diagnoseApt } from '../../src/stages/rootfs.js';
import { isConfigError } from '../../src/pipeline/stagecache.js';
import { tailOf, shellQuote } from '../../src/exec/run.js';
import { StageError } from '../../src/errors.js';
import { scratchDir } from '../support/scratch.js';

test('modprobe --show-depends output: files in load order, builtins noted', () => {
  const out = 'insmod /k/lib/modules/6.1/kernel/lib/libcrc32c.ko.xz \ninsmod /k/lib/modules/6.1/kernel/net/netfilter/nf_tables.ko.xz \nbuiltin crc32c\n';
  assert.deepEqual(parseShowDepends(out), { files: ['/k/lib/modules/6.1/kernel/lib/libcrc32c.ko.xz', '/k/lib/modules/6.1/kernel/net/netfilter/nf_tables.ko.xz'], builtin: true });
});

test('apt-get -s: packages and versions to install', () => {
  const out = 'NOTE: simulation\nInst linux-image-6.12.1+deb13-amd64 (6.12.1-1 Debian:13/stable [amd64])\nInst linux-image-amd64 [6.1] (6.12.1-1 Debian:13/stable [amd64])\nInst firmware-bnx2 (20250410-2 Debian:13.2/stable [all])\nConf x (1 Debian)\n';
  assert.deepEqual(parseSimulatedInstalls(out), [
    { name: 'linux-image-6.12.1+deb13-amd64', version: '6.12.1-1', arch: 'amd64' },
    { name: 'linux-image-amd64', version: '6.12.1-1', arch: 'amd64' },
    { name: 'firmware-bnx2', version: '20250410-2', arch: 'all' },
  ]);
  assert.equal(debFileName('firmware-bnx2', '20250410-2', 'all'), 'firmware-bnx2_20250410-2_all.deb');
  assert.equal(debFileName('p', '1:2.3-4'), 'p_1%3a2.3-4_amd64.deb');
});

test('dpkg-query output is sorted by name', () => {
  assert.deepEqual(parseDpkgQuery('zlib1g\t1:1.3\tamd64\nbash\t5.2\tamd64\n'), [{ name: 'bash', version: '5.2', arch: 'amd64' }, { name: 'zlib1g', version: '1:1.3', arch: 'amd64' }]);
});

test('ldd output: resolved libraries and the loader', () => {
  const out = '\tlinux-vdso.so.1 (0x00007ffd)\n\tlibzstd.so.1 => /lib/x86_64-linux-gnu/libzstd.so.1 (0x7f)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x7f)\n\t/lib64/ld-linux-x86-64.so.2 (0x7f)\n';
  assert.deepEqual(parseLdd(out), ['/lib/x86_64-linux-gnu/libzstd.so.1', '/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']);
});

test('pack leaves out virtual file systems, the contents of run/tmp, and caches', () => {
  assert.ok(!keepPath('proc'));
  assert.ok(!keepPath('dev'));
  assert.ok(keepPath('run'));
  assert.ok(keepPath('tmp'));
  assert.ok(!keepPath('tmp/x'));
  assert.ok(!keepPath('proc/1'));
  assert.ok(!keepPath('var/cache/apt/archives/x.deb'));
  assert.ok(!keepPath('var/lib/apt/lists/foo'));
  assert.ok(keepPath('usr/bin/dockerd'));
  assert.deepEqual(byteSort(['b', 'B', 'a', 'a/b', 'a-b']), ['B', 'a', 'a-b', 'a/b', 'b']);
});

test('initrd segments: stage 1 (compressed), then the payload streams in order and the sentinel, last', () => {
  // Folder listings come in the file system's order, not by name.
  assert.deepEqual(initrdSegments(['d2d/complete', 'd2d/rootfs.cpio.3.xz', 'init', 'd2d/rootfs.cpio.1.xz', 'bin', 'd2d/rootfs.cpio.2.xz', 'bin/busybox', 'd2d']), {
    stage1: ['bin', 'bin/busybox', 'd2d', 'init'],
    payload: ['d2d/rootfs.cpio.1.xz', 'd2d/rootfs.cpio.2.xz', 'd2d/rootfs.cpio.3.xz', 'd2d/complete'],
  });
});

test('payload streams: one file each, the same bytes in order; sizes that do not add up are refused', () => {
  const dir = scratchDir('d2d-streams-');
  try {
    const payload = join(dir, 'rootfs.cpio.base.xz');
    writeFileSync(payload, Buffer.from('aaaaBBcccccc'));
    assert.deepEqual(writePayloadStreams(payload, [4, 2, 6], dir), ['rootfs.cpio.1.xz', 'rootfs.cpio.2.xz', 'rootfs.cpio.3.xz']);
    assert.deepEqual(['1', '2', '3'].map((n) => readFileSync(join(dir, `rootfs.cpio.${n}.xz`), 'latin1')), ['aaaa', 'BB', 'cccccc']);
    assert.throws(() => writePayloadStreams(payload, [4, 2], dir), /12 bytes, but its streams add up to 6/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('archive order: the engine programs first (after their folders), byte order, the sentinel last', () => {
  const paths = ['usr', 'usr/bin', 'usr/sbin', 'usr/lib/d2d/rootfs-complete', 'usr/sbin/dockerd', 'usr/bin/docker', 'etc', 'etc/x', 'usr/bin/containerd', 'usr/bin/bash', 'var'];
  assert.deepEqual(archiveOrder(paths), {
    order: ['usr', 'usr/bin', 'usr/sbin', 'usr/bin/containerd', 'usr/sbin/dockerd', 'usr/bin/docker', 'etc', 'etc/x', 'usr/bin/bash', 'var', 'usr/lib/d2d/rootfs-complete'],
    engineEntries: 6,
  });
});

test('cpio offset after n entries (newc headers, 4-byte padding)', () => {
  const entry = (name: string, data: string): Buffer => {
    const hex = (n: number): string => n.toString(16).padStart(8, '0');
    const head = `070701${hex(1)}${hex(0o100644)}${hex(0)}${hex(0)}${hex(1)}${hex(0)}${hex(data.length)}${hex(0)}${hex(0)}${hex(0)}${hex(0)}${hex(name.length + 1)}${hex(0)}`;
    const pad = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
    return Buffer.concat([pad(Buffer.from(`${head}${name}\0`, 'latin1')), pad(Buffer.from(data))]);
  };
  const a = entry('usr', '');
  const b = entry('usr/bin/x', 'hello');
  const f = join(scratchDir('d2d-cpio-'), 'a.cpio');
  writeFileSync(f, Buffer.concat([a, b, entry('TRAILER!!!', '')]));
  assert.equal(cpioOffsetAfter(f, 0), 0);
  assert.equal(cpioOffsetAfter(f, 1), a.length);
  assert.equal(cpioOffsetAfter(f, 2), a.length + b.length);
});

test('root password is locked', () => {
  assert.equal(lockRoot('root::19000:0:99999:7:::\ndaemon:*:1::::::'), 'root:*:19000:0:99999:7:::\ndaemon:*:1::::::');
  assert.equal(lockRoot('root:$y$abc:19000::::::'), 'root:*:19000::::::');
});

test('apt failures are recognised and named', () => {
  const a = diagnoseApt('E: Unable to locate package no-such-pkg\nE: Unable to locate package other\n', 'trixie');
  assert.ok(a instanceof StageError);
  assert.equal(a.code, 'E_UNKNOWN_PACKAGE');
  assert.match(a.message, /no-such-pkg, other/);
  const b = diagnoseApt("W: Failed to fetch http://x/dists/trixie/InRelease  Temporary failure resolving 'x'\n", 'trixie');
  assert.equal(b?.code, 'E_MIRROR_UNREACHABLE');
  assert.equal(diagnoseApt('I: all fine\n', 'trixie'), undefined);
  // The cache key's simulated install stops the build on the config's faults only; any other failure of it
  // (the mirror, apt itself) leaves the build to go on without the cache.
  assert.ok(isConfigError(diagnoseApt('E: Unable to locate package x\n', 'trixie', { stage: 'cache-key' })));
  assert.ok(!isConfigError(b));
  assert.ok(!isConfigError(new StageError('cache-key', 'mmdebstrap exited with status 1')));
});

test('error tail prefers error-like lines; shell quoting', () => {
  assert.equal(tailOf('a\nb\nE: broken\nc\n'), 'E: broken');
  assert.equal(tailOf('a\nb\n'), 'a\nb');
  assert.equal(shellQuote(['echo', 'a b', "it's", '--x=1']), `echo 'a b' 'it'\\''s' --x=1`);
});
