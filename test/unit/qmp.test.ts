// Screen capture and key presses over QMP: the PPM reader and colour measures
// on hand-made images, and the client against a fake QMP server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { colourShare, dominantColour, parsePpm, type Image } from '../../src/vm/ppm.js';
import { Qmp } from '../../src/vm/qmp.js';
import { scratchDir } from '../support/scratch.js';

function ppm(header: string, w: number, h: number, px: (x: number, y: number) => [number, number, number]): Buffer {
  const data = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(px(x, y), (y * w + x) * 3);
  return Buffer.concat([Buffer.from(header, 'latin1'), data]);
}

test('parsePpm reads a P6 image with comments and odd whitespace in the header', () => {
  const buf = ppm('P6\n# CREATOR: hand\n3  2\t# size\n\r255\n', 3, 2, (x, y) => [x, y, 10 * x + y]);
  const img = parsePpm(buf);
  assert.equal(img.width, 3);
  assert.equal(img.height, 2);
  assert.equal(img.pixels.length, 18);
  assert.deepEqual([...img.pixels.subarray(0, 3)], [0, 0, 0]);
  assert.deepEqual([...img.pixels.subarray(15, 18)], [2, 1, 21]);
  // A sample byte that looks like whitespace right after the header is data, not separator.
  const ws = parsePpm(Buffer.concat([Buffer.from('P6 1 1 255\n'), Buffer.from([0x0a, 0x20, 0x09])]));
  assert.deepEqual([...ws.pixels], [0x0a, 0x20, 0x09]);
});

test('parsePpm rejects other formats, other maxvals and short data with clear errors', () => {
  assert.throws(() => parsePpm(Buffer.from('P3\n1 1\n255\n0 0 0\n')), /not a binary PPM.*P3.*P6/);
  assert.throws(() => parsePpm(Buffer.from('')), /not a binary PPM/);
  assert.throws(() => parsePpm(ppm('P6\n1 1\n65535\n', 1, 2, () => [0, 0, 0])), /maxval 65535 is not supported/);
  assert.throws(() => parsePpm(ppm('P6\n1 1\n15\n', 1, 1, () => [0, 0, 0])), /maxval 15/);
  assert.throws(() => parsePpm(ppm('P6\n4 4\n255\n', 4, 3, () => [0, 0, 0])), /too short: 36 bytes for 4x4 \(want 48\)/);
  assert.throws(() => parsePpm(Buffer.from('P6\nx 4\n255\n')), /width is not a number/);
  assert.throws(() => parsePpm(Buffer.from('P6\n0 4\n255\n')), /empty image 0x4/);
  assert.throws(() => parsePpm(Buffer.from('P6\n1 1\n255')), /no whitespace after maxval/);
});

// A 10x10 screen: blue background, a 4x5 light-grey box with one pixel off by a few levels.
function screen(): Image {
  return parsePpm(ppm('P6 10 10 255\n', 10, 10, (x, y) => (x < 4 && y < 5 ? (x === 0 && y === 0 ? [176, 172, 170] : [170, 170, 170]) : [0, 0, 168])));
}

test('colourShare counts pixels within tolerance on every channel', () => {
  const img = screen();
  assert.equal(colourShare(img, [0, 0, 168]), 0.8);
  assert.equal(colourShare(img, [0, 0, 180]), 0.8); // 12 off: within the default 16
  assert.equal(colourShare(img, [0, 0, 180], 4), 0);
  assert.equal(colourShare(img, [170, 170, 170]), 0.2);
  assert.equal(colourShare(img, [170, 170, 170], 0), 0.19);
  assert.equal(colourShare(img, [255, 255, 255]), 0);
});

test('dominantColour finds the most common 16-level bucket, its average colour and share', () => {
  assert.deepEqual(dominantColour(screen()), { rgb: [0, 0, 168], share: 0.8 });
  // Mostly grey with slight noise: one bucket, averaged.
  const grey = parsePpm(ppm('P6 4 1 255\n', 4, 1, (x) => (x < 3 ? [160 + x, 160, 175 - x] : [255, 0, 0])));
  assert.deepEqual(dominantColour(grey), { rgb: [161, 160, 174], share: 0.75 });
});

// A fake QEMU: greets, then answers each command with whatever `reply` writes.
type Reply = (cmd: { execute: string; arguments?: Record<string, unknown>; id?: unknown }, sock: Socket) => void;

async function fakeQemu(path: string, reply: Reply): Promise<{ server: Server; got: { execute: string; arguments?: Record<string, unknown> }[] }> {
  const got: { execute: string; arguments?: Record<string, unknown> }[] = [];
  const server = createServer((sock) => {
    sock.write(`${JSON.stringify({ QMP: { version: { qemu: { major: 7, minor: 2, micro: 0 } }, capabilities: ['oob'] } })}\r\n`);
    let buf = '';
    sock.on('data', (b) => {
      buf += b.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const cmd = JSON.parse(buf.slice(0, nl)) as Parameters<Reply>[0];
        buf = buf.slice(nl + 1);
        got.push({ execute: cmd.execute, ...(cmd.arguments ? { arguments: cmd.arguments } : {}) });
        if (cmd.execute === 'qmp_capabilities') sock.write(`${JSON.stringify({ return: {}, id: cmd.id })}\r\n`);
        else reply(cmd, sock);
      }
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  return { server, got };
}

test('Qmp: waits for the socket, negotiates, and handles split, joined and interleaved messages', async () => {
  const dir = scratchDir('d2d-qmp-test-');
  const path = join(dir, 'qmp.sock');
  let server: Server | undefined;
  let q: Qmp | undefined;
  try {
    // Connect before QEMU has created its socket, as Machine does right after spawning it.
    const connecting = Qmp.connect(path, 5000);
    await new Promise((r) => setTimeout(r, 200));
    const fake = await fakeQemu(path, (cmd, sock) => {
      const ret = (v: unknown): string => `${JSON.stringify({ return: v, id: cmd.id })}\r\n`;
      const event = `${JSON.stringify({ timestamp: { seconds: 1, microseconds: 2 }, event: 'RESET', data: { guest: true } })}\r\n`;
      if (cmd.execute === 'query-status') sock.write(ret({ status: 'running', running: true }));
      else if (cmd.execute === 'query-name') {
        const s = ret({ name: 'd2d' });
        sock.write(s.slice(0, 10));
        setTimeout(() => sock.write(s.slice(10)), 50);
      } else if (cmd.execute === 'screendump') {
        sock.write(event + ret({}));
      } else if (cmd.execute === 'send-key') {
        const bad = (cmd.arguments?.keys as { data: string }[]).find((k) => k.data === 'nope');
        if (bad) sock.write(`${JSON.stringify({ error: { class: 'GenericError', desc: "Parameter 'keys.0.data' does not accept value 'nope'" }, id: cmd.id })}\r\n`);
        else sock.write(ret({}));
      } else sock.write(`${JSON.stringify({ error: { class: 'CommandNotFound', desc: `The command ${cmd.execute} has not been found` }, id: cmd.id })}\r\n`);
    });
    server = fake.server;
    q = await connecting;
    assert.deepEqual(fake.got, [{ execute: 'qmp_capabilities' }]);

    assert.deepEqual(await q.execute('query-name'), { name: 'd2d' });

    await q.screendump('shot.ppm');
    await q.screendump(join(dir, 'shot.png'), 'png');
    const [ppmArgs, pngArgs] = fake.got.filter((c) => c.execute === 'screendump').map((c) => c.arguments);
    assert.ok(isAbsolute(String(ppmArgs?.filename)), 'QEMU has its own working directory: the path is made absolute');
    assert.equal(ppmArgs?.format, undefined);
    assert.deepEqual(pngArgs, { filename: join(dir, 'shot.png'), format: 'png' });

    await q.sendKeys(['ctrl', 'alt', 'f3'], 200);
    await q.sendKeys(['ret']);
    assert.deepEqual(
      fake.got.filter((c) => c.execute === 'send-key').map((c) => c.arguments),
      [
        { keys: [{ type: 'qcode', data: 'ctrl' }, { type: 'qcode', data: 'alt' }, { type: 'qcode', data: 'f3' }], 'hold-time': 200 },
        { keys: [{ type: 'qcode', data: 'ret' }] },
      ],
    );

    await assert.rejects(q.sendKeys(['nope']), /QMP send-key failed: Parameter 'keys.0.data' does not accept value 'nope'/);
    await assert.rejects(q.execute('no-such-command'), /QMP no-such-command failed: The command no-such-command has not been found/);
    // Several commands in flight get their own replies.
    const [a, b] = await Promise.all([q.execute('query-status'), q.execute('screendump', { filename: '/x' })]);
    assert.deepEqual([a, b], [{ status: 'running', running: true }, {}]);

    q.close();
    await assert.rejects(q.execute('query-status'), /connection closed/);
  } finally {
    q?.close();
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Qmp: a missing socket or a server that goes away fails with a clear error', async () => {
  const dir = scratchDir('d2d-qmp-test-');
  const path = join(dir, 'qmp.sock');
  let server: Server | undefined;
  try {
    await assert.rejects(Qmp.connect(path, 300), /QEMU did not create the QMP socket .*qmp\.sock within 300 ms/);
    const fake = await fakeQemu(path, (_cmd, sock) => sock.destroy());
    server = fake.server;
    const q = await Qmp.connect(path, 5000);
    await assert.rejects(q.execute('query-status'), /QMP query-status: .*connection closed/);
    q.close();
  } finally {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
