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

/** Parse an ELF64 LE image held in memory. Exported for unit tests. */
export function elfNeeds(b: Buffer): Needs {
  if (!isElf64LE(b)) return { kind: 'none' };
  const phoff = Number(b.readBigUInt64LE(32));
  const phentsize = b.readUInt16LE(54);
  const phnum = b.readUInt16LE(56);
  const loads: { vaddr: number; off: number; filesz: number }[] = [];
  let interp: string | undefined;
  let dyn: { off: number; size: number } | undefined;
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (o + 56 > b.length) break;
    const type = b.readUInt32LE(o);
    const off = Number(b.readBigUInt64LE(o + 8));
    const vaddr = Number(b.readBigUInt64LE(o + 16));
    const filesz = Number(b.readBigUInt64LE(o + 32));
    if (type === PT_LOAD) loads.push({ vaddr, off, filesz });
    else if (type === PT_INTERP) interp = cstr(b, off);
    else if (type === PT_DYNAMIC) dyn = { off, size: filesz };
  }
  if (!dyn) return { kind: 'elf', interp, needed: [] };
  // DT_STRTAB is an address: map it to a file offset through the loadable segments.
  const toOff = (vaddr: number): number | undefined => {
    const seg = loads.find((l) => vaddr >= l.vaddr && vaddr < l.vaddr + l.filesz);
    return seg ? seg.off + (vaddr - seg.vaddr) : undefined;
  };
  const neededOffsets: number[] = [];
  let strtab: number | undefined;
  for (let o = dyn.off; o + 16 <= Math.min(b.length, dyn.off + dyn.size); o += 16) {
    const tag = Number(b.readBigInt64LE(o));
    const val = Number(b.readBigUInt64LE(o + 8));
    if (tag === 0) break;
    if (tag === DT_NEEDED) neededOffsets.push(val);
    else if (tag === DT_STRTAB) strtab = toOff(val);
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
