// Stage "rootfs": mmdebstrap builds the Debian root filesystem and, through its
// customize hook, runs our in-rootfs stages (src/inside.ts) in the same
// namespace. Its failures are translated: an unknown package is named, an
// unreachable mirror is said plainly.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { deb822Source, sourceFileName } from '../plan/aptsources.js';
import { dropAptSnapshot, mergeAptCache, snapshotAptCache } from './aptcache.js';
import { join } from 'node:path';
import { run } from '../exec/run.js';
import { log } from '../log.js';
import { PackageProgress } from '../exec/progress.js';
import { mmdebstrapArgv } from '../tools/mmdebstrap.js';
import { CommandError, ExitCode, StageError } from '../errors.js';
import { PACKAGE_ROOT } from '../paths.js';
import type { Context } from '../context.js';
import { ERROR_MARKER, INNER_WORKDIR, type InsideError } from '../insideProtocol.js';

/** Not root: mmdebstrap runs in unshare mode (rootless). */
export function rootless(): boolean {
  return process.getuid?.() !== 0;
}

/** Where a recognised apt failure is reported: the stage, its log, and what it was about (e.g. "image x:1: "). */
export interface AptFailureAt {
  stage: string;
  logPath?: string;
  prefix?: string;
  cause?: unknown;
}

/** Recognise the common apt failures in mmdebstrap's output, as an error of the stage that ran it. */
export function diagnoseApt(output: string, suite: string, at: AptFailureAt = { stage: 'rootfs' }): StageError | undefined {
  const err = (message: string, o: { code: string; exitCode?: number; hint: string }): StageError =>
    new StageError(at.stage, `${at.prefix ?? ''}${message}`, { ...o, logPath: at.logPath, cause: at.cause });
  const missing = [...output.matchAll(/Unable to locate package (\S+)/g)].map((m) => m[1]!);
  const noCandidate = [...output.matchAll(/Package '?([^' ]+)'? has no installation candidate/g)].map((m) => m[1]!);
  const pkgs = [...new Set([...missing, ...noCandidate])];
  if (pkgs.length > 0) {
    return err(`unknown Debian package${pkgs.length > 1 ? 's' : ''} in ${suite}: ${pkgs.join(', ')}`, {
      code: 'E_UNKNOWN_PACKAGE',
      exitCode: ExitCode.config,
      hint: 'check the name with `apt-cache policy NAME` (and the suite/components in the config)',
    });
  }
  if (/Release file .* is not valid yet|does not have a Release file|no longer has a Release file|(Suite|Codename) .* not found/i.test(output) || /E: The repository '[^']*' does not have/.test(output)) {
    return err(`the mirror has no suite '${suite}'`, { code: 'E_SUITE', exitCode: ExitCode.config, hint: 'check debian.suite and debian.mirror' });
  }
  if (/Temporary failure resolving|Could not resolve|Could not connect|Connection refused|Failed to fetch|Unable to connect|Network is unreachable|No route to host|Connection timed out/i.test(output)) {
    return err('the Debian mirror is unreachable', {
      code: 'E_MIRROR_UNREACHABLE',
      exitCode: ExitCode.network,
      hint: 'check the network and debian.mirror (empty = the host\'s own APT sources)',
    });
  }
  if (/NO_PUBKEY|not signed|signatures couldn't be verified|BADSIG|is not signed/i.test(output)) {
    const repo = /GPG error: (\S+)/.exec(output)?.[1] ?? /The repository '(\S+)/.exec(output)?.[1];
    return err(`the signatures of ${repo ? `the repository ${repo}` : 'the mirror'} could not be verified`, {
      code: 'E_SIGNATURE',
      hint: 'for an extra repository check its key (debian.sources[].key); for Debian suites install a current debian-archive-keyring. Signature checks are never turned off',
    });
  }
  return undefined;
}

/** What every mmdebstrap run of a build shares: the package cache and the extra repositories' .sources files. */
export interface AptSetup {
  cacheDir: string | undefined;
  sources: string[];
  /** The root's package versions ("NAME=VERSION"), when the cache-key stage found them: what its snapshot holds. */
  rootVersions?: readonly string[];
}

/** Write the extra repositories' .sources files (config debian.sources) into the work folder, once per build. */
export function extraSourceFiles(ctx: Context): string[] {
  const dir = ctx.ws.aptSources;
  mkdirSync(dir, { recursive: true });
  return ctx.plan.debian.sources.map((src, i) => {
    const f = join(dir, sourceFileName(i));
    writeFileSync(f, deb822Source(src, readFileSync(src.key, 'utf8')));
    return f;
  });
}

/** mmdebstrap's own phases, as it names them (`I: downloading packages with apt...`). */
const MMDEBSTRAP_PHASE = /^I: (running apt-get update|downloading packages|extracting archives|installing essential packages|installing remaining packages)/;

/**
 * Progress through this stage's minutes: mmdebstrap's phases, then the steps that run inside its hook
 * (src/inside.ts logs each start as `==> NAME`; the list is src/pipeline/inside-steps.ts), each shown as `rootfs: ...`. The interrupt test waits for
 * these lines to choose its moment.
 */
function relayProgress(line: string): void {
  const m = /^==> ([\w-]+)$/.exec(line) ?? MMDEBSTRAP_PHASE.exec(line);
  if (m) return log.info(`rootfs: ${m[1]}`);
  // A step's progress inside the hook (log.progress there: not a terminal, so plain lines).
  const p = PROGRESS_LINE.exec(line);
  if (p) log.progress(`rootfs: ${p[1]}`, / in \d+ s$/.test(p[1]!));
}

/** A progress line as log.progress writes it: "    STEP: 41% of 277 MiB VERB[ in N s]". */
export const PROGRESS_LINE = /^ {4}([\w-]+: \d+% of \d+ MiB .*)$/;

export async function buildRootfs(ctx: Context, logFile: string, apt: AptSetup): Promise<void> {
  const p = ctx.plan;
  const cache = apt.cacheDir !== undefined ? snapshotAptCache(apt.cacheDir, ctx.ws.aptCache, 'rootfs', apt.rootVersions) : undefined;
  const argv = mmdebstrapArgv({
    extraSources: apt.sources,
    snapshot: p.debian.snapshot,
    suite: p.debian.suite,
    mirror: p.debian.mirror,
    components: p.debian.components,
    variant: p.debian.variant,
    packages: p.packages,
    customizeHook: [process.execPath, join(PACKAGE_ROOT, 'dist/src/inside.js'), ctx.ws.dir],
    mode: rootless() ? 'unshare' : 'root',
    syncOut: rootless() ? { from: `/${INNER_WORKDIR}`, to: ctx.ws.dir } : undefined,
    aptCacheDir: cache?.in,
    aptCacheOut: cache?.out,
  });
  try {
    const packages = new PackageProgress((line, final) => log.progress(line, final));
    try {
      await run(argv, {
        log: logFile,
        env: { SOURCE_DATE_EPOCH: String(p.sourceDateEpoch) },
        onLine: (line) => {
          packages.line(line);
          relayProgress(line);
        },
      });
    } finally {
      packages.finish();
    }
    if (cache && apt.cacheDir) mergeAptCache(cache, apt.cacheDir);
  } catch (e) {
    const insideErr = ctx.ws.insideError;
    const marked = readFileSync(logFile, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(ERROR_MARKER));
    if (existsSync(insideErr) || marked !== undefined) {
      const text = existsSync(insideErr) ? readFileSync(insideErr, 'utf8') : marked!.slice(ERROR_MARKER.length);
      const ie = JSON.parse(text) as InsideError;
      throw new StageError(ie.stage ?? 'rootfs', ie.message.replace(/^stage '[^']*' failed: /, ''), { logPath: ie.logPath ?? logFile, hint: ie.hint, code: ie.code, exitCode: ie.exitCode });
    }
    if (e instanceof CommandError) {
      const diag = diagnoseApt(readFileSync(logFile, 'utf8'), p.debian.suite, { stage: 'rootfs', logPath: logFile });
      if (diag) throw diag;
    }
    throw e;
  } finally {
    if (cache) dropAptSnapshot(cache);
  }
}
