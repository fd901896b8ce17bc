// Packages fetched by apt in the image's root (while the root exists) to be unpacked by a build step,
// not installed: the kernel (stages/kernelApt.ts) and the Secure Boot programs (stages/secureboot.ts).
// apt verifies the suite's signatures as for every other package; the files land in the root's
// package cache, which the build's apt cache keeps.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../exec/run.js';
import { aptGetArgv, debFileName, parseSimulatedInstalls } from '../tools/apt.js';
import { StageError } from '../errors.js';

const ENV = { DEBIAN_FRONTEND: 'noninteractive' };

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
  const sim = await run(aptGetArgv(root, ['-s', 'install', ...requests]), { log: o.logFile, capture: true, env: ENV }).catch((e: unknown) => {
    throw o.unknown ? o.unknown(e) : e;
  });
  const packages = parseSimulatedInstalls(sim.stdout).filter((p) => keep(p.name));
  await run(aptGetArgv(root, ['--download-only', 'install', ...requests]), { log: o.logFile, env: ENV });
  const debs = packages.map((p) => {
    const deb = join(root, 'var/cache/apt/archives', debFileName(p.name, p.version, p.arch));
    if (!existsSync(deb)) throw new StageError(o.stage, `apt did not download ${p.name} ${p.version} (${deb})`, { logPath: o.logFile });
    return deb;
  });
  return { packages, debs };
}
