// A build step and the loop that runs a list of them (src/pipeline/steps.ts outside the
// root, src/pipeline/inside-steps.ts inside it): each step's guard decides whether it runs.
import { runStage, type Context } from '../context.js';

/** One step of a build: outside the root (R = BuildRun) or inside it (R = InsideRun, src/pipeline/inside-steps.ts). */
export interface Step<R> {
  name: string;
  /** Runs only when this says so; no guard: always. */
  when?: (r: R) => boolean;
  /** Timed and logged as a stage (`==> name`, its own log file); false for bookkeeping steps. */
  stage: boolean;
  run: (r: R, logFile: string) => Promise<unknown>;
}

/** Walk a list: each step whose guard allows it, in order. */
export async function runSteps<R extends { readonly ctx: Context }>(r: R, steps: readonly Step<R>[]): Promise<void> {
  for (const step of steps) {
    if (step.when && !step.when(r)) continue;
    if (step.stage) await runStage(r.ctx, step.name, (l) => step.run(r, l));
    else await step.run(r, '');
  }
}
