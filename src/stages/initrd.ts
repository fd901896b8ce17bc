// Stage "initrd": the file the boot loader loads. A small uncompressed cpio
// holding stage 1 (busybox + target/stage1/init) and the already compressed
// root filesystem, with a sentinel as its very last file so stage 1 can tell a
// complete unpack from one the kernel cut short.
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clampTree, linkOrCopy, walk } from '../fsutil.js';
import { run } from '../tools/exec.js';
import { TARGET_DIR } from '../paths.js';
import type { Context } from '../context.js';
import { imageFiles, INITRD_IMAGES_DIR } from '../plan/images.js';

/** Order of the outer archive: everything else sorted, then the payload, then the sentinel. */
export function initrdOrder(paths: string[]): string[] {
  const last = ['d2d/complete'];
  const payload = paths.filter((p) => /^d2d\/rootfs\.cpio\./.test(p));
  const rest = paths.filter((p) => !last.includes(p) && !payload.includes(p)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return [...rest, ...payload, ...last.filter((l) => paths.includes(l))];
}

export async function buildInitrd(ctx: Context, payload: string, logFile: string): Promise<{ bytes: number }> {
  const tree = join(ctx.ws.dir, 'initrd-tree');
  rmSync(tree, { recursive: true, force: true });
  mkdirSync(join(tree, 'bin'), { recursive: true });
  mkdirSync(join(tree, 'd2d'), { recursive: true });
  const extras = join(ctx.ws.dir, 'stage1');
  if (existsSync(extras)) await run(['cp', '-R', `${extras}/.`, `${tree}/`], { log: logFile });
  copyFileSync(join(TARGET_DIR, 'stage1/init'), join(tree, 'init'));
  chmodSync(join(tree, 'init'), 0o755);
  copyFileSync(ctx.ws.busybox, join(tree, 'bin/busybox'));
  chmodSync(join(tree, 'bin/busybox'), 0o755);
  const name = payload.endsWith('.zst') ? 'rootfs.cpio.zst' : 'rootfs.cpio.xz';
  linkOrCopy(payload, join(tree, 'd2d', name));
  writeFileSync(join(tree, 'd2d/complete'), 'ok\n');
  const sde = ctx.plan.sourceDateEpoch;
  clampTree(tree, sde);
  await writeCpio(tree, initrdOrder(walk(tree)), ctx.ws.initrd, logFile);
  return { bytes: statSync(ctx.ws.initrd).size };
}

async function writeCpio(tree: string, list: string[], out: string, logFile: string): Promise<void> {
  // -R 0:0: the files belong to root whoever builds the image.
  await run(['cpio', '--quiet', '-o', '-H', 'newc', '--reproducible', '-R', '0:0', '-O', out], { cwd: tree, input: list.join('\n') + '\n', log: logFile });
}

/**
 * Network boot's second initrd (NAME.images): the preloaded images under
 * /d2d-images, the index, and a sentinel last. Boot loaders concatenate it
 * after the main initrd; stage 1 moves the files into the root tmpfs.
 */
export async function buildImagesInitrd(ctx: Context, logFile: string): Promise<{ bytes: number }> {
  const tree = join(ctx.ws.dir, 'images-initrd-tree');
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
