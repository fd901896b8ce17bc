// Stage "go-exports" (inside the hook, after prune, before pack): blank the Go symbols that
// plugin-capable Go programs (dockerd, containerd, its shim) export dynamically and nothing
// on the image looks up (src/elfexports.ts says what is kept and why; docs/size.md the figures).
import { closeSync, lstatSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dropGoExports } from '../elfexports.js';
import { allFiles } from './prune.js';

export interface GoExports {
  path: string;
  /** Dynamic symbols blanked, of how many. */
  symbols: number;
  of: number;
  /** Bytes set to zero; the file keeps its size. */
  bytes: number;
}

/** Go programs are megabytes; smaller files are not read past their first bytes. */
const MIN_GO_PROGRAM = 1 << 20;

function isElf(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(4);
    return readSync(fd, head, 0, 4, 0) === 4 && head.readUInt32BE(0) === 0x7f454c46;
  } finally {
    closeSync(fd);
  }
}

export function dropRootGoExports(root: string, log: (line: string) => void): GoExports[] {
  const out: GoExports[] = [];
  for (const rel of allFiles(root).sort()) {
    const path = join(root, rel);
    const st = lstatSync(path);
    if (!st.isFile() || st.size < MIN_GO_PROGRAM || !isElf(path)) continue;
    const b = readFileSync(path);
    const r = dropGoExports(b);
    if (!r || r.symbols === 0) continue;
    // Written in place (same inode), so hard links to the program see the same bytes.
    writeFileSync(path, b);
    log(`${rel}: ${r.symbols} of ${r.of} dynamic symbols blanked (${(r.bytes / 1e6).toFixed(1)} MB of zeroes)`);
    out.push({ path: `/${rel}`, ...r });
  }
  return out;
}
