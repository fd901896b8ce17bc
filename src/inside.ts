// Entry point run by mmdebstrap's customize hook, inside its namespace (as root
// there, whether or not the build itself runs as root): `node inside.js WORKDIR ROOT`.
// It runs the stages that need the root filesystem as a folder, then reports
// back to the outer build through WORKDIR/inside.json (or inside-error.json).
//
// Root mode: we are real root and write straight into WORKDIR.
// Unshare mode (rootless): our "root" is the user's first subordinate id, which
// cannot write the user's files. We then work in ROOT/.d2d-work (left out of
// the image) and mmdebstrap's next hook, `sync-out`, copies it to WORKDIR as the
// user. Errors are also printed with a marker, since that folder is lost when
// the hook fails.
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { tailOf } from './tools/exec.js';
import { runStage, workspace, type Context } from './context.js';
import type { BuildPlan } from './plan/plan.js';
import { D2DError, StageError } from './errors.js';
import { fetchKernel } from './stages/kernel.js';
import { installModules } from './stages/modules.js';
import { applyOverlay } from './stages/overlay.js';
import { recordPackages, recordSources } from './stages/record.js';
import { packRootfs } from './stages/pack.js';
import { collectStage1Extras, decompressor, stage1ExtrasDir } from './stages/stage1extras.js';
import { shareWithStage1 } from './stages/stage1shared.js';
import { applyFiles, runHooks } from './stages/customise.js';
import { prune } from './stages/prune.js';
import { dropRootGoExports } from './stages/goexports.js';
import { storeRootRelativeRelocsOnce } from './stages/relative.js';
import { pruneRules, prunePackages } from './plan/prune.js';
import { applyLocale } from './stages/locale.js';
import { filesInLayer, layerNeeds } from './stages/layer.js';
import { ERROR_MARKER, INNER_WORKDIR, type InsideError } from './insideProtocol.js';

function innerWorkdir(workDir: string, root: string): string {
  if (process.env.MMDEBSTRAP_MODE !== 'unshare') return workDir;
  const inner = join(root, INNER_WORKDIR);
  mkdirSync(join(inner, 'logs'), { recursive: true });
  copyFileSync(join(workDir, 'plan.json'), join(inner, 'plan.json'));
  return inner;
}

async function main(): Promise<void> {
  const [workDir, root] = process.argv.slice(2);
  if (!workDir || !root) throw new Error('usage: inside.js WORKDIR ROOT');
  const plan = JSON.parse(readFileSync(join(workDir, 'plan.json'), 'utf8')) as BuildPlan;
  const ctx: Context = { plan, ws: workspace(innerWorkdir(workDir, root)), timings: {} };
  const kernel = await runStage(ctx, 'kernel', (l) => fetchKernel(ctx, root, l));
  const modules = await runStage(ctx, 'modules', (l) => installModules(ctx, root, kernel.version, l));
  await runStage(ctx, 'hooks-after-packages', (l) => runHooks(ctx, root, 'after-packages', l));
  await runStage(ctx, 'overlay', (l) => applyOverlay(ctx, root, l));
  await runStage(ctx, 'locale', (l) => applyLocale(ctx, root, l));
  // The files go into the root here only when before-pack hooks may use them; otherwise they are the last
  // stream of the payload, added outside (src/stages/layer.ts), so a changed file does not repack the root.
  const layered = filesInLayer(plan);
  if (!layered) await runStage(ctx, 'files', (l) => applyFiles(ctx, root, l));
  await runStage(ctx, 'hooks-before-pack', (l) => runHooks(ctx, root, 'before-pack', l));
  const packages = await runStage(ctx, 'record', (l) => recordPackages(root, l));
  const sources = recordSources(root);
  await runStage(ctx, 'stage1-extras', (l) => collectStage1Extras(ctx, root, l));
  copyFileSync(join(root, 'usr/bin/busybox'), ctx.ws.busybox);
  const { pruned, keptPackages, packageFiles: prunedFiles } = await runStage(ctx, 'prune', async () => prune(root, pruneRules(plan), prunePackages(plan), layered ? layerNeeds(plan.files) : []));
  const goExports = await runStage(ctx, 'go-exports', async (l) => dropRootGoExports(root, (line) => appendFileSync(l, `${line}\n`)));
  const relativeRelocs = await runStage(ctx, 'relative-relocs', async (l) => storeRootRelativeRelocsOnce(root, (line) => appendFileSync(l, `${line}\n`)));
  const shared = await runStage(ctx, 'stage1-shared', async (l) =>
    shareWithStage1(root, stage1ExtrasDir(ctx), ctx.ws.busybox, decompressor(plan.initramfs.compression), (line) => appendFileSync(l, `${line}\n`)),
  );
  const pack = await runStage(ctx, 'pack', (l) => packRootfs(ctx, root, l, new Set(shared.map((s) => s.root))));
  // Only what the outer stages need leaves this hook: not the unpacked kernel nor the uncompressed archive.
  rmSync(ctx.ws.kernelDir, { recursive: true, force: true });
  rmSync(ctx.ws.payload, { force: true });
  writeFileSync(ctx.ws.insideReport, JSON.stringify({ kernel, modules, packages, sources, pruned, keptPackages, prunedFiles, goExports, relativeRelocs, fromStage1: shared.map((s) => `/${s.root}`), pack: { ...pack, payload: basename(pack.payload) }, timings: ctx.timings }, null, 1));
}

main().catch((e: unknown) => {
  const err = e instanceof D2DError ? e : new StageError('rootfs', String((e as Error)?.stack ?? e));
  const [workDir] = process.argv.slice(2);
  const rootless = process.env.MMDEBSTRAP_MODE === 'unshare';
  const stageLog = err instanceof StageError ? err.logPath : undefined;
  // In rootless mode the stage's log is lost with the chroot: put its tail in mmdebstrap's output.
  if (rootless && stageLog && existsSync(stageLog)) process.stderr.write(`${tailOf(readFileSync(stageLog, 'utf8'), 30)}\n`);
  const report: InsideError = { code: err.code, message: err.message, hint: err.hint, exitCode: err.exitCode, stage: err instanceof StageError ? err.stage : undefined, logPath: rootless ? undefined : stageLog };
  if (workDir && !rootless) writeFileSync(join(workDir, 'inside-error.json'), JSON.stringify(report));
  process.stderr.write(`${ERROR_MARKER}${JSON.stringify(report)}\n`);
  process.exit(1);
});
