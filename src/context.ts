// The build context: the frozen plan plus the workspace paths every stage uses,
// and the stage runner that times each stage, gives it a log file, and turns a
// failed command into a StageError naming the stage, the command and the log.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CommandError, D2DError, StageError } from './errors.js';
import type { BuildPlan } from './plan/plan.js';
import { log } from './log.js';

/**
 * Every file and folder of a build's work folder, by role: the one place their names are spelled.
 * Steps reach them through workspace(); the stage cache copies the ones an entry holds by these names.
 */
export const WORK = {
  logs: 'logs', // each stage's log file
  plan: 'plan.json', // the plan, for the steps inside the root (src/inside.ts)
  insideReport: 'inside.json', // what the steps inside the root report back
  insideError: 'inside-error.json', // ... or how they failed
  aptSources: 'apt-sources', // the extra repositories' .sources files
  aptCache: 'apt-cache', // each mmdebstrap run's private copy of the package cache
  kernelDir: 'kernel', // the unpacked kernel package
  builtKernel: 'built-kernel', // kernel.build: the compiled kernel and its modules folder, from the kernel cache
  payload: 'rootfs.cpio', // the root file system's archive, before compression
  rootTail: 'rootfs.tail', // the archive's trailer, which the files layer goes before
  rootList: 'rootfs.list', // the archive's paths, for the files layer
  rootPasswd: 'rootfs.passwd', // the root's /etc/passwd and /etc/group, for the files' owners
  rootGroup: 'rootfs.group',
  busybox: 'busybox', // the static busybox taken from the root (stage 1)
  stage1Extras: 'stage1', // stage 1's own programs: the decompressor and its libraries
  layerCpio: 'layer.cpio', // the files layer's archive
  initrdTree: 'initrd-tree', // stage 1's file tree
  stage1Cpio: 'stage1.cpio', // ... as an archive
  payloadSegment: 'payload-segment.cpio', // the payload as a file inside the initrd
  vmlinuz: 'vmlinuz',
  initrd: 'initrd.img',
  imagesDir: 'images', // the preloaded images' archives and their index
  imagesInitrdTree: 'images-initrd-tree',
  imagesInitrd: 'images.img', // the images as a second initrd for network boot
  grubEarly: 'grub-early.cfg', // the EFI GRUB's built-in configuration
  efiBin: 'BOOTX64.EFI',
  secureBoot: 'secure-boot', // Debian's signed shim, GRUB and MokManager (boot.secure-boot), from the root stage
  firmware: 'firmware', // the drivers' firmware files, by path under /lib/firmware, for stage 1 (stages/firmware.ts)
  isoRoot: 'iso', // the ISO's file tree
  iso: 'image.iso',
  rawDisk: 'disk.raw', // build --format raw/qcow2: the ISO installed onto a disk image (stages/diskimage.ts)
  qcow2Disk: 'disk.qcow2',
} as const;

export type Workspace = { readonly dir: string } & { readonly [K in keyof typeof WORK]: string };

export function workspace(dir: string): Workspace {
  return { dir, ...(Object.fromEntries(Object.entries(WORK).map(([k, name]) => [k, join(dir, name)])) as Record<keyof typeof WORK, string>) };
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
