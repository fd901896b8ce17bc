// `debian2docker build`: load the config, make the plan, run the steps
// (src/pipeline/steps.ts), publish the outputs (src/pipeline/publish.ts).
import { mokSigned } from '../stages/bootloader.js';
import { appendFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aptCacheDir, stageCacheDir } from '../paths.js';
import { loadConfig } from '../config/load.js';
import { makePlan, type BuildPlan } from '../plan/plan.js';
import { runStage, workspace, type Context } from '../context.js';
import { checkSnapshotSupport, preflight } from '../stages/preflight.js';
import { versionsMemoDir } from '../stages/aptcache.js';
import { extraSourceFiles, rootless } from '../stages/rootfs.js';
import { filesInLayer, layerNeeds } from '../stages/layer.js';
import { cacheKey, codeHash, isConfigError, packageVersions, StageCache, type CacheEntry } from '../pipeline/stagecache.js';
import { runSteps } from '../pipeline/step.js';
import { STEPS, type BuildRun } from '../pipeline/steps.js';
import { publish } from '../pipeline/publish.js';
import type { OutputChoice } from '../plan/formats.js';
import { log } from '../log.js';
import { onInterrupt } from '../interrupt.js';

export interface BuildOptions {
  config?: string;
  outDir: string;
  noCache?: boolean;
  keepWork?: boolean;
  /** kernel.build: compile the kernel anew even if the kernel cache has it. */
  rebuildKernel?: boolean;
  /** --format, --disk-size (default: the ISO). */
  outputs?: OutputChoice;
}

export function sourceDateEpoch(): number {
  const env = process.env.SOURCE_DATE_EPOCH;
  if (env !== undefined && /^\d+$/.test(env)) return Number(env);
  return Math.floor(Date.now() / 1000);
}

export function planFor(opts: BuildOptions): { plan: BuildPlan; config: ReturnType<typeof loadConfig>['config'] } {
  const loaded = loadConfig(opts.config);
  return { plan: makePlan(loaded.config, { outDir: opts.outDir, configHash: loaded.hash, sourceDateEpoch: sourceDateEpoch(), outputs: opts.outputs }), config: loaded.config };
}

function epochFromEnv(): boolean {
  return /^\d+$/.test(process.env.SOURCE_DATE_EPOCH ?? '');
}

/**
 * The root stage's cache key and entry, if any. The key needs the package versions the archive gives now (a
 * simulated install, a few seconds); if that fails the build goes on without the cache, and the root stage
 * reports the failure in its own words.
 */
async function lookupRootStage(ctx: Context, stages: StageCache, sources: string[]): Promise<{ key?: string; entry?: CacheEntry; versions?: string[] }> {
  try {
    const { key, versions } = await runStage(ctx, 'cache-key', async (l) => {
      const versions = await packageVersions(ctx.plan, rootless() ? 'unshare' : 'root', sources, l, versionsMemoDir(aptCacheDir()));
      const { key, doc } = cacheKey(ctx.plan, versions, { epochFromEnv: epochFromEnv(), rootless: rootless(), code: codeHash() });
      // What the key is made of, to compare when a build did not find the entry it expected.
      appendFileSync(l, `stage cache key ${key} from:\n${doc}\n`);
      return { key, versions };
    });
    return { key, versions, entry: stages.lookup(key, filesInLayer(ctx.plan) ? layerNeeds(ctx.plan.files) : []) };
  } catch (e) {
    // A config error found on the way (kernel.suite, an unknown package: packageVersions): the build cannot succeed.
    if (isConfigError(e)) throw e;
    log.info(`stage cache not used: ${((e as Error).message ?? String(e)).split('\n')[0]}`);
    return {};
  }
}

export async function build(opts: BuildOptions): Promise<{ plan: BuildPlan; manifestPath: string }> {
  const { plan: draft, config } = planFor(opts);
  const ws = workspace(join(draft.outDir, '.d2d-work', draft.name));
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  const needs = { zstd: draft.initramfs.compression === 'zstd' || draft.images.length > 0, skopeo: draft.images.some((im) => im.source.kind === 'registry'), sign: mokSigned(draft) };
  await runStage({ plan: draft, ws, timings }, 'preflight', async () => {
    // A disk image is installed in a VM (qemu, OVMF) by the installer, read out of the ISO (xorriso, sfdisk).
    await preflight(draft.diskBytes !== null ? ['build', 'vm', 'install'] : ['build'], needs);
    if (draft.debian.snapshot) await checkSnapshotSupport();
  });
  rmSync(ws.dir, { recursive: true, force: true });
  mkdirSync(ws.logs, { recursive: true });
  // From here on an interrupted build has logs to point at (the cache key's included).
  const offLogs = onInterrupt(() => log.info(`logs of the interrupted build: ${ws.logs}`));
  try {
    const r = await prepare({ plan: draft, ws, timings }, opts);
    await runSteps(r, STEPS);
    const manifestPath = await publish(r, config, t0);
    if (!opts.keepWork) rmSync(ws.dir, { recursive: true, force: true });
    // What was asked for (--format; never empty), each with its size; the kernel and initrd are always beside them.
    const made = r.ctx.plan.formats.map((f) => {
      const st = statSync(r.ctx.plan.artifacts[f]);
      // A raw disk image is mostly holes: its size, and what it takes on disk.
      const used = f === 'raw' ? `, ${((st.blocks * 512) / 1e6).toFixed(1)} MB used` : '';
      return `${r.ctx.plan.artifacts[f]} (${(st.size / 1e6).toFixed(1)} MB${used})`;
    });
    log.ok(`${made.join(', ')} in ${timings.total?.toFixed(0)} s`);
    return { plan: r.ctx.plan, manifestPath };
  } catch (e) {
    if (!opts.keepWork) keepOnlyLogs(ws.dir);
    throw e;
  } finally {
    offLogs();
  }
}

/**
 * What the steps start from: the root stage's cache entry, if there is one, and the plan made final and
 * read-only. Without SOURCE_DATE_EPOCH a build's date is when its root file system was built, so a build
 * from the cache takes the cached one's; the draft plan only serves to compute the cache key, which
 * leaves the date out.
 */
async function prepare(draftCtx: Context, opts: BuildOptions): Promise<BuildRun> {
  const sources = extraSourceFiles(draftCtx);
  const stages = opts.noCache ? undefined : new StageCache(stageCacheDir());
  const found = stages ? await lookupRootStage(draftCtx, stages, sources) : {};
  const plan = deepFreeze(found.entry && !epochFromEnv() ? { ...draftCtx.plan, sourceDateEpoch: found.entry.sourceDateEpoch } : draftCtx.plan);
  const ctx: Context = { ...draftCtx, plan };
  writeFileSync(ctx.ws.plan, JSON.stringify(plan, null, 2));
  log.info(`work folder: ${ctx.ws.dir}`);
  let cacheDir: string | undefined;
  if (!opts.noCache) {
    cacheDir = aptCacheDir();
    mkdirSync(cacheDir, { recursive: true });
  }
  return { ctx, apt: { cacheDir, sources, rootVersions: found.versions }, stages, key: found.key, entry: found.entry, fromCache: false, images: [], rebuildKernel: opts.rebuildKernel === true };
}

/** The object and everything in it made read-only: a step that writes to the plan fails at once. */
function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/**
 * After a failure the work folder keeps what explains it (logs, the plan, the error reports) and drops the
 * rest: the unpacked kernel, package copies, archives, hundreds of MB that would stay behind unseen in the
 * output folder at each failed attempt. --keep-work keeps everything.
 */
export function keepOnlyLogs(dir: string): void {
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) if (f !== 'logs' && !f.endsWith('.json')) rmSync(join(dir, f), { recursive: true, force: true });
  log.info(`the failed build's logs are in ${join(dir, 'logs')} (--keep-work keeps the whole work folder)`);
}
