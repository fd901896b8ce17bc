// End to end: build the default image with the real tools, then boot it in
// QEMU as BIOS + CD-ROM, UEFI + USB stick and network boot (kernel + initrd),
// and check it from inside each guest. One build serves every boot.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { testImageReport } from '../../src/commands/test.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { cli, e2eDir, REPRO_SDE, SKIP } from './helpers.js';
import { DEFAULT_ISO_BUDGET_BYTES } from '../../src/plan/budget.js';
import { TAILORED_KERNEL_BUDGET_BYTES } from '../../src/plan/kernelBuild.js';
import { Session, withSession } from '../support/vmsession.js';
import { assertChecks, assertPassed, CHECKS, type Manifest } from './checks.js';

const OUT = e2eDir('core');
const ISO = join(OUT, 'debian2docker.iso');
const MANIFEST = join(OUT, 'debian2docker.manifest.json');
const CHECK_CONFIG = '/usr/share/docker.io/contrib/check-config.sh';

/** The firmware the scenario looks for in the guest, with the manifest's sizes: r8169's (at link up) and r8152's (at probe). */
function firmwareSample(m: Manifest): string {
  return ['rtl_nic/rtl8168h-2.fw', 'rtl_nic/rtl8153a-2.fw', 'tigon/tg3_tso5.bin', 'bnx2/bnx2-mips-09-6.2.1b.fw']
    .map((p) => `${p} ${m.firmware.files.find((f) => f.path === p)?.bytes ?? 'missing'}\n`)
    .join('');
}

describe('core image', { skip: SKIP }, () => {
  let manifest: Manifest;
  let buildLog = '';

  before(async () => {
    rmSync(OUT, { recursive: true, force: true });
    const r = await cli(['build', '-o', OUT], { env: { SOURCE_DATE_EPOCH: REPRO_SDE } });
    assert.equal(r.status, 0, `build failed:\n${r.stderr}`);
    buildLog = r.stderr;
    manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Manifest;
  });

  test('artifacts are complete and the manifest describes them', () => {
    for (const [kind, a] of Object.entries(manifest.artifacts)) {
      const file = join(OUT, a.file);
      const data = readFileSync(file);
      assert.equal(data.length, a.bytes, `${kind} size`);
      assert.equal(createHash('sha256').update(data).digest('hex'), a.sha256, `${kind} sha256`);
    }
    assert.deepEqual(Object.keys(manifest.artifacts).sort(), ['initrd', 'iso', 'kernel']);
    const names = manifest.packages.map((p) => p.name);
    for (const p of ['docker.io', 'docker-cli', 'containerd', 'runc', 'iptables']) assert.ok(names.includes(p), `package ${p}`);
    // The default kernel is the tailored one: Docker's and the boot's drivers built in, no module files.
    assert.match(manifest.kernel.version, /^\d+\.\d+\.\d+-d2d$/);
    const src = manifest.kernel.source;
    assert.equal(src.kind, 'build', JSON.stringify(src));
    for (const m of ['overlay', 'br_netfilter', 'nf_tables', 'veth', 'bridge', 'virtio_net', 'isofs', 'vxlan', 'dm-crypt']) {
      assert.ok(src.builtin?.includes(m), `${m} built in`);
    }
    assert.deepEqual(manifest.kernel.modules, []);
    // The firmware the built-in drivers name, each file from its Debian package (non-free-firmware), and
    // nothing else: 23 files for r8169, 7 for r8152, 4 for tg3, 5 for bnx2 (Linux 6.12), none missing.
    const fw = manifest.firmware;
    const by = (d: string): string[] => fw.files.filter((f) => f.for.includes(d)).map((f) => f.path);
    assert.deepEqual(fw.missing, [], JSON.stringify(fw.missing));
    assert.ok(by('r8169').length >= 20 && by('r8169').every((p) => p.startsWith('rtl_nic/')), JSON.stringify(by('r8169')));
    assert.ok(by('r8152').length >= 5 && by('tg3').length >= 3 && by('bnx2').length >= 4, JSON.stringify(fw.files.map((f) => [f.path, f.for])));
    assert.deepEqual(new Set(fw.files.flatMap((f) => f.for)), new Set(['r8169', 'r8152', 'tg3', 'bnx2']));
    assert.equal(fw.files.find((f) => f.path === 'rtl_nic/rtl8168h-2.fw')?.package, 'firmware-realtek');
    assert.equal(fw.files.find((f) => f.path === 'tigon/tg3_tso5.bin')?.package, 'firmware-misc-nonfree');
    assert.equal(fw.bytes, fw.files.reduce((s, f) => s + f.bytes, 0));
    assert.ok(fw.bytes > 200e3 && fw.bytes < 1e6, `firmware ${fw.bytes} bytes`);
    // Compiled by this build, or taken from the kernel cache when another build on the machine compiled it first;
    // a root stage taken whole from the stage cache (its key holds the kernel's) needs no kernel step at all.
    if ('rootfs (cached)' in manifest.stages) {
      assert.match(buildLog, /root file system from the stage cache \([0-9a-f]{32}\)/);
      assert.doesNotMatch(buildLog, /kernel-build: compile:/, 'a cached root stage compiles nothing');
    } else {
      assert.match(buildLog, /kernel-build: compile: 100% \(\d+ files\) in \d+ s|kernel-build: \S+-d2d from the kernel cache \([0-9a-f]{32}\)/);
    }
    assert.ok(manifest.artifacts.kernel!.bytes <= TAILORED_KERNEL_BUDGET_BYTES, `bzImage ${manifest.artifacts.kernel!.bytes} bytes, over its budget of ${TAILORED_KERNEL_BUDGET_BYTES} (target/kernel/*.config)`);
    assert.ok(manifest.rootfs.compressedBytes < manifest.rootfs.cpioBytes);
    // Pruned files are listed with their size and the reason; ctr is one of them.
    const ctr = manifest.rootfs.pruned.find((p) => p.path === '/usr/bin/ctr');
    assert.ok(ctr && ctr.bytes > 1e6 && ctr.why.length > 10, JSON.stringify(manifest.rootfs.pruned));
    // dockerd and containerd export every Go symbol (for Go plugins); the image blanks them, and the boots below
    // prove the engine still runs. docker (the CLI) exports none.
    const exp = new Map(manifest.rootfs.goExports.map((g) => [g.path, g]));
    for (const p of ['/usr/sbin/dockerd', '/usr/bin/containerd']) assert.ok((exp.get(p)?.symbols ?? 0) > 10000, `${p}: Go exports blanked: ${JSON.stringify(manifest.rootfs.goExports)}`);
    assert.ok(!exp.has('/usr/bin/docker'));
    // dockerd and the docker CLI are PIE programs: their relative relocations are packed as RELR (glibc
    // refuses the program if the GLIBC_ABI_DT_RELR need is wrong); every boot below runs both.
    const rel = new Map(manifest.rootfs.relativeRelocs.map((r) => [r.path, r]));
    for (const p of ['/usr/sbin/dockerd', '/usr/bin/docker']) {
      const r = rel.get(p);
      assert.ok(r && r.relocations > 10000 && r.how === 'relr', `${p}: relative relocations packed: ${JSON.stringify(manifest.rootfs.relativeRelocs)}`);
    }
    // The root stage is either built (with its pack step) or taken from the stage cache, which a
    // machine that built this config before (CI's runners keep ~/.cache) may already hold.
    const root = 'rootfs (cached)' in manifest.stages ? ['rootfs (cached)'] : ['rootfs', 'rootfs/pack'];
    // A build's log (not a terminal here) shows how far the compressors are: a first and a last line.
    if ('rootfs' in manifest.stages) {
      assert.match(buildLog, /^ {4}rootfs: pack: 0% of \d+ MiB compressed$/m, 'the pack step says it starts');
      assert.match(buildLog, /^ {4}rootfs: pack: 100% of \d+ MiB compressed in \d+ s$/m, 'the pack step says it is done');
      // ... and how far mmdebstrap is with the packages, counted in its root.
      const installed = /^ {4}rootfs: installing remaining packages: (\d+) installed in \d+ s$/m.exec(buildLog);
      assert.ok(installed, 'the install phase says how many packages it installed');
      assert.ok(Number(installed[1]) > 50, `installed ${installed[1]}`);
    }
    for (const s of ['preflight', 'cache-key', ...root, 'layer', 'initrd', 'bootloader', 'iso']) assert.ok(s in manifest.stages, `stage timing ${s} (stages: ${Object.keys(manifest.stages).join(', ')})`);
    // Nothing half-written or left over next to the outputs.
    assert.deepEqual(readdirSync(OUT).filter((f) => f.endsWith('.partial')), []);
    assert.ok(!existsSync(join(OUT, '.d2d-work', 'debian2docker')), 'work folder removed after success');
  });

  test(`the default ISO stays within its size budget (${DEFAULT_ISO_BUDGET_BYTES / 1e6} MB)`, () => {
    const iso = manifest.artifacts.iso!.bytes;
    const top = manifest.rootfs.biggestFiles.slice(0, 10).map((f) => `  ${(f.bytes / 1e6).toFixed(1)} MB ${f.path}`);
    assert.ok(
      iso <= DEFAULT_ISO_BUDGET_BYTES,
      `ISO is ${(iso / 1e6).toFixed(1)} MB, over the ${DEFAULT_ISO_BUDGET_BYTES / 1e6} MB budget (kernel ${(manifest.artifacts.kernel!.bytes / 1e6).toFixed(1)} MB, initrd ${(manifest.artifacts.initrd!.bytes / 1e6).toFixed(1)} MB); biggest files in the root file system:\n${top.join('\n')}\n(docs/size.md: what is pruned and why)`,
    );
    // The manifest must keep showing where the bytes are.
    assert.ok(manifest.rootfs.biggestFiles.length >= 15);
  });

  test('BIOS + CD-ROM boots to Docker and runs the in-guest scenario', { timeout: 20 * 60000 }, async () => {
    const r = await testImageReport(ISO, {
      firmware: 'bios',
      bootFrom: 'cdrom',
      scenario: join(PACKAGE_ROOT, 'test/e2e/scenarios/core.sh'),
      // moby's check-config.sh, run in the guest against the tailored kernel's /proc/config.gz.
      files: { 'expected-kernel': manifest.kernel.version, 'check-config.sh': readFileSync(CHECK_CONFIG, 'utf8'), firmware: firmwareSample(manifest) },
      consoleLog: join(OUT, 'console-bios-cdrom.log'),
    });
    assertPassed(r, ['scenario']);
  });

  // The scenario flips a static key 2000 times with both vCPUs busy: under multi-threaded TCG that
  // kills the guest ("Oops: int3"), so it proves the harness's single-threaded default; no retry.
  test('UEFI + USB stick boots to Docker; the guest survives its kernel patching itself under the harness\'s TCG', { timeout: 20 * 60000 }, async () => {
    const r = await testImageReport(ISO, { firmware: 'uefi', bootFrom: 'usb', retries: 0, scenario: join(PACKAGE_ROOT, 'test/e2e/scenarios/static-keys.sh'), consoleLog: join(OUT, 'console-uefi-usb.log') });
    assertPassed(r, ['scenario']);
    assert.match(r.results.find((x) => x.name === 'scenario')!.detail, /static key flipped 2000 times/);
    assert.match(readFileSync(join(OUT, 'console-uefi-usb.log'), 'utf8'), /BdsDxe: starting Boot\d+ "UEFI QEMU QEMU USB/);
  });

  // With 256 MiB (issue 17's memory goal) stage 1 has no room to decode into files: it takes the pipe, and the
  // root tmpfs (about 250 MiB) fits only because its cold pages go to the zram swap stage 1 sets up.
  test('network boot (kernel + initrd) with 256 MiB boots to Docker (zram swap); a failing scenario fails the run', { timeout: 20 * 60000 }, async () => {
    const r = await testImageReport(join(OUT, 'debian2docker.kernel'), {
      memory: '256',
      scenario: join(PACKAGE_ROOT, 'test/e2e/scenarios/fails.sh'),
      consoleLog: join(OUT, 'console-netboot.log'),
    });
    assertChecks(r, CHECKS);
    const s = r.results.find((x) => x.name === 'scenario');
    assert.ok(s && !s.ok, 'the scenario is reported as failed');
    assert.match(s.detail, /exit 3/);
    assert.match(s.detail, /guest says: no such thing/);
    assert.match(s.detail, /stage 1: root file system unpacked \(.*from a pipe.*zram swap [1-9]\d* MiB\)/);
    assert.equal(r.ok, false, 'a failed scenario fails the whole test');
  });

  test('the harness boots once more after a guest kernel crash, and fails at once on a second', { timeout: 10 * 60000 }, async () => {
    const log = join(OUT, 'crash-session.log');
    rmSync(log, { force: true });
    // A kernel that finds no init in the initrd panics before stage 1's first line: every time, so the one more
    // boot crashes too. withSession is the crash-aware boot every test's session goes through (src/vm/crash.ts).
    const t0 = Date.now();
    let attempts = 0;
    await assert.rejects(
      withSession(
        log,
        () => Session.start({ boot: { kind: 'kernel', kernel: join(OUT, 'debian2docker.kernel'), initrd: join(OUT, 'debian2docker.initrd'), append: 'console=ttyS0,115200 rdinit=/d2d-no-such-init' }, firmware: 'bios' }, log, 'kernel crash'),
        async (s) => {
          attempts++;
          await s.waitFor(/Kernel command line: /);
          await s.waitFor(/d2d: /, 400000);
        },
      ),
      /the guest kernel crashed: Kernel panic/,
    );
    assert.equal(attempts, 2, 'two boots');
    assert.ok(Date.now() - t0 < 300000, `failed at the second crash, not at the wait's timeout (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    const text = readFileSync(log, 'utf8');
    assert.equal(text.match(/the guest kernel crashed \(Kernel panic\); booting once more/g)?.length, 1, 'one more boot, logged');
    assert.equal(text.match(/Kernel command line: /g)?.length, 2, 'the second boot ran');
  });
});
