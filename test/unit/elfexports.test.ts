// dropGoExports on a small hand-made ELF image: which dynamic symbols go, which stay, and that
// every string, hash value and version something kept still uses is left as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dropGoExports, isGoName } from '../../src/formats/elfexports.js';

interface Sec {
  name: string;
  type: number;
  data: Buffer;
  link?: number;
  entsize?: number;
}

/** An ELF64 LE image of type etype holding these sections (index 0, the null section, is added); program headers: just PT_INTERP if asked. */
function elf(secs: Sec[], o: { etype?: number; interp?: boolean } = {}): { b: Buffer; off: Map<string, number> } {
  const all = [{ name: '', type: 0, data: Buffer.alloc(0) } as Sec, ...secs];
  const names = Buffer.from(`\0${all.slice(1).map((s) => s.name).join('\0')}\0.shstrtab\0`, 'latin1');
  const nameOff = (n: string): number => (n === '' ? 0 : names.indexOf(Buffer.from(`\0${n}\0`, 'latin1')) + 1);
  all.push({ name: '.shstrtab', type: 3, data: names });
  const phnum = o.interp ? 1 : 0;
  let pos = 64 + phnum * 56;
  const off = new Map<string, number>();
  const placed = all.map((s) => {
    pos = (pos + 7) & ~7;
    const at = pos;
    off.set(s.name, at);
    pos += s.data.length;
    return at;
  });
  const shoff = (pos + 7) & ~7;
  const b = Buffer.alloc(shoff + all.length * 64);
  b.writeUInt32BE(0x7f454c46, 0);
  b[4] = 2;
  b[5] = 1;
  b[6] = 1;
  b.writeUInt16LE(o.etype ?? 2, 0x10);
  b.writeUInt16LE(62, 0x12);
  b.writeBigUInt64LE(64n, 0x20);
  b.writeBigUInt64LE(BigInt(shoff), 0x28);
  b.writeUInt16LE(64, 0x34);
  b.writeUInt16LE(56, 0x36);
  b.writeUInt16LE(phnum, 0x38);
  b.writeUInt16LE(64, 0x3a);
  b.writeUInt16LE(all.length, 0x3c);
  b.writeUInt16LE(all.length - 1, 0x3e);
  if (o.interp) b.writeUInt32LE(3, 64);
  all.forEach((s, i) => {
    s.data.copy(b, placed[i]!);
    const h = shoff + i * 64;
    b.writeUInt32LE(nameOff(s.name), h);
    b.writeUInt32LE(s.type, h + 4);
    b.writeBigUInt64LE(BigInt(placed[i]!), h + 0x18);
    b.writeBigUInt64LE(BigInt(s.data.length), h + 0x20);
    b.writeUInt32LE(s.link ?? 0, h + 0x28);
    b.writeBigUInt64LE(BigInt(s.entsize ?? 0), h + 0x38);
  });
  return { b, off };
}

// The string table. "main" is the tail of "runtime.main": a kept symbol shares a dropped one's bytes.
const STR = '\0malloc\0runtime.main\0github.com/x/y.F\0type:*\0environ\0libc.so.6\0GLIBC_2.2.5\0';
const at = (s: string): number => STR.indexOf(`${s}\0`);
const SYMS: { name: number; defined: boolean }[] = [
  { name: at('malloc'), defined: false }, // 1: an import
  { name: at('main'), defined: true }, // 2: a C name, inside "runtime.main"
  { name: at('runtime.main'), defined: true }, // 3: Go, dropped
  { name: at('github.com/x/y.F'), defined: true }, // 4: Go, but a relocation refers to it
  { name: at('type:*'), defined: true }, // 5: Go, dropped
  { name: at('environ'), defined: true }, // 6: C (a copy-relocated variable)
];
const CHAIN = [0x1110, 0x2222, 0x3332, 0x4444, 0x5554, 0x6667]; // bit 0 marks the end of the chain: only the last value has it

function sample(o: { buildinfo?: boolean; extraStrUser?: boolean; etype?: number; interp?: boolean } = {}): { b: Buffer; off: Map<string, number> } {
  const dynsym = Buffer.alloc(24 * (SYMS.length + 1));
  SYMS.forEach((s, i) => {
    const e = 24 * (i + 1);
    dynsym.writeUInt32LE(s.name, e);
    dynsym[e + 4] = 0x12; // global function
    dynsym.writeUInt16LE(s.defined ? 14 : 0, e + 6);
    dynsym.writeBigUInt64LE(s.defined ? BigInt(0x1000 + i) : 0n, e + 8);
  });
  const rela = Buffer.alloc(48);
  rela.writeBigUInt64LE((4n << 32n) | 1n, 8); // R_X86_64_64 against symbol 4
  rela.writeBigUInt64LE((1n << 32n) | 7n, 24 + 8); // JUMP_SLOT against symbol 1
  const hash = Buffer.alloc(16 + 8 + 4 + 4 * CHAIN.length);
  hash.writeUInt32LE(1, 0); // one bucket
  hash.writeUInt32LE(1, 4); // hashed symbols start at 1
  hash.writeUInt32LE(1, 8); // one bloom word
  hash.writeBigUInt64LE(0xffffffffffffffffn, 16);
  hash.writeUInt32LE(1, 24);
  CHAIN.forEach((c, i) => hash.writeUInt32LE(c, 28 + 4 * i));
  const versym = Buffer.alloc(2 * (SYMS.length + 1), 0);
  for (let i = 1; i <= SYMS.length; i++) versym.writeUInt16LE(2, 2 * i);
  const verneed = Buffer.alloc(32);
  verneed.writeUInt16LE(1, 0);
  verneed.writeUInt16LE(1, 2);
  verneed.writeUInt32LE(at('libc.so.6'), 4);
  verneed.writeUInt32LE(16, 8);
  verneed.writeUInt32LE(at('GLIBC_2.2.5'), 16 + 8);
  const dynamic = Buffer.alloc(32);
  dynamic.writeBigInt64LE(1n, 0); // DT_NEEDED
  dynamic.writeBigUInt64LE(BigInt(at('libc.so.6')), 8);
  const secs: Sec[] = [
    { name: '.dynsym', type: 11, data: dynsym, link: 2, entsize: 24 },
    { name: '.dynstr', type: 3, data: Buffer.from(STR, 'latin1') },
    { name: '.rela.dyn', type: 4, data: rela, link: 1, entsize: 24 },
    { name: '.gnu.hash', type: 0x6ffffff6, data: hash, link: 1 },
    { name: '.gnu.version', type: 0x6fffffff, data: versym, link: 1, entsize: 2 },
    { name: '.gnu.version_r', type: 0x6ffffffe, data: verneed, link: 2 },
    { name: '.dynamic', type: 6, data: dynamic, link: 2, entsize: 16 },
  ];
  if (o.buildinfo !== false) secs.push({ name: '.go.buildinfo', type: 1, data: Buffer.from('\xff Go buildinf:', 'latin1') });
  if (o.extraStrUser) secs.push({ name: '.unknown', type: 0x60000001, data: Buffer.alloc(8), link: 2 });
  return elf(secs, { etype: o.etype, interp: o.interp });
}

test('Go names: package paths and Go prefixes, never a C identifier', () => {
  for (const n of ['runtime.main', 'github.com/docker/docker/daemon.(*Daemon).Start', 'type:*', 'go:buildid']) assert.ok(isGoName(n), n);
  for (const n of ['main', 'environ', 'x_cgo_init', '_cgo_3ad709d212f7_Cfunc_free', 'crosscall2']) assert.ok(!isGoName(n), n);
});

test('dropGoExports blanks defined Go symbols no relocation uses, and their names and hash values only', () => {
  const { b, off } = sample();
  const before = Buffer.from(b);
  const r = dropGoExports(b);
  assert.deepEqual(r, { symbols: 2, of: 6, bytes: 2 * 24 + 2 * 4 + 'runtime.'.length + 'type:*'.length });
  assert.equal(b.length, before.length, 'the file keeps its size');
  const sym = (buf: Buffer, i: number): Buffer => buf.subarray(off.get('.dynsym')! + 24 * i, off.get('.dynsym')! + 24 * (i + 1));
  for (const i of [1, 2, 4, 6]) assert.deepEqual(sym(b, i), sym(before, i), `symbol ${i} kept`);
  for (const i of [3, 5]) {
    const e = sym(b, i);
    assert.equal(e[4], 0x10, `symbol ${i}: a global`);
    assert.equal(e.readUInt16LE(6), 0, `symbol ${i}: undefined`);
    assert.equal(e.readBigUInt64LE(8), 0n, `symbol ${i}: value 0`);
    assert.equal(e.readUInt32LE(0), 0, `symbol ${i}: no name`);
  }
  const str = b.toString('latin1', off.get('.dynstr')!, off.get('.dynstr')! + STR.length);
  assert.equal(str, STR.replace('runtime.', '\0'.repeat(8)).replace('type:*', '\0'.repeat(6)));
  const chain = (i: number): number => b.readUInt32LE(off.get('.gnu.hash')! + 28 + 4 * (i - 1));
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(chain), [0x1110, 0x2222, 0, 0x4444, 0, 0x6667]);
  const versym = (i: number): number => b.readUInt16LE(off.get('.gnu.version')! + 2 * i);
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(versym), [2, 2, 0, 2, 0, 2]);
  // Everything outside those sections is untouched.
  for (const s of ['.rela.dyn', '.gnu.version_r', '.dynamic', '.go.buildinfo']) {
    const o = off.get(s)!;
    assert.deepEqual(b.subarray(o, o + 16), before.subarray(o, o + 16), s);
  }
  // A second pass finds nothing more to drop and changes nothing.
  const once = Buffer.from(b);
  assert.deepEqual(dropGoExports(b), { symbols: 0, of: 6, bytes: 0 });
  assert.deepEqual(b, once);
});

test('dropGoExports leaves alone what is not a Go program, a shared library, and a string table with an unknown user', () => {
  for (const [why, o] of [
    ['no .go.buildinfo', { buildinfo: false }],
    ['a section of unknown type reads .dynstr', { extraStrUser: true }],
    ['a shared library (ET_DYN without an interpreter)', { etype: 3 }],
  ] as const) {
    const { b } = sample(o);
    const before = Buffer.from(b);
    assert.equal(dropGoExports(b), undefined, why);
    assert.deepEqual(b, before, why);
  }
  // A PIE program (ET_DYN with PT_INTERP) is a program.
  assert.equal(dropGoExports(sample({ etype: 3, interp: true }).b)?.symbols, 2);
  assert.equal(dropGoExports(Buffer.from('#!/bin/sh\necho hi\n')), undefined);
});
