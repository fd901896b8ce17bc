// Stage "stage1-shared" (inside the hook, after the stages that rewrite files, just before pack).
// Stage 1 carries busybox, its decompressor (xzdec or zstd) and the libraries that links (libc and
// the dynamic linker) for its own use, and the root file system has the same files: the initrd
// held them twice, about 1.3 MB compressed. Each one that is, byte for byte, the root's file is
// left out of the payload and listed in stage 1's d2d/shared; stage 1 copies it into the root
// before switch_root (target/stage1/init), so the initrd holds it once.
import { lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { walk } from '../fsutil.js';
import { resolveInRoot } from './prune.js';

/** The list in stage 1: one "STAGE1-PATH ROOT-PATH" line per file, both absolute. */
export const SHARED_LIST = 'd2d/shared';

export interface SharedFile {
  /** Where stage 1 has it. */
  stage1: string;
  /** The real file in the root (symlinks on the way resolved), relative to root. */
  root: string;
}

/**
 * The files stage 1 and the root have in common. Stage 1's tree is extrasDir (its libraries at the
 * paths ldd gave, its decompressor as d2d/NAME) plus busybox at bin/busybox; decompressor is the
 * decompressor's path in the root and d2d/NAME its name in stage 1.
 */
export function sharedWithStage1(root: string, extrasDir: string, busybox: string, decompressor: { path: string; name: string }): SharedFile[] {
  const candidates: { stage1: string; file: string; rootPath: string }[] = [{ stage1: 'bin/busybox', file: busybox, rootPath: 'usr/bin/busybox' }];
  for (const rel of walk(extrasDir).sort()) {
    const file = join(extrasDir, rel);
    if (rel === SHARED_LIST || !lstatSync(file).isFile()) continue;
    candidates.push({ stage1: rel, file, rootPath: rel === `d2d/${decompressor.name}` ? decompressor.path : rel });
  }
  const out: SharedFile[] = [];
  for (const c of candidates) {
    const real = resolveInRoot(root, c.rootPath)?.at(-1);
    if (real === undefined || !lstatSync(join(root, real)).isFile()) continue;
    // Only a file that is the root's own, byte for byte: a later stage may have changed the root's copy.
    if (!readFileSync(join(root, real)).equals(readFileSync(c.file))) continue;
    if (!out.some((o) => o.root === real)) out.push({ stage1: c.stage1, root: real });
  }
  return out;
}

/** Write stage 1's list (into extrasDir, which the initrd copies whole) and return the root paths to leave out of the payload. */
export function shareWithStage1(root: string, extrasDir: string, busybox: string, decompressor: { path: string; name: string }, log: (line: string) => void): SharedFile[] {
  const shared = sharedWithStage1(root, extrasDir, busybox, decompressor);
  mkdirSync(dirname(join(extrasDir, SHARED_LIST)), { recursive: true });
  writeFileSync(join(extrasDir, SHARED_LIST), shared.map((s) => `/${s.stage1} /${s.root}\n`).join(''));
  for (const s of shared) log(`/${s.root}: in stage 1 as /${s.stage1}; left out of the payload, copied at boot`);
  return shared;
}
