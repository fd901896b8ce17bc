// The settings files rendered into the image come from the plan alone (src/render/settings.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfigText } from '../../src/config/load.js';
import { makePlan } from '../../src/plan/plan.js';
import { identityFiles, renderSettings } from '../../src/render/settings.js';

const plan = (yaml?: string) => {
  const l = loadConfigText(yaml);
  return makePlan(l.config, { outDir: '/o', configHash: l.hash, sourceDateEpoch: 1700000000 });
};
const INITTAB = '::sysinit:/usr/lib/d2d/rc.sysinit\n::respawn:/usr/lib/d2d/console-shell tty1\n';
const byPath = (yaml?: string) => new Map(renderSettings(plan(yaml), INITTAB).map((f) => [f.path, f]));

test('the default image: host name, daemon.json, persistence; no images, remote API or desktop settings', () => {
  const files = byPath();
  assert.equal(files.get('etc/hostname')?.text, 'debian2docker\n');
  assert.deepEqual(JSON.parse(files.get('etc/docker/daemon.json')!.text), plan().rootfs.daemonJson);
  assert.ok(files.has('etc/d2d/persist.conf'));
  for (const absent of ['etc/d2d/boot-images', 'etc/d2d/remote-api', 'etc/inittab']) assert.ok(!files.has(absent), absent);
  assert.ok(!byPath('persistence: {enabled: false}').has('etc/d2d/persist.conf'));
});

test('persist.conf carries the config defaults (the scripts only stand in for them)', () => {
  const conf = byPath().get('etc/d2d/persist.conf')!.text;
  assert.match(conf, /^PBKDF_MEMORY=65536$/m);
  assert.match(conf, /^WAIT=10$/m);
  // Which build this is: the files layer's identity file, not persist.conf (the root stage's key leaves it out).
  assert.doesNotMatch(conf, /^(BUILD|NAME|VOLID)=/m);
  const id = identityFiles(plan()).find((f) => f.path === 'etc/d2d/build')!.text;
  assert.match(id, /^BUILD=[0-9a-f]{64}$/m);
  assert.match(id, /^VOLID=DEBIAN2DOCKER$/m);
  assert.ok(!byPath().has('etc/d2d/build') && !byPath().has('etc/d2d-release'), 'not among the root stage\'s settings');
});

test('authorized keys are readable by root only', () => {
  const f = byPath('ssh: {enabled: true, authorized_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBz2b1 me@host"]}');
  assert.equal(f.get('root/.ssh/authorized_keys')?.mode, 0o600);
  assert.equal(f.get('root/.ssh/authorized_keys')?.dirMode, 0o700, 'sshd wants the folder closed to others');
  assert.match(f.get('etc/ssh/sshd_config.d/d2d.conf')!.text, /^PasswordAuthentication no$/m);
});
