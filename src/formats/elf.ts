// What a file needs to run, read from the file itself: an ELF file's program
// interpreter and DT_NEEDED libraries, or a script's #! interpreter. The prune
// stage uses it to prove that removing a package breaks nothing that stays.
// Only 64-bit little-endian ELF (the image is amd64); anything else is "no needs".
import { closeSync, openSync, readSync } from 'node:fs';

export type Needs =
  | { kind: 'elf'; interp?: string; needed: string[] }
  | { kind: 'script'; interp: string; args: string[] }
  | { kind: 'none' };

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NEEDED = 1;
const DT_STRTAB = 5;

/** The NUL-terminated string at off. */
export function cstr(b: Buffer, off: number): string {
  const end = b.indexOf(0, off);
  return b.toString('latin1', off, end < 0 ? b.length : end);
}

/** Whether b holds a 64-bit little-endian ELF image (the only kind an amd64 image runs). */
export function isElf64LE(b: Buffer): boolean {
  return b.length >= 64 && b.readUInt32BE(0) === 0x7f454c46 && b[4] === 2 && b[5] === 1;
}

export interface Segments {
  /** PT_LOAD segments: where each maps, and how much of it the file holds. */
  loads: { vaddr: number; off: number; filesz: number }[];
  interp?: string;
  /** PT_DYNAMIC, as a file range. */
  dyn?: { off: number; size: number };
}

/** The program headers of an ELF64 LE image (what the kernel and the dynamic linker read). */
export function segments(b: Buffer): Segments {
  const phoff = Number(b.readBigUInt64LE(32));
  const phentsize = b.readUInt16LE(54);
  const phnum = b.readUInt16LE(56);
  const out: Segments = { loads: [] };
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (o + 56 > b.length) break;
    const type = b.readUInt32LE(o);
    const off = Number(b.readBigUInt64LE(o + 8));
    const vaddr = Number(b.readBigUInt64LE(o + 16));
    const filesz = Number(b.readBigUInt64LE(o + 32));
    if (type === PT_LOAD) out.loads.push({ vaddr, off, filesz });
    else if (type === PT_INTERP) out.interp = cstr(b, off);
    else if (type === PT_DYNAMIC) out.dyn = { off, size: filesz };
  }
  return out;
}

/** The file offset of len bytes at address vaddr, when the file holds all of them. */
export function fileOffset(s: Segments, vaddr: number, len = 1): number | undefined {
  const seg = s.loads.find((l) => vaddr >= l.vaddr && vaddr + len <= l.vaddr + l.filesz);
  return seg ? seg.off + (vaddr - seg.vaddr) : undefined;
}

/** The .dynamic entries (tag, value) up to DT_NULL. */
export function dynamicEntries(b: Buffer, s: Segments): { tag: number; val: bigint }[] {
  const out: { tag: number; val: bigint }[] = [];
  if (!s.dyn) return out;
  for (let o = s.dyn.off; o + 16 <= Math.min(b.length, s.dyn.off + s.dyn.size); o += 16) {
    const tag = Number(b.readBigInt64LE(o));
    if (tag === 0) break;
    out.push({ tag, val: b.readBigUInt64LE(o + 8) });
  }
  return out;
}

/** Parse an ELF64 LE image held in memory. Exported for unit tests. */
export function elfNeeds(b: Buffer): Needs {
  if (!isElf64LE(b)) return { kind: 'none' };
  const segs = segments(b);
  const { interp } = segs;
  if (!segs.dyn) return { kind: 'elf', interp, needed: [] };
  // DT_STRTAB is an address: map it to a file offset through the loadable segments.
  const neededOffsets: number[] = [];
  let strtab: number | undefined;
  for (const { tag, val } of dynamicEntries(b, segs)) {
    if (tag === DT_NEEDED) neededOffsets.push(Number(val));
    else if (tag === DT_STRTAB) strtab = fileOffset(segs, Number(val));
  }
  const needed = strtab === undefined ? [] : neededOffsets.map((n) => cstr(b, strtab + n));
  return { kind: 'elf', interp, needed };
}

/** A script's interpreter from its first line ("#!/usr/bin/env perl -w" -> /usr/bin/env, [perl, -w]). */
export function scriptNeeds(firstLine: string): Needs {
  const m = /^#!\s*(\S+)\s*(.*)$/.exec(firstLine);
  if (!m) return { kind: 'none' };
  return { kind: 'script', interp: m[1]!, args: m[2]!.split(/\s+/).filter((a) => a !== '') };
}

/** What a file held in memory needs (a files-layer entry: the config's content, or a host file read whole). */
export function dataNeeds(b: Buffer): Needs {
  if (b.length >= 2 && b[0] === 0x23 && b[1] === 0x21) return scriptNeeds(b.toString('latin1', 0, Math.min(b.length, 256)).split('\n')[0]!);
  return elfNeeds(b);
}

/** What the file at path needs. ELF headers and dynamic sections sit in the first few MiB of a file, but the
 * string table may not: the whole file is read only when it is ELF. */
export function fileNeeds(path: string, size: number): Needs {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(Math.min(size, 256));
    readSync(fd, head, 0, head.length, 0);
    if (head.length >= 2 && head[0] === 0x23 && head[1] === 0x21) return scriptNeeds(head.toString('latin1').split('\n')[0]!);
    if (head.length < 4 || head.readUInt32BE(0) !== 0x7f454c46) return { kind: 'none' };
    const all = Buffer.alloc(size);
    readSync(fd, all, 0, size, 0);
    return elfNeeds(all);
  } finally {
    closeSync(fd);
  }
}
