// Stage "go-exports" (inside the hook, after prune, before pack): blank the Go symbols that
// plugin-capable Go programs (dockerd, containerd, its shim) export dynamically and nothing
// on the image looks up (src/formats/elfexports.ts says what is kept and why; docs/size.md the figures).
import { dropGoExports } from '../formats/elfexports.js';
import { rewriteElfFiles } from './elfwalk.js';

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

export function dropRootGoExports(root: string, log: (line: string) => void): GoExports[] {
  return rewriteElfFiles(root, MIN_GO_PROGRAM, (b, rel) => {
    const r = dropGoExports(b);
    if (!r || r.symbols === 0) return undefined;
    log(`${rel}: ${r.symbols} of ${r.of} dynamic symbols blanked (${(r.bytes / 1e6).toFixed(1)} MB of zeroes)`);
    return r;
  }).map(({ path, result }) => ({ path, ...result }));
}
