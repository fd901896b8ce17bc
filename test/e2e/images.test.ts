// End to end: preloaded images from all three build-time sources (an OCI
// archive tarball, a real registry on 127.0.0.1 filled by the test, an image
// built from Debian packages), a service that runs one of them, and a drop-in
// medium (label D2D-IMAGES) with a good and a corrupt tarball. One build, two
// boots: the ISO as a CD-ROM with the drop-in disk, and network boot with the
// images initrd.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PXE_SERVE_ADDR, testImageReport } from '../../src/commands/test.js';
import { serve } from '../../src/commands/serve.js';
import { msgImage, startRegistry, type Registry } from '../support/images.js';
import { makeKey, makeRepo, serveFolder, stopGpg } from '../support/aptrepo.js';
import type { Server } from 'node:http';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { DROPIN_LABEL } from '../../src/plan/images.js';
import type { ImageRecord } from '../../src/stages/images.js';
import type { Manifest } from '../../src/stages/manifest.js';
import { cli, e2eDir, freePort, SKIP } from './helpers.js';
import { assertRunPassed } from './checks.js';

const OUT = e2eDir('images');
const SCENARIO = join(PACKAGE_ROOT, 'test/e2e/scenarios/images.sh');

describe('preloaded images and services; an extra signed APT repository', { skip: SKIP }, () => {
  let registry: Registry | undefined;
  let repoServer: Server | undefined;
  let repoUri: string;
  let manifest: Manifest;
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
    registry = await startRegistry(join(OUT, 'registry'), await freePort());
    writeFileSync(join(OUT, 'reg-src.tar'), msgImage('d2d-e2e/reg:1', 'from-registry'));
    registryTag = registry.push(join(OUT, 'reg-src.tar'), 'e2e/registry:1');
    // 3. A signed APT repository of our own on 127.0.0.1, with one package; and a key it is not signed with.
    const gpgHome = join(OUT, 'gnupg');
    writeFileSync(join(OUT, 'repo.asc'), makeKey(gpgHome, 'd2d e2e repo'));
    writeFileSync(join(OUT, 'other.asc'), makeKey(join(OUT, 'gnupg-other'), 'd2d e2e other'));
    makeRepo(join(OUT, 'repo'), gpgHome, { name: 'd2d-e2e-extra', files: { 'usr/share/d2d-e2e-extra/hello': 'from the extra repository\n' } });
    stopGpg(gpgHome);
    stopGpg(join(OUT, 'gnupg-other'));
    const repoPort = await freePort();
    repoServer = await serveFolder(join(OUT, 'repo'), repoPort);
    repoUri = `http://127.0.0.1:${repoPort}/`;
    // The config: the three sources (the Debian one in the background) and a service.
    writeFileSync(
      join(OUT, 'images.yaml'),
      `# written by test/e2e/images.test.ts
name: d2d-images
initramfs: {compression: zstd, level: 3}
debian:
  sources:
    - {uri: "${repoUri}", suite: stable, components: [main], key: repo.asc}
packages: [d2d-e2e-extra]
# Issue 3's "one config": packages, a file, a hook, a service and a non-default kernel.
kernel:
  package: linux-image-amd64
  suite: trixie-backports
files:
  - {path: /etc/d2d-e2e/motd, content: "one config\\n", mode: "0640"}
hooks:
  after-packages:
    - dpkg-query -W d2d-e2e-extra > /etc/d2d-e2e-hook
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
    manifest = JSON.parse(readFileSync(join(OUT, 'd2d-images.manifest.json'), 'utf8')) as Manifest;
    images = manifest.images;
    files['expected-kernel'] = manifest.kernel.version;
    files.expect = images.flatMap((im) => im.tags.map((t) => `${t} ${im.id}`)).join('\n') + '\n';
    files['registry-tag'] = registryTag;
  });

  after(() => {
    registry?.stop();
    repoServer?.close();
  });

  test('a repository whose key is not the one given fails the build, naming the repository', async () => {
    writeFileSync(join(OUT, 'badkey.yaml'), `name: d2d-badkey\ndebian:\n  sources:\n    - {uri: "${repoUri}", suite: stable, components: [main], key: other.asc}\npackages: [d2d-e2e-extra]\n`);
    const b = await cli(['build', join(OUT, 'badkey.yaml'), '-o', join(OUT, 'badkey')], { quiet: true });
    assert.equal(b.status, 5, b.stderr);
    // apt names the repository by its URI without the trailing slash.
    assert.match(b.stderr, new RegExp(`signatures of the repository ${repoUri.replace(/\/$/, '').replace(/[.]/g, '\\.')} could not be verified`));
    assert.match(b.stderr, /debian\.sources\[\]\.key/);
    assert.ok(!existsSync(join(OUT, 'badkey', 'd2d-badkey.iso')), 'nothing written');
  });

  test('the manifest records each image, the registry one pinned by digest; the extra repository\'s package is in', () => {
    const m = manifest;
    assert.equal(m.packages.find((p) => p.name === 'd2d-e2e-extra')?.version, '1.0', 'package from the extra repository, version 1.0');
    assert.ok(m.debian.sources.some((l) => l.includes(repoUri)), m.debian.sources.join('\n'));
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

  // The kernel from another suite (the boots below check that the guest runs it: uname -r).
  test('the kernel from trixie-backports: its source recorded, its suite an APT source for the kernel only', () => {
    const k = manifest.kernel;
    const src = k.source as { kind: string; package?: string; suite?: string; version?: string; aptSource?: string };
    assert.equal(src.kind, 'package');
    assert.equal(src.package, 'linux-image-amd64');
    assert.equal(src.suite, 'trixie-backports');
    assert.match(src.version ?? '', /~bpo13\+\d+$/, 'a backports version');
    assert.match(src.aptSource ?? '', /^Suites: trixie-backports$/m);
    assert.equal(k.version, files['expected-kernel']);
    assert.ok(!manifest.debian.sources.some((l) => /backports/.test(l)), manifest.debian.sources.join('\n'));
    for (const mod of ['overlay', 'br_netfilter', 'nf_tables']) assert.ok(k.modules.some((f) => f.endsWith(`/${mod}.ko`)), `module ${mod}`);
  });

  test('ISO as CD-ROM with a drop-in medium: images, service, corrupt tarball skipped', { timeout: 25 * 60000 }, async () => {
    // The drop-in medium: a good tarball and a truncated one.
    const drop = join(OUT, 'dropin');
    mkdirSync(drop, { recursive: true });
    writeFileSync(join(drop, 'good.tar'), msgImage('d2d-e2e/dropin:1', 'from-dropin'));
    const good = readFileSync(join(OUT, 'reg-src.tar'));
    writeFileSync(join(drop, 'corrupt.tar'), good.subarray(0, Math.floor(good.length / 2)));
    execFileSync('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-V', DROPIN_LABEL, '-o', join(OUT, 'dropin.iso'), drop]);
    const hostPort = await freePort();
    const r = await testImageReport(join(OUT, 'd2d-images.iso'), {
      // UEFI (OVMF) from the CD: the boot matrix's cell no other test has (docs/harness.md).
      firmware: 'uefi',
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
    assertRunPassed(r, ['docker ready', 'service port reachable from the host', 'scenario']);
    assert.match(readFileSync(join(OUT, 'console-cdrom.log'), 'utf8'), /d2d: images: SKIPPED corrupt\.tar/);
  });

  // As a machine of a fleet boots: the NIC's iPXE gets the chain script over the user-mode network's TFTP,
  // then its own script, the kernel, the initrd and the images initrd over HTTP from `debian2docker serve`
  // (a real server on 127.0.0.1), which names the machine after its file in --machines (QEMU's MAC).
  test('network boot through debian2docker serve and iPXE, with the images initrd and a machine file', { timeout: 25 * 60000 }, async () => {
    const machines = join(OUT, 'machines');
    mkdirSync(machines, { recursive: true });
    writeFileSync(join(machines, '52-54-00-12-34-56.yaml'), 'hostname: rack-7\n');
    const tftp = join(OUT, 'tftp');
    const lines: string[] = [];
    const served = await serve(OUT, { listen: '127.0.0.1:0', machines, tftp, url: `http://${PXE_SERVE_ADDR}`, report: (l) => lines.push(l) });
    try {
      const r = await testImageReport(join(OUT, 'd2d-images.kernel'), {
        scenario: SCENARIO,
        files: { ...files, dropin: 'no', 'expected-hostname': 'rack-7' },
        consoleLog: join(OUT, 'console-netboot.log'),
        pxe: { tftpDir: tftp, servePort: Number(new URL(served.url).port) },
      });
      assertRunPassed(r, ['docker ready', 'scenario']);
      // serve's own log: this machine's script, then the three files, each sent whole.
      assert.ok(lines.some((l) => /52-54-00-12-34-56 .*: boot script$/.test(l)), lines.join('\n'));
      for (const f of ['d2d-images.kernel', 'd2d-images.initrd', 'd2d-images.images']) {
        assert.ok(lines.some((l) => l.startsWith(`serve: ${f} (`) && !l.includes('cut short')), `${f} served whole:\n${lines.join('\n')}`);
      }
    } finally {
      await served.close();
    }
  });
});
