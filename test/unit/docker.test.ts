// The docker: section: the remote API is TLS-only, and nothing in daemon.json may open plain TCP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfigText } from '../../src/config/load.js';
import { problems } from './problems.js';
import { CRUN_PATH, makePlan } from '../../src/plan/plan.js';
import { pruneRules } from '../../src/plan/prune.js';


test('a tcp:// socket in daemon.json is refused at its line: no plain-TCP API', () => {
  const p = problems('docker:\n  daemon:\n    hosts: ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2375"]\n');
  assert.equal(p[0]!.path, 'docker.daemon.hosts');
  assert.equal(p[0]!.line, 3);
  assert.match(p[0]!.message, /plain TCP: use docker.remote-api/);
});

test('tlsverify: false in daemon.json is refused', () => {
  const p = problems('docker:\n  daemon:\n    tlsverify: false\n');
  assert.deepEqual([p[0]!.path, p[0]!.line], ['docker.daemon.tlsverify', 3]);
});

test('remote-api: port range and names are checked', () => {
  let p = problems('docker:\n  remote-api:\n    enabled: true\n    port: 70000\n');
  assert.deepEqual([p[0]!.path, p[0]!.line], ['docker.remote-api.port', 4]);
  p = problems('docker:\n  remote-api:\n    names: ["bad name"]\n');
  assert.deepEqual([p[0]!.path, p[0]!.line], ['docker.remote-api.names.0', 3]);
});

test('remote-api on: the plan adds openssl and records port and names; off by default', () => {
  const o = { outDir: '/o', configHash: 'h', sourceDateEpoch: 0 };
  const off = makePlan(loadConfigText(undefined).config, o);
  assert.equal(off.rootfs.remoteApi, null);
  assert.ok(!off.packages.includes('openssl'));
  const on = makePlan(loadConfigText('docker:\n  remote-api:\n    enabled: true\n    names: [box.lan, 192.168.1.5]\n', 'my.yaml').config, o);
  assert.deepEqual(on.rootfs.remoteApi, { port: 2376, names: ['box.lan', '192.168.1.5'] });
  assert.ok(on.packages.includes('openssl'));
});

const planOf = (yaml?: string) => makePlan(loadConfigText(yaml, yaml === undefined ? undefined : 'my.yaml').config, { outDir: '/o', configHash: 'h', sourceDateEpoch: 0 });
const pruned = (p: ReturnType<typeof planOf>): string[] => pruneRules(p).map((r) => r.path).filter((x) => /runc$/.test(x));

test('docker.runtime crun (the default): crun installed, the default runtime in daemon.json; runc stays installed, its program replaced by a link to crun', () => {
  const p = planOf();
  assert.ok(p.packages.includes('crun') && p.packages.includes('runc'), p.packages.join(' '));
  assert.deepEqual(p.rootfs.daemonJson, { 'storage-driver': 'overlay2', 'log-driver': 'local', 'default-runtime': 'crun', runtimes: { crun: { path: CRUN_PATH } } });
  assert.deepEqual(pruneRules(p).filter((r) => /runc$/.test(r.path)).map((r) => [r.path, r.linkTo]), [['usr/sbin/runc', '../bin/crun']]);
});

test('docker.runtime runc: no crun, daemon.json as the config gives it, runc kept', () => {
  const p = planOf('docker:\n  runtime: runc\n');
  assert.ok(!p.packages.includes('crun'));
  assert.deepEqual(p.rootfs.daemonJson, { 'storage-driver': 'overlay2', 'log-driver': 'local' });
  assert.deepEqual(pruned(p), []);
});

test("a default runtime the config's daemon.json names itself wins, and keeps runc's program when it is not crun", () => {
  const p = planOf('docker:\n  daemon:\n    default-runtime: runc\n');
  assert.equal(p.rootfs.daemonJson['default-runtime'], 'runc');
  assert.deepEqual(p.rootfs.daemonJson.runtimes, { crun: { path: CRUN_PATH } }, 'crun is still there to choose');
  assert.deepEqual(pruned(p), []);
});

test('docker.runtime: an unknown runtime is refused at its line', () => {
  const p = problems('docker:\n  runtime: youki\n');
  assert.deepEqual([p[0]!.path, p[0]!.line], ['docker.runtime', 2]);
});
