// Secure Boot (boot.secure-boot): the UEFI boot programs Debian signs, fetched by apt in the image's root
// (the suite's signatures verified, as for every package) while the root exists, for the bootloader stage:
//  - shim (shim-signed), signed with Microsoft's UEFI CA key, which PCs' firmware trusts; shim trusts
//    Debian's key and the machine-owner keys enrolled with MokManager;
//  - GRUB (grub-efi-amd64-signed), signed by Debian, its modules built in (under Secure Boot GRUB loads no
//    module from disk). The "CD" program (gcdx64): it reads $prefix/grub.cfg, /boot/grub on the device it
//    was loaded from, which is where the ISO, the USB stick's EFI partition and an installed disk keep a menu;
//  - MokManager (shim-helpers-amd64-signed), which shim starts to enrol a machine-owner key.
// GRUB checks the kernel's signature through shim: Debian's signed kernel (kernel.package) passes.
import { existsSync, mkdirSync, rmSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchPackages, withUnpacked } from './aptfetch.js';
import { StageError } from '../errors.js';
import type { Context } from '../context.js';

/** The programs, where their packages keep them, and their names in EFI/BOOT (shim starts grubx64.efi and mmx64.efi beside it). */
export const SECURE_BOOT_FILES = [
  { pkg: 'shim-signed', from: 'usr/lib/shim/shimx64.efi.signed', name: 'BOOTX64.EFI' },
  { pkg: 'grub-efi-amd64-signed', from: 'usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed', name: 'grubx64.efi' },
  { pkg: 'shim-helpers-amd64-signed', from: 'usr/lib/shim/mmx64.efi.signed', name: 'mmx64.efi' },
] as const;

export const SECURE_BOOT_PACKAGES: readonly string[] = SECURE_BOOT_FILES.map((f) => f.pkg);

export type SecureBootOrigin = { name: string; version: string }[];

/** Fetch and unpack the signed programs into the work folder's secure-boot/ (named as in EFI/BOOT); the packages' versions. */
export async function fetchSecureBoot(ctx: Context, root: string, logFile: string): Promise<SecureBootOrigin> {
  const dir = ctx.ws.secureBoot;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const fetched = await fetchPackages(root, [...SECURE_BOOT_PACKAGES], (name) => SECURE_BOOT_PACKAGES.includes(name), { stage: 'secure-boot', logFile });
  await withUnpacked(fetched, dir, logFile, (trees) => {
    for (const f of SECURE_BOOT_FILES) {
      const tree = trees.find((t) => t.name === f.pkg)?.tree;
      const src = tree === undefined ? undefined : join(tree, f.from);
      if (src === undefined || !existsSync(src)) {
        throw new StageError('secure-boot', `${f.pkg} has no ${f.from} in ${ctx.plan.debian.suite}`, {
          logPath: logFile,
          hint: 'boot.secure-boot takes the signed programs from debian.suite; a suite whose packages keep them elsewhere is not supported',
        });
      }
      copyFileSync(src, join(dir, f.name));
    }
  });
  return fetched.packages.map((p) => ({ name: p.name, version: p.version }));
}
