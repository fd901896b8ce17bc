// End to end: desktops and apps in sandboxed containers (docs/desktop.md).
// One build carries every session: two that paint known colours (each its own
// X server on its own VT), and a kiosk browser showing a page served inside the
// guest. The screen is read with QEMU's screendump (PPM); VTs are switched with
// Ctrl+Alt+Fn sent as key presses, as a person would. Screenshots are kept in
// .cache/e2e/desktop/ (PNG).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { colourShare, dominantColour, parsePpm, type Rgb } from '../../src/vm/ppm.js';
import { cli, e2eDir, SKIP } from './helpers.js';
import { Session, withSession } from '../support/vmsession.js';
import { inspect } from './inspect.js';

const OUT = e2eDir('desktop');
const LOG = join(OUT, 'console.log');
const CONFIG = join(PACKAGE_ROOT, 'test/e2e/fixtures/desktop.yaml');
const ISO = join(OUT, 'd2d-desktop.iso');
// The colours the sessions paint (test/e2e/fixtures/desktop.yaml) and the kiosk page's background.
const RED: Rgb = [0xd0, 0x20, 0x20];
const BLUE: Rgb = [0x20, 0x40, 0xe0];
const GREEN: Rgb = [0x20, 0xa0, 0x40];
const BLACK: Rgb = [0, 0, 0];

/** Take screendumps until `rgb` covers at least `share` of the screen; keep the last one as NAME.png. */
async function waitForColour(s: Session, name: string, rgb: Rgb, share: number, timeoutMs: number): Promise<number> {
  const ppm = join(OUT, `${name}.ppm`);
  const deadline = Date.now() + timeoutMs;
  let got = 0;
  let seen = '';
  for (;;) {
    await s.screendump(ppm);
    const img = parsePpm(readFileSync(ppm));
    got = colourShare(img, rgb, 24);
    if (got >= share || Date.now() > deadline) {
      const d = dominantColour(img);
      seen = `mostly rgb(${d.rgb.join(',')}) (${(d.share * 100).toFixed(0)}%)`;
      break;
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
  await s.screendump(join(OUT, `${name}.png`), 'png');
  if (got < share) {
    assert.fail(`${name}: rgb(${rgb.join(',')}) covers ${(got * 100).toFixed(1)}% of the screen, wanted ${share * 100}%; the screen is ${seen} (see ${name}.png)\n${await guestState(s)}`);
  }
  return got;
}

/** What the guest says of its screen and sessions, for a failure's message (CI keeps only the log). */
async function guestState(s: Session): Promise<string> {
  const r = await s.try(
    'echo "active VT: $(cat /sys/class/tty/tty0/active)"; grep -E "^Mem(Total|Available)" /proc/meminfo; docker ps -a --format "{{.Names}} {{.Status}}"; ' +
      'for f in /var/log/d2d-desktop-*.log /var/log/Xorg.*.log; do echo "== $f"; tail -n 8 "$f"; done; ' +
      'echo "== web (its requests)"; docker logs --tail 10 web 2>&1; echo "== kernel"; dmesg | grep -i -E "oom|killed process|segfault|out of memory" | tail -n 10',
    60000,
  );
  return r.output;
}

/** Switch VTs with Ctrl+Alt+Fn, as a person would, and wait until the kernel shows that VT. A key press
 *  the X server did not take (it was busy starting) is pressed again, up to three times. */
async function switchVt(s: Session, vt: number): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await s.sendKeys(['ctrl', 'alt', `f${vt}`]);
    const r = await s.try(`n=0; until [ "$(cat /sys/class/tty/tty0/active)" = tty${vt} ]; do n=$((n+1)); [ $n -lt 100 ] || exit 1; sleep 0.2; done`, 120000);
    if (r.status === 0) return;
  }
  assert.fail(`Ctrl+Alt+F${vt} did not bring VT ${vt} to the screen (three tries)\n${await guestState(s)}`);
}

describe('desktop sessions', { skip: SKIP }, () => {
  before(async () => {
    // Working on these tests: D2D_E2E_REUSE=1 keeps the image of the last run.
    if (process.env.D2D_E2E_REUSE === '1' && existsSync(ISO)) return;
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    const r = await cli(['build', CONFIG, '-o', OUT]);
    assert.equal(r.status, 0, `build failed:\n${r.stderr}`);
  }, { timeout: 30 * 60000 });

  test('each session is its own X server on its own VT, its app sandboxed; Ctrl+Alt+Fn switches; an app that dies comes back and draws again; the kiosk shows its page', { timeout: 30 * 60000 }, async () => {
    rmSync(LOG, { force: true });
    await withSession(LOG, () => Session.start({ boot: { kind: 'cdrom', image: ISO }, firmware: 'bios', memoryMiB: 3072 }, LOG, 'desktop', { qmp: true }), async (s) => {
      // The sessions start side by side, in any order.
      await Promise.all([/red: app starting on vt2/, /blue: app starting on vt3/].map((re) => s.m.console.waitFor(re, 600000)));
      // The first session is shown once every X server is up.
      await waitForColour(s, 'red', RED, 0.9, 300000);
      await switchVt(s, 3);
      await waitForColour(s, 'blue', BLUE, 0.9, 60000);
      await switchVt(s, 2);
      await waitForColour(s, 'red-again', RED, 0.9, 60000);

      // The sandbox, as Docker reports it.
      for (const [name, display] of [['red', 0], ['blue', 1]] as const) {
        const c = await inspect(s, name);
        const h = c.HostConfig;
        assert.equal(h.Privileged, false, `${name}: not privileged`);
        assert.deepEqual(h.CapDrop, ['ALL'], `${name}: every capability dropped`);
        assert.equal(h.CapAdd, null, `${name}: none given back`);
        assert.ok(h.SecurityOpt?.includes('no-new-privileges'), `${name}: no-new-privileges (${String(h.SecurityOpt)})`);
        assert.equal(h.NetworkMode, 'none', `${name}: no network`);
        assert.equal(h.IpcMode, 'private', `${name}: private IPC`);
        assert.equal(h.PidMode, '', `${name}: its own PID namespace`);
        assert.equal(c.Config.User, '1000:1000', `${name}: runs as an unprivileged user`);
        const mounts = c.Mounts.map((m) => `${m.Type}:${m.Source}->${m.Destination}`).sort();
        assert.equal(mounts.length, 3, `${name}: exactly its socket, cookie and home: ${mounts.join(' ')}`);
        assert.ok(mounts.includes(`bind:/tmp/.X11-unix/X${display}->/tmp/.X11-unix/X${display}`), `${name}: its own display socket only: ${mounts.join(' ')}`);
        assert.ok(mounts.includes(`bind:/run/d2d/desktop/${name}/Xauthority->/run/d2d-x/Xauthority`), `${name}: its cookie: ${mounts.join(' ')}`);
        assert.ok(mounts.some((m) => m.startsWith('volume:') && m.endsWith('->/home/user') && m.includes(`d2d-home-${name}`)), `${name}: its home volume: ${mounts.join(' ')}`);
        assert.ok(!mounts.some((m) => m.includes('docker.sock')), `${name}: no Docker socket`);
      }

      // And from inside: what the app can see.
      const inside = await s.sh(
        `docker exec d2d-desktop-red sh -c 'echo procs=$(ls -d /proc/[0-9]* | wc -l); ` +
          `grep -l -x -e dockerd -e containerd -e Xorg /proc/[0-9]*/comm 2>/dev/null | wc -l | sed s/^/hostprocs=/; ` +
          `for f in /var/run/docker.sock /run/docker.sock /tmp/.X11-unix/X1 /run/d2d/desktop/blue/Xauthority; do [ -e $f ] && echo sees=$f; done; ` +
          `grep -E "^(CapEff|NoNewPrivs)" /proc/self/status | tr -d "\\t"; ` +
          `echo ifaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\\n" ,); ` +
          `echo home=$(stat -c %u /home/user); touch /home/user/mine && echo wrote=home'`,
      );
      assert.match(inside, /hostprocs=0/, `the app sees no host process:\n${inside}`);
      const procs = Number(/procs=(\d+)/.exec(inside)?.[1]);
      assert.ok(procs > 0 && procs < 10, `the app sees only its own few processes (${procs}):\n${inside}`);
      assert.doesNotMatch(inside, /sees=/, `the app sees no Docker socket and nothing of the other session:\n${inside}`);
      assert.match(inside, /CapEff:0000000000000000/, inside);
      assert.match(inside, /NoNewPrivs:1/, inside);
      assert.match(inside, /ifaces=lo,/, `only a loopback interface:\n${inside}`);
      assert.match(inside, /home=1000/, inside);
      assert.match(inside, /wrote=home/, inside);
      const blueHome = await s.sh(`docker exec d2d-desktop-blue sh -c 'ls -A /home/user | wc -l'`);
      assert.match(blueHome, /^0\s*$/m, `the blue session does not see red's home:\n${blueHome}`);

      // The app draws on its own screen: painted black from inside its container, the screen shows it. Then
      // the app dies: init runs the session again, with a new container, and the screen is red again.
      await s.sh(`docker exec d2d-desktop-red xsetroot -solid '#000000'`);
      await waitForColour(s, 'red-painted-black', BLACK, 0.9, 120000);
      const before = (await inspect(s, 'red')).Id;
      const from = s.m.console.length;
      await s.sh(`kill $(docker inspect -f '{{.State.Pid}}' d2d-desktop-red)`);
      await s.sh(`n=0; until [ "$(docker inspect -f '{{.State.Running}} {{.Id}}' d2d-desktop-red 2>/dev/null | cut -c1-4)" = true ] && [ "$(docker inspect -f '{{.Id}}' d2d-desktop-red)" != ${before} ]; do n=$((n+1)); [ $n -lt 120 ] || exit 1; sleep 1; done`, 200000);
      await s.m.console.waitFor(/d2d: desktop red: app starting on vt2/, 120000, from);
      await waitForColour(s, 'red-back', RED, 0.9, 120000);

      // The kiosk: Firefox ESR on VT4, showing a page a service serves inside the guest.
      await switchVt(s, 4);
      await waitForColour(s, 'kiosk', GREEN, 0.85, 600000);
      const k = await inspect(s, 'kiosk');
      assert.equal(k.HostConfig.NetworkMode, 'bridge', 'the kiosk declared the network');
      assert.deepEqual(k.HostConfig.CapDrop, ['ALL']);
      assert.equal(k.HostConfig.Privileged, false);
      assert.ok(k.Mounts.some((m) => m.Destination === '/etc/firefox-esr/policies/policies.json'), 'its declared file');
      await s.off();
    });
  });
});
