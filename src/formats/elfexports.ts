// Go programs linked for plugin support (dockerd, containerd and its runc shim, as Debian
// builds them) export every Go symbol dynamically: dockerd carries 223,715 dynamic symbols,
// 16 MB of .dynsym/.dynstr/.gnu.hash and about 4.5 MB of it left after xz. Nothing on the
// image looks them up: only a Go plugin loaded with plugin.Open would bind to them, and a
// C library cannot name a symbol like "github.com/x.F" or "type:*".
//
// dropGoExports blanks those entries in place, keeping every offset and size, so the file's
// layout does not change and zeroes compress to nothing:
// - a dropped .dynsym entry becomes a nameless undefined global of value 0, which the dynamic
//   linker skips while walking a hash chain;
// - its name's bytes in .dynstr are zeroed unless something kept points into them (a kept
//   symbol, a needed library, a version name: string tables may share suffixes);
// - its .gnu.hash chain value keeps only bit 0, the end-of-chain mark, so chains still end
//   where they did.
// Kept: undefined symbols (imports), C names (no '.', ':' or '/'), and any symbol a
// relocation refers to. Files that are not 64-bit little-endian ELF executables with a
// .go.buildinfo section, or whose string table has a user this does not know, are left alone.

import { cstr, isElf64LE } from './elf.js';

const SHT_RELA = 4;
const SHT_DYNAMIC = 6;
const SHT_REL = 9;
const SHT_DYNSYM = 11;
const SHT_GNU_HASH = 0x6ffffff6;
const SHT_GNU_VERDEF = 0x6ffffffd;
const SHT_GNU_VERNEED = 0x6ffffffe;
const SHT_GNU_VERSYM = 0x6fffffff;
const PT_INTERP = 3;
/** .dynamic tags whose value is an offset into the dynamic string table. */
const DT_STRING_TAGS = new Set([1 /* NEEDED */, 14 /* SONAME */, 15 /* RPATH */, 29 /* RUNPATH */, 0x7ffffffd /* AUXILIARY */, 0x7fffffff /* FILTER */]);
const SYM_SIZE = 24;
const STB_GLOBAL = 1;

export interface DroppedExports {
  /** Dynamic symbols blanked. */
  symbols: number;
  /** Of how many. */
  of: number;
  /** Bytes set to zero (symbol entries, names, hash values). */
  bytes: number;
}

interface Section {
  index: number;
  name: string;
  type: number;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

function sections(b: Buffer): Section[] | undefined {
  const shoff = Number(b.readBigUInt64LE(0x28));
  const shentsize = b.readUInt16LE(0x3a);
  const shnum = b.readUInt16LE(0x3c);
  const shstrndx = b.readUInt16LE(0x3e);
  if (shoff === 0 || shnum === 0 || shentsize < 64 || shoff + shnum * shentsize > b.length || shstrndx >= shnum) return undefined;
  const raw = Array.from({ length: shnum }, (_, index) => {
    const o = shoff + index * shentsize;
    return {
      index,
      nameOff: b.readUInt32LE(o),
      type: b.readUInt32LE(o + 4),
      offset: Number(b.readBigUInt64LE(o + 0x18)),
      size: Number(b.readBigUInt64LE(o + 0x20)),
      link: b.readUInt32LE(o + 0x28),
      entsize: Number(b.readBigUInt64LE(o + 0x38)),
    };
  });
  const names = raw[shstrndx]!;
  if (raw.some((s) => s.type !== 8 /* NOBITS */ && s.offset + s.size > b.length)) return undefined;
  return raw.map(({ nameOff, ...s }) => ({ ...s, name: cstr(b, names.offset + nameOff) }));
}

function isExecutable(b: Buffer): boolean {
  const type = b.readUInt16LE(0x10);
  if (type === 2) return true; // ET_EXEC
  if (type !== 3) return false; // ET_DYN: a PIE program has an interpreter, a library does not
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  for (let i = 0; i < b.readUInt16LE(0x38); i++) {
    const o = phoff + i * phentsize;
    if (o + 4 <= b.length && b.readUInt32LE(o) === PT_INTERP) return true;
  }
  return false;
}

/** A name only Go gives a symbol: package paths and Go's own prefixes ("type:", "go:"). */
export function isGoName(name: string): boolean {
  return /[.:/]/.test(name);
}

/** Blank the Go exports of the ELF image in b (changed in place); undefined when the file is not one to touch. */
export function dropGoExports(b: Buffer): DroppedExports | undefined {
  if (!isElf64LE(b) || !isExecutable(b)) return undefined;
  const secs = sections(b);
  if (!secs || !secs.some((s) => s.name === '.go.buildinfo')) return undefined;
  const dynsym = secs.find((s) => s.type === SHT_DYNSYM);
  const dynstr = dynsym && secs[dynsym.link];
  if (!dynsym || !dynstr || dynsym.entsize !== SYM_SIZE) return undefined;
  // Every section that reads the string table must be one whose references are known here.
  const known = new Set([SHT_DYNSYM, SHT_DYNAMIC, SHT_GNU_VERDEF, SHT_GNU_VERNEED]);
  if (secs.some((s) => s.link === dynstr.index && !known.has(s.type))) return undefined;

  const count = dynsym.size / SYM_SIZE;
  const referenced = new Set<number>();
  for (const s of secs.filter((x) => (x.type === SHT_RELA || x.type === SHT_REL) && x.link === dynsym.index)) {
    const size = s.type === SHT_RELA ? 24 : 16;
    for (let o = s.offset; o + size <= s.offset + s.size; o += size) referenced.add(Number(b.readBigUInt64LE(o + 8) >> 32n));
  }
  const drop: number[] = [];
  const keptNames: number[] = [];
  for (let i = 1; i < count; i++) {
    const o = dynsym.offset + i * SYM_SIZE;
    const name = b.readUInt32LE(o);
    const defined = b.readUInt16LE(o + 6) !== 0;
    if (defined && !referenced.has(i) && isGoName(cstr(b, dynstr.offset + name))) drop.push(i);
    else keptNames.push(name);
  }
  if (drop.length === 0) return { symbols: 0, of: count - 1, bytes: 0 };
  keptNames.push(...dynamicStrings(b, secs, dynstr.index));

  // Which string bytes stay: every byte of every kept name, with its terminator.
  const keep = new Uint8Array(dynstr.size);
  keep[0] = 1;
  for (const n of keptNames) {
    for (let o = n; o < dynstr.size; o++) {
      keep[o] = 1;
      if (b[dynstr.offset + o] === 0) break;
    }
  }
  let bytes = 0;
  for (let o = 0; o < dynstr.size; o++) {
    if (!keep[o] && b[dynstr.offset + o] !== 0) {
      b[dynstr.offset + o] = 0;
      bytes++;
    }
  }
  const hash = secs.find((s) => s.type === SHT_GNU_HASH && s.link === dynsym.index);
  const chain = hash && gnuHashChain(b, hash);
  const versym = secs.find((s) => s.type === SHT_GNU_VERSYM && s.link === dynsym.index);
  for (const i of drop) {
    const o = dynsym.offset + i * SYM_SIZE;
    bytes += SYM_SIZE;
    b.fill(0, o, o + SYM_SIZE);
    // Global binding, as the entries around it: a local one past .dynsym's sh_info upsets readelf and the like.
    b[o + 4] = STB_GLOBAL << 4;
    if (chain && i >= chain.symoffset) {
      const c = chain.offset + (i - chain.symoffset) * 4;
      if (c + 4 <= hash!.offset + hash!.size) {
        b.writeUInt32LE(b.readUInt32LE(c) & 1, c);
        bytes += 4;
      }
    }
    // Version 0 is "local": nothing binds to it (the entry is blank anyway); it compresses with the rest.
    if (versym && versym.offset + i * 2 + 2 <= versym.offset + versym.size) b.writeUInt16LE(0, versym.offset + i * 2);
  }
  return { symbols: drop.length, of: count - 1, bytes };
}

/** Where .gnu.hash's chain (one 32-bit hash value per symbol from symoffset on) begins. */
function gnuHashChain(b: Buffer, s: Section): { offset: number; symoffset: number } | undefined {
  if (s.size < 16) return undefined;
  const nbuckets = b.readUInt32LE(s.offset);
  const symoffset = b.readUInt32LE(s.offset + 4);
  const bloomWords = b.readUInt32LE(s.offset + 8);
  const offset = s.offset + 16 + bloomWords * 8 + nbuckets * 4;
  return offset <= s.offset + s.size ? { offset, symoffset } : undefined;
}

/** Offsets into the string table used by .dynamic (needed libraries, soname, search paths) and the version sections. */
function dynamicStrings(b: Buffer, secs: Section[], strIndex: number): number[] {
  const out: number[] = [];
  for (const s of secs.filter((x) => x.link === strIndex)) {
    const end = s.offset + s.size;
    if (s.type === SHT_DYNAMIC) {
      for (let o = s.offset; o + 16 <= end; o += 16) {
        const tag = Number(b.readBigInt64LE(o));
        if (tag === 0) break;
        if (DT_STRING_TAGS.has(tag)) out.push(Number(b.readBigUInt64LE(o + 8)));
      }
    } else if (s.type === SHT_GNU_VERNEED) {
      // Verneed: version, cnt, file, aux, next; Vernaux: hash, flags, other, name, next.
      for (let o = s.offset, guard = 0; o + 16 <= end && guard < 10000; guard++) {
        out.push(b.readUInt32LE(o + 4));
        for (let a = o + b.readUInt32LE(o + 8), n = 0; a + 16 <= end && n < b.readUInt16LE(o + 2); n++) {
          out.push(b.readUInt32LE(a + 8));
          const next = b.readUInt32LE(a + 12);
          if (next === 0) break;
          a += next;
        }
        const next = b.readUInt32LE(o + 12);
        if (next === 0) break;
        o += next;
      }
    } else if (s.type === SHT_GNU_VERDEF) {
      // Verdef: version, flags, ndx, cnt, hash, aux, next; Verdaux: name, next.
      for (let o = s.offset, guard = 0; o + 20 <= end && guard < 10000; guard++) {
        for (let a = o + b.readUInt32LE(o + 12), n = 0; a + 8 <= end && n < b.readUInt16LE(o + 6); n++) {
          out.push(b.readUInt32LE(a));
          const next = b.readUInt32LE(a + 4);
          if (next === 0) break;
          a += next;
        }
        const next = b.readUInt32LE(o + 16);
        if (next === 0) break;
        o += next;
      }
    }
  }
  return out;
}
