// Stage "prune" (inside the hook, just before packing): remove the files listed
// in src/plan/prune.ts, recording what each one was and its size.
import { lstatSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PRUNE_RULES } from '../plan/prune.js';

export interface Pruned {
  path: string;
  bytes: number;
  why: string;
}

export function prune(root: string): Pruned[] {
  const out: Pruned[] = [];
  for (const r of PRUNE_RULES) {
    let bytes: number;
    try {
      bytes = lstatSync(join(root, r.path)).size;
    } catch {
      continue; // not in this image (another engine version or package set)
    }
    rmSync(join(root, r.path), { force: true });
    out.push({ path: `/${r.path}`, bytes, why: r.why });
  }
  return out;
}
