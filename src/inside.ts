// Entry point run by mmdebstrap's customize hook, inside its namespace (as root
// there, whether or not the build itself runs as root): `node inside.js WORKDIR ROOT`.
// It runs the steps that need the root filesystem as a folder (src/pipeline/inside-steps.ts), then reports
// back to the outer build through WORKDIR/inside.json (or inside-error.json).
//
// Root mode: we are real root and write straight into WORKDIR.
// Unshare mode (rootless): our "root" is the user's first subordinate id, which
// cannot write the user's files. We then work in ROOT/.d2d-work (left out of
// the image) and mmdebstrap's next hook, `sync-out`, copies it to WORKDIR as the
// user. Errors are also printed with a marker, since that folder is lost when
// the hook fails.
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { tailOf } from './exec/run.js';
import { WORK, workspace, type Context } from './context.js';
import type { BuildPlan } from './plan/plan.js';
import { D2DError, StageError } from './errors.js';
import { INSIDE_STEPS, insideRun } from './pipeline/inside-steps.js';
import { runSteps } from './pipeline/step.js';
import { ERROR_MARKER, INNER_WORKDIR, type InsideError } from './insideProtocol.js';

function innerWorkdir(workDir: string, root: string): string {
  if (process.env.MMDEBSTRAP_MODE !== 'unshare') return workDir;
  const inner = join(root, INNER_WORKDIR);
  mkdirSync(join(inner, 'logs'), { recursive: true });
  copyFileSync(join(workDir, WORK.plan), join(inner, WORK.plan));
  // kernel.build: the compiled kernel the outer build took from the kernel cache (readable by others).
  const built = join(workDir, WORK.builtKernel);
  if (existsSync(built)) cpSync(built, join(inner, WORK.builtKernel), { recursive: true, verbatimSymlinks: true });
  return inner;
}

async function main(): Promise<void> {
  const [workDir, root] = process.argv.slice(2);
  if (!workDir || !root) throw new Error('usage: inside.js WORKDIR ROOT');
  const plan = JSON.parse(readFileSync(join(workDir, WORK.plan), 'utf8')) as BuildPlan;
  const ctx: Context = { plan, ws: workspace(innerWorkdir(workDir, root)), timings: {} };
  const r = insideRun(ctx, root);
  await runSteps(r, INSIDE_STEPS);
  // Only what the outer stages need leaves this hook: not the unpacked kernel nor the uncompressed archive.
  rmSync(ctx.ws.kernelDir, { recursive: true, force: true });
  rmSync(ctx.ws.payload, { force: true });
  const pack = r.report.pack!;
  writeFileSync(ctx.ws.insideReport, JSON.stringify({ ...r.report, pack: { ...pack, payload: basename(pack.payload) }, timings: ctx.timings }, null, 1));
}

main().catch((e: unknown) => {
  const err = e instanceof D2DError ? e : new StageError('rootfs', String((e as Error)?.stack ?? e));
  const [workDir] = process.argv.slice(2);
  const rootless = process.env.MMDEBSTRAP_MODE === 'unshare';
  const stageLog = err instanceof StageError ? err.logPath : undefined;
  // In rootless mode the stage's log is lost with the chroot: put its tail in mmdebstrap's output.
  if (rootless && stageLog && existsSync(stageLog)) process.stderr.write(`${tailOf(readFileSync(stageLog, 'utf8'), 30)}\n`);
  const report: InsideError = { code: err.code, message: err.message, hint: err.hint, exitCode: err.exitCode, stage: err instanceof StageError ? err.stage : undefined, logPath: rootless ? undefined : stageLog };
  if (workDir && !rootless) writeFileSync(join(workDir, WORK.insideError), JSON.stringify(report));
  process.stderr.write(`${ERROR_MARKER}${JSON.stringify(report)}\n`);
  process.exit(1);
});
