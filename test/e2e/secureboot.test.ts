// End to end: boot.secure-boot. One build (Debian's signed kernel, Debian's signed shim and GRUB fetched
// by apt in the image's root), booted by OVMF enforcing Secure Boot with Microsoft's keys enrolled, as a
// PC ships: from the CD and from a USB stick, each to Docker with lockdown on and Docker's modules
// loaded; and the same ISO with its kernel's signature removed, which GRUB must refuse.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testImageReport } from '../../src/commands/test.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
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

  test('a kernel without a valid signature is refused under Secure Boot', { timeout: 15 * 60000 }, async () => {
    const kernel = join(OUT, 'vmlinuz.unsigned');
    writeFileSync(kernel, unsignedPe(readFileSync(join(OUT, 'd2d-sb.kernel'))));
    const iso = join(OUT, 'unsigned.iso');
    rmSync(iso, { force: true });
    // Same ISO (boot images, hybrid layout, menu), another /boot/vmlinuz.
    execFileSync('xorriso', ['-indev', ISO, '-outdev', iso, '-boot_image', 'any', 'replay', '-map', kernel, '/boot/vmlinuz'], { stdio: 'pipe' });
    const log = join(OUT, 'console-unsigned.log');
    rmSync(log, { force: true });
    await withSession(log, () => Session.start({ boot: { kind: 'cdrom', image: iso }, firmware: 'uefi', secureBoot: true }, log, 'unsigned kernel, Secure Boot on'), async (s) => {
      // Debian's GRUB asks shim to verify the kernel before it loads it.
      await s.waitFor(/error: (bad shim signature|.*invalid signature)/i, 600000);
      s.kill();
    });
    assert.doesNotMatch(readFileSync(log, 'utf8'), /Linux version/);
  });
});
