// Stage "bootloader": GRUB for BIOS and UEFI with one shared grub.cfg, and the
// FAT image (EFI system partition) that carries BOOTX64.EFI.
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../exec/run.js';
import { mcopyArgv, mkfsFatArgv, mmdArgv } from '../tools/fat.js';
import { BOOT_IMG, earlyConfig, grubCfg, grubHead, grubMenu, grubMkimageArgv } from '../tools/grub.js';
import type { Context } from '../context.js';
import { StageError } from '../errors.js';
import { SECURE_BOOT_FILES } from './secureboot.js';
import { ensureMok, mokDir, signKernel, type Mok } from './mok.js';
import type { BuildPlan } from '../plan/plan.js';

/** boot.secure-boot with a kernel Debian did not sign: the build signs it with the machine-owner key. */
export function mokSigned(p: Pick<BuildPlan, 'secureBoot' | 'kernel'>): boolean {
  return p.secureBoot && p.kernel.source.kind !== 'package';
}

/**
 * With Secure Boot, a menu entry (UEFI only) that starts MokManager, to enrol the machine-owner key once: its
 * certificate is EFI/BOOT/mok.der. On an installed disk GRUB's root is the EFI partition itself; on the ISO the
 * program is inside the EFI partition image.
 */
export function grubMokManagerEntry(): string {
  return [
    'if [ "$grub_platform" = efi ]; then',
    "  menuentry 'Enrol a machine-owner key (MokManager: EFI/BOOT/mok.der)' --id mokmanager {",
    '    if [ -f /EFI/BOOT/mmx64.efi ]; then',
    '      chainloader /EFI/BOOT/mmx64.efi',
    '    else',
    '      loopback esp /boot/grub/efi.img',
    '      chainloader (esp)/EFI/BOOT/mmx64.efi',
    '    fi',
    '  }',
    'fi',
    '',
  ].join('\n');
}

/**
 * Size of the FAT image in KiB: the EFI binary plus 128 KiB for the FAT structures (boot sector, two
 * FAT12 tables, the 16 KiB root folder, EFI/ and EFI/BOOT/, cluster rounding), rounded up to 64 KiB.
 * The ISO stores the image uncompressed, so every unused KiB is on the medium: rounding to 1 MiB
 * left 340 KiB of it empty.
 */
export function espSizeKiB(efiBytes: number): number {
  return Math.ceil((efiBytes + 128 * 1024) / (64 * 1024)) * 64;
}

export async function buildBootloader(ctx: Context, logFile: string): Promise<{ stamp: string }> {
  const p = ctx.plan;
  const iso = ctx.ws.isoRoot;
  rmSync(iso, { recursive: true, force: true });
  mkdirSync(join(iso, 'boot/grub'), { recursive: true });
  // The stamp file lets GRUB find this very medium even when other disks carry GRUB too.
  const stamp = `/boot/grub/d2d-${p.configHash.slice(0, 16)}.stamp`;
  writeFileSync(join(iso, stamp), `${p.name}\n`);
  const early = ctx.ws.grubEarly;
  writeFileSync(early, earlyConfig(stamp));
  writeFileSync(join(iso, 'boot/grub/grub.cfg'), grubCfg({ timeout: p.boot.timeout, entries: p.boot.entries, kernel: '/boot/vmlinuz', initrd: '/boot/initrd.img' }) + (mokSigned(p) ? grubMokManagerEntry() : ''));
  await run(grubMkimageArgv({ target: 'bios', output: join(iso, 'boot/grub/bios.img'), earlyConfig: early }), { log: logFile });
  const mok = mokSigned(p) ? await ensureMok(mokDir(), logFile) : undefined;
  await buildEsp(ctx, join(iso, 'boot/grub/efi.img'), stamp, logFile, mok);
  // A kernel Debian did not sign, under boot.secure-boot: signed with the machine-owner key (stages/mok.ts).
  if (mok) await signKernel(mok, ctx.ws.vmlinuz, join(iso, 'boot/vmlinuz'), logFile);
  else copyFileSync(ctx.ws.vmlinuz, join(iso, 'boot/vmlinuz'));
  if (p.persistence) await installAssets(ctx, logFile);
  return { stamp };
}

/**
 * The EFI system partition image (the ISO's El Torito UEFI image, a USB stick's EFI partition; d2d-install copies
 * its EFI/BOOT to an installed disk): GRUB made here, with the early config embedded; or, with boot.secure-boot,
 * Debian's signed shim, GRUB and MokManager (stages/secureboot.ts), whose GRUB reads /boot/grub/grub.cfg on the
 * partition it was loaded from: there, the same search for the medium's stamp (without the first step, which
 * would read this very file again).
 */
async function buildEsp(ctx: Context, esp: string, stamp: string, logFile: string, mok: Mok | undefined): Promise<void> {
  const p = ctx.plan;
  const files: { file: string; to: string }[] = [];
  if (p.secureBoot) {
    for (const f of SECURE_BOOT_FILES) files.push({ file: join(ctx.ws.secureBoot, f.name), to: `::/EFI/BOOT/${f.name}` });
    // The machine-owner key's certificate, for MokManager's "Enroll key from disk" (d2d-install copies EFI/BOOT).
    if (mok) {
      const der = join(ctx.ws.secureBoot, 'mok.der');
      copyFileSync(mok.der, der);
      files.push({ file: der, to: '::/EFI/BOOT/mok.der' });
    }
    const cfg = join(ctx.ws.secureBoot, 'grub.cfg');
    writeFileSync(cfg, earlyConfig(stamp, { besideFirst: false }));
    files.push({ file: cfg, to: '::/boot/grub/grub.cfg' });
  } else {
    await run(grubMkimageArgv({ target: 'efi', output: ctx.ws.efiBin, earlyConfig: ctx.ws.grubEarly }), { log: logFile });
    files.push({ file: ctx.ws.efiBin, to: '::/EFI/BOOT/BOOTX64.EFI' });
  }
  for (const f of files) {
    if (!existsSync(f.file)) throw new StageError('bootloader', `${f.file} is missing (boot.secure-boot: the root stage fetches it; --no-cache rebuilds that stage)`, { logPath: logFile });
  }
  rmSync(esp, { force: true });
  const env = { SOURCE_DATE_EPOCH: String(p.sourceDateEpoch), MTOOLS_SKIP_CHECK: '1' };
  const bytes = files.reduce((n, f) => n + Math.ceil(statSync(f.file).size / 4096) * 4096, 0);
  await run(mkfsFatArgv(esp, espSizeKiB(bytes), p.sourceDateEpoch), { log: logFile, env });
  await run(mmdArgv(esp, ['::/EFI', '::/EFI/BOOT', ...(p.secureBoot ? ['::/boot', '::/boot/grub'] : [])]), { log: logFile, env });
  for (const f of files) {
    // mcopy -m keeps the file's own mtime: make it SOURCE_DATE_EPOCH, not the moment it was made or unpacked.
    utimesSync(f.file, p.sourceDateEpoch, p.sourceDateEpoch);
    await run(mcopyArgv(esp, f.file, f.to), { log: logFile, env });
  }
}

/** The ISO's d2d/install: what d2d-install puts on a disk besides the kernel and initrd. */
export const INSTALL_DIR = 'd2d/install';

async function installAssets(ctx: Context, logFile: string): Promise<void> {
  const p = ctx.plan;
  const dir = join(ctx.ws.isoRoot, INSTALL_DIR);
  mkdirSync(dir, { recursive: true });
  await run(grubMkimageArgv({ target: 'bios-disk', output: join(dir, 'core.img') }), { log: logFile });
  // No EFI program here: d2d-install takes the one in boot/grub/efi.img (its early config reads the menu beside it).
  copyFileSync(BOOT_IMG, join(dir, 'boot.img'));
  writeFileSync(join(dir, 'grub-head.cfg'), grubHead(p.boot.timeout));
  // After the menus on the disk (d2d-install): the MokManager entry, with a kernel signed by the machine-owner key.
  if (mokSigned(p)) writeFileSync(join(dir, 'grub-tail.cfg'), grubMokManagerEntry());
  // @DIR@: the slot on the disk (/d2d/current or /d2d/previous), filled in by d2d-install.
  writeFileSync(join(dir, 'menu.cfg'), grubMenu(p.boot.entries, '@DIR@/vmlinuz', '@DIR@/initrd.img'));
  writeFileSync(join(dir, 'build'), `BUILD=${p.configHash}\nNAME=${p.name}\nDATE=${new Date(p.sourceDateEpoch * 1000).toISOString()}\n`);
}
