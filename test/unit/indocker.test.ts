// build --in-docker: the docker command lines (exact argv), the folders the
// container sees, the builder image's inputs and tag, and the give-back chown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binds, builderPackages, builderTag, dockerInfoArgv, importArgv, killArgv, runArgv, BUILDER_SUITE } from '../../src/tools/docker.js';
import { innerArgs, satisfiesEngines, wantedBinds } from '../../src/commands/indocker.js';
import { chownTree } from '../../src/indocker-entry.js';
import { D2DError } from '../../src/errors.js';
import { HOST_TOOLS } from '../../src/tools/hosttools.js';

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

test('wantedBinds: checkout read-only, config folders and referenced files, output and cache writable', () => {
  const b = wantedBinds({
    packageRoot: '/opt/d2d',
    sources: ['/home/u/cfg/base.yaml', '/home/u/cfg/my.yaml'],
    referenced: [
      { path: '/home/u/shared/motd', isDir: false },
      { path: '/home/u/tree', isDir: true },
    ],
    outDir: '/home/u/out',
    cacheDir: '/home/u/.cache/debian2docker/apt',
  });
  assert.deepEqual(b, [
    { path: '/home/u/.cache/debian2docker/apt', writable: true },
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
  const d = mkdtempSync(join(tmpdir(), 'd2d-chown-'));
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
