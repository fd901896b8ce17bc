// Where the package's own files live (config/default.yaml, target/), resolved
// from this module's location so it works from a checkout and when installed.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url)); // <root>/dist/src or <root>/src
export const PACKAGE_ROOT = join(here, here.includes('/dist/') || here.endsWith('/dist/src') ? '../..' : '..');
export const TARGET_DIR = join(PACKAGE_ROOT, 'target');
export const DEFAULT_CONFIG = join(PACKAGE_ROOT, 'src/config/default.yaml');
export const CLI_ENTRY = join(PACKAGE_ROOT, 'dist/src/main.js');
