// The stage cache: the root stage's results (the packed root file system, the
// kernel, stage 1's programs) kept between builds under a key made of
// everything that stage reads — the config sections it uses, the package
// versions the archive would give now, the host files the config names, and
// this tool's own code. A build whose key is there skips mmdebstrap and the
// packing (minutes) and goes on with the files layer, the initrd, the boot
// loader and the ISO (seconds). `--no-cache` neither reads nor writes it.
import { createHash } from 'node:crypto';
import { copyFileSync, constants, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { BuildPlan } from '../plan/plan.js';
import { PACKAGE_ROOT } from '../paths.js';
import { VERSION } from '../version.js';
import { simulatedInstall } from '../stages/aptcache.js';
import { suiteError } from '../stages/kernelApt.js';
import { diagnoseApt } from '../stages/rootfs.js';
import { StageError } from '../errors.js';
import { WORK } from '../context.js';
import { filesInLayer } from '../stages/layer.js';
import { KERNEL_BUILD_PACKAGES } from '../plan/kernelBuild.js';
import { needCandidates, type ExtraNeeds } from '../stages/prune.js';
import type { InsideReport } from '../stages/manifest.js';

/**
 * How many root stages are kept, the least recently used going first. Each is about the size of the initrd
 * plus the kernel (70 MB for the default image): ten configs worked on in turn stay fast, within 1 GB.
 */
export const KEEP_ENTRIES = 10;

/** What an entry holds: the work-folder files the later stages read (the payload is named in inside.json). */
export const ENTRY_FILES = [WORK.insideReport, WORK.busybox, WORK.vmlinuz, WORK.rootTail, WORK.rootList, WORK.rootPasswd, WORK.rootGroup];
const ENTRY_DIRS = [WORK.stage1Extras, WORK.secureBoot, WORK.firmware];

function hashTree(h: ReturnType<typeof createHash>, path: string, base = path): void {
  const st = lstatSync(path);
  h.update(`${relative(base, path)}\0${st.mode}\0`);
  if (st.isDirectory()) for (const e of readdirSync(path).sort()) hashTree(h, join(path, e), base);
  else if (st.isFile()) h.update(readFileSync(path));
}

/** This tool's code as it runs (the compiled sources and the files it puts into images). */
export function codeHash(): string {
  const h = createHash('sha256');
  for (const d of ['dist/src', 'target']) if (existsSync(join(PACKAGE_ROOT, d))) hashTree(h, join(PACKAGE_ROOT, d));
  return h.digest('hex');
}

/** The host files and folders the root stage reads (hook scripts, kernel files, repository keys, files in the root). */
export function hostInputs(plan: BuildPlan): string[] {
  const k = plan.kernel.source;
  return [
    ...Object.values(plan.hooks).flatMap((l) => l.flatMap((h) => (typeof h === 'string' ? [] : [h.file]))),
    ...(k.kind === 'deb' ? k.debs : k.kind === 'files' ? [k.vmlinuz, k.modulesTree] : k.kind === 'build' ? k.fragments : []),
    ...plan.debian.sources.map((s) => s.key),
    // A changed passphrase must change the root (the networks' files are rendered into it).
    ...(plan.wifi?.networks ?? []).flatMap((n) => (n.secret.kind === 'file' ? [n.secret.file] : [])),
    ...(filesInLayer(plan) ? [] : plan.files.flatMap((f) => (f.source !== undefined ? [f.source] : []))),
  ];
}

/**
 * The part of the plan the root stage reads. The boot menu, the ISO and the preloaded images are later
 * stages; the build's identity (name, config hash, volume label) is the files layer's (identityFiles).
 */
export function rootStageInputs(plan: BuildPlan, o: { epochFromEnv: boolean }): Record<string, unknown> {
  const { outDir: _o, artifacts: _a, boot: _b, name: _n, iso: _i, configHash, sourceDateEpoch, files, images, ...rest } = plan;
  return {
    ...rest,
    // The image index names the build (etc/d2d/boot-images) only when there are images.
    ...(images.length > 0 ? { configHash, images } : {}),
    // Layered files reach the root stage only through what their programs need, which lookup() checks.
    files: filesInLayer(plan) ? 'in the files layer' : files,
    sourceDateEpoch: o.epochFromEnv ? sourceDateEpoch : 'from the cached build',
  };
}

/** The key: a hash of the root stage's inputs, the package versions, the host files named, the code, the mode. */
export function cacheKey(plan: BuildPlan, packages: string[], o: { epochFromEnv: boolean; rootless: boolean; code: string }): { key: string; doc: string } {
  const files = hostInputs(plan).map((f) => {
    const h = createHash('sha256');
    hashTree(h, f);
    return [f, h.digest('hex')];
  });
  const doc = { tool: VERSION, code: o.code, rootless: o.rootless, inputs: rootStageInputs(plan, o), files, packages };
  const text = JSON.stringify(doc, null, 1);
  return { key: createHash('sha256').update(text).digest('hex').slice(0, 32), doc: text };
}

/** The versions the archive gives now for the image's packages (and a kernel from another suite). */
export async function packageVersions(plan: BuildPlan, mode: 'root' | 'unshare', sources: string[], logFile: string, memo?: string): Promise<string[]> {
  const d = plan.debian;
  const k = plan.kernel.source;
  // The firmware packages are only fetched, but their versions decide the files picked: part of the key.
  const sets = [{ suite: d.suite, variant: d.variant, packages: [...plan.packages, ...(k.kind === 'package' && !k.extraSuite ? [k.package] : []), ...plan.firmware.packages] }];
  // A compiled kernel is part of the root stage: a new source or toolchain version makes a new key.
  if (k.kind === 'build') sets.push({ suite: d.suite, variant: 'apt', packages: [k.package, ...KERNEL_BUILD_PACKAGES] });
  if (k.kind === 'package' && k.extraSuite) sets.push({ suite: k.extraSuite, variant: 'custom', packages: [k.package] });
  const out: string[] = [];
  for (const s of sets) {
    const found = await simulatedInstall({ mode, suite: s.suite, mirror: d.mirror, components: d.components, variant: s.variant, packages: s.packages, extraSources: sources, snapshot: d.snapshot }, logFile, memo).catch((e: unknown) => {
      // A kernel suite the mirror lacks, or signs with a key the image does not trust, is a config error: said
      // now, in the kernel step's words, not after a root file system built for nothing (about 45 s). So is a
      // package the archive does not have: said now, not after mmdebstrap has fetched the indexes again. (Not
      // with extra repositories: --simulate does not run the setup hooks that add them, so their packages
      // are unknown here; the root stage finds them.)
      const named = s.suite !== d.suite ? suiteError(s.suite, e, logFile) : sources.length === 0 ? unknownPackage(s.suite, e, logFile) : undefined;
      throw named && named.code !== 'E_MIRROR_UNREACHABLE' ? named : e;
    });
    out.push(`# ${s.suite}`, ...found);
  }
  return out;
}

/** The simulated install's failure as "unknown Debian package" (a config error), or undefined for any other. */
function unknownPackage(suite: string, cause: unknown, logFile: string): StageError | undefined {
  const d = diagnoseApt(existsSync(logFile) ? readFileSync(logFile, 'utf8') : '', suite, { stage: 'cache-key', logPath: logFile, cause });
  return d?.code === 'E_UNKNOWN_PACKAGE' ? d : undefined;
}

/** Whether packageVersions' failure is the config's fault (the build cannot succeed), not the cache's. */
export function isConfigError(e: unknown): e is StageError {
  return e instanceof StageError && ['E_SUITE', 'E_SIGNATURE', 'E_UNKNOWN_PACKAGE'].includes(e.code);
}

export interface CacheEntry {
  key: string;
  sourceDateEpoch: number;
  payload: string; // file name of the compressed root (without the files layer)
}

export class StageCache {
  constructor(readonly dir: string) {}

  private entryDir(key: string): string {
    return join(this.dir, key);
  }

  /**
   * The entry for key, if complete and if the files layer needs nothing its prune stage removed (a script
   * for a pruned interpreter would keep that package in a full build); its use is recorded.
   */
  lookup(key: string, needs: readonly ExtraNeeds[] = []): CacheEntry | undefined {
    const d = this.entryDir(key);
    try {
      const e = JSON.parse(readFileSync(join(d, 'entry.json'), 'utf8')) as CacheEntry;
      if (e.key !== key || ![...ENTRY_FILES, e.payload].every((f) => existsSync(join(d, f)))) return undefined;
      const pruned = new Set((JSON.parse(readFileSync(join(d, 'inside.json'), 'utf8')) as InsideReport).prunedFiles ?? []);
      if (needs.some((n) => needCandidates(n.needs).some((c) => pruned.has(c)))) return undefined;
      const now = new Date();
      utimesSync(join(d, 'entry.json'), now, now);
      return e;
    } catch {
      return undefined;
    }
  }

  /** Copy an entry's files into a build's work folder; on a failure (the entry went away) none of them stays there. */
  restore(e: CacheEntry, workDir: string): void {
    const d = this.entryDir(e.key);
    try {
      for (const f of [...ENTRY_FILES, e.payload]) copyFileSync(join(d, f), join(workDir, f), constants.COPYFILE_FICLONE);
      for (const sub of ENTRY_DIRS) if (existsSync(join(d, sub))) cpSync(join(d, sub), join(workDir, sub), { recursive: true });
    } catch (err) {
      for (const f of [...ENTRY_FILES, e.payload, ...ENTRY_DIRS]) rmSync(join(workDir, f), { recursive: true, force: true });
      throw err;
    }
  }

  /** Keep a finished root stage. Written under a temporary name and renamed: a reader never sees half an entry. */
  store(e: CacheEntry, workDir: string): void {
    mkdirSync(this.dir, { recursive: true });
    const tmp = join(this.dir, `.tmp-${process.pid}-${e.key}`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    try {
      for (const f of [...ENTRY_FILES, e.payload]) copyFileSync(join(workDir, f), join(tmp, f), constants.COPYFILE_FICLONE);
      for (const sub of ENTRY_DIRS) if (existsSync(join(workDir, sub))) cpSync(join(workDir, sub), join(tmp, sub), { recursive: true });
      writeFileSync(join(tmp, 'entry.json'), JSON.stringify(e, null, 1));
      rmSync(this.entryDir(e.key), { recursive: true, force: true });
      renameSync(tmp, this.entryDir(e.key));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    this.evict();
  }

  /** Drop all but the KEEP_ENTRIES most recently used entries. */
  private evict(): void {
    const entries = readdirSync(this.dir)
      .filter((n) => !n.startsWith('.') && existsSync(join(this.dir, n, 'entry.json')))
      .map((n) => ({ n, t: statSync(join(this.dir, n, 'entry.json')).mtimeMs }))
      .sort((a, b) => b.t - a.t);
    for (const { n } of entries.slice(KEEP_ENTRIES)) rmSync(join(this.dir, n), { recursive: true, force: true });
  }
}
