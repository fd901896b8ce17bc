// Stage "record" (inside the hook): what the manifest needs from the rootfs
// before it is packed: every package with its version, and the APT sources used.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../exec/run.js';
import { installedPackagesArgv } from '../tools/chroot.js';

export interface PackageEntry {
  name: string;
  version: string;
  arch: string;
}

export function parseDpkgQuery(out: string): PackageEntry[] {
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [name = '', version = '', arch = ''] = l.split('\t');
      return { name, version, arch };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function recordPackages(root: string, logFile: string): Promise<PackageEntry[]> {
  const { stdout } = await run(installedPackagesArgv(root), { capture: true, log: logFile });
  return parseDpkgQuery(stdout);
}

/** The APT source entries the rootfs was built from (one-line and deb822 formats). */
export function recordSources(root: string): string[] {
  const out: string[] = [];
  const main = join(root, 'etc/apt/sources.list');
  if (existsSync(main)) out.push(...readFileSync(main, 'utf8').split('\n'));
  const dir = join(root, 'etc/apt/sources.list.d');
  if (existsSync(dir)) {
    for (const f of readdirSync(dir).sort()) {
      const lines = readFileSync(join(dir, f), 'utf8').split('\n');
      // deb822: an embedded key is a block of continuation lines; the manifest names the source, not the key.
      out.push(...(f.endsWith('.sources') ? lines.filter((l) => !/^\s/.test(l)).map((l) => (/^Signed-By:\s*$/.test(l) ? 'Signed-By: (embedded key)' : l)) : lines));
    }
  }
  return out.map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}
