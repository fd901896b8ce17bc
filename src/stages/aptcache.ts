// The shared APT package cache (~/.cache/debian2docker/apt), safe for builds
// that run at the same time. mmdebstrap's sync-in tars the folder it is given
// and fails when another build writes into it meanwhile ("file changed as we
// read it"). So each mmdebstrap run reads a private snapshot and writes into a
// private folder; new packages then enter the cache by rename, which other
// builds see whole or not at all. The snapshot is a copy (a reflink where the
// file system has them), not hard links: linking a file changes its inode's
// ctime, which tar in another build reading the same inode reports as a change.
// The snapshot holds only the packages the run is expected to install (a
// simulated install names them): the cache holds every package any build
// used, and each copy of it is paid twice over, in the snapshot and again in
// the chroot that sync-in fills.
import { createHash } from 'node:crypto';
import { appendFileSync, constants, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { linkOrCopy } from '../fsutil.js';
import { run } from '../exec/run.js';
import { mmdebstrapSimulateArgv, simulatedPackages, type MmdebstrapArgs } from '../tools/mmdebstrap.js';

export interface AptCacheDirs {
  in: string;
  out: string;
}

const debs = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.deb')) : []);

/**
 * The .deb file names apt gives the packages "NAME=VERSION" (as simulatedPackages lists them), without the
 * architecture: NAME_VERSION_, with an epoch's colon written as apt writes it (%3a).
 */
export function debPrefixes(wanted: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const w of wanted) {
    const eq = w.indexOf('=');
    if (eq > 0) out.add(`${w.slice(0, eq)}_${w.slice(eq + 1).replace(/:/g, '%3a')}_`);
  }
  return out;
}

/** Whether a cached .deb is one of the wanted package versions (any architecture). */
export function isWantedDeb(file: string, prefixes: ReadonlySet<string>): boolean {
  return prefixes.has(file.slice(0, file.lastIndexOf('_') + 1));
}

/**
 * A private copy of the cache for one mmdebstrap run, in the build's folder of them (`snapshots`,
 * Workspace.aptCache): only the wanted package versions ("NAME=VERSION"), or the whole cache when they
 * are not known.
 */
export function snapshotAptCache(cache: string, snapshots: string, name: string, wanted?: readonly string[]): AptCacheDirs {
  const dirs = { in: join(snapshots, `${name}-in`), out: join(snapshots, `${name}-out`) };
  for (const d of [dirs.in, dirs.out]) {
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d, { recursive: true });
  }
  const prefixes = wanted ? debPrefixes(wanted) : undefined;
  const now = new Date();
  for (const f of debs(cache)) {
    if (prefixes && !isWantedDeb(f, prefixes)) continue;
    try {
      copyFileSync(join(cache, f), join(dirs.in, f), constants.COPYFILE_FICLONE);
      // Marks it used, for `cache clean --older-than` (safe: other builds read their copies, not this file).
      utimesSync(join(cache, f), now, now);
    } catch (e) {
      // Removed meanwhile by `cache clean`: apt downloads it again.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return dirs;
}

/** Remove a run's private copy (after a failure too: it is only ever a copy). */
export function dropAptSnapshot(dirs: AptCacheDirs): void {
  for (const d of [dirs.in, dirs.out]) rmSync(d, { recursive: true, force: true });
  const parent = dirname(dirs.in);
  if (existsSync(parent) && readdirSync(parent).length === 0) rmdirSync(parent);
}

export type SimulateArgs = Pick<MmdebstrapArgs, 'mode' | 'suite' | 'mirror' | 'components' | 'variant' | 'packages' | 'extraSources' | 'snapshot'>;

/**
 * The package versions an mmdebstrap run would install now ("NAME=VERSION", sorted): a simulated install,
 * a few seconds. apt's lines reach mmdebstrap's stdout or stderr depending on its version, so they are read
 * from the log, which has both.
 */
export async function simulatedInstall(a: SimulateArgs, logFile: string, memo?: string): Promise<string[]> {
  const file = memo !== undefined ? join(memo, `${simulateKey(a)}.json`) : '';
  if (memo !== undefined) {
    const kept = readMemo(file, Date.now());
    if (kept) {
      appendFileSync(logFile, `package versions of ${a.suite} from a lookup ${Math.round((Date.now() - kept.at) / 1000)} s ago (${file}; kept ${VERSIONS_TTL_MS / 60000} minutes)\n`);
      return kept.versions;
    }
  }
  const before = existsSync(logFile) ? statSync(logFile).size : 0;
  await run(mmdebstrapSimulateArgv(a), { log: logFile });
  const found = simulatedPackages(readFileSync(logFile).subarray(before).toString('utf8'));
  if (found.length === 0) throw new Error(`no package versions in the simulated install of ${a.suite}`);
  if (memo !== undefined) {
    mkdirSync(memo, { recursive: true });
    const tmp = `${file}.${process.pid}.partial`;
    writeFileSync(tmp, JSON.stringify({ at: Date.now(), versions: found }));
    renameSync(tmp, file);
  }
  return found;
}

/**
 * How long a simulated install's answer is reused by builds that ask the same question. The archive changes
 * a few times a day; a build that follows another within minutes (a rebuild after editing a file, a suite of
 * builds) skips the lookup, a few seconds of apt. `--no-cache` never reads it.
 */
export const VERSIONS_TTL_MS = 10 * 60000;

/** Where simulated installs' answers are kept, next to the package cache. */
export const versionsMemoDir = (aptCacheDir: string): string => join(aptCacheDir, '..', 'versions');

export function readMemo(file: string, now: number): { at: number; versions: string[] } | undefined {
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as { at: number; versions: string[] };
    return now - m.at >= 0 && now - m.at < VERSIONS_TTL_MS && Array.isArray(m.versions) && m.versions.length > 0 ? m : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What decides a simulated install's answer: its arguments, the extra repositories' files, and, when no
 * mirror is given (mmdebstrap then takes the host's sources), the host's APT sources.
 */
export function simulateKey(a: SimulateArgs): string {
  const h = createHash('sha256').update(JSON.stringify({ ...a, packages: [...a.packages].sort() }));
  for (const f of a.extraSources ?? []) h.update(readFileSync(f));
  if (a.mirror === '') {
    for (const f of ['/etc/apt/sources.list', ...listDir('/etc/apt/sources.list.d')]) if (existsSync(f)) h.update(f).update(readFileSync(f));
  }
  return h.digest('hex').slice(0, 32);
}

const listDir = (d: string): string[] => (existsSync(d) ? readdirSync(d).sort().map((f) => join(d, f)) : []);

/** Move the packages a run downloaded into the cache (each under a temporary name, then renamed). */
export function mergeAptCache(dirs: AptCacheDirs, cache: string): number {
  mkdirSync(cache, { recursive: true });
  let added = 0;
  for (const f of debs(dirs.out)) {
    if (existsSync(join(cache, f))) continue;
    const tmp = join(cache, `.${f}.${process.pid}.partial`);
    linkOrCopy(join(dirs.out, f), tmp);
    renameSync(tmp, join(cache, f));
    added++;
  }
  dropAptSnapshot(dirs);
  return added;
}
