// Stage "bootloader": GRUB for BIOS and UEFI with one shared grub.cfg, and the
// FAT image (EFI system partition) that carries BOOTX64.EFI.
import { copyFileSync, mkdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../exec/run.js';
import { mcopyArgv, mkfsFatArgv, mmdArgv } from '../tools/fat.js';
import { BOOT_IMG, earlyConfig, grubCfg, grubHead, grubMenu, grubMkimageArgv } from '../tools/grub.js';
import type { Context } from '../context.js';

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
  writeFileSync(join(iso, 'boot/grub/grub.cfg'), grubCfg({ timeout: p.boot.timeout, entries: p.boot.entries, kernel: '/boot/vmlinuz', initrd: '/boot/initrd.img' }));
  await run(grubMkimageArgv({ target: 'bios', output: join(iso, 'boot/grub/bios.img'), earlyConfig: early }), { log: logFile });
  const efiBin = ctx.ws.efiBin;
  await run(grubMkimageArgv({ target: 'efi', output: efiBin, earlyConfig: early }), { log: logFile });
  const esp = join(iso, 'boot/grub/efi.img');
  rmSync(esp, { force: true });
  const env = { SOURCE_DATE_EPOCH: String(p.sourceDateEpoch), MTOOLS_SKIP_CHECK: '1' };
  await run(mkfsFatArgv(esp, espSizeKiB(statSync(efiBin).size), p.sourceDateEpoch), { log: logFile, env });
  await run(mmdArgv(esp, ['::/EFI', '::/EFI/BOOT']), { log: logFile, env });
  // mcopy -m keeps the file's own mtime: make it SOURCE_DATE_EPOCH, not the moment grub-mkimage ran.
  utimesSync(efiBin, p.sourceDateEpoch, p.sourceDateEpoch);
  await run(mcopyArgv(esp, efiBin, '::/EFI/BOOT/BOOTX64.EFI'), { log: logFile, env });
  copyFileSync(ctx.ws.vmlinuz, join(iso, 'boot/vmlinuz'));
  if (p.persistence) await installAssets(ctx, logFile);
  return { stamp };
}

/** The ISO's d2d/install: what d2d-install puts on a disk besides the kernel and initrd. */
export const INSTALL_DIR = 'd2d/install';

async function installAssets(ctx: Context, logFile: string): Promise<void> {
  const p = ctx.plan;
  const dir = join(ctx.ws.isoRoot, INSTALL_DIR);
  mkdirSync(dir, { recursive: true });
  await run(grubMkimageArgv({ target: 'bios-disk', output: join(dir, 'core.img') }), { log: logFile });
  await run(grubMkimageArgv({ target: 'efi-disk', output: join(dir, 'bootx64.efi') }), { log: logFile });
  copyFileSync(BOOT_IMG, join(dir, 'boot.img'));
  writeFileSync(join(dir, 'grub-head.cfg'), grubHead(p.boot.timeout));
  // @DIR@: the slot on the disk (/d2d/current or /d2d/previous), filled in by d2d-install.
  writeFileSync(join(dir, 'menu.cfg'), grubMenu(p.boot.entries, '@DIR@/vmlinuz', '@DIR@/initrd.img'));
  writeFileSync(join(dir, 'build'), `BUILD=${p.configHash}\nNAME=${p.name}\nDATE=${new Date(p.sourceDateEpoch * 1000).toISOString()}\n`);
}
