// `debian2docker cache`: what the package cache, the stage cache and the kernel
// cache hold, and emptying them. The kernel cache keeps the KEEP_KERNELS most
// recently used compiled kernels (kernel.build). Both grow with use: the package cache keeps every version of
// every package any build installed (Debian's updates add new ones; nothing
// old goes by itself), the stage cache its KEEP_ENTRIES most recent root
// stages. A build marks what it uses (the packages it copies, the entry it
// restores), so `clean --older-than DAYS` drops only what no build has used
// for that long. Only the caches' own files are touched: .deb files and
// stage entries and kernel entries, never whatever else the folders might hold.
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { aptCacheDir, kernelCacheDir, stageCacheDir } from '../paths.js';
import { KEEP_ENTRIES } from '../pipeline/stagecache.js';
import { KEEP_KERNELS } from '../stages/kernelBuild.js';

export interface StageEntryInfo {
  key: string;
  bytes: number;
  lastUsed: number; // ms since the epoch
}

export interface KernelEntryInfo extends StageEntryInfo {
  release: string; // uname -r
  version: string; // the source package's version
}

export interface CacheReport {
  packages: { dir: string; files: number; bytes: number };
  stages: { dir: string; entries: StageEntryInfo[]; bytes: number; keep: number };
  kernels: { dir: string; entries: KernelEntryInfo[]; bytes: number; keep: number };
}

export interface CacheDirs {
  packages: string;
  stages: string;
  kernels: string;
}

const DIRS = (): CacheDirs => ({ packages: aptCacheDir(), stages: stageCacheDir(), kernels: kernelCacheDir() });

/** Leftovers of an interrupted merge or store are removed once they are this old (a live one is seconds old). */
const STALE_MS = 3600_000;

function treeBytes(p: string): number {
  const st = statSync(p);
  if (!st.isDirectory()) return st.size;
  return readdirSync(p).reduce((n, f) => n + treeBytes(join(p, f)), 0);
}

const listDebs = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.deb')) : []);

function stageEntries(dir: string): StageEntryInfo[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => !n.startsWith('.') && existsSync(join(dir, n, 'entry.json')))
    .map((key) => ({ key, bytes: treeBytes(join(dir, key)), lastUsed: statSync(join(dir, key, 'entry.json')).mtimeMs }))
    .sort((a, b) => b.lastUsed - a.lastUsed);
}

/** The kernel cache's entries: folders with a kernel.json (what kernelBuild.ts writes last, so only finished ones). */
function kernelEntries(dir: string): KernelEntryInfo[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => !n.startsWith('.') && existsSync(join(dir, n, 'kernel.json')))
    .map((key) => {
      const k = JSON.parse(readFileSync(join(dir, key, 'kernel.json'), 'utf8')) as { release?: string; version?: string };
      return { key, release: k.release ?? '?', version: k.version ?? '?', bytes: treeBytes(join(dir, key)), lastUsed: statSync(join(dir, key)).mtimeMs };
    })
    .sort((a, b) => b.lastUsed - a.lastUsed);
}

export function cacheReport(dirs: CacheDirs = DIRS()): CacheReport {
  const debs = listDebs(dirs.packages);
  const entries = stageEntries(dirs.stages);
  const kernels = kernelEntries(dirs.kernels);
  return {
    packages: { dir: dirs.packages, files: debs.length, bytes: debs.reduce((n, f) => n + statSync(join(dirs.packages, f)).size, 0) },
    stages: { dir: dirs.stages, entries, bytes: entries.reduce((n, e) => n + e.bytes, 0), keep: KEEP_ENTRIES },
    kernels: { dir: dirs.kernels, entries: kernels, bytes: kernels.reduce((n, e) => n + e.bytes, 0), keep: KEEP_KERNELS },
  };
}

const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
const mb = (b: number): string => `${(b / 1e6).toFixed(b < 1e7 ? 1 : 0)} MB`;
const when = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

export function formatCacheReport(r: CacheReport): string {
  return [
    `package cache  ${r.packages.dir}: ${count(r.packages.files, 'package')}, ${mb(r.packages.bytes)}`,
    `stage cache    ${r.stages.dir}: ${count(r.stages.entries.length, 'root stage')}, ${mb(r.stages.bytes)} (keeps the ${r.stages.keep} most recently used)`,
    ...r.stages.entries.map((e) => `  ${e.key}  ${mb(e.bytes).padStart(7)}  last used ${when(e.lastUsed)} UTC`),
    `kernel cache   ${r.kernels.dir}: ${count(r.kernels.entries.length, 'compiled kernel')}, ${mb(r.kernels.bytes)} (keeps the ${r.kernels.keep} most recently used)`,
    ...r.kernels.entries.map((e) => `  ${e.key}  ${mb(e.bytes).padStart(7)}  last used ${when(e.lastUsed)} UTC  ${e.release} (source ${e.version})`),
  ].join('\n');
}

export interface CleanOptions {
  packages: boolean;
  stages: boolean;
  kernels?: boolean;
  /** Only what no build has used for this many days. */
  olderThanDays?: number;
}

export interface CleanResult {
  packages: { files: number; bytes: number };
  stages: { entries: number; bytes: number };
  kernels: { entries: number; bytes: number };
}

export function cleanCaches(o: CleanOptions, dirs: CacheDirs = DIRS(), now = Date.now()): CleanResult {
  const cutoff = o.olderThanDays === undefined ? Infinity : now - o.olderThanDays * 86400_000;
  const old = (p: string): boolean => statSync(p).mtimeMs < cutoff;
  const stale = (p: string): boolean => statSync(p).mtimeMs < now - STALE_MS;
  const res: CleanResult = { packages: { files: 0, bytes: 0 }, stages: { entries: 0, bytes: 0 }, kernels: { entries: 0, bytes: 0 } };
  if (o.packages && existsSync(dirs.packages)) {
    for (const f of listDebs(dirs.packages)) {
      const p = join(dirs.packages, f);
      if (!old(p)) continue;
      res.packages.bytes += statSync(p).size;
      res.packages.files++;
      rmSync(p, { force: true });
    }
    for (const f of readdirSync(dirs.packages)) if (/^\..*\.partial$/.test(f) && stale(join(dirs.packages, f))) rmSync(join(dirs.packages, f), { force: true });
  }
  if (o.stages && existsSync(dirs.stages)) {
    for (const e of stageEntries(dirs.stages)) {
      if (e.lastUsed >= cutoff) continue;
      res.stages.bytes += e.bytes;
      res.stages.entries++;
      rmSync(join(dirs.stages, e.key), { recursive: true, force: true });
    }
    for (const f of readdirSync(dirs.stages)) if (f.startsWith('.tmp-') && stale(join(dirs.stages, f))) rmSync(join(dirs.stages, f), { recursive: true, force: true });
  }
  if (o.kernels && existsSync(dirs.kernels)) {
    for (const e of kernelEntries(dirs.kernels)) {
      if (e.lastUsed >= cutoff) continue;
      res.kernels.bytes += e.bytes;
      res.kernels.entries++;
      rmSync(join(dirs.kernels, e.key), { recursive: true, force: true });
    }
    // An interrupted compile's leftovers (.KEY.PID.partial); a live compile's folder is younger than STALE_MS
    // only while it runs, so only old ones go. Locks are the builds' own business (src/fslock.ts).
    for (const f of readdirSync(dirs.kernels)) if (/^\..*\.partial$/.test(f) && stale(join(dirs.kernels, f))) rmSync(join(dirs.kernels, f), { recursive: true, force: true });
  }
  return res;
}

export function formatCleanResult(r: CleanResult, o: CleanOptions): string {
  const scope = o.olderThanDays === undefined ? '' : ` not used for ${o.olderThanDays} days`;
  return [
    ...(o.packages ? [`removed ${count(r.packages.files, 'package')}${scope} (${mb(r.packages.bytes)})`] : []),
    ...(o.stages ? [`removed ${count(r.stages.entries, 'root stage')}${scope} (${mb(r.stages.bytes)})`] : []),
    ...(o.kernels ? [`removed ${count(r.kernels.entries, 'compiled kernel')}${scope} (${mb(r.kernels.bytes)})`] : []),
  ].join('\n');
}
