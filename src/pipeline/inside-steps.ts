// The build steps that need the root file system as a folder: they run inside
// mmdebstrap's customize hook (src/inside.ts), in this order, and what they find
// goes back to the outer build as inside.json (src/stages/manifest.ts InsideReport).
import { appendFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../context.js';
import { pruneRules, prunePackages } from '../plan/prune.js';
import { applyFiles, runHooks } from '../stages/customise.js';
import { dropRootGoExports } from '../stages/goexports.js';
import { fetchKernel } from '../stages/kernel.js';
import { filesInLayer, layerNeeds } from '../stages/layer.js';
import { applyLocale } from '../stages/locale.js';
import type { InsideReport } from '../stages/manifest.js';
import { installModules } from '../stages/modules.js';
import { applyOverlay } from '../stages/overlay.js';
import { packRootfs } from '../stages/pack.js';
import { prune } from '../stages/prune.js';
import { recordPackages, recordSources } from '../stages/record.js';
import { storeRootRelativeRelocsOnce } from '../stages/relative.js';
import { collectStage1Extras, decompressor, stage1ExtrasDir } from '../stages/stage1extras.js';
import { shareWithStage1 } from '../stages/stage1shared.js';
import { fetchSecureBoot } from '../stages/secureboot.js';
import { collectFirmware, namedFirmware } from '../stages/firmware.js';
import type { Step } from './step.js';

/** What the inside steps carry from one to the next: the root and the report they fill in. */
export interface InsideRun {
  readonly ctx: Context;
  readonly root: string;
  /** The config's files go into the payload's last stream, outside (src/stages/layer.ts), not into the root. */
  readonly layered: boolean;
  readonly report: Partial<InsideReport>;
  /** Root files stage 1 carries (stage1-shared), left out of the pack. */
  shared: { root: string }[];
}

export function insideRun(ctx: Context, root: string): InsideRun {
  return { ctx, root, layered: filesInLayer(ctx.plan), report: {}, shared: [] };
}

/** A line writer into a step's log file. */
const lines = (l: string) => (line: string): void => appendFileSync(l, `${line}\n`);

export const INSIDE_STEPS: readonly Step<InsideRun>[] = [
  {
    name: 'kernel',
    stage: true,
    run: async (r, l) => {
      r.report.kernel = await fetchKernel(r.ctx, r.root, l);
    },
  },
  {
    name: 'secure-boot',
    stage: true,
    when: (r) => r.ctx.plan.secureBoot,
    run: async (r, l) => {
      r.report.secureBoot = await fetchSecureBoot(r.ctx, r.root, l);
    },
  },
  {
    name: 'modules',
    stage: true,
    run: async (r, l) => {
      r.report.modules = await installModules(r.ctx, r.root, r.report.kernel!.version, l);
    },
  },
  {
    name: 'firmware',
    stage: true,
    when: (r) => r.ctx.plan.firmware.packages.length > 0,
    run: async (r, l) => {
      const named = await namedFirmware(r.ctx, r.root, r.report.kernel!.version, r.report.modules!.kept, l);
      r.report.firmware = await collectFirmware(r.ctx, r.root, named, l);
    },
  },
  { name: 'hooks-after-packages', stage: true, run: (r, l) => runHooks(r.ctx, r.root, 'after-packages', l) },
  { name: 'overlay', stage: true, run: (r, l) => applyOverlay(r.ctx, r.root, l) },
  { name: 'locale', stage: true, run: (r, l) => applyLocale(r.ctx, r.root, l) },
  // The files go into the root here only when before-pack hooks may use them; otherwise they are the last
  // stream of the payload, added outside, so a changed file does not repack the root.
  { name: 'files', stage: true, when: (r) => !r.layered, run: (r, l) => applyFiles(r.ctx, r.root, l) },
  { name: 'hooks-before-pack', stage: true, run: (r, l) => runHooks(r.ctx, r.root, 'before-pack', l) },
  {
    name: 'record',
    stage: true,
    run: async (r, l) => {
      r.report.packages = await recordPackages(r.root, l);
      r.report.sources = recordSources(r.root);
    },
  },
  {
    name: 'stage1-extras',
    stage: true,
    run: async (r, l) => {
      await collectStage1Extras(r.ctx, r.root, l);
      copyFileSync(join(r.root, 'usr/bin/busybox'), r.ctx.ws.busybox);
    },
  },
  {
    name: 'prune',
    stage: true,
    run: async (r) => {
      const p = r.ctx.plan;
      const { pruned, keptPackages, packageFiles } = await prune(r.root, pruneRules(p), prunePackages(p), r.layered ? layerNeeds(p.files) : []);
      Object.assign(r.report, { pruned, keptPackages, prunedFiles: packageFiles });
    },
  },
  {
    name: 'go-exports',
    stage: true,
    run: async (r, l) => {
      r.report.goExports = await dropRootGoExports(r.root, lines(l));
    },
  },
  {
    name: 'relative-relocs',
    stage: true,
    run: async (r, l) => {
      r.report.relativeRelocs = await storeRootRelativeRelocsOnce(r.root, lines(l));
    },
  },
  {
    name: 'stage1-shared',
    stage: true,
    run: async (r, l) => {
      r.shared = await shareWithStage1(r.root, stage1ExtrasDir(r.ctx), r.ctx.ws.busybox, decompressor(r.ctx.plan.initramfs.compression), lines(l));
      r.report.fromStage1 = r.shared.map((s) => `/${s.root}`);
    },
  },
  {
    name: 'pack',
    stage: true,
    run: async (r, l) => {
      const pack = await packRootfs(r.ctx, r.root, l, new Set(r.shared.map((s) => s.root)));
      r.report.pack = pack;
    },
  },
];
