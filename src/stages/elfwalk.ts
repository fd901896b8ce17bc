// The image's ELF files, for the stages that rewrite them in place after prune (go-exports,
// relative-relocs): each reads the files it may change whole, so small ones are skipped by size.
import { closeSync, lstatSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allFiles } from './prune.js';

function isElf(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(4);
    return readSync(fd, head, 0, 4, 0) === 4 && head.readUInt32BE(0) === 0x7f454c46;
  } finally {
    closeSync(fd);
  }
}

/**
 * Call change on every regular ELF file of at least minBytes under root, in path order, with its
 * bytes; when it returns a result, the (changed) bytes are written back and the result kept.
 */
export function rewriteElfFiles<T>(root: string, minBytes: number, change: (b: Buffer, rel: string) => T | undefined): { path: string; result: T }[] {
  const out: { path: string; result: T }[] = [];
  for (const rel of allFiles(root).sort()) {
    const path = join(root, rel);
    const st = lstatSync(path);
    if (!st.isFile() || st.size < minBytes || !isElf(path)) continue;
    const b = readFileSync(path);
    const result = change(b, rel);
    if (result === undefined) continue;
    // Written in place (same inode), so hard links to the file see the same bytes.
    writeFileSync(path, b);
    out.push({ path: `/${rel}`, result });
  }
  return out;
}
