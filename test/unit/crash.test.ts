// The crash-aware boot every test and bench goes through (src/vm/crash.ts), on fake machines: a real
// SerialConsole fed by hand stands in for QEMU's serial port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { SerialConsole } from '../../src/vm/console.js';
import type { Machine } from '../../src/vm/machine.js';
import { bootWithRetry, crashIn } from '../../src/vm/crash.js';

/** A stand-in for a booted machine: what it "prints", and whether it was killed. */
function fakeMachine(): { m: Machine; print: (s: string) => void; killed: () => boolean } {
  const out = new PassThrough();
  const console = new SerialConsole(out, new PassThrough());
  let killed = false;
  let exit!: (code: number | null) => void;
  const exited = new Promise<number | null>((r) => (exit = r));
  const m = {
    console,
    exited,
    kill: () => {
      killed = true;
      out.end();
      exit(null);
    },
  } as unknown as Machine;
  return { m, print: (s) => out.write(s), killed: () => killed };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('a guest kernel crash gets one more boot, said once; the first machine is killed and gone first', async () => {
  const boots: ReturnType<typeof fakeMachine>[] = [];
  const notes: string[] = [];
  let restored = 0;
  const r = await bootWithRetry(
    () => {
      const f = fakeMachine();
      boots.push(f);
      return f;
    },
    (f) => f.m,
    async (f, attempt) => {
      if (attempt === 1) {
        f.print('[   12.3] BUG: kernel NULL pointer dereference\n');
        await f.m.console.waitFor(/never/, 60000);
      }
      return `ok on boot ${attempt}`;
    },
    { note: (w) => notes.push(w), beforeRetry: () => void restored++ },
  );
  assert.equal(r, 'ok on boot 2');
  assert.equal(boots.length, 2);
  assert.ok(boots.every((b) => b.killed()), 'every machine is killed at the end of its attempt');
  assert.deepEqual(notes, ['the guest kernel crashed (BUG: ); booting once more']);
  assert.equal(restored, 1, 'the disks are put back once, before the second boot');
});

test('a failure that is not a crash is the result: no second boot', async () => {
  let boots = 0;
  await assert.rejects(
    bootWithRetry(
      () => (boots++, fakeMachine()),
      (f) => f.m,
      async () => {
        throw new Error('check failed: docker ready');
      },
    ),
    /check failed: docker ready/,
  );
  assert.equal(boots, 1);
});

test('a second crash fails with the crash; mayRetry false keeps the first', async () => {
  for (const [mayRetry, want] of [[true, 2], [false, 1]] as const) {
    let boots = 0;
    await assert.rejects(
      bootWithRetry(
        () => (boots++, fakeMachine()),
        (f) => f.m,
        async (f) => {
          f.print('Kernel panic - not syncing: No working init found.\n');
          await tick();
          await f.m.console.waitFor(/never/, 60000);
        },
        { mayRetry: () => mayRetry },
      ),
      /the guest kernel crashed: Kernel panic/,
    );
    assert.equal(boots, want, `mayRetry ${mayRetry}`);
  }
});

test('crashIn finds the crash line of a transcript, and nothing in a healthy one', () => {
  assert.equal(crashIn('d2d: docker: ready\n'), undefined);
  assert.equal(crashIn('x\nOops: int3 [#1] PREEMPT SMP\n'), 'Oops: ');
});
