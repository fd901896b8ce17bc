// End to end: boot.secure-boot. One build (Debian's signed kernel, Debian's signed shim and GRUB fetched
// by apt in the image's root), booted by OVMF enforcing Secure Boot with Microsoft's keys enrolled, as a
// PC ships: from the CD, from a USB stick and installed to a disk, each to Docker with lockdown on and
// Docker's modules loaded; and the same ISO with its kernel's signature removed, which GRUB must refuse.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testImageReport } from '../../src/commands/test.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { OVMF_VARS_MS } from '../../src/vm/qemu.js';
import type { Manifest } from '../../src/stages/manifest.js';
import { Session, withSession } from '../support/vmsession.js';
import { assertPassed } from './checks.js';
import { cli, e2eDir, SKIP } from './helpers.js';

const OUT = e2eDir('secureboot');
const ISO = join(OUT, 'd2d-sb.iso');
const SCENARIO = join(PACKAGE_ROOT, 'test/e2e/scenarios/secureboot.sh');

/**
 * A copy of a signed PE image (a kernel's EFI stub) without its signature: the certificate table entry of the
 * optional header's data directories zeroed, as `sbattach --remove` leaves it.
 */
export function unsignedPe(pe: Buffer): Buffer {
  const out = Buffer.from(pe);
  const at = out.readUInt32LE(0x3c);
  assert.equal(out.toString('latin1', at, at + 4), 'PE\0\0', 'not a PE image');
  const opt = at + 24;
  assert.equal(out.readUInt16LE(opt), 0x20b, 'not a PE32+ image');
  // PE32+: the data directories start 112 bytes into the optional header; the certificate table is the fifth.
  const cert = opt + 112 + 4 * 8;
  assert.ok(out.readUInt32LE(cert + 4) > 0, 'the image carries no signature to remove');
  out.writeUInt32LE(0, cert);
  out.writeUInt32LE(0, cert + 4);
  return out;
}

/** Boot `iso` from the CD with Secure Boot on (Microsoft's keys only): GRUB, asking shim, must refuse its kernel. */
async function assertRefused(iso: string, log: string, title: string): Promise<void> {
  rmSync(log, { force: true });
  await withSession(log, () => Session.start({ boot: { kind: 'cdrom', image: iso }, firmware: 'uefi', secureBoot: true }, log, title), async (s) => {
    // Debian's GRUB asks shim to verify the kernel before it loads it.
    await s.waitFor(/error: (bad shim signature|.*invalid signature)/i, 600000);
    s.kill();
  });
  assert.doesNotMatch(readFileSync(log, 'utf8'), /Linux version/);
}

describe('Secure Boot: signed shim, GRUB and kernel', { skip: SKIP }, () => {
  let manifest: Manifest;

  before(async () => {
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, 'sb.yaml'), 'name: d2d-sb\ninitramfs:\n  compression: zstd\n  level: 3\nkernel:\n  package: linux-image-amd64\nboot:\n  secure-boot: true\n');
    const r = await cli(['build', join(OUT, 'sb.yaml'), '-o', OUT]);
    assert.equal(r.status, 0, `build failed:\n${r.stderr}`);
    manifest = JSON.parse(readFileSync(join(OUT, 'd2d-sb.manifest.json'), 'utf8')) as Manifest;
  }, { timeout: 30 * 60000 });

  test('the manifest names the signed programs; the EFI partition holds shim, GRUB and MokManager', () => {
    assert.equal(manifest.uefi.secureBoot, true);
    const names = manifest.uefi.secureBoot ? manifest.uefi.packages.map((p) => p.name).sort() : [];
    assert.deepEqual(names, ['grub-efi-amd64-signed', 'shim-helpers-amd64-signed', 'shim-signed']);
    const esp = join(OUT, 'efi.img');
    execFileSync('xorriso', ['-osirrox', 'on', '-indev', ISO, '-extract', '/boot/grub/efi.img', esp], { stdio: 'pipe' });
    const listing = execFileSync('mdir', ['-b', '-i', esp, '::/EFI/BOOT'], { encoding: 'utf8', env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
    for (const f of ['BOOTX64.EFI', 'grubx64.efi', 'mmx64.efi']) assert.match(listing, new RegExp(`/EFI/BOOT/${f.replace('.', '\\.')}`, 'i'), listing);
  });

  test('CD-ROM, Secure Boot on: Docker ready; lockdown on; Docker\'s modules loaded, signed', { timeout: 20 * 60000 }, async () => {
    const r = await testImageReport(ISO, { firmware: 'secure-boot', bootFrom: 'cdrom', scenario: SCENARIO, consoleLog: join(OUT, 'console-cdrom.log') });
    assertPassed(r, ['scenario']);
    assert.match(readFileSync(join(OUT, 'console-cdrom.log'), 'utf8'), /BdsDxe: starting Boot\d+ "UEFI QEMU DVD-ROM/);
  });

  test('USB stick, Secure Boot on: Docker ready; lockdown on', { timeout: 20 * 60000 }, async () => {
    const r = await testImageReport(ISO, { firmware: 'secure-boot', bootFrom: 'usb', scenario: SCENARIO, consoleLog: join(OUT, 'console-usb.log') });
    assertPassed(r, ['scenario']);
    assert.match(readFileSync(join(OUT, 'console-usb.log'), 'utf8'), /BdsDxe: starting Boot\d+ "UEFI QEMU QEMU USB/);
  });

  test('installed to a disk (d2d-install copies the signed programs), Secure Boot on: Docker ready; lockdown on', { timeout: 25 * 60000 }, async () => {
    const disk = join(OUT, 'disk.img');
    rmSync(disk, { force: true });
    const r = await cli(['install', ISO, '--disk', disk, '--size', '2G', '--yes', '--console-log', join(OUT, 'install.log')]);
    assert.equal(r.status, 0, r.stderr);
    const report = await testImageReport(disk, { firmware: 'secure-boot', bootFrom: 'disk', scenario: SCENARIO, consoleLog: join(OUT, 'console-disk.log') });
    assertPassed(report, ['scenario']);
    assert.match(readFileSync(join(OUT, 'console-disk.log'), 'utf8'), /BdsDxe: starting Boot\d+ "UEFI Misc Device/);
  });

  test('a kernel without a valid signature is refused under Secure Boot', { timeout: 15 * 60000 }, async () => {
    const kernel = join(OUT, 'vmlinuz.unsigned');
    writeFileSync(kernel, unsignedPe(readFileSync(join(OUT, 'd2d-sb.kernel'))));
    const iso = join(OUT, 'unsigned.iso');
    rmSync(iso, { force: true });
    // Same ISO (boot images, hybrid layout, menu), another /boot/vmlinuz.
    execFileSync('xorriso', ['-indev', ISO, '-outdev', iso, '-boot_image', 'any', 'replay', '-map', kernel, '/boot/vmlinuz'], { stdio: 'pipe' });
    await assertRefused(iso, join(OUT, 'console-unsigned.log'), 'unsigned kernel, Secure Boot on');
  });
});

/** shim's own GUID, the owner MokManager gives the keys it enrols. */
const SHIM_GUID = '605dab50-e046-4300-abb6-3dd810dd8b23';

describe('Secure Boot with the compiled kernel, signed with a machine-owner key', { skip: SKIP }, () => {
  const out = e2eDir('secureboot-mok');
  const mok = join(out, 'mok');
  const iso = join(out, 'd2d-sbmok.iso');
  let manifest: Manifest;
  let stderr = '';

  before(async () => {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    // The default kernel (compiled, unsigned), and a key folder that does not exist yet: made on first use.
    writeFileSync(join(out, 'sbmok.yaml'), 'name: d2d-sbmok\ninitramfs:\n  compression: zstd\n  level: 3\nboot:\n  secure-boot: true\n');
    const r = await cli(['build', join(out, 'sbmok.yaml'), '-o', out], { env: { DEBIAN2DOCKER_MOK_DIR: mok } });
    assert.equal(r.status, 0, `build failed:\n${r.stderr}`);
    stderr = r.stderr;
    manifest = JSON.parse(readFileSync(join(out, 'd2d-sbmok.manifest.json'), 'utf8')) as Manifest;
  }, { timeout: 40 * 60000 });

  test('the key is made on first use, private, and stays out of the image; the ISO\'s kernel carries its signature', () => {
    assert.match(stderr, new RegExp(`made a machine-owner key for Secure Boot in ${mok.replace(/[.+]/g, '\\$&')}`));
    assert.equal(statSync(mok).mode & 0o777, 0o700);
    assert.equal(statSync(join(mok, 'mok.key')).mode & 0o777, 0o600);
    const fp = execFileSync('openssl', ['x509', '-in', join(mok, 'mok.crt'), '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' }).replace(/^.*=/, '').trim();
    assert.ok(manifest.uefi.secureBoot && manifest.uefi.kernelSignedBy === fp, JSON.stringify(manifest.uefi));
    const kernel = join(out, 'vmlinuz.iso');
    execFileSync('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/boot/vmlinuz', kernel], { stdio: 'pipe' });
    execFileSync('sbverify', ['--cert', join(mok, 'mok.crt'), kernel], { stdio: 'pipe' });
    // Not the key, anywhere on the medium (the initrd's payload is compressed: the key file's name is looked for in its listing too).
    const keyPem = readFileSync(join(mok, 'mok.key'), 'utf8').split('\n')[1]!;
    assert.ok(!readFileSync(iso).includes(Buffer.from(keyPem)), 'the private key is not on the ISO');
    assert.ok(!JSON.stringify(manifest).includes('mok.key'));
  });

  test('enrolled as MokManager would: Secure Boot on, the signed compiled kernel boots to Docker', { timeout: 20 * 60000 }, async () => {
    const vars = join(out, 'vars-mok.fd');
    execFileSync('virt-fw-vars', ['--input', OVMF_VARS_MS, '--output', vars, '--add-mok', SHIM_GUID, join(mok, 'mok.crt')], { stdio: 'pipe' });
    const log = join(out, 'console-mok.log');
    rmSync(log, { force: true });
    await withSession(log, () => Session.start({ boot: { kind: 'cdrom', image: iso }, firmware: 'uefi', secureBoot: true, varsFrom: vars }, log, 'MOK enrolled'), async (s) => {
      await s.waitFor(/d2d: docker: ready/, 600000);
      assert.equal((await s.sh("od -An -t u1 -j 4 -N 1 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c | tr -d ' '")).trim(), '1', 'Secure Boot is on');
      assert.equal((await s.sh('uname -r')).trim(), manifest.kernel.version);
      await s.sh('docker info --format "{{.ServerVersion}}"');
      await s.off();
    });
  });

  test('not enrolled: the same kernel, signed with a key shim does not know, is refused', { timeout: 15 * 60000 }, async () => {
    await assertRefused(iso, join(out, 'console-nomok.log'), 'MOK not enrolled');
  });
});
