// Desktop sessions: config rules, the plan (packages, modules, VTs, prune), the
// exact sandbox of each session's `docker run`, and what the image's init gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfigText } from '../../src/config/load.js';
import { makePlan } from '../../src/plan/plan.js';
import { inittabLines, sessionConf, sessionRun } from '../../src/plan/desktop.js';
import { pruneRules, prunePackages } from '../../src/plan/prune.js';
import { problems } from './problems.js';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { appLayer } from '../../src/commands/app.js';
import { imageUsers } from '../../src/plan/images.js';
import { busyboxImage } from '../../src/formats/dockerArchive.js';
import { D2DError } from '../../src/errors.js';
import { scratchDir } from '../support/scratch.js';

const IMAGES = 'images:\n  - tag: "me/desk:1"\n    debian: {packages: [xterm]}\n';
const plan = (text: string): ReturnType<typeof makePlan> => {
  const l = loadConfigText(text, 'my.yaml');
  return makePlan(l.config, { outDir: '/o', configHash: l.hash, sourceDateEpoch: 1700000000 });
};

test('desktop: no sessions, no display server', () => {
  const p = plan(IMAGES);
  assert.equal(p.desktop, null);
  assert.ok(!p.packages.includes('xserver-xorg-core'));
  assert.ok(!p.kernel.modules.optional.includes('bochs'));
  assert.ok(!prunePackages(p).some((x) => x.name === 'mesa-libgallium'));
});

test('desktop: a default session is sandboxed: exact docker run', () => {
  const p = plan(`${IMAGES}desktop:\n  sessions:\n    - {name: main, image: "me/desk:1"}\n`);
  assert.ok(p.packages.includes('xserver-xorg-core') && p.packages.includes('xserver-xorg-input-evdev'));
  assert.ok(p.kernel.modules.optional.includes('bochs') && p.kernel.modules.optional.includes('evdev'));
  assert.ok(prunePackages(p).some((x) => x.name === 'libllvm19'));
  assert.ok(pruneRules(p).some((r) => r.path === 'usr/lib/x86_64-linux-gnu/gbm'));
  const s = p.desktop!.sessions[0]!;
  assert.equal(s.vt, 2);
  assert.equal(s.display, 0);
  assert.deepEqual(s.argv, [
    'docker', 'run', '--rm', '--name', 'd2d-desktop-main', '--label', 'd2d.desktop=main', '--init',
    '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--ipc', 'private', '--network', 'none',
    '--user', '1000:1000', '-e', 'HOME=/home/user', '-v', 'd2d-home-main:/home/user:nocopy', '-w', '/home/user',
    '-e', 'DISPLAY=:0', '-e', 'XAUTHORITY=/run/d2d-x/Xauthority',
    '-v', '/tmp/.X11-unix/X0:/tmp/.X11-unix/X0', '-v', '/run/d2d/desktop/main/Xauthority:/run/d2d-x/Xauthority:ro',
    'me/desk:1',
  ]);
  assert.ok(!s.argv.some((a) => a.includes('docker.sock') || a === '--privileged' || a === '--pid' || a === 'host'));
  assert.deepEqual(inittabLines(p.desktop!), ['::respawn:/usr/lib/d2d/desktop-session main']);
});

test('desktop: declared permissions, one flag each; sessions get VT2, VT3, ...', () => {
  const p = plan(
    `${IMAGES}desktop:\n  lock: true\n  keyboard: de\n  sessions:\n    - {name: a, image: "me/desk:1"}\n` +
      `    - {name: b, image: "me/desk:1", network: true, sound: true, gpu: true, folders: ["/data/x:/x:ro"], capabilities: [SYS_NICE], env: {A: 1}, command: [xterm, -e, top], wait-for: "http://10.0.0.1/"}\n` +
      `    - {name: c, image: "me/desk:1", gui: false, network: lan, user: "0"}\n`,
  );
  const [a, b, c] = p.desktop!.sessions;
  assert.deepEqual([a!.vt, b!.vt, c!.vt], [2, 3, 4]);
  const argv = b!.argv.join(' ');
  for (const want of ['--cap-drop ALL --cap-add SYS_NICE', '--network bridge', '--group-add 29 --group-add 44', '-v /data/x:/x:ro', '-e A=1', 'me/desk:1 xterm -e top']) {
    assert.ok(argv.includes(want), `${want} in ${argv}`);
  }
  assert.ok(c!.argv.includes('-it') && !c!.argv.some((x) => x.startsWith('DISPLAY=')));
  assert.ok(c!.argv.join(' ').includes('--network lan --user 0'));
  assert.deepEqual(inittabLines(p.desktop!), [
    '::respawn:/usr/lib/d2d/desktop-session a',
    '::respawn:/usr/lib/d2d/desktop-session b',
    'tty4::respawn:/usr/lib/d2d/desktop-session c',
  ]);
  // Devices are not in the generated line: the session runner passes the ones the machine has.
  assert.ok(!b!.argv.includes('--device'));
  assert.match(sessionRun(b!), /^docker run "\$@" --rm --name d2d-desktop-b /m);
  const conf = sessionConf(p.desktop!, b!, 1);
  for (const line of ['NAME=b', 'VT=3', 'DISPLAY_NUM=1', 'FIRST=0', 'WAIT_FOR=http://10.0.0.1/', 'LOCK=1', 'KEYBOARD=de', 'SOUND=1', 'GPU=1', 'APP_USER=1000:1000']) {
    assert.ok(conf.split('\n').includes(line), `${line} in\n${conf}`);
  }
});

test('desktop: nested Docker is the documented exception: privileged', () => {
  const p = plan(`${IMAGES}desktop:\n  sessions:\n    - {name: dind, image: "me/desk:1", nested-docker: true}\n`);
  const argv = p.desktop!.sessions[0]!.argv;
  assert.ok(argv.includes('--privileged'));
  assert.ok(!argv.includes('--cap-drop'));
});

test('desktop: bad sessions are named at file:line', () => {
  let p = problems(`${IMAGES}desktop:\n  sessions:\n    - {name: a, image: "me/desk:1"}\n    - {name: a, image: "me/desk:1", command: [x]}\n`);
  assert.match(p[0]!.message, /two desktop sessions are named 'a'/);
  assert.equal(p[0]!.line, 7);
  p = problems(`${IMAGES}desktop:\n  sessions:\n    - {name: k, image: "me/desk:1", wait-for: "http://x/"}\n`);
  assert.match(p[0]!.message, /needs the network permission/);
  p = problems(`${IMAGES}desktop:\n  sessions:\n    - {name: k, image: "me/other:1"}\n`);
  assert.equal(p[0]!.path, 'desktop.sessions.0.image');
  assert.match(p[0]!.message, /'me\/other:1' is not a preloaded image \(images: me\/desk:1\)/);
  p = problems(`${IMAGES}desktop:\n  sessions:\n    - {name: k, image: "me/desk:1", folders: ["relative:/x"]}\n`);
  assert.match(p[0]!.message, /host folder/);
  p = problems(`${IMAGES}desktop:\n  sessions:\n    - {name: "Bad Name", image: "me/desk:1"}\n`);
  assert.match(p[0]!.message, /short name/);
});

test('build --app: a tarball, a reference or a preloaded tag becomes the one locked session', () => {
  const dir = scratchDir('d2d-app-');
  const tar = join(dir, 'tool.tar');
  writeFileSync(tar, busyboxImage(Buffer.from('not really busybox'), 'me/tool:3', 0).tarball);
  let l = appLayer(undefined, { image: tar, text: true }, dir);
  assert.equal(l.tag, 'me/tool:3');
  assert.deepEqual(parse(l.yaml), {
    extends: 'default', name: 'tool', images: [{ tarball: tar }],
    desktop: { lock: true, sessions: [{ name: 'app', image: 'me/tool:3', gui: false }] },
  });
  l = appLayer(undefined, { image: '127.0.0.1:5000/team/viewer:2', network: true }, dir);
  assert.deepEqual(parse(l.yaml).images, [{ ref: '127.0.0.1:5000/team/viewer:2' }]);
  assert.deepEqual(parse(l.yaml).desktop.sessions, [{ name: 'app', image: '127.0.0.1:5000/team/viewer:2', network: true }]);
  const cfg = join(dir, 'mine.yaml');
  writeFileSync(cfg, `name: mine\n${IMAGES}`);
  l = appLayer('mine.yaml', { image: 'me/desk:1' }, dir);
  assert.deepEqual(parse(l.yaml), { extends: cfg, desktop: { lock: true, sessions: [{ name: 'app', image: 'me/desk:1' }] } });
  assert.throws(() => appLayer(undefined, { image: 'No Such Thing' }, dir), (e: unknown) => e instanceof D2DError && e.exitCode === 2 && /not a file, a preloaded image's tag, or an image reference/.test(e.message));
  writeFileSync(join(dir, 'junk.tar'), 'junk');
  assert.throws(() => appLayer(undefined, { image: join(dir, 'junk.tar') }, dir), /not a docker-archive tarball/);
});

test('services and desktop sessions are both checked for a preloaded image (at load, and again at build for tarball tags)', () => {
  assert.deepEqual(imageUsers([{ name: 'web', image: 'a:1' }], [{ name: 'main', image: 'b:2' }]), [
    { what: "service 'web'", path: ['services', 0, 'image'], image: 'a:1' },
    { what: "desktop session 'main'", path: ['desktop', 'sessions', 0, 'image'], image: 'b:2' },
  ]);
});

test('an XKB layout with a variant survives the shell that sources the session file', () => {
  const text = `${IMAGES}desktop:\n  keyboard: "de(nodeadkeys)"\n  sessions:\n    - {name: main, image: "me/desk:1"}\n`;
  const p = plan(text);
  const conf = join(scratchDir('d2d-conf-'), 'main.conf');
  writeFileSync(conf, sessionConf(p.desktop!, p.desktop!.sessions[0]!, 0));
  assert.equal(execFileSync('sh', ['-c', '. "$1" && printf %s "$KEYBOARD"', 'sh', conf], { encoding: 'utf8' }), 'de(nodeadkeys)');
});
