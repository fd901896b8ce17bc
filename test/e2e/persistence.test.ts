// End to end: encrypted persistence, install to disk, factory reset
// (docs/persistence.md). Real cryptsetup, GRUB and QEMU; passphrases and
// confirmations are typed on the guest's serial console as a person would.
// Two small builds (zstd level 3) serve every boot: the second is the "newer
// build" an install is upgraded to.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, openSync, readFileSync, readSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTestDisk, TEST_IMAGE_TAG, TEST_LABEL } from '../../src/vm/testdisk.js';
import { cli, E2E_DIR, SKIP } from './helpers.js';
import { Session } from '../support/vmsession.js';

const OUT = join(E2E_DIR, 'persistence');
const LOG = join(OUT, 'console.log');
const OLD = join(OUT, 'd2d-persist.iso');
const NEW = join(OUT, 'd2d-persist-new.iso');
const PASS = 'correct horse battery staple';
const TESTDISK = join(OUT, 'testdisk.iso');
// Small argon2id memory: unlocking under TCG is slow, and the point here is the flow.
const CONFIG = (name: string, generation: number): string =>
  [
    `name: ${name}`,
    'initramfs:\n  compression: zstd\n  level: 3',
    'persistence:\n  pbkdf-memory: 32768\n  wait: 10',
    'boot:\n  timeout: 4',
    `files:\n  - {path: /etc/d2d-generation, content: "${generation}\\n"}`,
    '',
  ].join('\n');

async function build(name: string, generation: number): Promise<void> {
  const dir = join(OUT, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.yaml'), CONFIG(name, generation));
  const r = await cli(['build', join(dir, 'config.yaml'), '-o', OUT]);
  assert.equal(r.status, 0, `build of ${name} failed:\n${r.stderr}`);
}

/** Unlock at the boot prompt: the wrong passphrases first, then `pass`; waits until persistence is active. */
async function unlock(s: Session, wrong: string[] = [], pass = PASS): Promise<void> {
  for (const [i, w] of wrong.entries()) {
    await s.answer(/Passphrase for \/dev\/\S+ \(empty: boot without persistence\): /, w);
    await s.waitFor(new RegExp(`persistence: wrong passphrase \\(${i + 1}\\)`), 180000);
  }
  await s.answer(/Passphrase for \/dev\/\S+ \(empty: boot without persistence\): /, pass);
  await s.waitFor(/d2d: persistence: active on \/dev\/\S+/, 300000);
}

const waitDocker = 'n=0; until docker info >/dev/null 2>&1; do n=$((n+1)); [ $n -lt 300 ] || exit 1; sleep 1; done';
const mountTestDisk = `mkdir -p /mnt/t; mountpoint -q /mnt/t || mount -o ro "$(blkid -L ${TEST_LABEL})" /mnt/t`;

describe('encrypted persistence, install, factory reset', { skip: SKIP }, () => {
  before(async () => {
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    await build('d2d-persist', 1);
    await makeTestDisk(TESTDISK);
  }, { timeout: 40 * 60000 });

  test('USB stick: create persistence, unlock after wrong passphrases, everything persists; reset settings; boot without; erase from the boot menu', { timeout: 60 * 60000 }, async () => {
    const stick = join(OUT, 'stick.img');
    copyFileSync(OLD, stick);
    truncateSync(stick, 1536 * 2 ** 20);
    const isoBytes = readFileSync(OLD);
    const spec = { boot: { kind: 'usb' as const, image: stick, writable: true }, firmware: 'bios' as const, disks: [{ file: TESTDISK, readonly: true }] };

    // Boot 1: no volume yet. Create one from the serial console, as a person would.
    let s = Session.start(spec, LOG, 'stick 1: create');
    try {
      await s.waitFor(/d2d: persistence: none/);
      await s.shell();
      s.keys('\nd2d-persist create --recovery-key\n');
      await s.answer(/Type YES to go on: /, 'YES');
      await s.answer(/New passphrase: /, 'short');
      await s.waitFor(/Too weak: it has 5 characters/);
      await s.answer(/New passphrase: /, PASS);
      await s.answer(/Again: /, PASS);
      await s.waitFor(/Persistence created on (\/dev\/sd[a-z]3)/, 600000);
      const rk = (await s.waitFor(/\n\s+([a-z2-9]{5}(-[a-z2-9]{5}){7})\s/))[1]!;
      const st = await s.try('d2d-persist status');
      assert.equal(st.status, 1, st.output);
      assert.match(st.output, /not active \(found, locked: \/dev\/sd[a-z]3/);
      // The recovery key opens it too (a second key slot).
      await s.sh(`printf '%s' '${rk}' | cryptsetup open --test-passphrase --key-file - "$(blkid -L d2d-persist)"`);
      await s.off();
    } finally {
      s.kill();
    }
    // The stick's image part is untouched: the ISO 9660 file system, byte for byte.
    const stickHead = Buffer.alloc(isoBytes.length);
    const fd = openSync(stick, 'r');
    readSync(fd, stickHead, 0, isoBytes.length, 0);
    closeSync(fd);
    const volBlocks = isoBytes.readUInt32LE(32768 + 80);
    assert.ok(stickHead.subarray(32768, volBlocks * 2048).equals(isoBytes.subarray(32768, volBlocks * 2048)), 'the ISO file system on the stick is unchanged');

    // Boot 2: three wrong passphrases, then the right one. Load and run a container, write files.
    s = Session.start(spec, LOG, 'stick 2: unlock, fill');
    try {
      await unlock(s, ['wrong one', 'wrong two', 'wrong three']);
      await s.waitFor(/persistence: first use of \/dev\/\S+: making its file system/);
      await s.sh(waitDocker, 400000);
      await s.sh(`${mountTestDisk} && docker load -q -i /mnt/t/busybox.tar`, 300000);
      await s.sh(`docker run -d --name keeper --restart=always ${TEST_IMAGE_TAG} sleep 1000000`, 300000);
      await s.sh(`docker volume create keepvol && docker run --rm -v keepvol:/v ${TEST_IMAGE_TAG} sh -c 'echo in-a-volume > /v/x'`, 300000);
      await s.sh('echo root-file > /root/r.txt && echo home-file > /home/h.txt && echo data-file > /data/d.txt && echo a-setting > /etc/docker/d2d-test-setting && sync');
      const st = await s.sh('d2d-persist status');
      assert.match(st, /persistence: active on \/dev\/sd[a-z]3/);
      assert.match(st, /data\s+\/var\/lib\/docker\s+persisted/);
      assert.match(st, /settings\s+\/root\s+persisted/);
      assert.match(st, /key slots in use: 2/);
      await s.off();
    } finally {
      s.kill();
    }

    // Boot 3: everything is there. Then ask for a settings reset.
    s = Session.start(spec, LOG, 'stick 3: all there; reset settings');
    try {
      await unlock(s);
      await s.waitFor(/persistence: file system check: clean/);
      await s.sh(waitDocker, 400000);
      assert.equal((await s.sh('cat /root/r.txt /home/h.txt /data/d.txt /etc/docker/d2d-test-setting')).trim(), 'root-file\nhome-file\ndata-file\na-setting');
      await s.sh(`docker image inspect ${TEST_IMAGE_TAG} >/dev/null`);
      await s.sh(`n=0; until [ "$(docker inspect -f '{{.State.Running}}' keeper)" = true ]; do n=$((n+1)); [ $n -lt 120 ] || exit 1; sleep 1; done`, 200000);
      assert.match(await s.sh(`docker run --rm -v keepvol:/v ${TEST_IMAGE_TAG} cat /v/x`, 300000), /in-a-volume/);
      assert.match(await s.sh('d2d-persist reset-settings --yes'), /reset at the next boot/);
      await s.off();
    } finally {
      s.kill();
    }

    // Boot 4: the settings are gone, the Docker data and files stay.
    s = Session.start(spec, LOG, 'stick 4: settings reset');
    try {
      await unlock(s);
      await s.waitFor(/persistence: settings reset to the factory defaults/);
      await s.sh('test ! -e /root/r.txt && test ! -e /etc/docker/d2d-test-setting && test -f /etc/docker/daemon.json');
      assert.equal((await s.sh('cat /home/h.txt /data/d.txt')).trim(), 'home-file\ndata-file');
      await s.sh(waitDocker, 400000);
      await s.sh(`docker image inspect ${TEST_IMAGE_TAG} >/dev/null`);
      await s.off();
    } finally {
      s.kill();
    }

    // Boot 5: an empty passphrase boots the factory-fresh system.
    s = Session.start(spec, LOG, 'stick 5: without persistence');
    try {
      await s.answer(/Passphrase for \/dev\/\S+ \(empty: boot without persistence\): /, '');
      await s.waitFor(/persistence: continuing without persistence/);
      await s.sh('test ! -e /data/d.txt && test ! -e /home/h.txt && ! mountpoint -q /var/lib/docker');
      await s.sh(waitDocker, 400000);
      const r = await s.try(`docker image inspect ${TEST_IMAGE_TAG}`);
      assert.notEqual(r.status, 0, 'no preloaded test image without persistence');
      await s.off();
    } finally {
      s.kill();
    }

    // Boot 6: the boot menu's "restore factory defaults", ERASE. No passphrase asked.
    s = Session.start(spec, LOG, 'stick 6: erase from the boot menu');
    let part = '';
    try {
      await s.waitFor(/restore factory defaults/, 300000);
      // default, verbose, without persistence, restore factory defaults
      s.keys('\x1b[B');
      await new Promise((r) => setTimeout(r, 300));
      s.keys('\x1b[B');
      await new Promise((r) => setTimeout(r, 300));
      s.keys('\x1b[B');
      await new Promise((r) => setTimeout(r, 300));
      s.keys('\r');
      await s.answer(/or press Enter to boot without changes: /, 'ERASE');
      part = (await s.waitFor(/persistence: (\/dev\/sd[a-z]3) erased; no LUKS header is left/))[1]!;
      const r = await s.try(`cryptsetup isLuks ${part}`);
      assert.notEqual(r.status, 0, 'no LUKS header on the partition (guest)');
      await s.off();
    } finally {
      s.kill();
    }
    // From the host: no LUKS header, nothing blkid recognises, the header area is zeros.
    const pt = JSON.parse(execFileSync('sfdisk', ['--json', stick], { encoding: 'utf8' })) as { partitiontable: { sectorsize?: number; partitions: { start: number; name?: string }[] } };
    const p = pt.partitiontable.partitions.find((x) => x.name === 'd2d-persist');
    assert.ok(p, 'the persistence partition is still there, empty');
    const off = p.start * 512;
    const head = Buffer.alloc(16 * 2 ** 20);
    const f2 = openSync(stick, 'r');
    readSync(f2, head, 0, head.length, off);
    closeSync(f2);
    assert.ok(head.every((b) => b === 0), 'the first 16 MiB of the partition (LUKS2 headers and key slots) are zeros');
    let probed = '';
    try {
      probed = execFileSync('blkid', ['-p', '-O', String(off), stick], { encoding: 'utf8' });
    } catch {
      /* exit 2: nothing found */
    }
    assert.doesNotMatch(probed, /crypto_LUKS/);
  });
});
