// The build, as one ordered list of steps after the plan is made. Each step says
// when it runs (its guard reads the plan and what earlier steps found) and what it
// does; `runSteps` walks the list. The steps that run inside the root file system
// (mmdebstrap's hook) are listed in src/pipeline/inside-steps.ts, and run as the `rootfs` step.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../context.js';
import { log } from '../log.js';
import { buildBootloader } from '../stages/bootloader.js';
import { buildImages, type ImageRecord } from '../stages/images.js';
import { buildImagesInitrd, buildInitrd } from '../stages/initrd.js';
import { buildIso } from '../stages/iso.js';
import { buildDiskImage, buildQcow2 } from '../stages/diskimage.js';
import { buildLayer } from '../stages/layer.js';
import type { InsideReport } from '../stages/manifest.js';
import type { FirmwareReport } from '../stages/firmware.js';
import { buildRootfs, type AptSetup } from '../stages/rootfs.js';
import { provideBuiltKernel } from '../stages/kernelBuild.js';
import type { CacheEntry, StageCache } from './stagecache.js';
import type { Step } from './step.js';

/** What one build carries from step to step. */
export interface BuildRun {
  readonly ctx: Context;
  readonly apt: AptSetup;
  /** The stage cache (none with --no-cache), the root stage's key and the entry found under it. */
  readonly stages?: StageCache;
  readonly key?: string;
  readonly entry?: CacheEntry;
  /** Set by the step that provides the root file system: from the cache, or built. */
  fromCache: boolean;
  images: ImageRecord[];
  /** --rebuild-kernel: compile the kernel even if the kernel cache has it. */
  readonly rebuildKernel?: boolean;
  inside?: InsideReport;
}

/** The firmware in one line: how much, for which drivers, and what no package had (the manifest lists each file). */
export function firmwareLine(f: FirmwareReport): string {
  const drivers = (l: { for: string[] }[]): string => [...new Set(l.flatMap((x) => x.for))].join(', ');
  const kib = (f.bytes / 1024).toFixed(0);
  const missing = f.missing.length ? `; ${f.missing.length} named by ${drivers(f.missing)} in none of firmware.packages` : '';
  return `firmware: ${f.files.length} files (${kib} KiB)${f.files.length ? ` for ${drivers(f.files)}` : ''}${missing}`;
}

const insideReport = (r: BuildRun): InsideReport => JSON.parse(readFileSync(r.ctx.ws.insideReport, 'utf8')) as InsideReport;

export const STEPS: readonly Step<BuildRun>[] = [
  // Images first: a bad tarball or an unreachable registry fails the build before the long rootfs step.
  {
    name: 'images',
    stage: true,
    when: (r) => r.ctx.plan.images.length > 0,
    run: async (r, l) => {
      r.images = await buildImages(r.ctx, l, r.apt);
    },
  },
  {
    name: 'rootfs (cached)',
    stage: false,
    when: (r) => r.entry !== undefined,
    run: async (r) => {
      r.fromCache = restoreRootStage(r);
      if (r.fromCache) r.inside = insideReport(r);
    },
  },
  // kernel.build: the compiled kernel (from the kernel cache, or compiled: minutes), for the root stage's kernel step.
  {
    name: 'kernel-build',
    stage: true,
    when: (r) => !r.fromCache && r.ctx.plan.kernel.source.kind === 'build',
    run: async (r, l) => provideBuiltKernel(r.ctx, l, r.apt, r.rebuildKernel),
  },
  {
    name: 'rootfs',
    stage: true,
    when: (r) => !r.fromCache,
    run: async (r, l) => {
      await buildRootfs(r.ctx, l, r.apt);
      r.inside = insideReport(r);
      for (const [k, v] of Object.entries(r.inside.timings)) r.ctx.timings[`rootfs/${k}`] = v;
    },
  },
  {
    name: 'stage cache',
    stage: false,
    when: (r) => r.stages !== undefined && r.key !== undefined && !r.fromCache,
    run: async (r) => storeRootStage(r),
  },
  {
    name: 'layer',
    stage: true,
    run: async (r, l) => {
      const inside = r.inside!;
      const layer = await buildLayer(r.ctx, join(r.ctx.ws.dir, inside.pack.payload), inside.pack.files, l);
      inside.pack = {
        files: inside.pack.files + layer.entries,
        bytes: inside.pack.bytes + layer.bytes,
        streams: [...inside.pack.streams, layer.stream],
        payload: layer.payload,
        biggest: [...inside.pack.biggest.filter((b) => !layer.sizes.some((s) => s.path === b.path)), ...layer.sizes].sort((a, b) => b.bytes - a.bytes || a.path.localeCompare(b.path)).slice(0, 25),
      };
      log.info(`kernel ${inside.kernel.version}, ${inside.modules.kept.length} modules, ${inside.packages.length} packages, rootfs ${(inside.pack.bytes / 2 ** 20).toFixed(0)} MiB`);
      if (inside.firmware) log.info(firmwareLine(inside.firmware));
    },
  },
  {
    name: 'initrd',
    stage: true,
    run: async (r, l) => {
      const { payload, streams, bytes } = r.inside!.pack;
      await buildInitrd(r.ctx, payload, streams, bytes, l);
    },
  },
  {
    name: 'images-initrd',
    stage: true,
    when: (r) => r.images.length > 0,
    run: async (r, l) => {
      await buildImagesInitrd(r.ctx, l);
    },
  },
  {
    name: 'bootloader',
    stage: true,
    run: async (r, l) => {
      await buildBootloader(r.ctx, l);
    },
  },
  {
    name: 'iso',
    stage: true,
    run: async (r, l) => {
      await buildIso(r.ctx, l);
    },
  },
  // build --format raw,qcow2: the ISO installed onto a disk image by its own installer, in a VM (about a minute under TCG).
  {
    name: 'disk-image',
    stage: true,
    when: (r) => r.ctx.plan.diskBytes !== null,
    run: async (r, l) => buildDiskImage(r.ctx, l),
  },
  {
    name: 'qcow2',
    stage: true,
    when: (r) => r.ctx.plan.formats.includes('qcow2'),
    run: async (r, l) => buildQcow2(r.ctx, l),
  },
];

/**
 * Take the root stage from the cache. The cache only saves time: an entry another build removed or is
 * replacing meanwhile (two builds at once, each evicting or storing) means this build makes its own.
 */
function restoreRootStage(r: BuildRun): boolean {
  const t = Date.now();
  try {
    r.stages!.restore(r.entry!, r.ctx.ws.dir);
  } catch (e) {
    log.warn(`the stage cache's entry ${r.entry!.key} went away while it was read (${(e as Error).message}); building the root file system`);
    return false;
  }
  r.ctx.timings['rootfs (cached)'] = (Date.now() - t) / 1000;
  log.info(`root file system from the stage cache (${r.entry!.key}); --no-cache builds it anew`);
  return true;
}

/** Keep the root stage for the next build; a cache that cannot take it (full disk, another build's entry) is said, not fatal. */
function storeRootStage(r: BuildRun): void {
  try {
    r.stages!.store({ key: r.key!, sourceDateEpoch: r.ctx.plan.sourceDateEpoch, payload: r.inside!.pack.payload }, r.ctx.ws.dir);
  } catch (e) {
    log.warn(`the root file system was not kept in the stage cache: ${(e as Error).message}`);
  }
}
