// build --in-docker: the docker command lines (exact argv), the folders the
// container sees, the builder image's inputs and tag, and the give-back chown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { binds, builderPackages, builderTag, dockerInfoArgv, importArgv, killArgv, runArgv, BUILDER_SUITE } from '../../src/tools/docker.js';
import { dockerPreflight, ensureBuilder, innerArgs, satisfiesEngines, wantedBinds, type Runner } from '../../src/commands/indocker.js';
import { chownTree } from '../../src/indocker-entry.js';
import { CommandError, D2DError, MissingToolError, StageError } from '../../src/errors.js';
import { VERSION } from '../../src/version.js';
import { HOST_TOOLS } from '../../src/exec/hosttools.js';
import { scratchDir } from '../support/scratch.js';

test('docker run: least privileges, same-path binds, sorted env, the entry as command', () => {
  const argv = runArgv({
    image: 'debian2docker-builder:0123456789ab',
    name: 'd2d-build-1-abc',
    binds: [
      { path: '/src/d2d', writable: false },
      { path: '/home/u/out', writable: true },
    ],
    env: { XDG_CACHE_HOME: '/home/u/.cache', D2D_OWNER: '1000:1000' },
    workdir: '/src/d2d',
    command: ['node', '/src/d2d/dist/src/indocker-entry.js', 'build', '-o', '/home/u/out'],
  });
  assert.deepEqual(argv, [
    'docker', 'run', '--rm', '--init', '--name=d2d-build-1-abc', '--network=host', '--cap-add=SYS_ADMIN', '--security-opt=apparmor=unconfined',
    '--mount=type=bind,source=/src/d2d,target=/src/d2d,readonly',
    '--mount=type=bind,source=/home/u/out,target=/home/u/out',
    '--env=D2D_OWNER=1000:1000',
    '--env=XDG_CACHE_HOME=/home/u/.cache',
    '--workdir=/src/d2d',
    'debian2docker-builder:0123456789ab',
    'node', '/src/d2d/dist/src/indocker-entry.js', 'build', '-o', '/home/u/out',
  ]);
  assert.ok(!argv.includes('--privileged'), 'never --privileged');
  assert.ok(!argv.some((a) => /seccomp=unconfined/.test(a)), "Docker's seccomp profile stays on");
});

test('docker info, import and kill', () => {
  assert.deepEqual(dockerInfoArgv(), ['docker', 'info', '--format', '{{.ServerVersion}}']);
  assert.deepEqual(importArgv('/t/b.tar', 'debian2docker-builder:x'), ['docker', 'import', '--change', 'ENV LC_ALL=C.UTF-8', '/t/b.tar', 'debian2docker-builder:x']);
  assert.deepEqual(killArgv('n', 'INT'), ['docker', 'kill', '--signal=INT', 'n']);
  assert.deepEqual(killArgv('n', 'KILL'), ['docker', 'kill', '--signal=KILL', 'n']);
});

test('binds: duplicates merged, covered folders dropped, a writable folder inside a read-only one kept', () => {
  assert.deepEqual(
    binds([
      { path: '/work/d2d', writable: false },
      { path: '/work/d2d/examples', writable: false }, // inside a read-only bind: covered
      { path: '/work/d2d/out/', writable: true }, // needs writing: its own bind
      { path: '/home/u/cfg', writable: false },
      { path: '/home/u/cfg', writable: true }, // same folder twice: writable wins
      { path: '/home/u/cfg/sub', writable: false }, // inside a writable bind: covered
      { path: '/home/u/.cache/debian2docker/apt', writable: true },
    ]),
    [
      { path: '/home/u/.cache/debian2docker/apt', writable: true },
      { path: '/home/u/cfg', writable: true },
      { path: '/work/d2d', writable: false },
      { path: '/work/d2d/out', writable: true },
    ],
  );
});

test('binds: folders that would hide the builder, and paths --mount cannot carry, are refused', () => {
  for (const p of ['/', '/usr', '/etc', '/usr/lib/grub', '/var', '/var/lib', '/etc/apt/x', '/lib']) {
    assert.throws(() => binds([{ path: p, writable: false }]), (e: unknown) => e instanceof D2DError && e.code === 'E_DOCKER_PATH' && e.message.includes(p), p);
  }
  for (const p of ['/usr/local/lib/node_modules/debian2docker', '/var/lib/jenkins/ws', '/root/cfg', '/tmp/x', '/srv/b']) assert.doesNotThrow(() => binds([{ path: p, writable: true }]), p);
  assert.throws(() => binds([{ path: '/home/u/a,b', writable: true }]), /comma, quote or newline/);
});

test('wantedBinds: checkout read-only, config folders and referenced files, output and caches (packages, compiled kernels) writable', () => {
  const b = wantedBinds({
    packageRoot: '/opt/d2d',
    sources: ['/home/u/cfg/base.yaml', '/home/u/cfg/my.yaml'],
    referenced: [
      { path: '/home/u/shared/motd', isDir: false },
      { path: '/home/u/tree', isDir: true },
    ],
    outDir: '/home/u/out',
    cacheDirs: ['/home/u/.cache/debian2docker/apt', '/home/u/.cache/debian2docker/kernels'],
  });
  assert.deepEqual(b, [
    { path: '/home/u/.cache/debian2docker/apt', writable: true },
    { path: '/home/u/.cache/debian2docker/kernels', writable: true },
    { path: '/home/u/cfg', writable: false },
    { path: '/home/u/out', writable: true },
    { path: '/home/u/shared', writable: false },
    { path: '/home/u/tree', writable: false },
    { path: '/opt/d2d', writable: false },
  ]);
});

test('inner build arguments: absolute paths, the flags passed on', () => {
  assert.deepEqual(innerArgs({ config: '/c/my.yaml', outDir: '/o' }), ['build', '/c/my.yaml', '-o', '/o']);
  assert.deepEqual(innerArgs({ outDir: '/o', noCache: true, keepWork: true, verbose: true }), ['--verbose', 'build', '-o', '/o', '--no-cache', '--keep-work']);
});

test('builder image: every build host package plus node, tagged by its inputs', () => {
  const pkgs = builderPackages();
  for (const t of HOST_TOOLS) if (t.needed === 'build' && t.pkg !== 'dpkg') assert.ok(pkgs.includes(t.pkg), t.pkg);
  for (const p of ['nodejs', 'ca-certificates', 'debian-archive-keyring', 'mount']) assert.ok(pkgs.includes(p), p);
  assert.ok(!pkgs.includes('docker.io') && !pkgs.includes('qemu-system-x86'), 'only what a build needs');
  assert.deepEqual(pkgs, [...pkgs].sort());
  const inputs = { suite: BUILDER_SUITE, variant: 'apt', packages: pkgs, toolVersion: '0.1.0', recipe: 1 };
  const tag = builderTag(inputs);
  assert.match(tag, /^debian2docker-builder:[0-9a-f]{12}$/);
  assert.equal(builderTag({ ...inputs, packages: [...pkgs].reverse() }), tag, 'order does not matter');
  assert.notEqual(builderTag({ ...inputs, packages: [...pkgs, 'htop'] }), tag);
  assert.notEqual(builderTag({ ...inputs, toolVersion: '0.2.0' }), tag);
  assert.notEqual(builderTag({ ...inputs, recipe: 2 }), tag);
});

test('engines check for the builder\'s node', () => {
  assert.ok(satisfiesEngines('v20.19.2', '>=20.19'));
  assert.ok(satisfiesEngines('v22.1.0', '>=20.19'));
  assert.ok(!satisfiesEngines('v20.18.9', '>=20.19'));
  assert.ok(!satisfiesEngines('v18.20.4', '>=20.19'));
  assert.ok(!satisfiesEngines('garbage', '>=20.19'));
});

test('chownTree gives a tree back without following symbolic links', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  const d = scratchDir('d2d-chown-');
  const outside = join(d, 'outside');
  writeFileSync(outside, 'x');
  mkdirSync(join(d, 't', 'sub'), { recursive: true });
  writeFileSync(join(d, 't', 'sub', 'f'), 'y');
  symlinkSync(outside, join(d, 't', 'link'));
  const n = chownTree(join(d, 't'), 4242, 4343);
  assert.equal(n, 4);
  for (const p of ['t', 't/sub', 't/sub/f', 't/link']) assert.deepEqual([lstatSync(join(d, p)).uid, lstatSync(join(d, p)).gid], [4242, 4343], p);
  assert.equal(lstatSync(outside).uid, 0, 'the link target is not touched');
  assert.equal(chownTree(join(d, 't'), 4242, 4343), 0, 'nothing left to change');
  assert.equal(chownTree(join(d, 'missing'), 1, 1), 0);
});

/** A recording runner: every command line in order, answered from a script instead of run. */
function recorder(answer: (argv: readonly string[]) => { status?: number; stdout?: string; fail?: string }, onPath: string[] = ['docker', 'mmdebstrap']): { calls: string[][]; runner: Runner } {
  const calls: string[][] = [];
  const runner: Runner = {
    which: async (cmd) => (onPath.includes(cmd) ? `/usr/bin/${cmd}` : undefined),
    run: async (argv, opts = {}) => {
      calls.push([...argv]);
      const a = answer(argv);
      if (a.fail !== undefined) throw new CommandError([...argv], 1, null, a.fail, opts.log);
      const status = a.status ?? 0;
      if (status !== 0 && !(opts.okStatus ?? []).includes(status)) throw new CommandError([...argv], status, null, '', opts.log);
      return { status, stdout: a.stdout ?? '' };
    },
  };
  return { calls, runner };
}
const TAG = builderTag({ suite: BUILDER_SUITE, variant: 'apt', packages: builderPackages(), toolVersion: VERSION, recipe: 1 });

test('builder image present: only looked up, never rebuilt', async () => {
  const { calls, runner } = recorder(() => ({ stdout: 'sha256:aaa 405000000\n' }));
  assert.equal(await ensureBuilder({ logDir: scratchDir('d2d-b-') }, runner), TAG);
  assert.deepEqual(calls, [['docker', 'image', 'inspect', '--format', '{{.Id}} {{.Size}}', TAG]]);
});

test('builder image missing: mmdebstrap to a tar, docker import, node checked, in that order', async () => {
  let inspected = 0;
  const { calls, runner } = recorder((argv) => {
    if (argv[1] === 'image') return ++inspected === 1 ? { status: 1 } : { stdout: 'sha256:new 405000000' };
    if (argv[1] === 'run') return { stdout: 'v20.19.2\n' };
    return {};
  });
  const logDir = scratchDir('d2d-b-');
  assert.equal(await ensureBuilder({ logDir, cache: '/c/apt' }, runner), TAG);
  assert.deepEqual(calls.map((c) => c.slice(0, 2).join(' ')), ['docker image', 'mmdebstrap --mode=root', 'docker import', 'docker run', 'docker image']);
  const mm = calls[1]!;
  assert.ok(mm.includes('--variant=apt') && mm.includes(`--include=${builderPackages().join(',')}`) && mm.includes('--skip=output/dev'));
  assert.equal(mm[mm.length - 2], BUILDER_SUITE, 'no mirror on the command line: the host APT sources');
  const tar = mm[mm.length - 1]!;
  assert.deepEqual(calls[2], ['docker', 'import', '--change', 'ENV LC_ALL=C.UTF-8', tar, TAG]);
  assert.deepEqual(calls[3], ['docker', 'run', '--rm', '--network=none', TAG, 'node', '--version']);
  assert.ok(!existsSync(tar), 'the tar file is removed');
});

test('--rebuild-builder: made afresh, and the old image it replaces removed', async () => {
  let inspected = 0;
  const { calls, runner } = recorder((argv) => {
    if (argv[1] === 'image') return { stdout: ++inspected === 1 ? 'sha256:old 1' : 'sha256:new 2' };
    if (argv[1] === 'run') return { stdout: 'v20.19.2' };
    return {};
  });
  await ensureBuilder({ logDir: scratchDir('d2d-b-'), rebuild: true }, runner);
  assert.deepEqual(calls[calls.length - 1], ['docker', 'rmi', 'sha256:old']);
});

test('builder node too old: the image is removed and the error says what is needed', async () => {
  const { calls, runner } = recorder((argv) => (argv[1] === 'image' ? { status: 1 } : argv[1] === 'run' ? { stdout: 'v18.20.4' } : {}));
  await assert.rejects(ensureBuilder({ logDir: scratchDir('d2d-b-') }, runner), (e: unknown) => e instanceof D2DError && e.code === 'E_BUILDER_NODE' && /v18\.20\.4.*>=20\.19/.test(e.message));
  assert.deepEqual(calls[calls.length - 1], ['docker', 'rmi', TAG]);
});

test('builder image missing and no mmdebstrap: says what is needed; nothing is run', async () => {
  const { calls, runner } = recorder(() => ({ status: 1 }), ['docker']);
  await assert.rejects(ensureBuilder({ logDir: scratchDir('d2d-b-') }, runner), (e: unknown) => e instanceof D2DError && e.exitCode === 4 && e.message.includes(TAG) && /apt-get install -y mmdebstrap/.test(e.hint ?? '') && /docker save/.test(e.hint ?? ''));
  assert.equal(calls.length, 1);
});

test('mmdebstrap fails for the builder: the stage and its log are named', async () => {
  const logDir = scratchDir('d2d-b-');
  const { runner } = recorder((argv) => (argv[0] === 'mmdebstrap' ? { fail: 'E: boom' } : { status: 1 }));
  await assert.rejects(ensureBuilder({ logDir }, runner), (e: unknown) => e instanceof StageError && e.stage === 'builder image' && e.logPath === join(logDir, 'builder.log') && /E: boom/.test(e.message));
});

test('docker preflight: missing client names docker.io; an engine that does not answer says so', async () => {
  await assert.rejects(dockerPreflight(recorder(() => ({}), []).runner), (e: unknown) => e instanceof MissingToolError && e.tools[0]!.pkg === 'docker.io' && e.exitCode === 4);
  const down = recorder(() => ({ fail: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' }));
  await assert.rejects(dockerPreflight(down.runner), (e: unknown) => e instanceof D2DError && e.code === 'E_DOCKER_ENGINE' && /not reachable.*Cannot connect/.test(e.message) && /service docker start/.test(e.hint ?? ''));
  assert.deepEqual(down.calls, [['docker', 'info', '--format', '{{.ServerVersion}}']]);
  assert.equal(await dockerPreflight(recorder(() => ({ stdout: '20.10.24\n' })).runner), '20.10.24');
});
