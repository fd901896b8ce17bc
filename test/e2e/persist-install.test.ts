// End to end, install to disk (docs/persistence.md): `install` to a disk image with encrypted
// persistence, boot it with BIOS, upgrade it to a newer build, boot that with UEFI, and boot the
// previous build from the fallback entry. Two small builds: the second is the newer build, and also
// written as raw and qcow2 disk images (build --format, docs/disk-images.md), booted with BIOS and UEFI.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, SKIP } from './helpers.js';
import { Session, withSession } from '../support/vmsession.js';
import type { BootMenu } from '../../src/vm/machine.js';
import { buildPersist, freshDir, PASS, persistDir, unlock } from './persist.js';

const { out: OUT, log: LOG, old: OLD, new: NEW } = persistDir('persist-install');

describe('install to disk, upgrade, fallback entry', { skip: SKIP }, () => {
  before(async () => {
    freshDir(OUT);
    await buildPersist(OUT, 'd2d-persist');
    await buildPersist(OUT, 'd2d-persist-new', ['--format', 'iso,raw,qcow2', '--disk-size', '3G']);
  }, { timeout: 40 * 60000 });

  test('install to a disk image: BIOS boot with persistence; upgrade to a newer build, UEFI boots it; the fallback entry boots the old one', { timeout: 60 * 60000 }, async () => {
    const disk = join(OUT, 'disk.img');
    rmSync(disk, { force: true });
    const passFile = join(OUT, 'pass');
    writeFileSync(passFile, PASS);
    // No terminal and no --yes: refused before anything is written.
    let r = await cli(['install', OLD, '--disk', disk, '--size', '2G', '--encrypt', '--passphrase-file', passFile], { quiet: true });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /needs a terminal to ask on/);
    assert.deepEqual(execFileSync('sh', ['-c', `tr -d '\\0' <${disk} | wc -c`], { encoding: 'utf8' }).trim(), '0', 'the new disk image was not written');
    rmSync(disk);
    r = await cli(['install', OLD, '--disk', disk, '--size', '2G', '--encrypt', '--passphrase-file', passFile, '--yes', '--console-log', join(OUT, 'install1.log')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Installed d2d-persist \([0-9a-f]+\) on \/dev\/vd[a-z]: boots with BIOS and UEFI, with encrypted persistence/);
    // Not a terminal: the installer VM's minutes still show in plain lines, each wait ending with its time.
    assert.match(r.stderr, /^ {4}installer VM: booting done in \d+ s$/m);
    assert.match(r.stderr, /^ {4}installer VM: installing done in \d+ s$/m);
    const names = (JSON.parse(execFileSync('sfdisk', ['--json', disk], { encoding: 'utf8' })) as { partitiontable: { partitions: { name?: string }[] } }).partitiontable.partitions.map((p) => p.name);
    assert.deepEqual(names, ['d2d-esp', 'd2d-bios', 'd2d-persist']);

    const boot = (firmware: 'bios' | 'uefi', title: string, bootMenu: BootMenu = 'enter'): Session => Session.start({ boot: { kind: 'disk', image: disk, writable: true }, firmware }, LOG, title, { bootMenu });
    await withSession(LOG, () => boot('bios', 'install: BIOS, first boot'), async (s) => {
      await unlock(s);
      assert.equal((await s.sh('cat /etc/d2d-generation')).trim(), '1');
      await s.sh('echo installed-data > /data/inst.txt && sync');
      await s.off();
    }, { disks: [disk] });

    r = await cli(['install', NEW, '--disk', disk, '--console-log', join(OUT, 'install2.log')]);
    assert.equal(r.status, 0, r.stderr);
    // The installer VM boots with d2d.persist=off: the disk's volume is left locked.
    assert.match(readFileSync(join(OUT, 'install2.log'), 'utf8'), /persistence: off for this boot \(d2d\.persist=off\)/);
    assert.match(r.stdout, /Upgrading the install on \/dev\/vd[a-z]: [0-9a-f]+ -> [0-9a-f]+; the current build stays as a fallback entry/);

    await withSession(LOG, () => boot('uefi', 'install: UEFI, upgraded'), async (s) => {
      await unlock(s);
      assert.equal((await s.sh('cat /etc/d2d-generation')).trim(), '2', 'the newer build boots by default');
      assert.equal((await s.sh('cat /data/inst.txt')).trim(), 'installed-data', 'persistence survived the upgrade');
      await s.off();
    }, { disks: [disk] });

    await withSession(LOG, () => boot('bios', 'install: BIOS, fallback entry', 'wait'), async (s) => {
      await s.waitFor(/previous build/, 300000);
      // The newer build's four entries come first; the fifth is the previous build's default.
      for (let i = 0; i < 4; i++) {
        s.keys('\x1b[B');
        await new Promise((res) => setTimeout(res, 300));
      }
      s.keys('\r');
      await unlock(s);
      assert.equal((await s.sh('cat /etc/d2d-generation')).trim(), '1', 'the fallback entry boots the older build');
      assert.equal((await s.sh('cat /data/inst.txt')).trim(), 'installed-data');
      await s.off();
    }, { disks: [disk] });
  });

  test('build --format raw,qcow2: the raw disk image boots with BIOS and makes persistence in its free space; the qcow2 one boots with UEFI', { timeout: 30 * 60000 }, async () => {
    const raw = join(OUT, 'd2d-persist-new.raw');
    const qcow2 = join(OUT, 'd2d-persist-new.qcow2');
    const manifest = JSON.parse(readFileSync(join(OUT, 'd2d-persist-new.manifest.json'), 'utf8')) as { artifacts: Record<string, { file: string; bytes: number }> };
    assert.deepEqual(Object.keys(manifest.artifacts).sort(), ['initrd', 'iso', 'kernel', 'qcow2', 'raw']);
    // --disk-size 3G, sparse: the image's own blocks only.
    assert.equal(statSync(raw).size, 3 * 2 ** 30);
    assert.equal(manifest.artifacts.raw!.bytes, 3 * 2 ** 30);
    assert.ok(statSync(raw).blocks * 512 < 300e6, `the raw image is sparse: ${statSync(raw).blocks * 512} bytes used`);
    const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', qcow2], { encoding: 'utf8' })) as { format: string; 'virtual-size': number };
    assert.deepEqual([info.format, info['virtual-size']], ['qcow2', 3 * 2 ** 30]);
    const names = (JSON.parse(execFileSync('sfdisk', ['--json', raw], { encoding: 'utf8' })) as { partitiontable: { partitions: { name?: string }[] } }).partitiontable.partitions.map((p) => p.name);
    assert.deepEqual(names, ['d2d-esp', 'd2d-bios'], 'ESP and BIOS boot partition; the rest is free for persistence');

    // Booted as `debian2docker test` would: a throw-away overlay, the image file unchanged.
    await withSession(LOG, () => Session.start({ boot: { kind: 'disk', image: raw }, firmware: 'bios' }, LOG, 'disk image: raw, BIOS', { bootMenu: 'enter' }), async (s) => {
      await s.waitFor(/d2d: docker: ready/, 300000);
      assert.equal((await s.sh('cat /etc/d2d-generation')).trim(), '2');
      // The owner's own passphrase, on the machine: a new LUKS partition after the image's two.
      await s.sh(`printf '%s' '${PASS}' >/run/p && d2d-persist create --yes --passphrase-file /run/p`, 300000);
      // (From the table: a partition added while the disk is in use appears without its name in sysfs.)
      const parts = await s.sh(`sfdisk --json /dev/vda | sed -n 's/.*"name": *"\\([^"]*\\)".*/\\1/p' | tr '\\n' ' '`);
      assert.equal(parts.trim(), 'd2d-esp d2d-bios d2d-persist', 'persistence made in the free space');
      await s.off();
    });
    await withSession(LOG, () => Session.start({ boot: { kind: 'disk', image: qcow2 }, firmware: 'uefi' }, LOG, 'disk image: qcow2, UEFI', { bootMenu: 'enter' }), async (s) => {
      await s.waitFor(/d2d: docker: ready/, 300000);
      assert.equal((await s.sh('cat /etc/d2d-generation')).trim(), '2');
      assert.equal((await s.sh('[ -d /sys/firmware/efi ] && echo uefi')).trim(), 'uefi');
      await s.off();
    });
  });
});
