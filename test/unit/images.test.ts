// Preloaded images and services: config rules, the plan, the argv of skopeo
// and mmdebstrap, the index the boot reads, and the archive writers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigText } from '../../src/config/load.js';
import { problems } from './problems.js';
import { declaredTags, imagesIndex, planImages, planServices, refTag, serviceScript } from '../../src/plan/images.js';
import { repoOf, skopeoCopyArgv, skopeoInspectRawArgv, skopeoOciToDockerArgv } from '../../src/tools/skopeo.js';
import { mmdebstrapImageArgv } from '../../src/tools/mmdebstrap.js';
import { archiveKind, shortTag, sniffCompression } from '../../src/stages/images.js';
import { dockerArchive, parseArchiveManifest, writeDockerArchive } from '../../src/formats/dockerArchive.js';
import { tar } from '../../src/formats/tar.js';
import { scratchDir } from '../support/scratch.js';


const HELLO = 'images:\n  - tag: "me/hello:1"\n    debian: {packages: [hello]}\n    cmd: [hello]\n';

test('images: the three sources are accepted and planned in order with their tags', () => {
  const { config } = loadConfigText(`${HELLO}  - ref: "127.0.0.1:5000/x/y:2"\n    tls-verify: false\n  - ref: "busybox@sha256:${'a'.repeat(64)}"\n    tags: ["bb:pinned"]\n    background: true\n`, 'my.yaml');
  const plans = planImages(config);
  assert.deepEqual(plans.map((p) => p.file), ['01-hello-1.tar.zst', '02-y-2.tar.zst', '03-busybox.tar.zst']);
  assert.deepEqual(plans.map((p) => p.tags), [['me/hello:1'], ['127.0.0.1:5000/x/y:2'], ['bb:pinned']]);
  assert.deepEqual(plans.map((p) => p.background), [false, false, true]);
  const deb = plans[0]!.source;
  assert.ok(deb.kind === 'debian');
  assert.equal(deb.suite, 'trixie');
  assert.equal(deb.variant, 'essential');
  assert.deepEqual(deb.cmd, ['hello']);
  assert.deepEqual(plans[1]!.source, { kind: 'registry', ref: '127.0.0.1:5000/x/y:2', tlsVerify: false });
  assert.deepEqual(declaredTags(config.images), ['me/hello:1', '127.0.0.1:5000/x/y:2', 'bb:pinned']);
});

test('refTag and repoOf tell tags, ports and digests apart', () => {
  assert.equal(refTag('busybox:1'), 'busybox:1');
  assert.equal(refTag('reg:5000/a/b'), undefined);
  assert.equal(refTag('reg:5000/a/b:3'), 'reg:5000/a/b:3');
  assert.equal(refTag(`a/b@sha256:${'0'.repeat(64)}`), undefined);
  assert.equal(refTag(`a/b:7@sha256:${'0'.repeat(64)}`), 'a/b:7');
  assert.equal(repoOf('reg:5000/a/b:3'), 'reg:5000/a/b');
  assert.equal(repoOf('reg:5000/a/b'), 'reg:5000/a/b');
  assert.equal(repoOf(`a:1@sha256:${'0'.repeat(64)}`), 'a');
  assert.equal(shortTag('docker.io/library/busybox:1'), 'busybox:1');
  assert.equal(shortTag('docker.io/me/app:1'), 'me/app:1');
  assert.equal(shortTag('127.0.0.1:5000/me/app:1'), '127.0.0.1:5000/me/app:1');
});

test('bad images: two sources, a bad reference, a missing tarball, each at its line', () => {
  let p = problems('images:\n  - tarball: a.tar\n    ref: "x:1"\n');
  assert.equal(p[0]!.path, 'images.0');
  assert.equal(p[0]!.line, 2);
  assert.match(p[0]!.message, /an image is one of \{tarball: FILE\}, \{ref: NAME:TAG\}/);
  p = problems('images:\n  - ref: "UPPER/case:1"\n');
  assert.equal(p[0]!.line, 2);
  assert.match(p[0]!.message, /image|one of/);
  p = problems('images:\n  - tarball: /nonexistent/app.tar\n');
  assert.deepEqual(p[0], { line: 2, path: 'images.0.tarball', message: 'no such file: /nonexistent/app.tar' });
});

test('bad services: unknown image, duplicate name, bad port and volume, each at its line', () => {
  let p = problems(`${HELLO}services:\n  - name: web\n    image: "me/other:1"\n`);
  assert.equal(p[0]!.path, 'services.0.image');
  assert.equal(p[0]!.line, 7);
  assert.match(p[0]!.message, /'me\/other:1' is not a preloaded image \(images: me\/hello:1\)/);
  p = problems(`${HELLO}services:\n  - {name: app, image: "me/hello:1"}\n  - {name: app, image: "me/hello:1", restart: always}\n`);
  assert.equal(p[0]!.path, 'services.1.name');
  assert.equal(p[0]!.line, 7);
  assert.match(p[0]!.message, /two services are named 'app'/);
  p = problems(`${HELLO}services:\n  - name: web\n    image: "me/hello:1"\n    ports: ["80"]\n    volumes: ["data"]\n`);
  assert.deepEqual(
    p.map((x) => [x.path, x.line]),
    [
      ['services.0.ports.0', 8],
      ['services.0.volumes.0', 9],
    ],
  );
  assert.match(p[0]!.message, /a port mapping such as '8080:80'/);
  p = problems(`${HELLO}services:\n  - name: web\n    image: "me/hello:1"\n    restart: sometimes\n`);
  assert.equal(p[0]!.path, 'services.0.restart');
});

test('a service becomes one quoted docker run line with its label, env, ports, volumes and policy', () => {
  const { config } = loadConfigText(`${HELLO}services:\n  - name: web\n    image: "me/hello:1"\n    command: [sh, -c, "echo 'hi there' > /x"]\n    env: {A: "1 2"}\n    ports: ["8080:80"]\n    volumes: ["data:/data:ro"]\n`, 'my.yaml');
  const [s] = planServices(config);
  assert.deepEqual(s!.argv, ['docker', 'run', '-d', '--name', 'web', '--label', 'd2d.service=web', '--restart', 'unless-stopped', '-e', 'A=1 2', '-p', '8080:80', '-v', 'data:/data:ro', 'me/hello:1', 'sh', '-c', "echo 'hi there' > /x"]);
  assert.equal(s!.file, '01-web');
  // The generated line, run by sh, gives docker exactly these arguments.
  const script = serviceScript(s!).replace(/^docker run/m, 'printf "%s\\n"');
  const out = execFileSync('sh', ['-c', script], { encoding: 'utf8' }).trimEnd().split('\n');
  assert.deepEqual(out, s!.argv.slice(2));
});

test('the boot index: header with the build id, one line per image', () => {
  const text = imagesIndex('abc', [
    { file: '01-a.tar.zst', id: 'sha256:1', tags: ['a:1', 'b:2'], background: false },
    { file: '02-b.tar.zst', id: 'sha256:2', tags: [], background: true },
  ]);
  assert.equal(text, '# d2d-images 1 abc\n01-a.tar.zst sha256:1 fg a:1 b:2\n02-b.tar.zst sha256:2 bg\n');
});

test('skopeo argv: inspect, copy pinned by digest, OCI conversion', () => {
  assert.deepEqual(skopeoInspectRawArgv('r:5000/a:1', false), ['skopeo', 'inspect', '--raw', '--tls-verify=false', '--retry-times', '2', 'docker://r:5000/a:1']);
  const d = `sha256:${'b'.repeat(64)}`;
  assert.deepEqual(skopeoCopyArgv({ ref: 'r:5000/a:1', digest: d, tlsVerify: true, out: '/w/x.tar', tag: 'r:5000/a:1' }), [
    'skopeo', 'copy', '--quiet', '--override-arch', 'amd64', '--override-os', 'linux', '--src-tls-verify=true', '--retry-times', '2', `docker://r:5000/a@${d}`, 'docker-archive:/w/x.tar:r:5000/a:1',
  ]);
  assert.deepEqual(skopeoOciToDockerArgv('/i.tar', '/o.tar'), ['skopeo', 'copy', '--quiet', '--override-arch', 'amd64', '--override-os', 'linux', 'oci-archive:/i.tar', 'docker-archive:/o.tar']);
});

test('mmdebstrap argv for an image: a tar output, no /dev, apt cache kept out of the image', () => {
  const a = mmdebstrapImageArgv({ suite: 'trixie', mirror: '', components: ['main'], variant: 'essential', packages: ['hello'], mode: 'unshare', aptCacheDir: '/c', output: '/w/l.tar' });
  assert.equal(a[0], 'mmdebstrap');
  assert.ok(a.includes('--mode=unshare') && a.includes('--variant=essential') && a.includes('--include=hello') && a.includes('--skip=output/dev'));
  assert.ok(a.includes('--dpkgopt=path-exclude=/usr/share/doc/*'));
  assert.deepEqual(a.slice(-2), ['trixie', '/w/l.tar']);
  const rmDebs = a.indexOf('--customize-hook=rm -f "$1"/var/cache/apt/archives/*.deb');
  assert.ok(rmDebs > a.indexOf('--customize-hook=sync-out /var/cache/apt/archives /c'), 'cache synced out before it is emptied');
  assert.ok(!a.some((x) => /allow-insecure|AllowUnauthenticated|trusted=yes/i.test(x)), 'signatures stay on');
});

test('compression and archive kinds are recognised from content', () => {
  assert.equal(sniffCompression(Buffer.from([0x1f, 0x8b, 8, 0])), 'gzip');
  assert.equal(sniffCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0])), 'xz');
  assert.equal(sniffCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0])), 'zstd');
  assert.equal(sniffCompression(Buffer.from('manifest.json')), 'none');
  assert.equal(archiveKind('abc/layer.tar\nmanifest.json\n'), 'docker');
  assert.equal(archiveKind('./blobs/sha256/x\n./index.json\n./oci-layout\n'), 'oci');
  assert.equal(archiveKind('etc/passwd\n'), undefined);
});

test('archive manifest: id from either Config form, tags, and clear errors', () => {
  const hex = 'c'.repeat(64);
  assert.deepEqual(parseArchiveManifest(JSON.stringify([{ Config: `${hex}.json`, RepoTags: ['a:1'] }])), { id: `sha256:${hex}`, tags: ['a:1'] });
  assert.deepEqual(parseArchiveManifest(JSON.stringify([{ Config: `blobs/sha256/${hex}`, RepoTags: null }])), { id: `sha256:${hex}`, tags: [] });
  assert.throws(() => parseArchiveManifest('[{},{}]'), /holds 2 images/);
  assert.throws(() => parseArchiveManifest('nope'), /not JSON/);
});

test('the streaming archive writer gives the same bytes and id as the in-memory one', async () => {
  const dir = scratchDir('d2d-arch-');
  const layer = [
    { path: 'etc', type: 'dir' as const },
    { path: 'etc/msg', type: 'file' as const, data: Buffer.from('x'.repeat(1000)) },
  ];
  const spec = { tag: 'me/x:1', created: 1700000000, cmd: ['cat', '/etc/msg'], env: ['A=1'], user: 'nobody', workdir: '/etc' };
  const mem = dockerArchive({ ...spec, layer });
  writeFileSync(join(dir, 'layer.tar'), tar(layer, spec.created));
  const { imageId } = await writeDockerArchive(join(dir, 'out.tar'), join(dir, 'layer.tar'), spec);
  assert.equal(imageId, mem.imageId);
  assert.ok(readFileSync(join(dir, 'out.tar')).equals(mem.tarball));
  const cfg = JSON.parse(execFileSync('tar', ['-xOf', join(dir, 'out.tar'), `${imageId.slice(7)}.json`], { encoding: 'utf8' })) as { config: Record<string, unknown> };
  assert.deepEqual(cfg.config, { Env: ['A=1'], Cmd: ['cat', '/etc/msg'], Entrypoint: null, User: 'nobody', WorkingDir: '/etc' });
});
