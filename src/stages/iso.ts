// Stage "iso": the hybrid image (CD-ROM and USB stick/disk, BIOS and UEFI).
import { linkSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { imageFiles, ISO_IMAGES_DIR } from '../plan/images.js';
import { clampTree } from '../fsutil.js';
import { join } from 'node:path';
import { run } from '../exec/run.js';
import { xorrisoArgv } from '../tools/xorriso.js';
import type { Context } from '../context.js';

export async function buildIso(ctx: Context, logFile: string): Promise<{ bytes: number }> {
  const iso = ctx.ws.isoRoot;
  const initrd = join(iso, 'boot/initrd.img');
  rmSync(initrd, { force: true });
  linkSync(ctx.ws.initrd, initrd);
  // Preloaded images stay on the medium (not in RAM until Docker loads them).
  if (ctx.plan.images.length > 0) {
    const dir = join(iso, ISO_IMAGES_DIR);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const f of imageFiles(ctx.plan.images)) linkSync(join(ctx.ws.imagesDir, f), join(dir, f));
  }
  const sde = ctx.plan.sourceDateEpoch;
  clampTree(iso, sde);
  rmSync(ctx.ws.iso, { force: true });
  await run(
    xorrisoArgv({ output: ctx.ws.iso, root: iso, volid: ctx.plan.iso.volid, biosImage: 'boot/grub/bios.img', efiImage: 'boot/grub/efi.img', sourceDateEpoch: sde }),
    { log: logFile, env: { SOURCE_DATE_EPOCH: String(sde) } },
  );
  return { bytes: statSync(ctx.ws.iso).size };
}
