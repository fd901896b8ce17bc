// The build context: the frozen plan plus the workspace paths every stage uses,
// and the stage runner that times each stage, gives it a log file, and turns a
// failed command into a StageError naming the stage, the command and the log.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CommandError, D2DError, StageError } from './errors.js';
import type { BuildPlan } from './plan/plan.js';
import { log } from './log.js';

export interface Workspace {
  dir: string; // the build's work folder
  logs: string; // its log folder
  kernelDir: string; // the unpacked kernel package
  isoRoot: string; // the ISO's file tree
  payload: string; // the compressed root filesystem archive
  busybox: string; // the static busybox taken from the root filesystem (stage 1)
  vmlinuz: string;
  initrd: string;
  iso: string;
  insideReport: string; // what the in-rootfs stages report back (JSON)
  imagesDir: string; // the preloaded images' archives and their index
  imagesInitrd: string; // the same, as a second initrd for network boot
}

export function workspace(dir: string): Workspace {
  return {
    dir,
    logs: join(dir, 'logs'),
    kernelDir: join(dir, 'kernel'),
    isoRoot: join(dir, 'iso'),
    payload: join(dir, 'rootfs.cpio'),
    busybox: join(dir, 'busybox'),
    vmlinuz: join(dir, 'vmlinuz'),
    initrd: join(dir, 'initrd.img'),
    iso: join(dir, 'image.iso'),
    insideReport: join(dir, 'inside.json'),
    imagesDir: join(dir, 'images'),
    imagesInitrd: join(dir, 'images.img'),
  };
}

export interface Context {
  plan: BuildPlan;
  ws: Workspace;
  timings: Record<string, number>;
}

export function logPath(ctx: Context, stage: string): string {
  mkdirSync(ctx.ws.logs, { recursive: true });
  return join(ctx.ws.logs, `${stage}.log`);
}

/** Run one stage: time it, log it, and wrap failures so the user sees stage, command and log. */
export async function runStage<T>(ctx: Context, name: string, fn: (logFile: string) => Promise<T>): Promise<T> {
  const file = logPath(ctx, name);
  const t0 = Date.now();
  log.stageStart(name);
  try {
    const r = await fn(file);
    ctx.timings[name] = (Date.now() - t0) / 1000;
    log.stageDone(name, ctx.timings[name]!);
    return r;
  } catch (e) {
    if (e instanceof StageError || (e instanceof D2DError && !(e instanceof CommandError))) throw e;
    if (e instanceof CommandError) {
      throw new StageError(name, `${e.message}\n  command: ${e.argv.slice(0, 8).join(' ')}${e.argv.length > 8 ? ' ...' : ''}\n${indent(e.tail)}`, {
        logPath: file,
        cause: e,
      });
    }
    throw new StageError(name, (e as Error).message ?? String(e), { logPath: file, cause: e });
  }
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `  | ${l}`)
    .join('\n');
}
