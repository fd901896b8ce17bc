// Stage "iso": the hybrid image (CD-ROM and USB stick/disk, BIOS and UEFI).
import { linkSync, rmSync, statSync } from 'node:fs';
import { clampTree } from '../fsutil.js';
import { join } from 'node:path';
import { run } from '../tools/exec.js';
import { xorrisoArgv } from '../tools/xorriso.js';
import type { Context } from '../context.js';

export async function buildIso(ctx: Context, logFile: string): Promise<{ bytes: number }> {
  const iso = ctx.ws.isoRoot;
  const initrd = join(iso, 'boot/initrd.img');
  rmSync(initrd, { force: true });
  linkSync(ctx.ws.initrd, initrd);
  const sde = ctx.plan.sourceDateEpoch;
  clampTree(iso, sde);
  rmSync(ctx.ws.iso, { force: true });
  await run(
    xorrisoArgv({ output: ctx.ws.iso, root: iso, volid: ctx.plan.iso.volid, biosImage: 'boot/grub/bios.img', efiImage: 'boot/grub/efi.img', sourceDateEpoch: sde }),
    { log: logFile, env: { SOURCE_DATE_EPOCH: String(sde) } },
  );
  return { bytes: statSync(ctx.ws.iso).size };
}
