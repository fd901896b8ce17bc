// Stage "prune" (inside the hook, just before packing): remove the files listed
// in src/plan/prune.ts, recording what each one was and its size.
import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PRUNE_RULES, type PruneRule } from '../plan/prune.js';

/** Bytes of a file, or of everything under a folder. */
function treeBytes(p: string): number {
  const st = lstatSync(p);
  if (!st.isDirectory()) return st.size;
  return readdirSync(p).reduce((n, e) => n + treeBytes(join(p, e)), 0);
}

export interface Pruned {
  path: string;
  bytes: number;
  why: string;
}

export function prune(root: string, rules: readonly PruneRule[] = PRUNE_RULES): Pruned[] {
  const out: Pruned[] = [];
  for (const r of rules) {
    let bytes: number;
    try {
      bytes = treeBytes(join(root, r.path));
    } catch {
      continue; // not in this image (another engine version or package set)
    }
    rmSync(join(root, r.path), { force: true, recursive: true });
    out.push({ path: `/${r.path}`, bytes, why: r.why });
  }
  return out;
}
