// End to end, encrypted persistence against power cuts (docs/persistence.md): the plug pulled five
// times while the guest writes and syncs; every synced write survives and the file system checks
// clean; an empty passphrase boots without persistence. The volume is made on the host with the
// image's own d2d-persist; the guest boots kernel + initrd.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TARGET_DIR } from '../../src/paths.js';
import { SKIP } from './helpers.js';
import { Session, withSession } from '../support/vmsession.js';
import { buildPersist, freshDir, PASS, persistDir, unlock } from './persist.js';

const { out: OUT, log: LOG } = persistDir('persist-powercut');

describe('encrypted persistence: power cuts', { skip: SKIP }, () => {
  before(async () => {
    freshDir(OUT);
    await buildPersist(OUT, 'd2d-persist');
  }, { timeout: 40 * 60000 });

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
      // cryptsetup sized argon2id's time cost for 2 s on this host (83 passes here): 25-60 s per unlock in a
      // TCG guest, six times over. The power cuts are what this test is about, so the key slot is rewritten
      // with 4 passes (the same memory); a volume the guest makes is sized on the guest and needs none of it.
    } finally {
      execFileSync('losetup', ['-d', loop]);
    }
    // (create made a GPT with one partition: the volume is there.)
    const start = (JSON.parse(execFileSync('sfdisk', ['--json', disk], { encoding: 'utf8' })) as { partitiontable: { partitions: { start: number }[] } }).partitiontable.partitions[0]!.start;
    const part = execFileSync('losetup', ['--find', '--show', '--offset', String(start * 512), disk], { encoding: 'utf8' }).trim();
    try {
      execFileSync('cryptsetup', ['luksConvertKey', '--batch-mode', '--pbkdf', 'argon2id', '--pbkdf-memory', '32768', '--pbkdf-parallel', '1', '--pbkdf-force-iterations', '4', '--key-file', passFile, part], { stdio: 'pipe' });
      assert.match(execFileSync('cryptsetup', ['luksDump', part], { encoding: 'utf8' }), /Time cost:\s+4\n/);
    } finally {
      execFileSync('losetup', ['-d', part]);
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

});
