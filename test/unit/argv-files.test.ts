// The argv builders for the commands a build runs on its own files and inside the root it makes
// (src/tools/{chroot,compress,files,kmod,sfdisk,xorriso,apt}.ts), against the exact arguments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chownArgv, hookArgv, installedPackagesArgv, keymapArgv, lddArgv, localeGenArgv } from '../../src/tools/chroot.js';
import { decompressInPlaceArgv, decompressToArgv, imageZstdArgv, stage1XzArgv } from '../../src/tools/compress.js';
import { copyTreeArgv, listTreeArgv, moveArgv, tarListArgv, tarReadArgv } from '../../src/tools/files.js';
import { depmodArgv } from '../../src/tools/kmod.js';
import { partitionTableArgv } from '../../src/tools/sfdisk.js';
import { dataIsoArgv, extractArgv } from '../../src/tools/xorriso.js';
import { aptVersionArgv } from '../../src/tools/apt.js';

test('chroot: hooks read their script from stdin and stop at the first error; the root\'s own tools', () => {
  assert.deepEqual(hookArgv('/r'), ['chroot', '/r', '/bin/sh', '-e', '-s']);
  assert.deepEqual(chownArgv('/r', 'nobody:nogroup', '/opt/x'), ['chroot', '/r', 'chown', '-R', 'nobody:nogroup', '/opt/x']);
  assert.deepEqual(localeGenArgv('/r'), ['chroot', '/r', 'locale-gen']);
  // The map's path is an argument of sh, never spliced into its script.
  assert.deepEqual(keymapArgv('/r', '/usr/share/keymaps/i386/qwerty/de.kmap.gz'), ['chroot', '/r', 'sh', '-c', 'loadkeys -q -b "$1" > /etc/d2d/keymap.bmap', 'sh', '/usr/share/keymaps/i386/qwerty/de.kmap.gz']);
  assert.deepEqual(installedPackagesArgv('/r'), ['chroot', '/r', 'dpkg-query', '-W', '-f', '${Package}\\t${Version}\\t${Architecture}\\n']);
  assert.deepEqual(lddArgv('/r', '/usr/bin/xzdec'), ['chroot', '/r', 'ldd', '/usr/bin/xzdec']);
});

test('compressors: stage 1 for the kernel\'s decoder, images with zstd, modules decompressed in place, tarballs through sh', () => {
  assert.deepEqual(stage1XzArgv('/w/stage1.cpio'), ['xz', '-T1', '--lzma2=preset=9e,dict=8MiB', '--check=crc32', '--force', '/w/stage1.cpio']);
  assert.deepEqual(imageZstdArgv(19, '/w/a.tar', '/w/a.tar.zst'), ['zstd', '-q', '-T0', '-19', '-f', '-o', '/w/a.tar.zst', '/w/a.tar']);
  assert.deepEqual(decompressInPlaceArgv('xz', ['a.ko.xz', 'b.ko.xz']), ['xz', '-d', '-f', 'a.ko.xz', 'b.ko.xz']);
  assert.deepEqual(decompressInPlaceArgv('zst', ['a.ko.zst']), ['zstd', '-q', '-d', '-f', '--rm', 'a.ko.zst']);
  // The file names are sh's arguments, never part of its script.
  assert.deepEqual(decompressToArgv('gzip', '/in $x.tar.gz', '/out.tar'), ['sh', '-c', 'gzip -d -c "$1" > "$2"', 'sh', '/in $x.tar.gz', '/out.tar']);
  assert.equal(decompressToArgv('xz', 'a', 'b')[2], 'xz -d -c -T0 "$1" > "$2"');
  assert.equal(decompressToArgv('zstd', 'a', 'b')[2], 'zstd -d -c -q "$1" > "$2"');
  assert.equal(decompressToArgv('bzip2', 'a', 'b')[2], 'bzip2 -d -c "$1" > "$2"');
});

test('files: a folder\'s contents copied (modes kept, ownership the builder\'s, when asked), listed, moved; tar read', () => {
  assert.deepEqual(copyTreeArgv('/t/rootfs', '/r', { keepMode: true }), ['cp', '-R', '--no-preserve=ownership', '--preserve=mode', '/t/rootfs/.', '/r/']);
  assert.deepEqual(copyTreeArgv('/x', '/tree'), ['cp', '-R', '/x/.', '/tree/']);
  assert.deepEqual(listTreeArgv(), ['find', '.', '-xdev', '-mindepth', '1']);
  assert.deepEqual(moveArgv('a', 'b'), ['mv', 'a', 'b']);
  assert.deepEqual(tarListArgv('i.tar'), ['tar', '-tf', 'i.tar']);
  assert.deepEqual(tarReadArgv('i.tar', 'manifest.json'), ['tar', '-xOf', 'i.tar', 'manifest.json']);
});

test('kmod, sfdisk, xorriso extraction and data ISOs, apt\'s version', () => {
  assert.deepEqual(depmodArgv('/k', '6.12.1-amd64'), ['depmod', '-b', '/k', '6.12.1-amd64']);
  assert.deepEqual(partitionTableArgv('/dev/sdb'), ['sfdisk', '--json', '/dev/sdb']);
  assert.deepEqual(extractArgv('d.iso', [['/boot/vmlinuz', '/t/vmlinuz'], ['/boot/initrd.img', '/t/initrd.img']]), ['xorriso', '-osirrox', 'on', '-indev', 'd.iso', '-extract', '/boot/vmlinuz', '/t/vmlinuz', '-extract', '/boot/initrd.img', '/t/initrd.img']);
  assert.deepEqual(dataIsoArgv('D2D-TEST', 'o.iso', '/d'), ['xorriso', '-as', 'mkisofs', '-quiet', '-R', '-V', 'D2D-TEST', '-o', 'o.iso', '/d']);
  assert.deepEqual(aptVersionArgv(), ['apt-get', '--version']);
});
