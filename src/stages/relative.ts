// Stage "relative-relocs" (inside the hook, after go-exports, before pack): PIE programs carry
// each relocated pointer twice, in a 24-byte RELA entry and in the file at its target. The stage
// packs them as RELR where the program has room for it (the table goes, a bitmap stays), and
// otherwise zeroes the in-file copies, which the dynamic linker overwrites without reading
// (src/formats/elfrelative.ts says which and why; docs/size.md the figures).
import { packRelativeRelocs, zeroRelativeTargets } from '../formats/elfrelative.js';
import { rewriteElfFiles } from './elfwalk.js';

export interface RelativeRelocs {
  path: string;
  /** R_X86_64_RELATIVE relocations changed. */
  relocations: number;
  /** relr: moved into a RELR table; zeroed: their in-file copies zeroed. */
  how: 'relr' | 'zeroed';
  /** Bytes freed (zeroes); the file keeps its size. */
  bytes: number;
}

/**
 * Below this a program has a few thousand pointers at most (bash: 2,396, about 10 KB of them): not
 * worth reading every small program for. The engine's PIE programs (dockerd, docker, docker-proxy) are megabytes.
 */
const MIN_PROGRAM = 1 << 20;

export function storeRootRelativeRelocsOnce(root: string, log: (line: string) => void): RelativeRelocs[] {
  return rewriteElfFiles(root, MIN_PROGRAM, (b, rel): Omit<RelativeRelocs, 'path'> | undefined => {
    const p = packRelativeRelocs(b);
    if (p && p.relocations > 0) {
      const bytes = p.relocations * 24 - p.relrBytes;
      log(`${rel}: ${p.relocations} relative relocations packed as RELR (${p.relrBytes} bytes for ${p.relocations * 24})`);
      return { relocations: p.relocations, how: 'relr', bytes };
    }
    const z = zeroRelativeTargets(b);
    if (!z || z.relocations === 0) return undefined;
    log(`${rel}: ${z.relocations} relocated pointers zeroed in the file (${(z.bytes / 1e6).toFixed(2)} MB)`);
    return { relocations: z.relocations, how: 'zeroed', bytes: z.bytes };
  }).map(({ path, result }) => ({ path, ...result }));
}
