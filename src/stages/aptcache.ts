// The shared APT package cache (~/.cache/debian2docker/apt), safe for builds
// that run at the same time. mmdebstrap's sync-in tars the folder it is given
// and fails when another build writes into it meanwhile ("file changed as we
// read it"). So each mmdebstrap run reads a private snapshot and writes into a
// private folder; new packages then enter the cache by rename, which other
// builds see whole or not at all. The snapshot is a copy (a reflink where the
// file system has them), not hard links: linking a file changes its inode's
// ctime, which tar in another build reading the same inode reports as a change.
import { constants, copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { linkOrCopy } from '../fsutil.js';

export interface AptCacheDirs {
  in: string;
  out: string;
}

const debs = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.deb')) : []);

export function snapshotAptCache(cache: string, workDir: string, name: string): AptCacheDirs {
  const dirs = { in: join(workDir, 'apt-cache', `${name}-in`), out: join(workDir, 'apt-cache', `${name}-out`) };
  for (const d of [dirs.in, dirs.out]) {
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d, { recursive: true });
  }
  for (const f of debs(cache)) copyFileSync(join(cache, f), join(dirs.in, f), constants.COPYFILE_FICLONE);
  return dirs;
}

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
  rmSync(join(dirs.in, '..'), { recursive: true, force: true });
  return added;
}
