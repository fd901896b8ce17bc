// Packages fetched by apt in the image's root (while the root exists) to be unpacked by a build step,
// not installed: the kernel (stages/kernelApt.ts), the Secure Boot programs (stages/secureboot.ts) and
// firmware (stages/firmware.ts).
// apt verifies the suite's signatures as for every other package; the files land in the root's
// package cache, which the build's apt cache keeps.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../exec/run.js';
import { aptGetArgv, debFileName, parseSimulatedInstalls } from '../tools/apt.js';
import { StageError } from '../errors.js';
import { extractArgv } from '../tools/dpkgdeb.js';

/** apt-get's environment in the image's root: no questions. */
export const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive' };

export interface Fetched {
  /** The packages kept (of everything `install` would bring), with the versions apt chose. */
  packages: { name: string; version: string; arch: string }[];
  /** Their downloaded files, in the same order. */
  debs: string[];
}

/**
 * Download what `apt-get install REQUESTS` would install, and return the packages `keep` picks with their
 * files. `unknown` turns apt's refusal of a request (an unknown package, a version that does not exist)
 * into the caller's own error.
 */
export async function fetchPackages(root: string, requests: string[], keep: (name: string) => boolean, o: { stage: string; logFile: string; unknown?: (e: unknown) => Error }): Promise<Fetched> {
  const sim = await run(aptGetArgv(root, ['-s', 'install', ...requests]), { log: o.logFile, capture: true, env: APT_ENV }).catch((e: unknown) => {
    throw o.unknown ? o.unknown(e) : e;
  });
  const packages = parseSimulatedInstalls(sim.stdout).filter((p) => keep(p.name));
  await run(aptGetArgv(root, ['--download-only', 'install', ...requests]), { log: o.logFile, env: APT_ENV });
  const debs = packages.map((p) => {
    const deb = join(root, 'var/cache/apt/archives', debFileName(p.name, p.version, p.arch));
    if (!existsSync(deb)) throw new StageError(o.stage, `apt did not download ${p.name} ${p.version} (${deb})`, { logPath: o.logFile });
    return deb;
  });
  return { packages, debs };
}

export interface Unpacked {
  name: string;
  version: string;
  /** The package's files, as `dpkg-deb -x` lays them out. */
  tree: string;
}

/**
 * Unpack each fetched package into its own folder, in a temporary folder inside `parent` that is removed
 * when `use` is done with them (whether it succeeds or throws).
 */
export async function withUnpacked<T>(f: Fetched, parent: string, logFile: string, use: (trees: Unpacked[]) => T | Promise<T>): Promise<T> {
  const tmp = mkdtempSync(join(parent, '.x-'));
  try {
    const trees: Unpacked[] = [];
    for (const [i, p] of f.packages.entries()) {
      const tree = join(tmp, p.name);
      await run(extractArgv(f.debs[i]!, tree), { log: logFile });
      trees.push({ name: p.name, version: p.version, tree });
    }
    return await use(trees);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
