// Steps "disk-image" and "qcow2" (build --format raw,qcow2): the ISO just built,
// installed by its own installer (d2d-install, in a QEMU VM: `debian2docker
// install`, the very path a user takes) onto a new sparse disk image file of
// --disk-size. The result boots with BIOS and UEFI as an installed disk does;
// the free space after its partitions is for persistence, made on the machine
// with `d2d-persist create` and the owner's own passphrase, never one baked into
// an image that many machines share.
import { appendFileSync, rmSync } from 'node:fs';
import type { Context } from '../context.js';
import { install } from '../commands/install.js';
import { run } from '../exec/run.js';
import { toQcow2Argv } from '../tools/qemuimg.js';

export async function buildDiskImage(ctx: Context, logFile: string): Promise<void> {
  const { ws, plan } = ctx;
  rmSync(ws.rawDisk, { force: true });
  await install(ws.iso, {
    disk: ws.rawDisk,
    size: String(plan.diskBytes! / 2 ** 20),
    yes: true,
    consoleLog: `${logFile.replace(/\.log$/, '')}-console.log`,
    report: (text) => appendFileSync(logFile, text),
  });
}

export async function buildQcow2(ctx: Context, logFile: string): Promise<void> {
  rmSync(ctx.ws.qcow2Disk, { force: true });
  await run(toQcow2Argv(ctx.ws.rawDisk, ctx.ws.qcow2Disk), { log: logFile });
}
