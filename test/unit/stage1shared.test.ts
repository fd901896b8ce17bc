// Which of stage 1's own files the root has byte for byte (left out of the payload, copied in at boot).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { shareWithStage1, sharedWithStage1 } from '../../src/stages/stage1shared.js';
import { scratchDir } from '../support/scratch.js';

function put(base: string, rel: string, data: string): void {
  mkdirSync(dirname(join(base, rel)), { recursive: true });
  writeFileSync(join(base, rel), data);
}

test('stage 1 files the root has byte for byte are shared, through the root symlinks; changed ones are not', () => {
  const t = scratchDir('d2d-shared-');
  try {
    const root = join(t, 'root');
    const extras = join(t, 'stage1');
    // A merged-/usr root: /lib and /lib64 are symlinks, ld.so is reached through one more.
    put(root, 'usr/bin/busybox', 'busybox');
    put(root, 'usr/bin/xzdec', 'xzdec as the root has it');
    put(root, 'usr/lib/x86_64-linux-gnu/libc.so.6', 'libc');
    put(root, 'usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', 'ld.so');
    symlinkSync('usr/lib', join(root, 'lib'));
    mkdirSync(join(root, 'usr/lib64'));
    symlinkSync('usr/lib64', join(root, 'lib64'));
    symlinkSync('../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', join(root, 'usr/lib64/ld-linux-x86-64.so.2'));
    // Stage 1's tree: the libraries at the paths ldd gave, the decoder as d2d/xzdec (a different build here).
    put(extras, 'lib/x86_64-linux-gnu/libc.so.6', 'libc');
    put(extras, 'lib64/ld-linux-x86-64.so.2', 'ld.so');
    put(extras, 'd2d/xzdec', 'xzdec changed since');
    put(t, 'busybox', 'busybox');
    const xzdec = { path: '/usr/bin/xzdec', name: 'xzdec' };
    assert.deepEqual(sharedWithStage1(root, extras, join(t, 'busybox'), xzdec), [
      { stage1: 'bin/busybox', root: 'usr/bin/busybox' },
      { stage1: 'lib/x86_64-linux-gnu/libc.so.6', root: 'usr/lib/x86_64-linux-gnu/libc.so.6' },
      { stage1: 'lib64/ld-linux-x86-64.so.2', root: 'usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2' },
    ]);
    // The list stage 1 reads; a second run (the list itself is in the tree now) gives the same.
    const lines: string[] = [];
    shareWithStage1(root, extras, join(t, 'busybox'), xzdec, (l) => lines.push(l));
    const list = readFileSync(join(extras, 'd2d/shared'), 'utf8');
    assert.equal(list, '/bin/busybox /usr/bin/busybox\n/lib/x86_64-linux-gnu/libc.so.6 /usr/lib/x86_64-linux-gnu/libc.so.6\n/lib64/ld-linux-x86-64.so.2 /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n');
    assert.equal(lines.length, 3);
    shareWithStage1(root, extras, join(t, 'busybox'), xzdec, () => {});
    assert.equal(readFileSync(join(extras, 'd2d/shared'), 'utf8'), list);
    // A root without busybox (pruned, or never installed) shares nothing for it.
    rmSync(join(root, 'usr/bin/busybox'));
    assert.ok(!sharedWithStage1(root, extras, join(t, 'busybox'), xzdec).some((s) => s.stage1 === 'bin/busybox'));
  } finally {
    rmSync(t, { recursive: true, force: true });
  }
});
