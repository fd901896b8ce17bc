// A position-independent program (PIE) is linked at address 0 and moved by the dynamic linker,
// which adds the load address to every pointer in its data: one R_X86_64_RELATIVE relocation
// per pointer. x86-64 uses RELA relocations, whose entry carries the value (the addend), and
// glibc writes "load address + addend" to the target without reading what the file holds
// there. GNU ld writes the addend into the target as well, so such a program carries each of
// its pointers twice: dockerd 342,290 of them (8.2 MB of table, and the same values again in
// its data), the docker CLI 120,582.
//
// zeroRelativeTargets zeroes those in-file copies, which nothing reads: the loaded program is
// the same, byte for byte, once the dynamic linker has run, and the zeroes compress to nothing
// (dockerd alone: 17.10 -> 16.63 MB under the pack stage's xz). The file keeps its size and
// layout. Only what the dynamic linker will overwrite is touched:
// - x86-64 PIE programs (ET_DYN with a program interpreter); shared libraries, the dynamic
//   linker itself among them, are left alone;
// - relocations from DT_RELA (not the PLT's), of type R_X86_64_RELATIVE, whose 8 target bytes
//   the file holds and which hold exactly the addend (so they are the linker's copy of it);
// - not in a file that also has REL or RELR relocations, which do read their targets.
// What changes for tools reading the file rather than the running program: a disassembler
// or `objdump -s` shows those pointers as 0 (readelf -r still lists every relocation).

import { cstr, dynamicEntries, fileOffset, isElf64LE, segments, type Segments } from './elf.js';
import { elfHash, encodeRelr } from './relr.js';

export { decodeRelr, elfHash, encodeRelr } from './relr.js';

const EM_X86_64 = 62;
const ET_DYN = 3;
const DT_RELA = 7;
const DT_RELASZ = 8;
const DT_RELAENT = 9;
const DT_REL = 17;
const DT_RELR = 36;
const R_X86_64_RELATIVE = 8;
const RELA_SIZE = 24;

export interface ZeroedRelative {
  /** R_X86_64_RELATIVE relocations whose target was zeroed. */
  relocations: number;
  /** Bytes set to zero. */
  bytes: number;
}

/**
 * A PIE program's RELA table, and which of its entries are the linker's copies this file can drop (RELATIVE,
 * 8 target bytes the file holds, holding exactly the addend, not inside the table or .dynamic); undefined
 * when the file is not one to touch. Shared by zeroRelativeTargets and packRelativeRelocs.
 */
function relativeTable(b: Buffer): { segs: Segments & { dyn: { off: number; size: number } }; dyn: Map<number, number>; entries: number; table: number; size: number; target: (e: number) => number | undefined } | undefined {
  if (!isElf64LE(b) || b.readUInt16LE(0x12) !== EM_X86_64 || b.readUInt16LE(0x10) !== ET_DYN) return undefined;
  const segs = segments(b);
  if (!segs.interp || !segs.dyn) return undefined;
  const list = dynamicEntries(b, segs);
  const dyn = new Map(list.map((e) => [e.tag, Number(e.val)]));
  if (dyn.has(DT_REL) || dyn.has(DT_RELR)) return undefined;
  const rela = dyn.get(DT_RELA);
  const size = dyn.get(DT_RELASZ) ?? 0;
  if (rela === undefined || size === 0 || dyn.get(DT_RELAENT) !== RELA_SIZE) return undefined;
  const table = fileOffset(segs, rela, size);
  if (table === undefined) return undefined;
  const dynRange = segs.dyn;
  // Never a target inside what is read here (the table, .dynamic): the linker would not put one there.
  const inside = (at: number, start: number, len: number): boolean => at + 8 > start && at < start + len;
  const target = (e: number): number | undefined => {
    if (Number(b.readBigUInt64LE(e + 8) & 0xffffffffn) !== R_X86_64_RELATIVE) return undefined;
    const at = fileOffset(segs, Number(b.readBigUInt64LE(e)), 8);
    if (at === undefined || inside(at, table, size) || inside(at, dynRange.off, dynRange.size)) return undefined;
    return b.readBigInt64LE(at) === b.readBigInt64LE(e + 16) ? at : undefined;
  };
  return { segs: { ...segs, dyn: dynRange }, dyn, entries: list.length, table, size, target };
}

/** Zero the in-file copies of a PIE program's relative pointers (b is changed in place); undefined when the file is not one to touch. */
export function zeroRelativeTargets(b: Buffer): ZeroedRelative | undefined {
  const t = relativeTable(b);
  if (!t) return undefined;
  let relocations = 0;
  let bytes = 0;
  for (let e = t.table; e + RELA_SIZE <= t.table + t.size; e += RELA_SIZE) {
    const at = t.target(e);
    if (at === undefined) continue;
    for (let i = at; i < at + 8; i++) if (b[i] !== 0) bytes++;
    b.fill(0, at, at + 8);
    relocations++;
  }
  return { relocations, bytes };
}

// --- Packing the relative relocations (RELR) ---------------------------------------------------
//
// Zeroing the in-file copies leaves the table itself: 24 bytes per pointer (8.2 MB for dockerd,
// about 0.8 MB after xz). RELR (DT_RELR, glibc 2.36+) encodes the same relocations as a bitmap
// of 8-byte words to which the load address is *added*, reading the addend from the target, so
// the in-file copies must stay and the table goes: a few kilobytes instead. packRelativeRelocs
// rewrites a PIE program that way, in place and keeping the file's layout:
// - the relocations it packs are those zeroRelativeTargets would zero (RELATIVE, from DT_RELA,
//   8 target bytes in the file holding exactly the addend), at 8-byte aligned addresses;
// - the other relocations move to the start of the RELA table (DT_RELASZ and DT_RELACOUNT follow);
//   the RELR words, a copy of the version needs and one string follow them in the freed space
//   (read-only, loaded memory, as the table was);
// - glibc refuses DT_RELR without a GLIBC_ABI_DT_RELR version need on libc.so.6: the copy of the
//   version needs has that one more, and DT_VERNEED points to it;
// - .dynamic gains DT_RELR, DT_RELRSZ and DT_RELRENT in its unused slots.
// A file without the room for any of this (3 free .dynamic slots, a string table before the
// RELA table, a libc.so.6 version need) is left alone; the caller may then zero the copies.

const DT_NULL = 0;
const DT_STRTAB = 5;
const DT_RELRSZ = 35;
const DT_RELRENT = 37;
const DT_RELACOUNT = 0x6ffffff9;
const DT_VERNEED = 0x6ffffffe;
const DT_VERNEEDNUM = 0x6fffffff;
const DT_VERDEFNUM = 0x6ffffffd;
const RELR_NAME = 'GLIBC_ABI_DT_RELR';

export interface PackedRelative {
  /** Relocations now in the RELR table. */
  relocations: number;
  /** Bytes of the RELR table (the RELA table they left was 24 per relocation). */
  relrBytes: number;
}

/** Rewrite a PIE program's relative relocations as RELR (b is changed in place); undefined when the file is not one to touch or has no room. */
export function packRelativeRelocs(b: Buffer): PackedRelative | undefined {
  const t = relativeTable(b);
  if (!t) return undefined;
  const { segs, dyn, table, size } = t;
  if (t.entries + 3 + 1 > Math.floor(segs.dyn.size / 16)) return undefined;
  const rela = dyn.get(DT_RELA)!;
  const strtab = dyn.get(DT_STRTAB);
  const verneed = dyn.get(DT_VERNEED);
  const verneedNum = dyn.get(DT_VERNEEDNUM) ?? 0;
  if (strtab === undefined || verneed === undefined || verneedNum === 0) return undefined;
  const strOff = fileOffset(segs, strtab);
  const vnOff = fileOffset(segs, verneed, 16);
  if (strOff === undefined || vnOff === undefined || rela <= strtab) return undefined;

  // The version needs as they are, and which one is libc's.
  const needs: { version: number; file: number; aux: Buffer[] }[] = [];
  let maxIndex = dyn.get(DT_VERDEFNUM) ?? 1;
  for (let o = vnOff, n = 0; n < verneedNum; n++) {
    const cnt = b.readUInt16LE(o + 2);
    const aux: Buffer[] = [];
    for (let a = o + b.readUInt32LE(o + 8), k = 0; k < cnt; k++) {
      aux.push(Buffer.from(b.subarray(a, a + 16)));
      maxIndex = Math.max(maxIndex, b.readUInt16LE(a + 6) & 0x7fff);
      const next = b.readUInt32LE(a + 12);
      if (next === 0) break;
      a += next;
    }
    needs.push({ version: b.readUInt16LE(o), file: b.readUInt32LE(o + 4), aux });
    const next = b.readUInt32LE(o + 12);
    if (next === 0) break;
    o += next;
  }
  const libc = needs.find((n) => cstr(b, strOff + n.file) === 'libc.so.6');
  if (!libc || libc.aux.some((a) => cstr(b, strOff + a.readUInt32LE(8)) === RELR_NAME)) return undefined;

  const packed: bigint[] = [];
  const kept: Buffer[] = [];
  for (let e = table; e + RELA_SIZE <= table + size; e += RELA_SIZE) {
    const addr = b.readBigUInt64LE(e);
    if (addr % 8n === 0n && t.target(e) !== undefined) packed.push(addr);
    else kept.push(Buffer.from(b.subarray(e, e + RELA_SIZE)));
  }
  if (packed.length === 0) return { relocations: 0, relrBytes: 0 };
  packed.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const words = encodeRelr(packed);

  // The freed table: kept RELA entries (relative ones first, for DT_RELACOUNT), RELR words, version needs, the name.
  kept.sort((x, y) => Number(Number(y.readBigUInt64LE(8) & 0xffffffffn) === R_X86_64_RELATIVE) - Number(Number(x.readBigUInt64LE(8) & 0xffffffffn) === R_X86_64_RELATIVE));
  const relaBytes = kept.length * RELA_SIZE;
  const relrAt = relaBytes;
  const vnAt = relrAt + words.length * 8;
  const vnBytes = needs.reduce((n, v) => n + 16 + 16 * (v.aux.length + (v === libc ? 1 : 0)), 0);
  const nameAt = vnAt + vnBytes;
  if (nameAt + RELR_NAME.length + 1 > size) return undefined;
  const region = Buffer.alloc(size);
  kept.forEach((k, i) => k.copy(region, i * RELA_SIZE));
  words.forEach((w, i) => region.writeBigUInt64LE(w, relrAt + 8 * i));
  region.write(`${RELR_NAME}\0`, nameAt, 'latin1');
  let o = vnAt;
  needs.forEach((v, i) => {
    const aux = v === libc ? [...v.aux, newAux(rela + nameAt - strtab, maxIndex + 1)] : v.aux;
    region.writeUInt16LE(v.version, o);
    region.writeUInt16LE(aux.length, o + 2);
    region.writeUInt32LE(v.file, o + 4);
    region.writeUInt32LE(16, o + 8);
    region.writeUInt32LE(i === needs.length - 1 ? 0 : 16 + 16 * aux.length, o + 12);
    aux.forEach((a, k) => {
      a.copy(region, o + 16 + 16 * k);
      region.writeUInt32LE(k === aux.length - 1 ? 0 : 16, o + 16 + 16 * k + 12);
    });
    o += 16 + 16 * aux.length;
  });
  region.copy(b, table);

  // .dynamic: new sizes and addresses, then the three RELR entries before DT_NULL.
  const relCount = kept.filter((k) => Number(k.readBigUInt64LE(8) & 0xffffffffn) === R_X86_64_RELATIVE).length;
  const set = (tag: number, val: number): void => {
    for (let d = segs.dyn.off; d + 16 <= segs.dyn.off + segs.dyn.size; d += 16) {
      if (Number(b.readBigInt64LE(d)) === tag) return void b.writeBigUInt64LE(BigInt(val), d + 8);
    }
  };
  set(DT_RELASZ, relaBytes);
  set(DT_RELACOUNT, relCount);
  set(DT_VERNEED, rela + vnAt);
  const end = segs.dyn.off + 16 * t.entries;
  const add: [number, number][] = [
    [DT_RELR, rela + relrAt],
    [DT_RELRSZ, words.length * 8],
    [DT_RELRENT, 8],
    [DT_NULL, 0],
  ];
  add.forEach(([tag, val], i) => {
    b.writeBigInt64LE(BigInt(tag), end + 16 * i);
    b.writeBigUInt64LE(BigInt(val), end + 16 * i + 8);
  });
  // The section header of the RELA table, for tools that read sections (readelf -r): its new size.
  const shoff = Number(b.readBigUInt64LE(0x28));
  const shentsize = b.readUInt16LE(0x3a);
  for (let i = 0; shoff !== 0 && shentsize >= 64 && i < b.readUInt16LE(0x3c); i++) {
    const h = shoff + i * shentsize;
    if (h + 64 <= b.length && Number(b.readBigUInt64LE(h + 0x18)) === table && b.readUInt32LE(h + 4) === 4 /* SHT_RELA */) b.writeBigUInt64LE(BigInt(relaBytes), h + 0x20);
  }
  return { relocations: packed.length, relrBytes: words.length * 8 };
}

function newAux(name: number, index: number): Buffer {
  const a = Buffer.alloc(16);
  a.writeUInt32LE(elfHash(RELR_NAME), 0);
  a.writeUInt16LE(0, 4);
  a.writeUInt16LE(index, 6);
  a.writeUInt32LE(name, 8);
  return a;
}
