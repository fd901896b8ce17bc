// zeroRelativeTargets on a small hand-made PIE image: which relocation targets are zeroed, and
// which files and bytes are left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRelr, elfHash, encodeRelr, packRelativeRelocs, zeroRelativeTargets } from '../../src/formats/elfrelative.js';

const INTERP = '/lib64/ld-linux-x86-64.so.2\0';
const DYN = 0x108; // .dynamic
const RELA = 0x148; // the relocation table, 5 entries
const DATA = 0x200; // the targets
const SIZE = 0x240;

interface Reloc {
  at: number;
  type: number;
  addend: bigint;
  /** What the file holds at the target. */
  holds?: bigint;
}

const RELOCS: Reloc[] = [
  { at: DATA, type: 8, addend: 0x1234n }, // RELATIVE, the linker's copy of its addend: zeroed
  { at: DATA + 8, type: 8, addend: 0x5678n, holds: 0x9999n }, // RELATIVE, but the file holds something else: kept
  { at: DATA + 16, type: 1, addend: 0n, holds: 0x1111n }, // R_X86_64_64 against a symbol: kept
  { at: 0x10000, type: 8, addend: 0x42n }, // RELATIVE, past what the file holds (.bss): nothing to zero
  { at: DATA + 24, type: 8, addend: 0x0abcdef0n }, // zeroed
];

/** Program header i: a segment mapping size bytes of the file at off to the same address. */
function writePhdr(b: Buffer, i: number, type: number, off: number, size: number): void {
  const h = 64 + 56 * i;
  b.writeUInt32LE(type, h);
  b.writeBigUInt64LE(BigInt(off), h + 8);
  b.writeBigUInt64LE(BigInt(off), h + 16);
  b.writeBigUInt64LE(BigInt(size), h + 32);
  b.writeBigUInt64LE(BigInt(size), h + 40);
}

/** A PIE program (or, as asked, another kind of file): one PT_LOAD mapping the file at address 0, PT_INTERP, PT_DYNAMIC. */
function pie(o: { interp?: boolean; etype?: number; machine?: number; relr?: boolean } = {}): Buffer {
  const b = Buffer.alloc(SIZE);
  b.writeUInt32BE(0x7f454c46, 0);
  b[4] = 2;
  b[5] = 1;
  b[6] = 1;
  b.writeUInt16LE(o.etype ?? 3, 0x10);
  b.writeUInt16LE(o.machine ?? 62, 0x12);
  b.writeBigUInt64LE(64n, 0x20);
  b.writeUInt16LE(56, 0x36);
  const phdrs: [number, number, number][] = [
    [1, 0, SIZE], // PT_LOAD
    [2, DYN, 4 * 16], // PT_DYNAMIC
  ];
  if (o.interp !== false) phdrs.push([3, 0xe8, INTERP.length]);
  b.writeUInt16LE(phdrs.length, 0x38);
  phdrs.forEach(([type, off, size], i) => writePhdr(b, i, type, off, size));
  b.write(INTERP, 0xe8, 'latin1');
  const dyn: [bigint, bigint][] = [
    [o.relr ? 36n : 7n, BigInt(RELA)], // DT_RELA (or DT_RELR)
    [8n, BigInt(24 * RELOCS.length)], // DT_RELASZ
    [9n, 24n], // DT_RELAENT
  ];
  dyn.forEach(([tag, val], i) => {
    b.writeBigInt64LE(tag, DYN + 16 * i);
    b.writeBigUInt64LE(val, DYN + 16 * i + 8);
  });
  RELOCS.forEach((r, i) => {
    const e = RELA + 24 * i;
    b.writeBigUInt64LE(BigInt(r.at), e);
    b.writeBigUInt64LE((r.type === 1 ? 3n << 32n : 0n) | BigInt(r.type), e + 8);
    b.writeBigInt64LE(r.addend, e + 16);
    if (r.at + 8 <= SIZE) b.writeBigInt64LE(r.holds ?? r.addend, r.at);
  });
  return b;
}

test('zeroRelativeTargets zeroes the targets of RELATIVE relocations that hold their addend, and nothing else', () => {
  const b = pie();
  const before = Buffer.from(b);
  assert.deepEqual(zeroRelativeTargets(b), { relocations: 2, bytes: 2 + 4 });
  assert.equal(b.length, before.length, 'the file keeps its size');
  assert.equal(b.readBigUInt64LE(DATA), 0n);
  assert.equal(b.readBigUInt64LE(DATA + 24), 0n);
  // Everything but those 16 bytes is as it was: headers, the table, the other targets.
  const changed = [...b.keys()].filter((i) => b[i] !== before[i]);
  assert.ok(changed.every((i) => (i >= DATA && i < DATA + 8) || (i >= DATA + 24 && i < DATA + 32)), `changed: ${changed.join(',')}`);
  assert.equal(b.readBigUInt64LE(DATA + 8), 0x9999n);
  assert.equal(b.readBigUInt64LE(DATA + 16), 0x1111n);
  // A second pass finds the targets zero (no longer the addend) and changes nothing.
  const once = Buffer.from(b);
  assert.deepEqual(zeroRelativeTargets(b), { relocations: 0, bytes: 0 });
  assert.deepEqual(b, once);
});

test('zeroRelativeTargets leaves alone shared libraries, other machines, files with RELR, and what is not ELF', () => {
  for (const [why, o] of [
    ['a shared library (no interpreter): the dynamic linker is one', { interp: false }],
    ['an ET_EXEC program has no relative relocations to drop', { etype: 2 }],
    ['not x86-64: another relocation semantics', { machine: 183 }],
    ['DT_RELR reads its targets', { relr: true }],
  ] as const) {
    const b = pie(o);
    const before = Buffer.from(b);
    assert.equal(zeroRelativeTargets(b), undefined, why);
    assert.deepEqual(b, before, why);
  }
  assert.equal(zeroRelativeTargets(Buffer.from('#!/bin/sh\necho hi\n')), undefined);
});

test('RELR words: an address, then bitmaps of the 63 words after it; decoding gives the addresses back', () => {
  const addrs = [0x1000n, 0x1008n, 0x1010n, 0x1100n, 0x1000n + 8n * 64n, 0x9000n, 0x9008n];
  const words = encodeRelr(addrs);
  assert.equal(words[0], 0x1000n);
  assert.equal(words[1]! & 1n, 1n, 'a bitmap has bit 0 set');
  assert.deepEqual(decodeRelr(words), addrs);
  assert.ok(words.length < addrs.length);
  assert.equal(elfHash('GLIBC_2.2.5'), 0x09691a75); // the vna_hash every x86-64 program carries
});

/** A PIE image with the room packRelativeRelocs needs: string table, libc version need, spare .dynamic slots. */
function roomyPie(o: { slots?: number } = {}): { b: Buffer; dyn: number; table: number; n: number } {
  const b = Buffer.alloc(0x1000);
  b.writeUInt32BE(0x7f454c46, 0);
  b[4] = 2;
  b[5] = 1;
  b.writeUInt16LE(3, 0x10);
  b.writeUInt16LE(62, 0x12);
  b.writeBigUInt64LE(64n, 0x20);
  b.writeUInt16LE(56, 0x36);
  b.writeUInt16LE(3, 0x38);
  const DYNAMIC = 0x200;
  const slots = o.slots ?? 12;
  writePhdr(b, 0, 1, 0, b.length);
  writePhdr(b, 1, 2, DYNAMIC, 16 * slots);
  writePhdr(b, 2, 3, 0x100, INTERP.length);
  b.write(INTERP, 0x100, 'latin1');
  const STRTAB = 0x300;
  const str = '\0libc.so.6\0GLIBC_2.2.5\0';
  b.write(str, STRTAB, 'latin1');
  const VERNEED = 0x340;
  b.writeUInt16LE(1, VERNEED);
  b.writeUInt16LE(1, VERNEED + 2);
  b.writeUInt32LE(1, VERNEED + 4);
  b.writeUInt32LE(16, VERNEED + 8);
  b.writeUInt32LE(0x09691a75, VERNEED + 16);
  b.writeUInt16LE(2, VERNEED + 22);
  b.writeUInt32LE(str.indexOf('GLIBC_2.2.5'), VERNEED + 24);
  const TABLE = 0x400;
  const DATA2 = 0x800;
  const relocs: [number, number, bigint][] = [];
  for (let i = 0; i < 12; i++) relocs.push([DATA2 + 8 * i, 8, BigInt(0x5000 + 16 * i)]);
  relocs.push([DATA2 + 0x100, 1, 0n]); // a symbolic one stays in RELA
  relocs.forEach(([at, type, addend], i) => {
    b.writeBigUInt64LE(BigInt(at), TABLE + 24 * i);
    b.writeBigUInt64LE(BigInt(type) | (type === 1 ? 1n << 32n : 0n), TABLE + 24 * i + 8);
    b.writeBigInt64LE(addend, TABLE + 24 * i + 16);
    b.writeBigInt64LE(type === 8 ? addend : 0x7777n, at);
  });
  const dyn: [number, number][] = [
    [5, STRTAB],
    [7, TABLE],
    [8, 24 * relocs.length],
    [9, 24],
    [0x6ffffff9, 12],
    [0x6ffffffe, VERNEED],
    [0x6fffffff, 1],
  ];
  dyn.forEach(([tag, val], i) => {
    b.writeBigInt64LE(BigInt(tag), DYNAMIC + 16 * i);
    b.writeBigUInt64LE(BigInt(val), DYNAMIC + 16 * i + 8);
  });
  return { b, dyn: DYNAMIC, table: TABLE, n: relocs.length };
}

test('packRelativeRelocs moves RELATIVE relocations into RELR, keeps the rest in RELA, and adds the GLIBC_ABI_DT_RELR need', () => {
  const { b, dyn, table } = roomyPie();
  const before = Buffer.from(b);
  assert.deepEqual(packRelativeRelocs(b), { relocations: 12, relrBytes: 16 });
  const tags = new Map<number, bigint>();
  for (let d = dyn; b.readBigInt64LE(d) !== 0n; d += 16) tags.set(Number(b.readBigInt64LE(d)), b.readBigUInt64LE(d + 8));
  assert.equal(tags.get(8), 24n, 'DT_RELASZ: the symbolic relocation only');
  assert.equal(tags.get(0x6ffffff9), 0n, 'DT_RELACOUNT');
  assert.equal(tags.get(37), 8n, 'DT_RELRENT');
  assert.equal(tags.get(35), 16n, 'DT_RELRSZ');
  const relr = Number(tags.get(36));
  assert.deepEqual(decodeRelr([b.readBigUInt64LE(relr), b.readBigUInt64LE(relr + 8)]), Array.from({ length: 12 }, (_, i) => BigInt(0x800 + 8 * i)));
  assert.equal(Number(b.readBigUInt64LE(table + 8) & 0xffffffffn), 1, 'the symbolic relocation opens the table');
  // The targets keep their addends: RELR adds the load address to what is there.
  for (let i = 0; i < 12; i++) assert.equal(b.readBigInt64LE(0x800 + 8 * i), BigInt(0x5000 + 16 * i));
  // The version needs: libc.so.6 with GLIBC_2.2.5 and, new, GLIBC_ABI_DT_RELR (index 3), its name in reach of DT_STRTAB.
  const vn = Number(tags.get(0x6ffffffe));
  assert.equal(b.readUInt16LE(vn + 2), 2);
  const aux2 = vn + 16 + 16;
  assert.equal(b.readUInt32LE(aux2), elfHash('GLIBC_ABI_DT_RELR'));
  assert.equal(b.readUInt16LE(aux2 + 6), 3);
  assert.equal(b.toString('latin1', 0x300 + b.readUInt32LE(aux2 + 8), 0x300 + b.readUInt32LE(aux2 + 8) + 17), 'GLIBC_ABI_DT_RELR');
  assert.equal(b.readUInt32LE(vn + 16 + 12), 16, 'the first need links to the second');
  assert.equal(b.readUInt32LE(aux2 + 12), 0, 'the last need ends the chain');
  // Nothing outside .dynamic, the table and the targets changed.
  const changed = [...b.keys()].filter((i) => b[i] !== before[i] && !(i >= 0x200 && i < 0x200 + 16 * 12) && !(i >= table && i < table + 24 * 13));
  assert.deepEqual(changed, []);
  // A second pass finds RELR there and leaves the file alone.
  assert.equal(packRelativeRelocs(b), undefined);
});

test('packRelativeRelocs leaves alone a program without three free .dynamic slots', () => {
  const { b } = roomyPie({ slots: 10 });
  const before = Buffer.from(b);
  assert.equal(packRelativeRelocs(b), undefined);
  assert.deepEqual(b, before);
});
