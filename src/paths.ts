// Where the package's own files live (config/default.yaml, target/), resolved
// from this module's location so it works from a checkout and when installed.
import { fileURLToPath } from 'node:url';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url)); // <root>/dist/src or <root>/src
export const PACKAGE_ROOT = join(here, here.includes('/dist/') || here.endsWith('/dist/src') ? '../..' : '..');
export const TARGET_DIR = join(PACKAGE_ROOT, 'target');
export const DEFAULT_CONFIG = join(PACKAGE_ROOT, 'src/config/default.yaml');
export const CLI_ENTRY = join(PACKAGE_ROOT, 'dist/src/main.js');

/** debian2docker's folder in the user's cache (XDG_CACHE_HOME, else ~/.cache). */
function cacheBase(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'debian2docker');
}

/** Where downloaded packages are kept between builds (build --in-docker hands the same folder to its container). */
export const aptCacheDir = (): string => join(cacheBase(), 'apt');
/** Where the stage cache keeps root stages. */
export const stageCacheDir = (): string => join(cacheBase(), 'stages');
/** Where compiled kernels are kept (kernel.build): also with --no-cache, which rebuilds the root, not the kernel. */
export const kernelCacheDir = (): string => join(cacheBase(), 'kernels');
