// Stage "initrd": the file the boot loader loads. A small xz-compressed cpio
// holding stage 1 (busybox + target/stage1/init), then an uncompressed one with
// the already compressed root filesystem and a sentinel as its very last file,
// so stage 1 can tell a complete unpack from one the kernel cut short.
import { appendFileSync, chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clampTree, linkOrCopy, walk } from '../fsutil.js';
import { run } from '../exec/run.js';
import { TARGET_DIR } from '../paths.js';
import type { Context } from '../context.js';
import { imageFiles, INITRD_IMAGES_DIR } from '../plan/images.js';
import { byteSort } from './pack.js';
import { stage1ExtrasDir } from './stage1extras.js';
import { cpioCreateArgv } from '../tools/cpio.js';
import { copyTreeArgv } from '../tools/files.js';
import { stage1XzArgv } from '../tools/compress.js';

/**
 * The outer archive is two cpio archives back to back, which the kernel unpacks in turn: first stage 1's
 * programs (busybox, /init, for zstd its decompressor), xz-compressed because nothing else compresses them;
 * then, uncompressed (it is compressed already), the root file system payload and the sentinel as the very
 * last file.
 */
export function initrdSegments(paths: string[]): { stage1: string[]; payload: string[] } {
  const last = ['d2d/complete'];
  const payload = byteSort(paths.filter((p) => /^d2d\/rootfs\.cpio\./.test(p)));
  const stage1 = byteSort(paths.filter((p) => !last.includes(p) && !payload.includes(p)));
  return { stage1, payload: [...payload, ...last.filter((l) => paths.includes(l))] };
}

/**
 * The payload's streams, one file each (d2d/rootfs.cpio.1.xz, .2.xz, ...): each decodes to a consecutive
 * piece of the root's archive, cut between entries, so stage 1 can decode them side by side and unpack the
 * pieces in order. The files hold the same bytes as the payload, so the initrd's size does not change.
 */
export function writePayloadStreams(payload: string, streams: number[], dir: string): string[] {
  const data = readFileSync(payload);
  const total = streams.reduce((a, b) => a + b, 0);
  if (streams.length === 0 || total !== data.length) throw new Error(`${payload}: ${data.length} bytes, but its streams add up to ${total}`);
  const ext = payload.endsWith('.zst') ? 'zst' : 'xz';
  let off = 0;
  return streams.map((n, i) => {
    const name = `rootfs.cpio.${i + 1}.${ext}`;
    writeFileSync(join(dir, name), data.subarray(off, off + n));
    off += n;
    return name;
  });
}

export async function buildInitrd(ctx: Context, payload: string, streams: number[], archiveBytes: number, logFile: string): Promise<{ bytes: number }> {
  const tree = ctx.ws.initrdTree;
  rmSync(tree, { recursive: true, force: true });
  mkdirSync(join(tree, 'bin'), { recursive: true });
  mkdirSync(join(tree, 'd2d'), { recursive: true });
  const extras = stage1ExtrasDir(ctx);
  if (existsSync(extras)) await run(copyTreeArgv(extras, tree), { log: logFile });
  copyFileSync(join(TARGET_DIR, 'stage1/init'), join(tree, 'init'));
  chmodSync(join(tree, 'init'), 0o755);
  copyFileSync(ctx.ws.busybox, join(tree, 'bin/busybox'));
  chmodSync(join(tree, 'bin/busybox'), 0o755);
  // The drivers' firmware, where the kernel looks while stage 1 runs; stage 1 copies it into the root.
  if (existsSync(ctx.ws.firmware) && readdirSync(ctx.ws.firmware).length > 0) {
    mkdirSync(join(tree, 'lib/firmware'), { recursive: true });
    await run(copyTreeArgv(ctx.ws.firmware, join(tree, 'lib/firmware')), { log: logFile });
  }
  writePayloadStreams(payload, streams, join(tree, 'd2d'));
  // The unpacked archive's size: stage 1 unpacks from a file instead of a pipe when the memory allows both.
  writeFileSync(join(tree, 'd2d/rootfs-bytes'), `${archiveBytes}\n`);
  writeFileSync(join(tree, 'd2d/complete'), 'ok\n');
  const sde = ctx.plan.sourceDateEpoch;
  clampTree(tree, sde);
  const seg = initrdSegments(walk(tree));
  const stage1 = ctx.ws.stage1Cpio;
  const rest = ctx.ws.payloadSegment;
  await writeCpio(tree, seg.stage1, stage1, logFile);
  await run(stage1XzArgv(stage1), { log: logFile });
  await writeCpio(tree, seg.payload, rest, logFile);
  // The kernel looks for the next archive's header on a 4-byte boundary; an xz stream always ends on one.
  const head = readFileSync(`${stage1}.xz`);
  if (head.length % 4 !== 0) throw new Error(`stage 1 archive is ${head.length} bytes, not a multiple of 4`);
  copyFileSync(`${stage1}.xz`, ctx.ws.initrd);
  appendFileSync(ctx.ws.initrd, readFileSync(rest));
  rmSync(`${stage1}.xz`, { force: true });
  rmSync(rest, { force: true });
  return { bytes: statSync(ctx.ws.initrd).size };
}

async function writeCpio(tree: string, list: string[], out: string, logFile: string): Promise<void> {
  // -R 0:0: the files belong to root whoever builds the image.
  await run(cpioCreateArgv(out, { rootOwned: true }), { cwd: tree, input: list.join('\n') + '\n', log: logFile });
}

/**
 * Network boot's second initrd (NAME.images): the preloaded images under
 * /d2d-images, the index, and a sentinel last. Boot loaders concatenate it
 * after the main initrd; stage 1 moves the files into the root tmpfs.
 */
export async function buildImagesInitrd(ctx: Context, logFile: string): Promise<{ bytes: number }> {
  const tree = ctx.ws.imagesInitrdTree;
  rmSync(tree, { recursive: true, force: true });
  const dir = join(tree, INITRD_IMAGES_DIR);
  mkdirSync(dir, { recursive: true });
  for (const f of imageFiles(ctx.plan.images)) linkOrCopy(join(ctx.ws.imagesDir, f), join(dir, f));
  writeFileSync(join(dir, 'complete'), 'ok\n');
  clampTree(tree, ctx.plan.sourceDateEpoch);
  const list = [INITRD_IMAGES_DIR, ...ctx.plan.images.map((im) => `${INITRD_IMAGES_DIR}/${im.file}`), `${INITRD_IMAGES_DIR}/index`, `${INITRD_IMAGES_DIR}/complete`];
  await writeCpio(tree, list, ctx.ws.imagesInitrd, logFile);
  return { bytes: statSync(ctx.ws.imagesInitrd).size };
}
