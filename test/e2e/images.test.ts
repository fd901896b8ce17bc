// End to end: preloaded images from all three build-time sources (an OCI
// archive tarball, a real registry on 127.0.0.1 filled by the test, an image
// built from Debian packages), a service that runs one of them, and a drop-in
// medium (label D2D-IMAGES) with a good and a corrupt tarball. One build, two
// boots: the ISO as a CD-ROM with the drop-in disk, and network boot with the
// images initrd.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testImageReport, type TestReport } from '../../src/commands/test.js';
import { busyboxImage } from '../../src/oci/dockerArchive.js';
import { BUSYBOX } from '../../src/vm/testdisk.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { cli, E2E_DIR, freePort, SKIP } from './helpers.js';

const OUT = join(E2E_DIR, 'images');
const SCENARIO = join(PACKAGE_ROOT, 'test/e2e/scenarios/images.sh');

interface ImageRecord {
  source: string;
  id: string;
  tags: string[];
  digest?: string;
  file: string;
}

/** A small image around the host's busybox with a /msg file saying where it came from. */
function msgImage(tag: string, msg: string, extra: { path: string; data: string }[] = []): Buffer {
  const files = [{ path: 'msg', data: `${msg}\n` }, ...extra];
  const entries = [
    ...[...new Set(files.map((f) => f.path.split('/').slice(0, -1).join('/')).filter(Boolean))].map((d) => ({ path: d, type: 'dir' as const })),
    ...files.map((f) => ({ path: f.path, type: 'file' as const, data: Buffer.from(f.data) })),
  ];
  return busyboxImage(readFileSync(BUSYBOX), tag, 0, entries).tarball;
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/v2/`);
      if (r.ok) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() - t0 > ms) throw new Error(`registry on 127.0.0.1:${port} did not come up`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function assertAll(r: TestReport, names: string[]): void {
  for (const name of names) {
    const x = r.results.find((y) => y.name === name);
    assert.ok(x, `check '${name}' did not run`);
    assert.ok(x.ok, `check '${name}' failed: ${x.detail}`);
  }
  assert.ok(r.ok, JSON.stringify(r.results.filter((x) => !x.ok)));
}

describe('preloaded images and services', { skip: SKIP }, () => {
  let registry: ChildProcess | undefined;
  let regPort: number;
  let images: ImageRecord[];
  let registryTag: string;
  const files: Record<string, string> = {};

  before(async () => {
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    // 1. An OCI archive, gzip-compressed: made from a docker-archive with skopeo.
    writeFileSync(join(OUT, 'oci-src.tar'), msgImage('d2d-e2e/oci:1', 'from-oci-archive', [{ path: 'www/index.html', data: 'service-ok\n' }]));
    execFileSync('skopeo', ['copy', '--quiet', 'docker-archive:' + join(OUT, 'oci-src.tar'), 'oci-archive:' + join(OUT, 'app-oci.tar')]);
    execFileSync('gzip', ['-f', join(OUT, 'app-oci.tar')]);
    // 2. A real registry (Debian's docker-registry) on 127.0.0.1, filled with skopeo.
    regPort = await freePort();
    const regDir = join(OUT, 'registry');
    mkdirSync(regDir, { recursive: true });
    writeFileSync(join(regDir, 'config.yml'), `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${regDir}/data\nhttp:\n  addr: 127.0.0.1:${regPort}\n`);
    registry = spawn('docker-registry', ['serve', join(regDir, 'config.yml')], { stdio: 'ignore' });
    await waitForPort(regPort, 30000);
    writeFileSync(join(OUT, 'reg-src.tar'), msgImage('d2d-e2e/reg:1', 'from-registry'));
    registryTag = `127.0.0.1:${regPort}/e2e/registry:1`;
    execFileSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', 'docker-archive:' + join(OUT, 'reg-src.tar'), `docker://${registryTag}`]);
    // The config: the three sources (the Debian one in the background) and a service.
    writeFileSync(
      join(OUT, 'images.yaml'),
      `# written by test/e2e/images.test.ts
name: d2d-images
initramfs: {compression: xz, level: 1}
images:
  - tarball: app-oci.tar.gz
    tags: ["d2d-e2e/oci:1"]
  - ref: "${registryTag}"
    tls-verify: false
  - tag: "d2d-e2e/hello:1"
    debian: {packages: [hello]}
    cmd: [hello]
    user: nobody
    tags: ["hello:e2e"]
    background: true
services:
  - name: web
    image: "d2d-e2e/oci:1"
    command: [sh, -c, 'echo "$GREETING" > /data/greeting && exec httpd -f -p 8080 -h /www']
    env: {GREETING: hi-from-env}
    ports: ["8080:8080"]
    volumes: ["webdata:/data"]
`,
    );
    const b = await cli(['build', join(OUT, 'images.yaml'), '-o', OUT]);
    assert.equal(b.status, 0, `build failed:\n${b.stderr}`);
    const m = JSON.parse(readFileSync(join(OUT, 'd2d-images.manifest.json'), 'utf8')) as { images: ImageRecord[] };
    images = m.images;
    files.expect = images.flatMap((im) => im.tags.map((t) => `${t} ${im.id}`)).join('\n') + '\n';
    files['registry-tag'] = registryTag;
  });

  after(() => {
    registry?.kill();
  });

  test('the manifest records each image, the registry one pinned by digest', () => {
    assert.deepEqual(images.map((i) => i.source), ['tarball', 'registry', 'debian']);
    for (const im of images) assert.match(im.id, /^sha256:[0-9a-f]{64}$/);
    const reg = images[1]!;
    // The digest is the registry's own: ask it.
    const head = execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registryTag}`]);
    const want = 'sha256:' + execFileSync('sha256sum', { input: head }).toString().split(' ')[0];
    assert.equal(reg.digest, want);
    assert.ok(reg.tags.includes(registryTag), reg.tags.join(','));
    assert.ok(images[2]!.tags.includes('hello:e2e') && images[2]!.tags.includes('d2d-e2e/hello:1'));
  });

  test('ISO as CD-ROM with a drop-in medium: images, service, corrupt tarball skipped', { timeout: 25 * 60000 }, async () => {
    // The drop-in medium: a good tarball and a truncated one.
    const drop = join(OUT, 'dropin');
    mkdirSync(drop, { recursive: true });
    writeFileSync(join(drop, 'good.tar'), msgImage('d2d-e2e/dropin:1', 'from-dropin'));
    const good = readFileSync(join(OUT, 'reg-src.tar'));
    writeFileSync(join(drop, 'corrupt.tar'), good.subarray(0, Math.floor(good.length / 2)));
    execFileSync('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-V', 'D2D-IMAGES', '-o', join(OUT, 'dropin.iso'), drop]);
    const hostPort = await freePort();
    const r = await testImageReport(join(OUT, 'd2d-images.iso'), {
      bootFrom: 'cdrom',
      disk: [join(OUT, 'dropin.iso')],
      scenario: SCENARIO,
      files: { ...files, dropin: 'yes' },
      forwards: [{ hostPort, guestPort: 8080 }],
      consoleLog: join(OUT, 'console-cdrom.log'),
      hostChecks: [
        {
          name: 'service port reachable from the host',
          run: async () => {
            // The service may still be starting when Docker is ready: poll.
            for (let i = 0; i < 120; i++) {
              try {
                const t = (await (await fetch(`http://127.0.0.1:${hostPort}/`)).text()).trim();
                if (t === 'service-ok') return { ok: true, detail: t };
              } catch {
                /* not yet */
              }
              await new Promise((res) => setTimeout(res, 2000));
            }
            return { ok: false, detail: 'no answer from the service on the forwarded port' };
          },
        },
      ],
    });
    assertAll(r, ['docker ready', 'service port reachable from the host', 'scenario']);
    assert.match(readFileSync(join(OUT, 'console-cdrom.log'), 'utf8'), /d2d: images: SKIPPED corrupt\.tar/);
  });

  test('network boot with the images initrd', { timeout: 25 * 60000 }, async () => {
    const r = await testImageReport(join(OUT, 'd2d-images.kernel'), {
      scenario: SCENARIO,
      files: { ...files, dropin: 'no' },
      consoleLog: join(OUT, 'console-netboot.log'),
    });
    assertAll(r, ['docker ready', 'scenario']);
  });
});
