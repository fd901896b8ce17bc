// `build --in-docker` end to end: one cheap config built natively and in the
// builder container must give the same image (packages, kernel, modules, config
// hash); the in-docker ISO boots to Docker; errors and Ctrl-C pass through; the
// artifacts belong to the caller. Needs a running Docker engine (CI starts one).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testImageReport } from '../../src/commands/test.js';
import { cli, e2eDir, ROOTLESS_USER, scratchDir, SKIP, visible } from './helpers.js';
import type { Manifest } from './checks.js';
import { SHARED_ROOT } from './persist.js';

const DIR = e2eDir('indocker');
const CFG_DIR = join(DIR, 'cfg');
const CFG = join(CFG_DIR, 'cheap.yaml');
const NATIVE = join(DIR, 'native');
const DOCKER = join(DIR, 'docker');
const NAME = 'd2d-indocker';
// Both builds get the same date, so the manifests may differ only in build-environment fields.
const SDE = SHARED_ROOT.sourceDateEpoch;

const manifestOf = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, `${NAME}.manifest.json`), 'utf8')) as Manifest;
/** Build containers left behind (ours are named d2d-build-*). */
const containers = (): string => execFileSync('docker', ['ps', '-a', '--filter', 'name=d2d-build-', '--format', '{{.Names}}'], { encoding: 'utf8' }).trim();
/** The uid the in-docker build runs as: a normal user in the docker group when CI has one, else ours. */
const asUser = ROOTLESS_USER;
const callerUid = asUser ? Number(execFileSync('id', ['-u', asUser], { encoding: 'utf8' })) : process.getuid!();
const inDocker = (args: string[], extra: Omit<Parameters<typeof cli>[1] & object, 'asUser' | 'groups'> = {}): ReturnType<typeof cli> =>
  cli(['build', '--in-docker', ...args], { ...extra, ...(asUser ? { asUser, groups: ['docker'] } : {}) });

describe('build --in-docker: host checks (no build)', { skip: SKIP }, () => {
  test('no docker on PATH: names docker and the docker.io package; exit 4', async () => {
    const bin = scratchDir('d2d-nodocker-');
    symlinkSync(process.execPath, join(bin, 'node'));
    const out = join(bin, 'out');
    const r = await cli(['build', '--in-docker', '-o', out], { env: { PATH: bin }, quiet: true });
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /missing host tool: 'docker' \(package docker\.io\)/);
    assert.match(r.stderr, /apt-get install -y docker\.io/);
    assert.deepEqual(visible(out), []);
  });

  test('engine not reachable: says so, asks whether the service runs; exit 4', async () => {
    const r = await cli(['build', '--in-docker', '-o', join(tmpdir(), 'd2d-noengine')], { env: { DOCKER_HOST: 'unix:///nonexistent/d2d-docker.sock' }, quiet: true });
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /the Docker engine is not reachable/);
    assert.match(r.stderr, /is the docker service running\? \(service docker start\)/);
  });

  test('config error: exit 3 with the host file:line, before any container', async () => {
    const d = scratchDir('d2d-bad-');
    const bad = join(d, 'bad.yaml');
    writeFileSync(bad, 'name: ok\nboot:\n  timeout: soon\n');
    const r = await cli(['build', '--in-docker', bad, '-o', join(d, 'out')], { quiet: true });
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, new RegExp(`${bad}:3:\\d+: boot.timeout: `));
    assert.doesNotMatch(r.stderr, /building in container/);
    assert.deepEqual(visible(join(d, 'out')), []);
  });

  test('--rebuild-builder without --in-docker is a usage error; exit 2', async () => {
    const r = await cli(['build', '--rebuild-builder', '-o', join(tmpdir(), 'd2d-x')], { quiet: true });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--rebuild-builder only applies with --in-docker/);
  });
});

describe('build --in-docker: same image as a native build', { skip: SKIP }, () => {
  let native: Manifest;
  let docker: Manifest;
  let dockerStderr = '';

  before(async () => {
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(CFG_DIR, { recursive: true });
    mkdirSync(join(DIR, 'shared'));
    // A file from outside the config's folder: the container must be given that folder too.
    writeFileSync(join(DIR, 'shared', 'marker.txt'), 'built in docker or not\n');
    // The persistence files' root stage (SHARED_ROOT): the native build may take it from the stage cache (built
    // by whichever ran first), the in-Docker build always makes its own (its container has no stage cache), and
    // the two must still agree.
    writeFileSync(CFG, `name: ${NAME}\n${SHARED_ROOT.yaml}files:\n  - path: /etc/d2d-marker\n    source: ../shared/marker.txt\n`);
    let t0 = Date.now();
    const n = await cli(['build', CFG, '-o', NATIVE], { env: { SOURCE_DATE_EPOCH: SDE } });
    assert.equal(n.status, 0, `native build failed:\n${n.stderr}`);
    const nativeS = (Date.now() - t0) / 1000;
    mkdirSync(DOCKER);
    if (asUser) chownSync(DOCKER, callerUid, callerUid);
    t0 = Date.now();
    const d = await inDocker([CFG, '-o', DOCKER], { env: { SOURCE_DATE_EPOCH: SDE } });
    assert.equal(d.status, 0, `in-docker build failed:\n${d.stderr}`);
    dockerStderr = d.stderr;
    process.stderr.write(`    figures: native build ${nativeS.toFixed(0)} s, in-docker build ${((Date.now() - t0) / 1000).toFixed(0)} s (as ${asUser ?? 'the test user'})\n`);
    native = manifestOf(NATIVE);
    docker = manifestOf(DOCKER);
  });

  test('same packages, kernel, modules, config and date', () => {
    assert.ok(native.packages.length > 50);
    assert.deepEqual(docker.packages, native.packages);
    assert.equal(docker.kernel.version, native.kernel.version);
    assert.deepEqual(docker.kernel.modules, native.kernel.modules);
    assert.equal(docker.config.sha256, native.config.sha256);
    assert.deepEqual(docker.config.normalised, native.config.normalised);
    assert.equal(docker.sourceDateEpoch, Number(SDE));
    assert.deepEqual(Object.keys(docker.artifacts).sort(), ['initrd', 'iso', 'kernel']);
  });

  test('artifacts belong to the caller; no work folder or container is left', () => {
    for (const f of readdirSync(DOCKER)) assert.equal(statSync(join(DOCKER, f)).uid, callerUid, `${f} belongs to uid ${callerUid}`);
    assert.deepEqual(visible(DOCKER).sort(), [`${NAME}.initrd`, `${NAME}.iso`, `${NAME}.kernel`, `${NAME}.manifest.json`]);
    assert.ok(!existsSync(join(DOCKER, '.d2d-work', NAME)), 'work folder removed');
    assert.equal(containers(), '');
    assert.match(dockerStderr, /building in container d2d-build-\d+-[0-9a-f]+ \(debian2docker-builder:[0-9a-f]{12}\)/);
  });

  test('an unknown package fails inside with the native message and exit 3; the builder image is reused', { timeout: 10 * 60000 }, async () => {
    const d = join(DIR, 'unknown');
    mkdirSync(d);
    if (asUser) chownSync(d, callerUid, callerUid);
    const bad = join(CFG_DIR, 'unknown.yaml');
    writeFileSync(bad, 'name: unknown\npackages: [d2d-no-such-package]\n');
    const r = await inDocker([bad, '-o', d], { quiet: true });
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /builder image debian2docker-builder:[0-9a-f]{12} \(reused/);
    assert.match(r.stderr, /unknown Debian package in trixie: d2d-no-such-package/);
    // The log path the inner build names is a host path (the container sees the output folder at the same place).
    const logPath = /log: (\S+(?:cache-key|rootfs)\.log)/.exec(r.stderr)?.[1];
    assert.ok(logPath && logPath.startsWith(d + '/'), r.stderr);
    assert.ok(existsSync(logPath), `${logPath} exists on the host`);
    assert.equal(statSync(logPath).uid, callerUid);
    assert.deepEqual(visible(d), []);
  });

  test('Ctrl-C stops the container: exit 130, nothing at the output path, no container left', { timeout: 10 * 60000 }, async () => {
    const d = join(DIR, 'interrupted');
    mkdirSync(d);
    if (asUser) chownSync(d, callerUid, callerUid);
    let pid = 0;
    let running = '';
    // When the build inside the container says mmdebstrap is at work, interrupt the whole process group, as a
    // terminal does. (--no-cache: the root stage runs even when the stage cache holds this config's root.)
    const p = inDocker([CFG, '-o', d, '--no-cache'], {
      onSpawn: (x) => (pid = x),
      onStderr: (all) => {
        if (!running && /rootfs: (running apt-get update|downloading packages|extracting archives|installing)/.test(all)) {
          running = containers() || '(none)';
          process.kill(-pid, 'SIGINT');
        }
      },
      quiet: true,
    });
    const r = await p;
    assert.ok(running, `the build in the container never reached mmdebstrap:\n${r.stderr}`);
    assert.notEqual(running, '(none)', 'the build container was running when interrupted');
    assert.equal(r.status, 130, r.stderr);
    assert.match(r.stderr, /interrupted/);
    assert.deepEqual(visible(d), []);
    assert.equal(containers(), '', 'no build container left');
  });

  test('the in-docker ISO boots (BIOS, CD-ROM) to Docker', { timeout: 20 * 60000 }, async () => {
    const r = await testImageReport(join(DOCKER, `${NAME}.iso`), { bootFrom: 'cdrom', consoleLog: join(DIR, 'console.log') });
    const failed = r.results.filter((x) => !x.ok);
    assert.deepEqual(failed, []);
    assert.ok(r.results.some((x) => x.name === 'docker ready' && x.ok));
    assert.ok(r.ok);
  });
});
