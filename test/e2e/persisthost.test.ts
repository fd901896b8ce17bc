// The persistence scripts' logic on the build host, on loop devices (no VM):
// the same target/ files the image runs. Partitioning a stick that holds a
// hybrid ISO, LUKS2 parameters, the recovery key, erase, the passphrase rules
// and refusals. The host kernel needs no dm-crypt for any of this (the first
// unlock, in the guest, makes the file system).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, copyFileSync, openSync, readSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TARGET_DIR } from '../../src/paths.js';
import { xorrisoArgv } from '../../src/tools/xorriso.js';
import { passphraseProblem } from '../../src/commands/install.js';
import { SKIP } from './helpers.js';

const LIB = join(TARGET_DIR, 'rootfs/usr/lib/d2d');
const PERSIST = join(TARGET_DIR, 'rootfs/usr/sbin/d2d-persist');
const PASS = 'correct horse battery staple';
const root = process.getuid?.() === 0;
const skip = SKIP || (!root && 'needs root (loop devices)');

function sh(argv: string[], input?: string): { status: number; out: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { input, encoding: 'utf8' });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

describe('persistence scripts on loop devices', { skip }, () => {
  let dir = '';
  let iso = '';
  let conf = '';
  const loops: string[] = [];
  const persist = (args: string[], input?: string): { status: number; out: string } =>
    sh(['env', `D2D_LIB=${LIB}`, `PERSIST_CONF=${conf}`, 'setsid', '-w', 'sh', PERSIST, ...args], input);
  const attach = (file: string): string => {
    const l = execFileSync('losetup', ['--find', '--show', '--partscan', file], { encoding: 'utf8' }).trim();
    loops.push(l);
    spawnSync('partx', ['-u', l]);
    return l;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'd2d-persisthost-'));
    conf = join(dir, 'persist.conf');
    writeFileSync(conf, 'DATA="/var/lib/docker /data"\nSETTINGS="/root"\nPBKDF_MEMORY=16384\nWAIT=0\nVOLID=X\nBUILD=x\nNAME=t\n');
    // A hybrid ISO made with the same xorriso options as a build (GPT, protective MBR, EFI partition).
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'boot/grub'), { recursive: true });
    writeFileSync(join(tree, 'boot/grub/bios.img'), Buffer.alloc(4096, 1));
    execFileSync('mkfs.fat', ['-C', join(tree, 'boot/grub/efi.img'), '1024'], { stdio: 'ignore' });
    writeFileSync(join(tree, 'payload'), Buffer.alloc(3 * 2 ** 20, 7));
    iso = join(dir, 'image.iso');
    const argv = xorrisoArgv({ output: iso, root: tree, volid: 'D2DTEST', biosImage: 'boot/grub/bios.img', efiImage: 'boot/grub/efi.img', sourceDateEpoch: 1700000000 });
    execFileSync(argv[0]!, argv.slice(1), { stdio: 'ignore' });
  });
  after(() => {
    for (const l of loops) spawnSync('losetup', ['-d', l]);
    rmSync(dir, { recursive: true, force: true });
  });

  test('passphrase rules: length, variety, well-known words', async () => {
    assert.match(await passphraseProblem('short'), /5 characters; use at least 12/);
    assert.match(await passphraseProblem('aaaaaaaaaaaabbbb'), /only 2 different characters/);
    assert.match(await passphraseProblem('mypassword-is-long'), /well-known/);
    assert.equal(await passphraseProblem(PASS), '');
  });

  test('create on a stick holding the ISO: a new partition after it, the ISO untouched; LUKS2 argon2id with pinned memory, label, recovery key; erase leaves no header', () => {
    const stick = join(dir, 'stick.img');
    copyFileSync(iso, stick);
    truncateSync(stick, 96 * 2 ** 20);
    const before = readFileSync(iso);
    const loop = attach(stick);
    const passFile = join(dir, 'pass');
    writeFileSync(passFile, `${PASS}\n`);

    // Refusals first: nothing may change.
    const weak = join(dir, 'weak');
    writeFileSync(weak, 'password1234');
    let r = persist(['create', '--append', loop, '--passphrase-file', weak, '--yes']);
    assert.notEqual(r.status, 0);
    assert.match(r.out, /the passphrase in .*weak is too weak: it contains a well-known word/);
    r = persist(['create', '--append', loop, '--passphrase-file', passFile]);
    assert.notEqual(r.status, 0, 'no terminal, no --yes: refused');
    assert.match(r.out, /needs a typed confirmation, and there is no terminal: add --yes/);
    let names = (JSON.parse(execFileSync('sfdisk', ['--json', loop], { encoding: 'utf8' })) as { partitiontable: { partitions: { name?: string }[] } }).partitiontable.partitions.map((p) => p.name);
    assert.ok(!names.includes('d2d-persist'), 'the refusals added no partition');

    r = persist(['create', '--append', loop, '--passphrase-file', passFile, '--recovery-key', '--yes']);
    assert.equal(r.status, 0, r.out);
    const part = /Persistence created on (\S+)\./.exec(r.out)?.[1];
    assert.ok(part, r.out);
    const rk = /\n\s+([a-z2-9]{5}(?:-[a-z2-9]{5}){7})\n/.exec(r.out)?.[1];
    assert.ok(rk, `a recovery key was printed:\n${r.out}`);
    const pt = JSON.parse(execFileSync('sfdisk', ['--json', loop], { encoding: 'utf8' })) as { partitiontable: { lastlba: number; partitions: { node: string; start: number; size: number; name?: string }[] } };
    names = pt.partitiontable.partitions.map((p) => p.name);
    assert.equal(names.filter((n) => n === 'd2d-persist').length, 1);
    const np = pt.partitiontable.partitions.find((p) => p.name === 'd2d-persist')!;
    assert.ok(np.start * 512 >= before.length, 'the new partition starts after the ISO');
    assert.ok(pt.partitiontable.lastlba > before.length / 512, 'the backup GPT moved to the end of the stick');

    // The ISO 9660 file system on the stick is byte for byte the ISO's.
    const head = Buffer.alloc(before.length);
    const fd = openSync(stick, 'r');
    readSync(fd, head, 0, head.length, 0);
    closeSync(fd);
    const vol = before.readUInt32LE(32768 + 80) * 2048;
    assert.ok(head.subarray(32768, vol).equals(before.subarray(32768, vol)));

    const dump = execFileSync('cryptsetup', ['luksDump', part], { encoding: 'utf8' });
    assert.match(dump, /^Version:\s+2$/m);
    assert.match(dump, /^Label:\s+d2d-persist$/m);
    assert.match(dump, /^Subsystem:\s+d2d-fresh$/m, 'marked for its file system to be made at the first unlock');
    assert.match(dump, /PBKDF:\s+argon2id/);
    assert.match(dump, /Memory:\s+16384$/m, 'argon2id memory pinned to the configured KiB');
    assert.equal((dump.match(/^\s+\d+: luks2$/gm) ?? []).length, 2, 'passphrase + recovery key');
    assert.equal(sh(['cryptsetup', 'open', '--test-passphrase', '--key-file', '-', part], PASS).status, 0, 'the passphrase (without the file\'s newline) opens it');
    assert.equal(sh(['cryptsetup', 'open', '--test-passphrase', '--key-file', '-', part], rk).status, 0, 'the recovery key opens it');
    assert.notEqual(sh(['cryptsetup', 'open', '--test-passphrase', '--key-file', '-', part], 'not the passphrase').status, 0);
    assert.match(execFileSync('blkid', ['-p', part], { encoding: 'utf8' }), /TYPE="crypto_LUKS"/);

    // A second create on the same stick is refused: there is a volume already? No: it reuses the partition only after an erase.
    r = persist(['erase', '--device', part]);
    assert.notEqual(r.status, 0);
    assert.match(r.out, /typed confirmation/);
    r = persist(['erase', '--device', part, '--yes']);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /no LUKS header is left/);
    assert.notEqual(sh(['cryptsetup', 'isLuks', part]).status, 0);
    assert.notEqual(sh(['cryptsetup', 'open', '--test-passphrase', '--key-file', '-', part], PASS).status, 0, 'the old passphrase opens nothing');
    assert.doesNotMatch(sh(['blkid', '-p', part]).out, /\bTYPE=/, 'blkid finds no signature');

    // Create again: the emptied d2d-persist partition is used again, no new partition.
    r = persist(['create', '--append', loop, '--passphrase-file', passFile, '--yes']);
    assert.equal(r.status, 0, r.out);
    const again = (JSON.parse(execFileSync('sfdisk', ['--json', loop], { encoding: 'utf8' })) as { partitiontable: { partitions: { name?: string }[] } }).partitiontable.partitions;
    assert.equal(again.length, pt.partitiontable.partitions.length);
    assert.equal(sh(['cryptsetup', 'isLuks', part]).status, 0);
  });

  test('create --device on a whole disk: a GPT with one partition; refuses a mounted or missing device', () => {
    const disk = join(dir, 'disk.img');
    writeFileSync(disk, '');
    truncateSync(disk, 48 * 2 ** 20);
    const loop = attach(disk);
    const passFile = join(dir, 'pass2');
    writeFileSync(passFile, PASS);
    let r = persist(['create', '--device', '/dev/nonexistent', '--passphrase-file', passFile, '--yes']);
    assert.notEqual(r.status, 0);
    assert.match(r.out, /\/dev\/nonexistent is not a block device/);
    r = persist(['create', '--device', loop, '--passphrase-file', passFile, '--yes']);
    assert.equal(r.status, 0, r.out);
    const parts = (JSON.parse(execFileSync('sfdisk', ['--json', loop], { encoding: 'utf8' })) as { partitiontable: { label: string; partitions: { name?: string }[] } }).partitiontable;
    assert.equal(parts.label, 'gpt');
    assert.deepEqual(parts.partitions.map((p) => p.name), ['d2d-persist']);
    r = persist(['frobnicate']);
    assert.equal(r.status, 1);
    assert.match(r.out, /unknown command frobnicate/);
  });
});
