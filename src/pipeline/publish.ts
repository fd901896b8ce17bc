// Publishing a build: every output of the registry (outputs.ts) and the manifest are
// copied under temporary names next to their final ones, and renamed only when all of
// them are complete. An interrupt or a failure leaves nothing half-written.
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Config } from '../config/schema.js';
import { onInterrupt } from '../interrupt.js';
import { makeManifest } from '../stages/manifest.js';
import { VERSION } from '../version.js';
import { outputsOf } from './outputs.js';
import type { BuildRun } from './steps.js';

/** Publish the outputs and the manifest; returns the manifest's path. */
export async function publish(r: BuildRun, config: Config, t0: number): Promise<string> {
  const { plan, ws, timings } = r.ctx;
  const inside = r.inside!;
  mkdirSync(plan.outDir, { recursive: true });
  const a = plan.artifacts;
  const outputs = outputsOf(plan);
  const partial = (f: string): string => join(plan.outDir, `.${basename(f)}.partial`);
  const partials = [...outputs.map((o) => partial(a[o.kind])), partial(a.manifest)];
  const off = onInterrupt(() => partials.forEach((p) => rmSync(p, { force: true })));
  try {
    for (const o of outputs) (o.move ? renameSync : copyFileSync)(o.work(ws), partial(a[o.kind]));
    timings.total = (Date.now() - t0) / 1000;
    const manifest = await makeManifest({
      plan,
      config,
      version: VERSION,
      inside,
      payloadBytes: statSync(inside.pack.payload).size,
      files: Object.fromEntries(outputs.map((o) => [o.kind, partial(a[o.kind])])),
      images: r.images,
      timings,
    });
    // The artifact names in the manifest are the final ones.
    for (const o of outputs) manifest.artifacts[o.kind]!.file = basename(a[o.kind]);
    writeFileSync(partial(a.manifest), JSON.stringify(manifest, null, 2) + '\n');
    for (const o of outputs) renameSync(partial(a[o.kind]), a[o.kind]);
    renameSync(partial(a.manifest), a.manifest);
  } finally {
    partials.forEach((p) => existsSync(p) && rmSync(p, { force: true }));
    off();
  }
  return a.manifest;
}
