// Secure Boot (boot.secure-boot): the UEFI boot programs Debian signs, fetched by apt in the image's root
// (the suite's signatures verified, as for every package) while the root exists, for the bootloader stage:
//  - shim (shim-signed), signed with Microsoft's UEFI CA key, which PCs' firmware trusts; shim trusts
//    Debian's key and the machine-owner keys enrolled with MokManager;
//  - GRUB (grub-efi-amd64-signed), signed by Debian, its modules built in (under Secure Boot GRUB loads no
//    module from disk). The "CD" program (gcdx64): it reads $prefix/grub.cfg, /boot/grub on the device it
//    was loaded from, which is where the ISO, the USB stick's EFI partition and an installed disk keep a menu;
//  - MokManager (shim-helpers-amd64-signed), which shim starts to enrol a machine-owner key.
// GRUB checks the kernel's signature through shim: Debian's signed kernel (kernel.package) passes.
import { existsSync, mkdirSync, rmSync, copyFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../exec/run.js';
import { aptGetArgv, debFileName, parseSimulatedInstalls } from '../tools/apt.js';
import { extractArgv } from '../tools/dpkgdeb.js';
import { StageError } from '../errors.js';
import type { Context } from '../context.js';

export const SECURE_BOOT_PACKAGES = ['shim-signed', 'grub-efi-amd64-signed', 'shim-helpers-amd64-signed'] as const;

/** The programs, where their packages keep them, and their names in EFI/BOOT (shim starts grubx64.efi and mmx64.efi beside it). */
export const SECURE_BOOT_FILES = [
  { pkg: 'shim-signed', from: 'usr/lib/shim/shimx64.efi.signed', name: 'BOOTX64.EFI' },
  { pkg: 'grub-efi-amd64-signed', from: 'usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed', name: 'grubx64.efi' },
  { pkg: 'shim-helpers-amd64-signed', from: 'usr/lib/shim/mmx64.efi.signed', name: 'mmx64.efi' },
] as const;

export type SecureBootOrigin = { name: string; version: string }[];

const ENV = { DEBIAN_FRONTEND: 'noninteractive' };

/** Fetch and unpack the signed programs into the work folder's secure-boot/ (named as in EFI/BOOT); the packages' versions. */
export async function fetchSecureBoot(ctx: Context, root: string, logFile: string): Promise<SecureBootOrigin> {
  const dir = ctx.ws.secureBoot;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const sim = (await run(aptGetArgv(root, ['-s', 'install', ...SECURE_BOOT_PACKAGES]), { log: logFile, capture: true, env: ENV })).stdout;
  const all = parseSimulatedInstalls(sim);
  const wanted = all.filter((p) => (SECURE_BOOT_PACKAGES as readonly string[]).includes(p.name));
  await run(aptGetArgv(root, ['--download-only', 'install', ...SECURE_BOOT_PACKAGES]), { log: logFile, env: ENV });
  const tmp = mkdtempSync(join(dir, '.x-'));
  try {
    for (const p of wanted) {
      const deb = join(root, 'var/cache/apt/archives', debFileName(p.name, p.version));
      if (!existsSync(deb)) throw new StageError('secure-boot', `apt did not download ${p.name} ${p.version} (${deb})`, { logPath: logFile });
      await run(extractArgv(deb, tmp), { log: logFile });
    }
    for (const f of SECURE_BOOT_FILES) {
      const src = join(tmp, f.from);
      if (!existsSync(src)) {
        throw new StageError('secure-boot', `${f.pkg} has no ${f.from} in ${ctx.plan.debian.suite}`, {
          logPath: logFile,
          hint: 'boot.secure-boot takes the signed programs from debian.suite; a suite whose packages keep them elsewhere is not supported',
        });
      }
      copyFileSync(src, join(dir, f.name));
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return wanted.map((p) => ({ name: p.name, version: p.version }));
}
