// Progress of long steps (src/exec/progress.ts, src/log.ts): the figure is what the compressors
// have read of their inputs, read from the kernel; a step always shows a first and a last line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { run } from '../../src/exec/run.js';
import { ByteProgress, during, formatBytesDone, lastGuestStep, PackageProgress, readOffset } from '../../src/exec/progress.js';
import { scratchDir } from '../support/scratch.js';
import { PROGRESS_LINE } from '../../src/stages/rootfs.js';

test('readOffset: the offset of a file a process has open, undefined when it has not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'd2d-progress-'));
  try {
    const f = join(dir, 'data');
    writeFileSync(f, Buffer.alloc(100000, 7));
    assert.equal(readOffset(process.pid, f), undefined, 'not open yet');
    const fd = openSync(f, 'r');
    readSync(fd, Buffer.alloc(12345), 0, 12345, null);
    assert.equal(readOffset(process.pid, f), 12345);
    closeSync(fd);
    assert.equal(readOffset(process.pid, f), undefined, 'closed');
    assert.equal(readOffset(2 ** 22 + 17, f), undefined, 'no such process');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('formatBytesDone: whole percent, never over 100, MiB rounded', () => {
  assert.equal(formatBytesDone(0, 277 * 1048576), '0% of 277 MiB');
  assert.equal(formatBytesDone(113 * 1048576, 277 * 1048576), '40% of 277 MiB');
  assert.equal(formatBytesDone(300, 200), '100% of 1 MiB');
  assert.equal(formatBytesDone(0, 0), '100% of 1 MiB');
});

test('ByteProgress over a real compressor: a first line at 0%, a last at 100% with the time; the relay reads both', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'd2d-progress-'));
  try {
    const f = join(dir, 'in');
    writeFileSync(f, randomBytes(3 * 1048576));
    const lines: [string, boolean][] = [];
    const p = new ByteProgress('pack', 'compressed', (l, final) => lines.push([l, final]), 50);
    const attach = p.input(f);
    p.start();
    await run(['xz', '-T1', '-1', '--keep', '--force', f], { onSpawn: attach });
    assert.equal(p.done(), 3 * 1048576, 'the whole input once xz has exited');
    p.stop();
    assert.deepEqual(lines[0], ['pack: 0% of 3 MiB compressed', false]);
    const last = lines[lines.length - 1]!;
    assert.match(last[0], /^pack: 100% of 3 MiB compressed in \d+ s$/);
    assert.equal(last[1], true);
    for (const [l] of lines) assert.match(`    ${l}`, PROGRESS_LINE, 'the rootfs stage relays every line the hook prints');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failed step ends without a 100% line', () => {
  const lines: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'd2d-progress-'));
  try {
    writeFileSync(join(dir, 'in'), 'x');
    const p = new ByteProgress('pack', 'compressed', (l) => lines.push(l), 1000);
    p.input(join(dir, 'in'));
    p.start();
    p.stop(false);
    assert.deepEqual(lines, ['pack: 0% of 1 MiB compressed']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mmdebstrap packages: each phase ends with its count from the root (debs at hand, dpkg lists installed)', () => {
  const root = scratchDir('d2d-pkgprog-');
  const lines: [string, boolean][] = [];
  const p = new PackageProgress((l, final) => lines.push([l, final]), 60000);
  p.line(`I: using ${root} as tempdir`);
  p.line('I: downloading packages with apt...');
  mkdirSync(join(root, 'var/cache/apt/archives/partial'), { recursive: true });
  for (const f of ['a_1_amd64.deb', 'b_1_amd64.deb', 'c_1_amd64.deb']) writeFileSync(join(root, 'var/cache/apt/archives', f), '');
  p.line('Get:1 http://mirror a 1 [1 kB]'); // not a phase line: the phase goes on
  p.line('I: extracting archives...');
  p.line('I: installing remaining packages inside the chroot...');
  mkdirSync(join(root, 'var/lib/dpkg/info'), { recursive: true });
  for (const f of ['a.list', 'b.list', 'b.md5sums']) writeFileSync(join(root, 'var/lib/dpkg/info', f), '');
  p.line('==> kernel'); // the image's first step inside the hook ends mmdebstrap's phase
  p.finish(); // nothing more to say
  assert.equal(lines.length, 2, JSON.stringify(lines));
  assert.match(lines[0]![0], /^rootfs: downloading packages: 3 at hand in \d+ s$/);
  assert.match(lines[1]![0], /^rootfs: installing remaining packages: 2 installed in \d+ s$/);
  assert.ok(lines.every(([, final]) => final));
});

test('during: what is under way and for how long while it lasts, then the time it took', async () => {
  const lines: [string, boolean][] = [];
  let step = '';
  let release = (): void => undefined;
  const work = new Promise<string>((r) => (release = () => r('done')));
  const p = during('installer VM: booting', () => step, work, (l, final) => lines.push([l, final]), 20);
  await new Promise((r) => setTimeout(r, 50));
  step = lastGuestStep('noise\nd2d: init: 6.12, 965 MiB RAM\nd2d: sysinit: done\n[agent] x\n');
  await new Promise((r) => setTimeout(r, 50));
  release();
  assert.equal(await p, 'done');
  assert.match(lines[0]![0], /^installer VM: booting \(\d+ s\)$/);
  assert.ok(lines.some(([l]) => /^installer VM: booting: sysinit: done \(\d+ s\)$/.test(l)), JSON.stringify(lines));
  assert.deepEqual(lines.at(-1), [lines.at(-1)![0], true]);
  assert.match(lines.at(-1)![0], /^installer VM: booting done in \d+ s$/);
  const n = lines.length;
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(lines.length, n, 'no line after the end');
  assert.equal(lastGuestStep('no steps yet'), '');
});

test('during: a failure stops the lines and is the caller\'s', async () => {
  const lines: string[] = [];
  await assert.rejects(during('x', () => '', Promise.reject(new Error('boom')), (l) => lines.push(l), 10), /boom/);
  await new Promise((r) => setTimeout(r, 40));
  assert.deepEqual(lines, []);
});
