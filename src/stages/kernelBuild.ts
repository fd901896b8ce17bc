// Step "kernel-build" (kernel.build): the tailored kernel, compiled from Debian's
// source package with target/kernel's configuration. Compiling takes minutes, so the
// result is kept in the kernel cache (~/.cache/debian2docker/kernels/KEY; --no-cache
// keeps using it, --rebuild-kernel compiles anew) under a key
// made of what decides it: the source package's and the toolchain's versions (a
// simulated install), the fragments, build.sh and KERNEL_BUILD_FORMAT. The tool's
// other code is not in it: changing the tool does not recompile the kernel.
//
// The compile runs in a throwaway Debian root (mmdebstrap, rootless when not root),
// so the host needs no toolchain; the root's apt verifies the source's signature.
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { kernelCacheDir, PACKAGE_ROOT } from '../paths.js';
import { run } from '../exec/run.js';
import { mmdebstrapKernelArgv } from '../tools/mmdebstrap.js';
import { KERNEL_BUILD_DIR, KERNEL_BUILD_FORMAT, KERNEL_BUILD_PACKAGES, KERNEL_FRAGMENTS, KERNEL_TRIM_FRAGMENT } from '../plan/kernelBuild.js';
import type { KernelSource } from '../plan/kernel.js';
import type { Context } from '../context.js';
import { log } from '../log.js';
import { CommandError, StageError } from '../errors.js';
import { withLock } from '../fslock.js';
import { ERROR_MARKER, type InsideError } from '../insideProtocol.js';
import { dropAptSnapshot, mergeAptCache, simulatedInstall, snapshotAptCache, versionsMemoDir } from './aptcache.js';
import { diagnoseApt, rootless, type AptSetup } from './rootfs.js';
import type { FragmentIndex } from '../kernel-verify.js';
import { modularSymbols, parseDotConfig } from '../formats/kconfig.js';

type BuildSource = Extract<KernelSource, { kind: 'build' }>;

/** What the kernel cache keeps beside the kernel (kernel.json), and the manifest records. */
export interface BuiltKernel {
  key: string;
  package: string;
  version: string; // the source package's Debian version
  release: string; // uname -r
  configSha256: string;
  /** The drivers built in (modules.builtin), by name. */
  builtin: string[];
  /** Options built as modules (only what a user fragment asked for). */
  modular: string[];
  vmlinuzBytes: number;
  compileSeconds: number;
}

/** Roughly how many files a compile of the built-in configuration makes (2019 for 6.12.118): its progress is shown against this. */
export const COMPILE_FILES_ESTIMATE = 2000;
/** How many compiled kernels the cache keeps, the least recently used going first. */
export const KEEP_KERNELS = 5;


/**
 * The fragments in merge order: the built-in ones over allnoconfig, then (`over`: merged over that result with
 * olddefconfig) the trims and the user's.
 */
export function fragmentFiles(src: BuildSource): { path: string; name: string; user: boolean; over: boolean }[] {
  const builtIn = (f: string, over: boolean) => ({ path: join(PACKAGE_ROOT, 'target/kernel', `${f}.config`), name: `target/kernel/${f}.config`, user: false, over });
  return [...[...KERNEL_FRAGMENTS, ...src.features].map((f) => builtIn(f, false)), builtIn(KERNEL_TRIM_FRAGMENT, true), ...src.fragments.map((f) => ({ path: f, name: f, user: true, over: true }))];
}

/**
 * The packages whose versions decide the compiled kernel: the source, the compiler and its libraries, binutils,
 * libc's headers and the build's tools. Not the rest of the build root: which other packages a simulated install
 * lists depends on the mmdebstrap that asks (bookworm's and trixie's differ in the essential set and list some
 * packages twice), so the same kernel would get another key in a builder container than on the host.
 */
const TOOLCHAIN = /^(gcc|cpp|g\+\+|binutils|libbinutils|libctf|libsframe|libgprofng|libc6|libc-dev-bin|libgcc|libisl|libmpc|libmpfr|libgmp|libelf|libssl|libzstd|zlib1g|libjansson|make|bc|bison|flex|cpio|kmod|xz-utils)(?=[-=0-9]|$)/;

/** The versions that go into the key: the source package's and the toolchain's, each once, sorted. */
export function keyVersions(src: BuildSource, versions: readonly string[]): string[] {
  const name = (v: string): string => v.split('=')[0]!;
  return [...new Set(versions.filter((v) => v.includes('=') && (name(v) === src.package || TOOLCHAIN.test(name(v)))))].sort();
}

/** The cache key: the source's and toolchain's versions apt gives now, the fragments' and build script's contents, the format. */
export function kernelKey(src: BuildSource, versions: readonly string[]): { key: string; doc: string } {
  const h = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
  const doc = JSON.stringify(
    {
      format: KERNEL_BUILD_FORMAT,
      package: src.package,
      versions: keyVersions(src, versions),
      script: h(join(PACKAGE_ROOT, 'target/kernel/build.sh')),
      fragments: fragmentFiles(src).map((f) => [f.name, h(f.path)]),
    },
    null,
    1,
  );
  return { key: createHash('sha256').update(doc).digest('hex').slice(0, 32), doc };
}

/**
 * The compiled kernel for this build, from the kernel cache or compiled now, copied into the work folder
 * (ws.builtKernel: vmlinuz and lib/modules/RELEASE) for the kernel stage inside the root.
 */
export async function provideBuiltKernel(ctx: Context, logFile: string, apt: AptSetup, rebuild = false): Promise<BuiltKernel> {
  const src = ctx.plan.kernel.source;
  if (src.kind !== 'build') throw new Error('provideBuiltKernel: not a kernel.build source');
  const memo = apt.cacheDir !== undefined ? versionsMemoDir(apt.cacheDir) : undefined;
  // An unknown source package, a missing suite or an unreachable mirror is said as the root stage says it.
  const suite = ctx.plan.debian.suite;
  const versions = await simulatedInstall({ ...buildRoot(ctx, src), variant: 'apt' }, logFile, memo).catch((e: unknown) => {
    throw diagnoseApt(existsSync(logFile) ? readFileSync(logFile, 'utf8') : '', suite, { stage: 'kernel-build', logPath: logFile, cause: e }) ?? e;
  });
  const { key, doc } = kernelKey(src, versions);
  writeFileSync(`${logFile}.key`, doc);
  const cacheRoot = kernelCacheDir();
  mkdirSync(cacheRoot, { recursive: true });
  const entry = join(cacheRoot, key);
  // One compile per kernel on a machine: builds started together (a test suite, a CI matrix) wait for the first.
  const lock = join(cacheRoot, `.${key}.lock`);
  const waiting = (owner: string): void => log.info(`kernel-build: waiting for another build compiling the same kernel (${owner})`);
  const built = await withLock(lock, { onWait: waiting }, async () => {
    const found = rebuild ? undefined : readEntry(entry);
    if (found) {
      log.info(`kernel-build: ${found.release} from the kernel cache (${key})`);
      const now = new Date();
      utimesSync(entry, now, now);
      return found;
    }
    const made = await compile(ctx, src, versions, key, cacheRoot, logFile, apt);
    prune(cacheRoot, key);
    return made;
  });
  rmSync(ctx.ws.builtKernel, { recursive: true, force: true });
  cpSync(entry, ctx.ws.builtKernel, { recursive: true, verbatimSymlinks: true });
  return built;
}

/** The build root's mmdebstrap arguments: the image's suite, mirror and snapshot, the source and the toolchain. */
function buildRoot(ctx: Context, src: BuildSource): { mode: 'root' | 'unshare'; suite: string; mirror: string; components: string[]; snapshot: string | undefined; packages: string[] } {
  const d = ctx.plan.debian;
  return { mode: rootless() ? 'unshare' : 'root', suite: d.suite, mirror: d.mirror, components: [...d.components], snapshot: d.snapshot, packages: [src.package, ...KERNEL_BUILD_PACKAGES] };
}

function readEntry(entry: string): BuiltKernel | undefined {
  try {
    const k = JSON.parse(readFileSync(join(entry, 'kernel.json'), 'utf8')) as BuiltKernel;
    return existsSync(join(entry, 'vmlinuz')) && existsSync(join(entry, 'lib/modules', k.release)) ? k : undefined;
  } catch {
    return undefined;
  }
}

async function compile(ctx: Context, src: BuildSource, versions: readonly string[], key: string, cacheRoot: string, logFile: string, apt: AptSetup): Promise<BuiltKernel> {
  const version = versions.find((v) => v.startsWith(`${src.package}=`))?.split('=')[1] ?? '';
  log.info(`kernel-build: compiling ${src.package} ${version} (first build of this configuration: several minutes; cached after)`);
  // The build folder's files: build.sh and the fragments, numbered in merge order (a-: merged over allnoconfig,
  // b-: over that result; build.sh), with an index naming them.
  const stage = join(ctx.ws.dir, 'kernel-build-in');
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(join(stage, 'fragments'), { recursive: true });
  const index: FragmentIndex[] = fragmentFiles(src).map((f, i) => {
    const file = `${f.over ? 'b' : 'a'}-${String(i + 1).padStart(2, '0')}-${basename(f.path)}`;
    copyFileSync(f.path, join(stage, 'fragments', file));
    return { file, name: f.name, user: f.user };
  });
  writeFileSync(join(stage, 'fragments.json'), JSON.stringify(index, null, 1));
  copyFileSync(join(PACKAGE_ROOT, 'target/kernel/build.sh'), join(stage, 'build.sh'));
  const partial = join(cacheRoot, `.${key}.${process.pid}.partial`);
  rmSync(partial, { recursive: true, force: true });
  const cache = apt.cacheDir !== undefined ? snapshotAptCache(apt.cacheDir, ctx.ws.aptCache, 'kernel-build', versions) : undefined;
  const argv = mmdebstrapKernelArgv({
    ...buildRoot(ctx, src),
    aptCacheDir: cache?.in,
    aptCacheOut: cache?.out,
    dir: KERNEL_BUILD_DIR,
    copyIn: [join(stage, 'build.sh'), join(stage, 'fragments.json'), join(stage, 'fragments')],
    verify: [process.execPath, join(PACKAGE_ROOT, 'dist/src/kernel-verify.js')],
    out: partial,
  });
  const t0 = Date.now();
  let files = 0;
  try {
    await run(argv, {
      log: logFile,
      onLine: (line) => {
        if (!/^ {2}CC\b/.test(line)) return;
        files++;
        const pct = Math.min(99, Math.round((files / COMPILE_FILES_ESTIMATE) * 100));
        log.progress(`kernel-build: compile: ${pct}% of ~${COMPILE_FILES_ESTIMATE} files (${Math.round((Date.now() - t0) / 1000)} s)`);
      },
    });
    if (cache && apt.cacheDir) mergeAptCache(cache, apt.cacheDir);
  } catch (e) {
    rmSync(partial, { recursive: true, force: true });
    const marked = readFileSync(logFile, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(ERROR_MARKER));
    if (marked !== undefined) {
      const ie = JSON.parse(marked.slice(ERROR_MARKER.length)) as InsideError;
      throw new StageError('kernel-build', ie.message, { logPath: logFile, hint: ie.hint, code: ie.code, exitCode: ie.exitCode });
    }
    const diag = e instanceof CommandError ? diagnoseApt(readFileSync(logFile, 'utf8'), ctx.plan.debian.suite, { stage: 'kernel-build', logPath: logFile, cause: e }) : undefined;
    if (diag) throw diag;
    if (e instanceof CommandError) throw new StageError('kernel-build', `compiling ${src.package} ${version} failed`, { logPath: logFile, cause: e, hint: 'the end of the log says which file or tool failed' });
    throw e;
  } finally {
    if (cache) dropAptSnapshot(cache);
    rmSync(stage, { recursive: true, force: true });
  }
  const seconds = Math.round((Date.now() - t0) / 1000);
  log.progress(`kernel-build: compile: 100% (${files} files) in ${seconds} s`, true);
  const built = describe(partial, key, src.package, version, seconds);
  writeFileSync(join(partial, 'kernel.json'), JSON.stringify(built, null, 1));
  rmSync(join(cacheRoot, key), { recursive: true, force: true });
  renameSync(partial, join(cacheRoot, key));
  return built;
}

/** kernel.json of a finished compile: its release (the one folder under lib/modules), config and built-in drivers. */
function describe(dir: string, key: string, pkg: string, version: string, seconds: number): BuiltKernel {
  const mods = join(dir, 'lib/modules');
  const releases = existsSync(mods) ? readdirSync(mods) : [];
  if (releases.length !== 1) throw new StageError('kernel-build', `the compile left ${releases.length} module folders (${releases.join(', ')}), expected one`, {});
  const release = releases[0]!;
  // `build` points into the source tree, which is gone with the build root.
  for (const l of ['build', 'source']) rmSync(join(mods, release, l), { force: true });
  const config = readFileSync(join(dir, 'config'));
  const builtinFile = join(mods, release, 'modules.builtin');
  const builtin = existsSync(builtinFile)
    ? readFileSync(builtinFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => basename(l).replace(/\.ko$/, ''))
        .sort()
    : [];
  return {
    key,
    package: pkg,
    version,
    release,
    configSha256: createHash('sha256').update(config).digest('hex'),
    builtin,
    modular: modularSymbols(parseDotConfig(config.toString('utf8'))),
    vmlinuzBytes: statSync(join(dir, 'vmlinuz')).size,
    compileSeconds: seconds,
  };
}

/** Keep the KEEP_KERNELS most recently used entries (and the one just made). */
function prune(cacheRoot: string, keep: string): void {
  const entries = readdirSync(cacheRoot)
    .filter((e) => !e.startsWith('.'))
    .map((e) => ({ e, t: statSync(join(cacheRoot, e)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const { e } of entries.slice(KEEP_KERNELS)) if (e !== keep) rmSync(join(cacheRoot, e), { recursive: true, force: true });
}
