// End to end, encrypted persistence on a USB stick (docs/persistence.md): create it from the
// serial console, unlock after wrong passphrases, everything persists across boots, reset the
// settings, erase from the boot menu. Real cryptsetup, GRUB and QEMU; passphrases and confirmations
// are typed on the guest's serial console as a person would.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, openSync, readFileSync, readSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { makeTestDisk, TEST_IMAGE_TAG } from '../../src/vm/testdisk.js';
import { SKIP } from './helpers.js';
import { Session, withSession } from '../support/vmsession.js';
import { buildPersist, freshDir, mountTestDisk, PASS, persistDir, unlock, waitDocker } from './persist.js';

const { out: OUT, log: LOG, old: OLD } = persistDir('persist-stick');
const TESTDISK = join(OUT, 'testdisk.iso');

describe('encrypted persistence on a USB stick', { skip: SKIP }, () => {
  before(async () => {
    freshDir(OUT);
    await buildPersist(OUT, 'd2d-persist');
    await makeTestDisk(TESTDISK);
  }, { timeout: 40 * 60000 });

  test('USB stick: create persistence, unlock after wrong passphrases, everything persists; reset settings; erase from the boot menu', { timeout: 60 * 60000 }, async () => {
    const stick = join(OUT, 'stick.img');
    copyFileSync(OLD, stick);
    truncateSync(stick, 1536 * 2 ** 20);
    const isoBytes = readFileSync(OLD);
    const spec = { boot: { kind: 'usb' as const, image: stick, writable: true }, firmware: 'bios' as const, disks: [{ file: TESTDISK, readonly: true }] };

    // Boot 1: no volume yet. Create one from the serial console, as a person would.
    await withSession(LOG, () => Session.start(spec, LOG, 'stick 1: create'), async (s) => {
      await s.waitFor(/d2d: persistence: none/);
      await s.shell();
      s.keys('\nd2d-persist create --recovery-key\n');
      await s.answer(/Type YES to go on: /, 'YES');
      await s.answer(/New passphrase: /, 'short');
      await s.waitFor(/Too weak: it has 5 characters/);
      await s.answer(/New passphrase: /, PASS);
      await s.answer(/Again: /, PASS);
      const rk = (await s.waitFor(/\n\s+([a-z2-9]{5}(-[a-z2-9]{5}){7})\s/, 600000))[1]!;
      await s.waitFor(/Persistence created on (\/dev\/sd[a-z][0-9])/);
      const st = await s.try('d2d-persist status');
      assert.equal(st.status, 1, st.output);
      assert.match(st.output, /not active \(found, locked: \/dev\/sd[a-z][0-9]/);
      // The recovery key opens it too (a second key slot).
      await s.sh(`printf '%s' '${rk}' | cryptsetup open --test-passphrase --key-file - "$(blkid -L d2d-persist)"`);
      await s.off();
    }, { disks: [stick] });
    // The stick's image part is untouched: the ISO 9660 file system, byte for byte.
    const stickHead = Buffer.alloc(isoBytes.length);
    const fd = openSync(stick, 'r');
    readSync(fd, stickHead, 0, isoBytes.length, 0);
    closeSync(fd);
    const volBlocks = isoBytes.readUInt32LE(32768 + 80);
    assert.ok(stickHead.subarray(32768, volBlocks * 2048).equals(isoBytes.subarray(32768, volBlocks * 2048)), 'the ISO file system on the stick is unchanged');

    // Boot 2: three wrong passphrases, then the right one. Load and run a container, write files.
    await withSession(LOG, () => Session.start(spec, LOG, 'stick 2: unlock, fill; off by the power button', { qmp: true }), async (s) => {
      const said = await unlock(s, ['wrong one', 'wrong two', 'wrong three']);
      assert.match(said, /persistence: first use of \/dev\/\S+: making its file system/);
      await s.sh(waitDocker, 400000);
      await s.sh(`${mountTestDisk} && docker load -q -i /mnt/t/busybox.tar`, 300000);
      await s.sh(`docker run -d --name keeper --restart=always ${TEST_IMAGE_TAG} sleep 1000000`, 300000);
      await s.sh(`docker volume create keepvol && docker run --rm -v keepvol:/v ${TEST_IMAGE_TAG} sh -c 'echo in-a-volume > /v/x'`, 300000);
      await s.sh('echo root-file > /root/r.txt && echo home-file > /home/h.txt && echo data-file > /data/d.txt && echo a-setting > /etc/docker/d2d-test-setting && sync');
      const st = await s.sh('d2d-persist status');
      assert.match(st, /persistence: active on \/dev\/sd[a-z][0-9]/);
      assert.match(st, /data\s+\/var\/lib\/docker\s+persisted/);
      assert.match(st, /settings\s+\/root\s+persisted/);
      assert.match(st, /key slots in use: 2/);
      // The power button (QMP system_powerdown: the ACPI button) shuts down as cleanly as `poweroff`: the
      // running container and the engine stopped, the volume closed (boot 3's file system check: clean).
      await s.powerButton();
      const down = (await s.waitFor(/d2d: power button: shutting down[\s\S]*?d2d: shutdown: done/, 60000))[0];
      assert.match(down, /d2d: shutdown: stopping Docker/);
      assert.match(down, /d2d: shutdown: persistence volume closed/);
    }, { disks: [stick] });

    // Boot 3: everything is there. Then ask for a settings reset.
    await withSession(LOG, () => Session.start(spec, LOG, 'stick 3: all there; reset settings'), async (s) => {
      assert.match(await unlock(s), /persistence: file system check: clean/);
      await s.sh(waitDocker, 400000);
      assert.equal((await s.sh('cat /root/r.txt /home/h.txt /data/d.txt /etc/docker/d2d-test-setting')).trim(), 'root-file\nhome-file\ndata-file\na-setting');
      await s.sh(`docker image inspect ${TEST_IMAGE_TAG} >/dev/null`);
      await s.sh(`(n=0; until [ "$(docker inspect -f '{{.State.Running}}' keeper)" = true ]; do n=$((n+1)); [ $n -lt 120 ] || exit 1; sleep 1; done)`, 200000);
      assert.match(await s.sh(`docker run --rm -v keepvol:/v ${TEST_IMAGE_TAG} cat /v/x`, 300000), /in-a-volume/);
      assert.match(await s.sh('d2d-persist reset-settings --yes'), /reset at the next boot/);
      await s.off();
    }, { disks: [stick] });

    // Boot 4: the settings are gone, the Docker data and files stay.
    await withSession(LOG, () => Session.start(spec, LOG, 'stick 4: settings reset'), async (s) => {
      assert.match(await unlock(s), /persistence: settings reset to the factory defaults/);
      await s.sh('test ! -e /root/r.txt && test ! -e /etc/docker/d2d-test-setting && test -f /etc/docker/daemon.json');
      assert.equal((await s.sh('cat /home/h.txt /data/d.txt')).trim(), 'home-file\ndata-file');
      await s.sh(waitDocker, 400000);
      await s.sh(`docker image inspect ${TEST_IMAGE_TAG} >/dev/null`);
      await s.off();
    }, { disks: [stick] });

    // Boot 5: the boot menu's "restore factory defaults", ERASE. No passphrase asked.
    let part = '';
    await withSession(LOG, () => Session.start(spec, LOG, 'stick 5: erase from the boot menu', { bootMenu: 'wait' }), async (s) => {
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
      part = (await s.waitFor(/persistence: (\/dev\/sd[a-z][0-9]) erased; no LUKS header is left/))[1]!;
      const r = await s.try(`cryptsetup isLuks ${part}`);
      assert.notEqual(r.status, 0, 'no LUKS header on the partition (guest)');
      await s.off();
    }, { disks: [stick] });
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
