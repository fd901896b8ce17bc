// Entry point run by mmdebstrap's customize hook, inside its namespace (as root
// there, whether or not the build itself runs as root): `node inside.js WORKDIR ROOT`.
// It runs the stages that need the root filesystem as a folder, then reports
// back to the outer build through WORKDIR/inside.json (or inside-error.json).
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runStage, workspace, type Context } from './context.js';
import type { BuildPlan } from './plan/plan.js';
import { D2DError, StageError } from './errors.js';
import { fetchKernel } from './stages/kernel.js';
import { installModules } from './stages/modules.js';
import { applyOverlay } from './stages/overlay.js';
import { recordPackages, recordSources } from './stages/record.js';
import { packRootfs } from './stages/pack.js';
import { collectStage1Extras } from './stages/stage1extras.js';

async function main(): Promise<void> {
  const [workDir, root] = process.argv.slice(2);
  if (!workDir || !root) throw new Error('usage: inside.js WORKDIR ROOT');
  const plan = JSON.parse(readFileSync(join(workDir, 'plan.json'), 'utf8')) as BuildPlan;
  const ctx: Context = { plan, ws: workspace(workDir), timings: {} };
  const kernel = await runStage(ctx, 'kernel', (l) => fetchKernel(ctx, root, l));
  const modules = await runStage(ctx, 'modules', (l) => installModules(ctx, root, kernel.version, l));
  await runStage(ctx, 'overlay', (l) => applyOverlay(ctx, root, l));
  const packages = await runStage(ctx, 'record', (l) => recordPackages(root, l));
  const sources = recordSources(root);
  await runStage(ctx, 'stage1-extras', (l) => collectStage1Extras(ctx, root, l));
  copyFileSync(join(root, 'usr/bin/busybox'), ctx.ws.busybox);
  const pack = await runStage(ctx, 'pack', (l) => packRootfs(ctx, root, l));
  writeFileSync(ctx.ws.insideReport, JSON.stringify({ kernel, modules, packages, sources, pack, timings: ctx.timings }, null, 1));
}

main().catch((e: unknown) => {
  const err = e instanceof D2DError ? e : new StageError('rootfs', String((e as Error)?.stack ?? e));
  const [workDir] = process.argv.slice(2);
  if (workDir) {
    writeFileSync(
      join(workDir, 'inside-error.json'),
      JSON.stringify({ code: err.code, message: err.message, hint: err.hint, stage: err instanceof StageError ? err.stage : undefined, logPath: err instanceof StageError ? err.logPath : undefined }),
    );
  }
  process.stderr.write(`d2d inside: ${err.message}\n`);
  process.exit(1);
});
