// Pruning: what a file needs (ELF and #! lines), symlinks resolved inside the
// image's root, and the rule that a package goes only when nothing that stays needs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { elfNeeds, scriptNeeds } from '../../src/formats/elf.js';
import { choosePackages, needCandidates, prune, resolveInRoot } from '../../src/stages/prune.js';
import { scratchDir } from '../support/scratch.js';

test('ELF needs: the interpreter and DT_NEEDED libraries of a real program', () => {
  const n = elfNeeds(readFileSync('/bin/true'));
  assert.equal(n.kind, 'elf');
  if (n.kind !== 'elf') return;
  assert.match(n.interp ?? '', /ld-linux-x86-64\.so\.2$/);
  assert.ok(n.needed.includes('libc.so.6'), n.needed.join(' '));
  assert.deepEqual(elfNeeds(Buffer.from('not an elf file at all, just text')), { kind: 'none' });
});

test('script needs: #! interpreter and its arguments', () => {
  assert.deepEqual(scriptNeeds('#! /usr/bin/perl -T'), { kind: 'script', interp: '/usr/bin/perl', args: ['-T'] });
  assert.deepEqual(scriptNeeds('#!/usr/bin/env python3'), { kind: 'script', interp: '/usr/bin/env', args: ['python3'] });
  assert.deepEqual(scriptNeeds('echo hi'), { kind: 'none' });
});

/** A tiny root: merged /usr, a "perl" package, a "tool" package whose script needs perl, dpkg lists. */
function fakeRoot(withPerlScript: boolean): string {
  const root = scratchDir('d2d-prune-');
  const file = (rel: string, text: string, mode = 0o644): void => {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
    chmodSync(join(root, rel), mode);
  };
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  symlinkSync('usr/bin', join(root, 'bin'));
  file('usr/bin/perl', '#!/bin/true\n', 0o755);
  symlinkSync('/usr/bin/perl', join(root, 'usr/bin/perl5'));
  file('usr/share/perl/Mod.pm', 'package Mod;\n');
  file('usr/bin/apt', 'binary\n', 0o755);
  file('usr/bin/tool', withPerlScript ? '#!/bin/perl5 -w\nprint 1;\n' : '#!/bin/sh\necho\n', 0o755);
  file('var/lib/dpkg/info/perl-base.list', '/.\n/usr\n/usr/bin\n/usr/bin/perl\n/bin/perl5\n/usr/share/perl\n/usr/share/perl/Mod.pm\n');
  file('var/lib/dpkg/info/apt:amd64.list', '/.\n/usr/bin/apt\n/usr/share/doc/apt/changelog.gz\n');
  file('var/lib/dpkg/info/tool.list', '/usr/bin/tool\n');
  return root;
}

test('symlinks resolve inside the root, absolute ones too', () => {
  const root = fakeRoot(false);
  assert.deepEqual(resolveInRoot(root, '/bin/perl5'), ['bin', 'usr/bin/perl5', 'usr/bin/perl']);
  assert.equal(resolveInRoot(root, 'usr/bin/nothing'), undefined);
});

test('a candidate package goes unless something that stays needs it; the reason is given', () => {
  const cands = [
    { name: 'perl-base', why: 'perl' },
    { name: 'apt', why: 'apt' },
    { name: 'not-installed', why: 'x' },
  ];
  const free = choosePackages(fakeRoot(false), cands);
  assert.deepEqual([...free.remove.keys()].sort(), ['apt', 'perl-base']);
  assert.deepEqual(free.kept, []);
  const needed = choosePackages(fakeRoot(true), cands);
  assert.deepEqual([...needed.remove.keys()], ['apt']);
  assert.deepEqual(needed.kept, [{ name: 'perl-base', because: '/usr/bin/tool needs /usr/bin/perl5' }]);
});

test('prune: a rule with linkTo leaves a link to the smaller stand-in where the file was; a missing file gets none', () => {
  const root = fakeRoot(false);
  writeFileSync(join(root, 'usr/bin/big'), Buffer.alloc(4096));
  const r = prune(root, [
    { path: 'usr/bin/big', why: 'a smaller program does its work', linkTo: 'apt' },
    { path: 'usr/bin/absent', why: 'not installed', linkTo: 'apt' },
  ]);
  assert.deepEqual(r.pruned.map((p) => [p.path, p.bytes]), [['/usr/bin/big', 4096]]);
  assert.equal(readlinkSync(join(root, 'usr/bin/big')), 'apt');
  assert.ok(!existsSync(join(root, 'usr/bin/absent')) && !lstatExists(join(root, 'usr/bin/absent')));
});

test('prune: paths, then packages, each recorded with its size and reason', () => {
  const root = fakeRoot(false);
  const r = prune(root, [{ path: 'usr/bin/tool', why: 'a tool nobody runs' }], [{ name: 'perl-base', why: 'only install scripts use it' }]);
  assert.deepEqual(
    r.pruned.map((p) => [p.path, p.why]),
    [
      ['/usr/bin/tool', 'a tool nobody runs'],
      ['package perl-base (3 files)', 'only install scripts use it'],
    ],
  );
  assert.ok(!existsSync(join(root, 'usr/bin/perl')));
  assert.ok(!existsSync(join(root, 'usr/share/perl')), 'a folder the package alone used goes too');
  assert.ok(existsSync(join(root, 'usr/bin/apt')));
});

test('a files-layer script keeps its interpreter\'s package, and its needs say where to look', () => {
  const cands = [{ name: 'perl-base', why: 'perl' }];
  const r = choosePackages(fakeRoot(false), cands, [{ path: 'opt/x.pl', needs: scriptNeeds('#!/usr/bin/perl') }]);
  assert.deepEqual([...r.remove.keys()], []);
  assert.deepEqual(r.kept, [{ name: 'perl-base', because: '/opt/x.pl (files layer) needs /usr/bin/perl' }]);
  assert.deepEqual(needCandidates(scriptNeeds('#!/bin/sh -e')), ['usr/bin/sh']);
  assert.deepEqual(needCandidates(scriptNeeds('#!/usr/bin/env perl')), ['usr/bin/env', 'usr/local/sbin/perl', 'usr/local/bin/perl', 'usr/sbin/perl', 'usr/bin/perl']);
  const free = prune(fakeRoot(false), [], cands);
  assert.deepEqual(free.packageFiles, ['usr/bin/perl', 'usr/bin/perl5', 'usr/share/perl/Mod.pm']);
});

function lstatExists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}
