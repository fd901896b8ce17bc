// Stage "stage1-extras" (inside the hook): tools stage 1 needs besides busybox.
// Stage 1 carries the root file system's own decompressor (zstd, or xzdec for
// xz: busybox's unxz lacks the x86 filter and big dictionaries) and the
// libraries it links (found with the rootfs's ldd), as /d2d/zstd or /d2d/xzdec.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { run } from '../exec/run.js';
import { StageError } from '../errors.js';
import type { Context } from '../context.js';
import { lddArgv } from '../tools/chroot.js';

/** Absolute library paths from `ldd` output. */
export function parseLdd(out: string): string[] {
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]!);
  }
  return libs;
}

/** The decompressor stage 1 runs, and the package that has it. */
export function decompressor(compression: 'xz' | 'zstd'): { path: string; pkg: string; name: string } {
  return compression === 'zstd' ? { path: '/usr/bin/zstd', pkg: 'zstd', name: 'zstd' } : { path: '/usr/bin/xzdec', pkg: 'xzdec', name: 'xzdec' };
}

/** Where the build keeps stage 1's tools besides busybox and /init (the initrd copies the folder whole). */
export function stage1ExtrasDir(ctx: Context): string {
  return ctx.ws.stage1Extras;
}

export async function collectStage1Extras(ctx: Context, root: string, logFile: string): Promise<string[]> {
  const tool = decompressor(ctx.plan.initramfs.compression);
  const extra = stage1ExtrasDir(ctx);
  const { stdout } = await run(lddArgv(root, tool.path), { capture: true, log: logFile }).catch((e: unknown) => {
    throw new StageError('stage1-extras', `compression: ${ctx.plan.initramfs.compression} needs the ${tool.pkg} package in the image`, { cause: e, logPath: logFile });
  });
  const files = [tool.path, ...parseLdd(stdout)];
  for (const f of files) {
    const dst = join(extra, f === tool.path ? `d2d/${tool.name}` : f);
    mkdirSync(dirname(dst), { recursive: true });
    copyFileSync(join(root, f), dst);
  }
  return files;
}
