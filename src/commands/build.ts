// `debian2docker build`: config -> plan -> stages -> artifacts. Outputs are
// written under temporary names and renamed only when all of them are complete.
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import { makePlan, type BuildPlan } from '../plan/plan.js';
import { runStage, workspace, type Context } from '../context.js';
import { checkSnapshotSupport, preflight } from '../stages/preflight.js';
import { buildRootfs, extraSourceFiles, rootless } from '../stages/rootfs.js';
import { buildLayer, filesInLayer, layerNeeds } from '../stages/layer.js';
import { cacheKey, codeHash, packageVersions, StageCache, type CacheEntry } from '../stages/stagecache.js';
import { buildImagesInitrd, buildInitrd } from '../stages/initrd.js';
import { buildImages } from '../stages/images.js';
import { buildBootloader } from '../stages/bootloader.js';
import { buildIso } from '../stages/iso.js';
import { makeManifest, type InsideReport } from '../stages/manifest.js';
import { log } from '../log.js';
import { VERSION } from '../version.js';
import { onInterrupt } from '../interrupt.js';

export interface BuildOptions {
  config?: string;
  outDir: string;
  noCache?: boolean;
  keepWork?: boolean;
}

export function sourceDateEpoch(): number {
  const env = process.env.SOURCE_DATE_EPOCH;
  if (env !== undefined && /^\d+$/.test(env)) return Number(env);
  return Math.floor(Date.now() / 1000);
}

export function planFor(opts: BuildOptions): { plan: BuildPlan; config: ReturnType<typeof loadConfig>['config'] } {
  const loaded = loadConfig(opts.config);
  return { plan: makePlan(loaded.config, { outDir: opts.outDir, configHash: loaded.hash, sourceDateEpoch: sourceDateEpoch() }), config: loaded.config };
}

/** Where downloaded packages are kept between builds (build --in-docker hands the same folder to its container). */
export function aptCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(base, 'debian2docker', 'apt');
}

/** Where the stage cache keeps root stages (next to the package cache). */
export function stageCacheDir(): string {
  return join(aptCacheDir(), '..', 'stages');
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
      const versions = await packageVersions(ctx.plan, rootless() ? 'unshare' : 'root', sources, l);
      const { key, doc } = cacheKey(ctx.plan, versions, { epochFromEnv: epochFromEnv(), rootless: rootless(), code: codeHash() });
      // What the key is made of, to compare when a build did not find the entry it expected.
      appendFileSync(l, `stage cache key ${key} from:\n${doc}\n`);
      return { key, versions };
    });
    return { key, versions, entry: stages.lookup(key, filesInLayer(ctx.plan) ? layerNeeds(ctx.plan.files) : []) };
  } catch (e) {
    log.info(`stage cache not used: ${((e as Error).message ?? String(e)).split('\n')[0]}`);
    return {};
  }
}

export async function build(opts: BuildOptions): Promise<{ plan: BuildPlan; manifestPath: string }> {
  const { plan, config } = planFor(opts);
  const ctx: Context = { plan, ws: workspace(join(plan.outDir, '.d2d-work', plan.name)), timings: {} };
  const t0 = Date.now();
  const needs = { zstd: plan.initramfs.compression === 'zstd' || plan.images.length > 0, skopeo: plan.images.some((im) => im.source.kind === 'registry') };
  await runStage(ctx, 'preflight', async () => {
    await preflight(['build'], needs);
    if (plan.debian.snapshot) await checkSnapshotSupport();
  });
  rmSync(ctx.ws.dir, { recursive: true, force: true });
  mkdirSync(ctx.ws.logs, { recursive: true });
  // From here on an interrupted build has logs to point at (the cache key's included).
  const offLogs = onInterrupt(() => log.info(`logs of the interrupted build: ${ctx.ws.logs}`));
  try {
    return await stagesAndPublish(ctx, config, opts, t0);
  } catch (e) {
    if (!opts.keepWork) keepOnlyLogs(ctx.ws.dir);
    throw e;
  } finally {
    offLogs();
  }
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

/**
 * Take the root stage from the cache. The cache only saves time: an entry another build removed or is
 * replacing meanwhile (two builds at once, each evicting or storing) means this build makes its own.
 */
function restoreRootStage(ctx: Context, stages: StageCache, entry: CacheEntry): boolean {
  const t = Date.now();
  try {
    stages.restore(entry, ctx.ws.dir);
  } catch (e) {
    log.warn(`the stage cache's entry ${entry.key} went away while it was read (${(e as Error).message}); building the root file system`);
    return false;
  }
  ctx.timings['rootfs (cached)'] = (Date.now() - t) / 1000;
  log.info(`root file system from the stage cache (${entry.key}); --no-cache builds it anew`);
  return true;
}

/** Keep the root stage for the next build; a cache that cannot take it (full disk, another build's entry) is said, not fatal. */
function storeRootStage(stages: StageCache, entry: CacheEntry, workDir: string): void {
  try {
    stages.store(entry, workDir);
  } catch (e) {
    log.warn(`the root file system was not kept in the stage cache: ${(e as Error).message}`);
  }
}

async function stagesAndPublish(ctx: Context, config: ReturnType<typeof loadConfig>['config'], opts: BuildOptions, t0: number): Promise<{ plan: BuildPlan; manifestPath: string }> {
  const plan = ctx.plan;
  const sources = extraSourceFiles(ctx);
  const stages = opts.noCache ? undefined : new StageCache(stageCacheDir());
  const cached = stages ? await lookupRootStage(ctx, stages, sources) : undefined;
  // Without SOURCE_DATE_EPOCH a build's date is when its root file system was built: the cached one's.
  if (cached?.entry && !epochFromEnv()) plan.sourceDateEpoch = cached.entry.sourceDateEpoch;
  writeFileSync(join(ctx.ws.dir, 'plan.json'), JSON.stringify(plan, null, 2));
  log.info(`work folder: ${ctx.ws.dir}`);

  let cache: string | undefined;
  if (!opts.noCache) {
    cache = aptCacheDir();
    mkdirSync(cache, { recursive: true });
  }
  const apt = { cacheDir: cache, sources, rootVersions: cached?.versions };
  // Images first: a bad tarball or an unreachable registry fails the build before the long rootfs stage.
  const images = plan.images.length > 0 ? await runStage(ctx, 'images', (l) => buildImages(ctx, l, apt)) : [];
  if (cached?.entry && !restoreRootStage(ctx, stages!, cached.entry)) cached.entry = undefined;
  if (!cached?.entry) await runStage(ctx, 'rootfs', (l) => buildRootfs(ctx, l, apt));
  const inside = JSON.parse(readFileSync(ctx.ws.insideReport, 'utf8')) as InsideReport;
  if (!cached?.entry) Object.assign(ctx.timings, Object.fromEntries(Object.entries(inside.timings).map(([k, v]) => [`rootfs/${k}`, v])));
  if (stages && cached?.key && !cached.entry) storeRootStage(stages, { key: cached.key, sourceDateEpoch: plan.sourceDateEpoch, payload: inside.pack.payload }, ctx.ws.dir);
  const layer = await runStage(ctx, 'layer', (l) => buildLayer(ctx, join(ctx.ws.dir, inside.pack.payload), inside.pack.files, l));
  inside.pack = {
    files: inside.pack.files + layer.entries,
    bytes: inside.pack.bytes + layer.bytes,
    streams: [...inside.pack.streams, layer.stream],
    payload: layer.payload,
    biggest: [...inside.pack.biggest.filter((b) => !layer.sizes.some((s) => s.path === b.path)), ...layer.sizes].sort((a, b) => b.bytes - a.bytes || a.path.localeCompare(b.path)).slice(0, 25),
  };
  log.info(`kernel ${inside.kernel.version}, ${inside.modules.kept.length} modules, ${inside.packages.length} packages, rootfs ${(inside.pack.bytes / 2 ** 20).toFixed(0)} MiB`);
  await runStage(ctx, 'initrd', (l) => buildInitrd(ctx, inside.pack.payload, inside.pack.streams, inside.pack.bytes, l));
  if (images.length > 0) await runStage(ctx, 'images-initrd', (l) => buildImagesInitrd(ctx, l));
  await runStage(ctx, 'bootloader', (l) => buildBootloader(ctx, l));
  await runStage(ctx, 'iso', (l) => buildIso(ctx, l));

  // Publish: copy under temporary names next to the outputs, then rename each.
  mkdirSync(plan.outDir, { recursive: true });
  const a = plan.artifacts;
  const pairs: [string, string][] = [
    [ctx.ws.iso, a.iso],
    [ctx.ws.vmlinuz, a.kernel],
    [ctx.ws.initrd, a.initrd],
    ...(images.length > 0 ? [[ctx.ws.imagesInitrd, a.images] as [string, string]] : []),
  ];
  const partial = (f: string): string => join(plan.outDir, `.${f.slice(plan.outDir.length + 1)}.partial`);
  const partials = [...pairs.map(([, dst]) => partial(dst)), partial(a.manifest)];
  const off = onInterrupt(() => partials.forEach((p) => rmSync(p, { force: true })));
  try {
    for (const [src, dst] of pairs) copyFileSync(src, partial(dst));
    ctx.timings.total = (Date.now() - t0) / 1000;
    const manifest = await makeManifest({
      plan,
      config,
      version: VERSION,
      inside,
      payloadBytes: statSync(inside.pack.payload).size,
      files: { iso: partial(a.iso), kernel: partial(a.kernel), initrd: partial(a.initrd), ...(images.length > 0 ? { images: partial(a.images) } : {}) },
      images,
      timings: ctx.timings,
    });
    // The artifact names in the manifest are the final ones.
    for (const [k, f] of [['iso', a.iso], ['kernel', a.kernel], ['initrd', a.initrd], ['images', a.images]] as const) if (manifest.artifacts[k]) manifest.artifacts[k].file = f.slice(plan.outDir.length + 1);
    writeFileSync(partial(a.manifest), JSON.stringify(manifest, null, 2) + '\n');
    for (const [, dst] of pairs) renameSync(partial(dst), dst);
    renameSync(partial(a.manifest), a.manifest);
  } finally {
    partials.forEach((p) => existsSync(p) && rmSync(p, { force: true }));
    off();
  }
  if (!opts.keepWork) rmSync(ctx.ws.dir, { recursive: true, force: true });
  log.ok(`${a.iso} (${(statSync(a.iso).size / 1e6).toFixed(1)} MB) in ${ctx.timings.total?.toFixed(0)} s`);
  return { plan, manifestPath: a.manifest };
}
