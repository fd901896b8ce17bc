// Small file-system helpers shared by stages.
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, linkSync, readdirSync, utimesSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Every path under dir (relative), depth first. */
export function walk(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    out.push(relative(base, p));
    if (e.isDirectory()) out.push(...walk(p, base));
  }
  return out;
}

/** A hard link where the file system allows one, else a copy (another file system). */
export function linkOrCopy(src: string, dst: string): void {
  try {
    linkSync(src, dst);
  } catch {
    copyFileSync(src, dst);
  }
}

/** Set every mtime under dir (and dir itself) to epoch: reproducible archives. */
export function clampTree(dir: string, epoch: number): void {
  for (const rel of walk(dir)) utimesSync(join(dir, rel), epoch, epoch);
  utimesSync(dir, epoch, epoch);
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}
