// Stage "stage1-extras" (inside the hook): tools stage 1 needs besides busybox.
// busybox cannot decompress zstd, so for zstd payloads stage 1 carries the
// rootfs's own zstd binary and the libraries it links (found with the rootfs's ldd).
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { run } from '../tools/exec.js';
import { StageError } from '../errors.js';
import type { Context } from '../context.js';

/** Absolute library paths from `ldd` output. */
export function parseLdd(out: string): string[] {
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]!);
  }
  return libs;
}

export async function collectStage1Extras(ctx: Context, root: string, logFile: string): Promise<string[]> {
  if (ctx.plan.initramfs.compression !== 'zstd') return [];
  const extra = join(ctx.ws.dir, 'stage1');
  const { stdout } = await run(['chroot', root, 'ldd', '/usr/bin/zstd'], { capture: true, log: logFile }).catch((e: unknown) => {
    throw new StageError('stage1-extras', 'compression: zstd needs the zstd package in the image', { cause: e, logPath: logFile });
  });
  const files = ['/usr/bin/zstd', ...parseLdd(stdout)];
  for (const f of files) {
    const dst = join(extra, f === '/usr/bin/zstd' ? 'd2d/zstd' : f);
    mkdirSync(dirname(dst), { recursive: true });
    copyFileSync(join(root, f), dst);
  }
  return files;
}
