// End to end: encrypted persistence, install to disk, factory reset
// (docs/persistence.md). Real cryptsetup, GRUB and QEMU; passphrases and
// confirmations are typed on the guest's serial console as a person would.
// Two small builds (zstd level 3) serve every boot: the second is the "newer
// build" an install is upgraded to.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTestDisk, TEST_IMAGE_TAG, TEST_LABEL } from '../../src/vm/testdisk.js';
import { TARGET_DIR } from '../../src/paths.js';
import { cli, e2eDir, SKIP } from './helpers.js';
import { Session, withSession } from '../support/vmsession.js';

const OUT = e2eDir('persistence');
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
  // Working on these tests: D2D_E2E_REUSE=1 keeps the images of the last run.
  if (process.env.D2D_E2E_REUSE === '1' && existsSync(join(OUT, `${name}.iso`))) return;
  const dir = join(OUT, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.yaml'), CONFIG(name, generation));
  const r = await cli(['build', join(dir, 'config.yaml'), '-o', OUT]);
  assert.equal(r.status, 0, `build of ${name} failed:\n${r.stderr}`);
}

/**
 * Unlock at the boot prompt: the wrong passphrases first, then `pass`; waits until persistence
 * is active and returns the boot's console text up to there (the unlock's messages).
 */
async function unlock(s: Session, wrong: string[] = [], pass = PASS): Promise<string> {
  const from = s.m.console.length;
  for (const [i, w] of wrong.entries()) {
    await s.answer(/Passphrase for \/dev\/\S+ \(empty: boot without persistence\): /, w);
    await s.waitFor(new RegExp(`persistence: wrong passphrase \\(${i + 1}\\)`), 180000);
  }
  await s.answer(/Passphrase for \/dev\/\S+ \(empty: boot without persistence\): /, pass);
  await s.waitFor(/d2d: persistence: active on \/dev\/\S+/, 300000);
  return s.m.console.transcript.slice(from);
}

// (Subshells: an `exit` must not end the guest's shell the harness types into.)
const waitDocker = '(n=0; until docker info >/dev/null 2>&1; do n=$((n+1)); [ $n -lt 300 ] || exit 1; sleep 1; done)';
const mountTestDisk = `mkdir -p /mnt/t; mountpoint -q /mnt/t || mount -o ro "$(blkid -L ${TEST_LABEL})" /mnt/t`;

describe('encrypted persistence, install, factory reset', { skip: SKIP }, () => {
  before(async () => {
    if (process.env.D2D_E2E_REUSE !== '1') rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    rmSync(LOG, { force: true });
    await build('d2d-persist', 1);
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
    await withSession(LOG, () => Session.start(spec, LOG, 'stick 2: unlock, fill'), async (s) => {
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
      await s.off();
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
    await withSession(LOG, () => Session.start(spec, LOG, 'stick 5: erase from the boot menu'), async (s) => {
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

  test('power cut: 5 times the plug is pulled while the guest writes and syncs; every synced write survives and the file system checks clean; an empty passphrase boots without persistence', { timeout: 60 * 60000 }, async () => {
    // The volume is made on the host, with the image's own d2d-persist on a loop device.
    const disk = join(OUT, 'powercut.img');
    writeFileSync(disk, '');
    truncateSync(disk, 256 * 2 ** 20);
    const passFile = join(OUT, 'pass');
    writeFileSync(passFile, PASS);
    const loop = execFileSync('losetup', ['--find', '--show', disk], { encoding: 'utf8' }).trim();
    try {
      const conf = join(OUT, 'persist.conf');
      writeFileSync(conf, 'PBKDF_MEMORY=32768\n');
      execFileSync('env', [`D2D_LIB=${join(TARGET_DIR, 'rootfs/usr/lib/d2d')}`, `PERSIST_CONF=${conf}`, 'setsid', '-w', 'sh', join(TARGET_DIR, 'rootfs/usr/sbin/d2d-persist'), 'create', '--device', loop, '--passphrase-file', passFile, '--yes'], { stdio: 'pipe' });
    } finally {
      execFileSync('losetup', ['-d', loop]);
    }
    const kernel = { kind: 'kernel' as const, kernel: join(OUT, 'd2d-persist.kernel'), initrd: join(OUT, 'd2d-persist.initrd') };
    const append = 'console=tty0 console=ttyS0,115200 quiet';
    const writer = (round: number): string =>
      `cat >/run/writer.sh <<'EOF'\nmkdir -p /data/pc; i=0\nwhile :; do i=$((i+1)); f=/data/pc/r${round}-$i; yes "r${round}-i$i" | head -c 65536 >"$f.tmp" && mv "$f.tmp" "$f" && sync && echo "D2D-SYNCED ${round} $i" >/dev/ttyS0; done\nEOF\n(setsid sh /run/writer.sh >/dev/null 2>&1 </dev/null &)`;
    const verify = (round: number, n: number): string =>
      `(i=1; while [ $i -le ${n} ]; do f=/data/pc/r${round}-$i; [ "$(yes "r${round}-i$i" | head -c 65536 | sha256sum)" = "$(sha256sum <"$f")" ] || { echo "BAD $f"; exit 1; }; i=$((i+1)); done; echo verified ${n})`;
    let synced = 0;
    // Rounds 0-4 each end with the plug pulled while the writer runs; rounds 1-4 first check the cut before.
    for (let round = 0; round <= 4; round++) {
      await withSession(LOG, () => Session.start({ boot: { ...kernel, append }, firmware: 'bios', disks: [{ file: disk }] }, LOG, `power cut: round ${round}`), async (s) => {
        const said = await unlock(s);
        if (round > 0) {
          const fsck = /persistence: file system check: (clean|repaired \(e2fsck exit \d\))/.exec(said)?.[1] ?? `no check reported:\n${said}`;
          assert.ok(fsck === 'clean' || /exit 1/.test(fsck), `after power cut ${round}: ${fsck}`);
          assert.match(await s.sh(verify(round - 1, synced), 300000), new RegExp(`verified ${synced}`));
        }
        await s.sh(writer(round));
        await s.waitFor(new RegExp(`D2D-SYNCED ${round} 12\\b`), 300000);
        await s.pullPlug();
        const seen = [...s.m.console.transcript.matchAll(new RegExp(`D2D-SYNCED ${round} (\\d+)`, 'g'))].map((x) => Number(x[1]));
        synced = Math.max(...seen);
      }, { disks: [disk] });
    }
    // Last, one boot for the fifth cut: an empty passphrase boots the factory-fresh system; then the volume is
    // opened by hand and checked as the unlock would (e2fsck -p: the journal replayed, clean or repaired), then
    // fully and read-only (e2fsck -f -n), and round 4's synced writes are all there.
    await withSession(LOG, () => Session.start({ boot: { ...kernel, append }, firmware: 'bios', disks: [{ file: disk }] }, LOG, 'power cut: without persistence, then the fifth cut checked by hand'), async (s) => {
      await s.answer(/Passphrase for \/dev\/\S+ \(empty: boot without persistence\): /, '');
      await s.waitFor(/persistence: continuing without persistence/);
      // (Not `mountpoint /var/lib/docker`: dockerd bind-mounts its root onto itself to set its propagation.)
      await s.sh('test ! -e /data/pc && ! grep -q "^/dev/mapper/d2d-persist " /proc/self/mounts');
      await s.sh(`printf '%s' '${PASS}' | cryptsetup open --key-file - "$(blkid -L d2d-persist)" pc`, 300000);
      const p = await s.try('e2fsck -p /dev/mapper/pc', 300000);
      assert.ok(p.status === 0 || p.status === 1, `after power cut 5, e2fsck -p exit ${p.status}:\n${p.output}`);
      const r = await s.try('e2fsck -f -n /dev/mapper/pc', 300000);
      assert.equal(r.status, 0, `e2fsck -f -n after 5 power cuts:\n${r.output}`);
      await s.sh('mkdir -p /mnt/pc && mount -o ro /dev/mapper/pc /mnt/pc');
      assert.match(await s.sh(verify(4, synced).replaceAll('/data/pc/', '/mnt/pc/state/data/pc/'), 300000), new RegExp(`verified ${synced}`));
      await s.off();
    }, { disks: [disk] });
  });

  test('install to a disk image: BIOS boot with persistence; upgrade to a newer build, UEFI boots it; the fallback entry boots the old one', { timeout: 60 * 60000 }, async () => {
    await build('d2d-persist-new', 2);
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
    const names = (JSON.parse(execFileSync('sfdisk', ['--json', disk], { encoding: 'utf8' })) as { partitiontable: { partitions: { name?: string }[] } }).partitiontable.partitions.map((p) => p.name);
    assert.deepEqual(names, ['d2d-esp', 'd2d-bios', 'd2d-persist']);

    const boot = (firmware: 'bios' | 'uefi', title: string): Session => Session.start({ boot: { kind: 'disk', image: disk, writable: true }, firmware }, LOG, title);
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

    await withSession(LOG, () => boot('bios', 'install: BIOS, fallback entry'), async (s) => {
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
});
