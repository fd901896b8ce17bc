// RELR, the compact form of relative relocations (DT_RELR, glibc 2.36): an address, then
// bitmaps that each cover the next 63 words. And the SysV ELF hash that names the glibc
// version (GLIBC_ABI_DT_RELR) a program with RELR must require. Pure arithmetic, used
// by src/formats/elfrelative.ts.

/** The SysV ELF hash of a version name (vna_hash). */
export function elfHash(name: string): number {
  let h = 0;
  for (const c of Buffer.from(name, 'latin1')) {
    h = ((h << 4) + c) >>> 0;
    const g = h & 0xf0000000;
    if (g !== 0) h ^= g >>> 24;
    h &= ~g >>> 0;
    h >>>= 0;
  }
  return h;
}

/** RELR words for sorted, 8-aligned addresses: an address, then bitmaps of the 63 words after it. */
export function encodeRelr(addrs: bigint[]): bigint[] {
  const out: bigint[] = [];
  let i = 0;
  while (i < addrs.length) {
    out.push(addrs[i]!);
    let base = addrs[i]! + 8n;
    i++;
    for (;;) {
      let bitmap = 0n;
      while (i < addrs.length && addrs[i]! - base < 63n * 8n) {
        bitmap |= 1n << ((addrs[i]! - base) / 8n);
        i++;
      }
      if (bitmap === 0n) break;
      out.push((bitmap << 1n) | 1n);
      base += 63n * 8n;
    }
  }
  return out;
}

/** The addresses a RELR table relocates (the inverse of encodeRelr; for tests). */
export function decodeRelr(words: bigint[]): bigint[] {
  const out: bigint[] = [];
  let base = 0n;
  for (const w of words) {
    if ((w & 1n) === 0n) {
      out.push(w);
      base = w + 8n;
      continue;
    }
    for (let bit = 0n, m = w >> 1n; m !== 0n; bit++, m >>= 1n) if (m & 1n) out.push(base + bit * 8n);
    base += 63n * 8n;
  }
  return out;
}
