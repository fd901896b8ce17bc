// The boot profile's pieces: the boot log parser, the uptime anchors on the
// console, the phases they make, and the console's per-line arrival times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { arrival, bootProfile, consoleText, decompressSeconds, formatProfile, markAt, parseBootLog, uptimeAnchors, uptimeZero } from '../../src/vm/bootlog.js';
import { SerialConsole, type TimedLine } from '../../src/vm/console.js';

/** Console output as whole lines, each arriving at its own time. */
const lines = (l: TimedLine[]) => consoleText(l.map((x) => ({ at: x.at, text: `${x.text}\n` })));

const LOG = [
  '[3.10] stage 1: started',
  '[9.50] stage 1: root file system unpacked (300 MiB)',
  '[10.00] init: 6.12.1-amd64, 987 MiB RAM, uptime 10.00 s',
  'modprobe: stray output without a stamp',
  '[12.00] coldplug: done',
  '[12.50] persistence: done',
  '[13.00] modules: loaded',
  '[13.10] network: DHCP on eth0',
  '[13.50] sysinit: done',
  '[13.60] containerd: starting',
  '[16.00] containerd: socket up',
  '[16.10] dockerd: starting',
  '[30.00] docker: info OK',
  '[31.00] docker: ready (26.1.5, overlay2, uptime 31.00 s)',
  '[40.00] containerd: starting',
].join('\n');

test('parseBootLog reads "[uptime] message" lines and skips stray ones; markAt finds the first', () => {
  const e = parseBootLog(LOG + '\r\n[?] no uptime\n');
  assert.equal(e.length, 14);
  assert.deepEqual(e[0], { uptime: 3.1, text: 'stage 1: started' });
  assert.equal(markAt(e, 'containerd: starting'), 13.6);
  assert.equal(markAt(e, 'init:'), 10);
  assert.equal(markAt(e, 'nothing'), undefined);
});

test('uptime anchors: d2d lines with "uptime N s" and kernel printk stamps; zero stamps are ignored', () => {
  const c = lines([
    { at: 1000, text: '[    0.000000] Linux version 6.12' },
    { at: 3000, text: '[    1.500000] Run /init as init process' },
    { at: 12100, text: 'd2d: init: 6.12.1-amd64, 987 MiB RAM, uptime 10.00 s' },
    { at: 33000, text: 'd2d: docker: ready (26.1.5, overlay2, uptime 31.00 s)' },
    { at: 34000, text: 'root@debian2docker:~# uptime 3 s' },
  ]);
  assert.deepEqual(uptimeAnchors(c), [
    { host: 3000, uptime: 1.5 },
    { host: 12100, uptime: 10 },
    { host: 33000, uptime: 31 },
  ]);
  // The earliest estimate wins: a line reaches the host after its stamp, never before.
  assert.deepEqual(uptimeZero(uptimeAnchors(c)), { host: 1500, spread: 600 });
  assert.equal(uptimeZero([]), undefined);
});

// A CD boot: GRUB's menu on the console, then the d2d lines; uptime 0 is at host 2000 ms.
// GRUB draws its menu with cursor movements (stripped), so it and "Booting" share a line; the
// ready line lands after a shell prompt printed long before it. Uptime 0 is at host 6000 ms.
const CD: TimedLine[] = [
  { at: 1200, text: '  GNU GRUB  version 2.12  debian2docker  The highlighted entry will be executed in 3s. ' },
  { at: 2200, text: 'The highlighted entry will be executed in 2s. ' },
  { at: 4500, text: '  Booting `debian2docker\'\n\n' },
  { at: 16000, text: 'd2d: init: 6.12.1-amd64, 987 MiB RAM, uptime 10.00 s\n' },
  { at: 19200, text: 'd2d: network: DHCP on eth0\n' },
  { at: 24000, text: 'root@debian2docker:~# ' },
  { at: 37000, text: 'd2d: docker: ready (26.1.5, overlay2, uptime 31.00 s)\n' },
];

test('bootProfile: rows from consecutive boundaries, grouped in phases, adding up to the total', () => {
  const p = bootProfile({ powerOn: 0, console: consoleText(CD), log: parseBootLog(LOG), decompressS: 0.5 })!;
  assert.equal(p.clockSpread, 0);
  assert.equal(p.total, 37);
  const phases = Object.fromEntries(p.phases.map((ph) => [ph.name.split(' ')[0], ph]));
  assert.deepEqual(
    phases['firmware']!.rows.map((r: { name: string; seconds: number }) => [r.name, +r.seconds.toFixed(2)]),
    [
      ["firmware until GRUB's first output", 1.2],
      ['GRUB menu (its timeout)', 3.3],
      ['GRUB loads kernel + initrd', 1],
    ],
  );
  assert.deepEqual(
    phases['kernel:']!.rows.map((r: { seconds: number }) => +r.seconds.toFixed(2)),
    [0.5, 3.1],
  );
  assert.equal(+phases['stage']!.seconds.toFixed(2), 6.4);
  assert.equal(+phases['rc.sysinit']!.seconds.toFixed(2), 13.6 - 9.5);
  assert.equal(+phases['containerd']!.seconds.toFixed(2), 30 - 13.6);
  assert.equal(+phases['the']!.seconds.toFixed(2), 1);
  const sum = p.phases.reduce((s, ph) => s + ph.seconds, 0);
  assert.equal(+sum.toFixed(6), 37);
  const table = formatProfile(p);
  assert.match(table, /stage 1: unpacking the root payload \(xzdec, cpio\)\s+6\.4\s+17%/);
  assert.match(table, /total: power-on -> d2d: docker: ready\s+37\.0\s+100%/);
});

test('bootProfile: network boot (no GRUB), no probe, and an older image without the marks', () => {
  const net = consoleText(CD.filter((l) => !/GRUB|Booting|executed/.test(l.text)));
  const old = parseBootLog('[9.5] stage 1: root file system unpacked (300 MiB)\n[10.0] init: x\n[13.5] sysinit: done\n');
  const p = bootProfile({ powerOn: 0, console: net, log: old })!;
  assert.deepEqual(
    p.phases.map((ph) => [ph.name, ph.rows.map((r) => r.name)]),
    [
      ['firmware + boot loader (power-on -> kernel starts)', ['firmware, loading kernel + initrd']],
      [
        'kernel: decompression, init, initramfs unpack (-> stage 1 runs) + stage 1: unpacking the root payload (xzdec, cpio)',
        ['kernel clock starts -> stage 1 (incl. initramfs unpack) + xzdec, cpio into the root tmpfs'],
      ],
      [
        'rc.sysinit up to starting containerd',
        ['switch_root, busybox init -> rc.sysinit', 'coldplug (modalias -> modprobe, 3 passes) + boot2docker-compat, persist-boot + modprobe overlay, bridge, nf_tables ... + network (udhcpc) -> sysinit done'],
      ],
      [
        'rc.sysinit up to starting containerd + containerd ready, dockerd start -> docker info OK + the ready line (docker info --format)',
        ['init starts containerd + containerd until its socket + dockerd starts (polls the socket every 0.2 s) + dockerd -> docker info OK + `d2d: docker: ready` on the console'],
      ],
    ],
  );
  assert.equal(p.total, 37);
  assert.equal(bootProfile({ powerOn: 0, console: consoleText([]), log: old }), undefined);
});

test('bootProfile: a probe figure bigger than this boot allows is cut at power-on or GRUB\'s hand-over', () => {
  const net = consoleText(CD.filter((l) => !/GRUB|Booting|executed/.test(l.text)));
  const p = bootProfile({ powerOn: 0, console: net, log: parseBootLog(LOG), decompressS: 7 })!;
  assert.deepEqual(p.phases[0]!.rows, [{ name: 'firmware, loading kernel + initrd', seconds: 0 }]);
  assert.deepEqual(p.phases[1]!.rows[0], { name: 'kernel setup + self-decompression (probe boot, cut to fit)', seconds: 6 });
  const cd = bootProfile({ powerOn: 0, console: consoleText(CD), log: parseBootLog(LOG), decompressS: 3 })!;
  assert.deepEqual(cd.phases[0]!.rows[2], { name: 'GRUB loads kernel + initrd', seconds: 0 });
  assert.equal(cd.phases[1]!.rows[0]!.seconds, 1.5);
  assert.equal(cd.total, 37);
});

test('decompressSeconds: from the setup code\'s first line to the kernel\'s clock 0', () => {
  const probe: TimedLine[] = [
    { at: 200, text: 'Probing EDD (edd=off to disable)... ok' },
    { at: 980, text: '[    0.000000] Linux version 6.12' },
    { at: 3660, text: '[    2.621453] Run /init as init process' },
    { at: 3700, text: 'd2d-floor-ready' },
  ];
  assert.equal(+decompressSeconds(lines(probe))!.toFixed(3), 0.839);
  assert.equal(decompressSeconds(lines(probe.slice(1))), undefined);
  assert.equal(arrival(lines(probe), /Run \/init/), 3660);
  assert.equal(arrival(lines(probe), /never/), undefined);
});

test('SerialConsole: timeAt a position of the transcript, and timedLines', async () => {
  const out = new PassThrough();
  const c = new SerialConsole(out, new PassThrough());
  const tick = () => new Promise((r) => setTimeout(r, 30));
  const t0 = Date.now();
  out.write('\x1b[2Jfirst li');
  await tick();
  out.write('ne\r\nsecond\n');
  await tick();
  out.write('\x1b[H');
  await tick();
  out.write('third');
  await tick();
  const l = c.timedLines();
  assert.deepEqual(l.map((x) => x.text), ['first line', 'second', 'third']);
  assert.ok(l[0]!.at >= t0 && l[1]!.at - l[0]!.at >= 25, 'a line is stamped when it starts, not when it ends');
  assert.ok(l[2]!.at - l[1]!.at >= 50, 'an escape sequence alone does not start a line');
  assert.equal(c.transcript, 'first line\nsecond\nthird');
  assert.equal(c.timeAt(0), l[0]!.at);
  assert.equal(c.timeAt(c.transcript.indexOf('ne\nsecond')), l[1]!.at, 'the rest of line 1 came with line 2');
  assert.equal(c.timeAt(c.transcript.length - 1), l[2]!.at);
  assert.ok(Number.isNaN(new SerialConsole(new PassThrough(), new PassThrough()).timeAt(0)));
});
