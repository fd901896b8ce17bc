// mmdebstrap: the Debian root filesystem. A pure argv builder (tested against
// exact argv) and the call. Signatures are always verified: no option here
// ever disables apt's checks.
import { shellQuote } from '../exec/run.js';

export interface MmdebstrapArgs {
  suite: string;
  mirror: string; // '' = mmdebstrap's default (the host's sources)
  components: readonly string[];
  variant: string;
  packages: readonly string[];
  /** Command run as mmdebstrap's customize hook; the root directory is appended as "$1". */
  customizeHook: readonly string[];
  /** Where apt keeps downloaded packages between builds (shared cache), read before the run. */
  aptCacheDir?: string;
  /** Where the run's packages are written back (default: aptCacheDir). */
  aptCacheOut?: string;
  /** root, or unshare for a rootless build. */
  mode: 'root' | 'unshare';
  /** APT::Snapshot: the archive as it was at this moment (APT >= 2.7); '' or undefined: current. */
  snapshot?: string;
  /** deb822 .sources files (extra repositories with embedded keys) to put into /etc/apt/sources.list.d before apt update. */
  extraSources?: readonly string[];
  /** Rootless: copy this folder of the chroot out to a folder of the user's, after our hook. */
  syncOut?: { from: string; to: string };
}

/** Paths dpkg never unpacks: documentation, manual pages and translations are not used on the image. */
export const DPKG_EXCLUDES = ['/usr/share/doc/*', '/usr/share/man/*', '/usr/share/info/*', '/usr/share/locale/*', '/usr/share/lintian/*', '/usr/share/linda/*'];

/** The options every mmdebstrap call shares: mode, variant, packages, apt retries, dpkg excludes, the apt cache. */
function common(a: Pick<MmdebstrapArgs, 'mode' | 'variant' | 'components' | 'packages' | 'aptCacheDir' | 'extraSources' | 'snapshot'>): string[] {
  const argv = [
    'mmdebstrap',
    `--mode=${a.mode}`,
    `--variant=${a.variant}`,
    '--architectures=amd64',
    `--components=${a.components.join(',')}`,
    `--include=${a.packages.join(',')}`,
    '--aptopt=Acquire::Retries "3"',
    ...DPKG_EXCLUDES.map((p) => `--dpkgopt=path-exclude=${p}`),
    // Also kept in the image's apt.conf.d: apt inside (the kernel stage) sees the same moment.
    ...(a.snapshot ? [`--aptopt=APT::Snapshot "${a.snapshot}"`] : []),
  ];
  if (a.aptCacheDir !== undefined) {
    // Keep downloaded .debs in a shared folder: a second build downloads nothing that did not change.
    argv.push(`--skip=download/empty`, `--skip=essential/unlink`, `--setup-hook=mkdir -p "$1"/var/cache/apt/archives`);
    argv.push(`--setup-hook=sync-in ${shellQuote([a.aptCacheDir])} /var/cache/apt/archives/`);
  }
  if (a.extraSources?.length) {
    // Setup hooks run before apt update: the extra repositories are part of the package set.
    argv.push('--setup-hook=mkdir -p "$1"/etc/apt/sources.list.d');
    for (const f of a.extraSources) argv.push(`--setup-hook=copy-in ${shellQuote([f])} /etc/apt/sources.list.d/`);
  }
  return argv;
}

function sources(a: Pick<MmdebstrapArgs, 'suite' | 'mirror' | 'components'>, output: string): string[] {
  return [a.suite, output, ...(a.mirror !== '' ? [`deb ${a.mirror} ${a.suite} ${a.components.join(' ')}`] : [])];
}

export function mmdebstrapArgv(a: MmdebstrapArgs): string[] {
  const argv = common(a);
  argv.push(`--customize-hook=${shellQuote(a.customizeHook)} "$1"`);
  if (a.syncOut) argv.push(`--customize-hook=sync-out ${shellQuote([a.syncOut.from])} ${shellQuote([a.syncOut.to])}`);
  // After our hook, so the kernel package it downloads is cached too (pack leaves the cache out of the image).
  if (a.aptCacheDir !== undefined) argv.push(`--customize-hook=sync-out /var/cache/apt/archives ${shellQuote([a.aptCacheOut ?? a.aptCacheDir])}`);
  argv.push(...sources(a, '/dev/null'));
  return argv;
}

/**
 * A throwaway root that compiles the kernel (kernel.build): the build script and the fragments are copied in,
 * `configure` runs in the chroot, `verify` on the host side of the hook (it gets the build folder's path, so a
 * configuration that lost an option stops the build before the compile), then `compile`, and the result is
 * copied out. No root is kept (output /dev/null).
 */
export function mmdebstrapKernelArgv(
  a: Pick<MmdebstrapArgs, 'mode' | 'suite' | 'mirror' | 'components' | 'packages' | 'aptCacheDir' | 'aptCacheOut' | 'snapshot'> & {
    dir: string; // the build folder inside the root
    copyIn: readonly string[]; // host files for the build folder (build.sh, the numbered fragments)
    verify: readonly string[]; // host command; the build folder's host path is appended
    out: string; // host folder that receives the build folder's out/
  },
): string[] {
  const argv = common({ ...a, variant: 'apt', extraSources: [] });
  const dir = shellQuote([a.dir]);
  argv.push(`--customize-hook=mkdir -p "$1"${dir}`);
  argv.push(`--customize-hook=copy-in ${shellQuote(a.copyIn)} ${dir}`);
  argv.push(`--customize-hook=chroot "$1" sh ${dir}/build.sh config ${dir}`);
  argv.push(`--customize-hook=${shellQuote(a.verify)} "$1"${dir}`);
  argv.push(`--customize-hook=chroot "$1" sh ${dir}/build.sh compile ${dir}`);
  argv.push(`--customize-hook=sync-out ${dir}/out ${shellQuote([a.out])}`);
  if (a.aptCacheDir !== undefined) argv.push(`--customize-hook=sync-out /var/cache/apt/archives ${shellQuote([a.aptCacheOut ?? a.aptCacheDir])}`);
  argv.push(...sources(a, '/dev/null'));
  return argv;
}

/**
 * A container image's file system as one tar file (the image's only layer).
 * No /dev entries (the engine makes /dev), no apt cache left inside.
 */
export function mmdebstrapImageArgv(a: Omit<MmdebstrapArgs, 'customizeHook' | 'syncOut'> & { output: string }): string[] {
  const argv = common(a);
  argv.push('--skip=output/dev');
  if (a.aptCacheDir !== undefined) {
    argv.push(`--customize-hook=sync-out /var/cache/apt/archives ${shellQuote([a.aptCacheOut ?? a.aptCacheDir])}`);
    argv.push('--customize-hook=rm -f "$1"/var/cache/apt/archives/*.deb');
  }
  argv.push(...sources(a, a.output));
  return argv;
}

/**
 * Resolve the package set without installing it: apt's simulated install lists every package with the version
 * the archive has now ("Inst NAME (VERSION ..."), which the stage cache keys on. Downloads the indexes only.
 */
export function mmdebstrapSimulateArgv(a: Pick<MmdebstrapArgs, 'mode' | 'suite' | 'mirror' | 'components' | 'variant' | 'packages' | 'extraSources' | 'snapshot'>): string[] {
  return [...common(a), '--simulate', '--verbose', ...sources(a, '/dev/null')];
}

/** "NAME=VERSION" for each package of a simulated install, sorted. */
export function simulatedPackages(output: string): string[] {
  return [...output.matchAll(/^Inst (\S+) \((\S+) /gm)].map((m) => `${m[1]}=${m[2]}`).sort();
}
