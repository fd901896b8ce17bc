// End to end: `build --app` (docs/desktop.md): one text app as its own live CD, on its own VT, the
// machine locked (no shell on the screen), keys typed on the keyboard reaching the app.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxImage } from '../../src/formats/dockerArchive.js';
import { cli, e2eDir, SKIP } from './helpers.js';
import { Session, withSession } from '../support/vmsession.js';
import { inspect } from './inspect.js';

const OUT = e2eDir('desktop-app');
const LOG = join(OUT, 'console.log');

describe('build --app', { skip: SKIP }, () => {
  test('build --app: a text app as its own live CD, on its VT, locked; typed keys reach it', { timeout: 30 * 60000 }, async () => {
    const dir = OUT;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const tarball = join(dir, 'tool.tar');
    writeFileSync(tarball, busyboxImage(readFileSync('/bin/busybox'), 'd2d-test/tool:1', 0).tarball);
    writeFileSync(join(dir, 'base.yaml'), 'name: d2d-app\ninitramfs: {compression: zstd, level: 3}\npersistence: {enabled: false}\n');
    const r = await cli(['build', join(dir, 'base.yaml'), '--app', tarball, '--app-text', '-o', dir]);
    assert.equal(r.status, 0, `build --app failed:\n${r.stderr}`);
    await withSession(LOG, () => Session.start({ boot: { kind: 'cdrom', image: join(dir, 'd2d-app.iso') }, firmware: 'bios', memoryMiB: 1024 }, LOG, 'app', { qmp: true }), async (s) => {
      await s.m.console.waitFor(/d2d: desktop app: app starting on vt2/, 600000);
      await s.sh('n=0; until [ "$(docker inspect -f "{{.State.Running}}" d2d-desktop-app 2>/dev/null)" = true ]; do n=$((n+1)); [ $n -lt 120 ] || exit 1; sleep 1; done');
      const c = await inspect(s, 'app');
      assert.deepEqual(c.HostConfig.CapDrop, ['ALL']);
      assert.equal(c.HostConfig.NetworkMode, 'none');
      assert.match(await s.sh('cat /sys/class/tty/tty0/active'), /^tty2\s*$/m, "the app's VT is on the screen");
      // Locked: no shell on the screen's first VT (the serial console keeps one).
      assert.doesNotMatch(await s.sh('busybox ps -o args'), /console-shell tty1/);
      // Type on the keyboard as a person would: the app gets it. Keys that come before the app's shell has the
      // terminal may be lost, as a person's would: then the line is typed again, up to three times, each time
      // waiting for its effect (the file), not for a guessed moment.
      const keys = [...'touch typed'].map((ch) => (ch === ' ' ? 'spc' : ch)).concat(['ret']);
      let typed = false;
      for (let i = 0; i < 3 && !typed; i++) {
        for (const k of keys) await s.sendKeys([k]);
        typed = (await s.try('n=0; until docker exec d2d-desktop-app ls /home/user/typed; do n=$((n+1)); [ $n -lt 60 ] || exit 1; sleep 1; done', 120000)).status === 0;
      }
      assert.ok(typed, 'the keys typed on the screen reached the app (three tries)');
      await s.screendump(join(OUT, 'app.png'), 'png');
      await s.off();
    });
  });
});
