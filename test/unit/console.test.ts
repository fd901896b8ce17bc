// The console protocol, against a real shell standing in for the guest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { SerialConsole, TimeoutError } from '../../src/vm/console.js';

function fakeGuest() {
  // sh reading commands from a pipe, with stderr merged, like a shell on a console.
  const sh = spawn('sh', ['-c', 'exec 2>&1; exec sh -s'], { stdio: ['pipe', 'pipe', 'inherit'] });
  return { sh, c: new SerialConsole(sh.stdout, sh.stdin) };
}

test('exec returns output and exit status; markers are computed by the guest', async () => {
  const { sh, c } = fakeGuest();
  try {
    await c.waitForShell(5000);
    assert.deepEqual(await c.exec('echo hello; echo world'), { status: 0, output: 'hello\nworld' });
    assert.deepEqual(await c.exec('false'), { status: 1, output: '' });
    const r = await c.exec('echo oops >&2; exit_code() { return 7; }; exit_code');
    assert.equal(r.status, 7);
    assert.equal(r.output, 'oops');
  } finally {
    sh.kill();
  }
});

test('waitFor times out with a clear error, and sees only output after `from`', async () => {
  const { sh, c } = fakeGuest();
  try {
    await c.exec('echo early-marker');
    await assert.rejects(c.waitFor(/early-marker/, 300, c.length), TimeoutError);
    c.send('echo late-marker\n');
    const m = await c.waitFor(/late-marker/, 5000, c.length);
    assert.equal(m[0], 'late-marker');
  } finally {
    sh.kill();
  }
});

test('a guest that goes away fails the wait instead of hanging', async () => {
  const { sh, c } = fakeGuest();
  const w = c.waitFor(/never/, 10000);
  sh.kill();
  await assert.rejects(w, /stopped/);
});

test('waitFor after the VM stopped: what it printed still matches; anything else fails at once, holding no timer', async () => {
  const { PassThrough } = await import('node:stream');
  const out = new PassThrough();
  const c = new SerialConsole(out, new PassThrough());
  out.end('d2d: docker: ready\n');
  await new Promise((r) => out.on('close', r));
  assert.equal((await c.waitFor(/docker: ready/, 60000))[0], 'docker: ready');
  const t0 = Date.now();
  await assert.rejects(c.waitFor(/never printed/, 60000), /the VM stopped while waiting/);
  assert.ok(Date.now() - t0 < 1000, 'rejected at once, not at the timeout');
});
