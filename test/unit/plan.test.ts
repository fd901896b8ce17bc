import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfigText } from '../../src/config/load.js';
import { makePlan } from '../../src/plan/plan.js';
import { moduleSets } from '../../src/plan/modules.js';

const plan = (yaml?: string) => {
  const l = loadConfigText(yaml);
  return makePlan(l.config, { outDir: '/o', configHash: l.hash, sourceDateEpoch: 1700000000 });
};

test('default plan: artifacts, packages, module sets', () => {
  const p = plan();
  assert.deepEqual(p.artifacts, { iso: '/o/debian2docker.iso', kernel: '/o/debian2docker.kernel', initrd: '/o/debian2docker.initrd', manifest: '/o/debian2docker.manifest.json', images: '/o/debian2docker.images', raw: '/o/debian2docker.raw', qcow2: '/o/debian2docker.qcow2' });
  assert.deepEqual([p.formats, p.diskBytes], [['iso'], null]);
  for (const pkg of ['docker.io', 'docker-cli', 'containerd', 'runc', 'iptables', 'busybox-static', 'kmod']) assert.ok(p.packages.includes(pkg), pkg);
  assert.deepEqual(p.packages, [...p.packages].sort());
  assert.ok(!p.packages.includes('zstd'));
  assert.ok(p.packages.includes('xzdec'), 'stage 1 decodes the xz payload with xzdec');
  assert.ok(p.kernel.modules.required.includes('overlay'));
  assert.ok(p.kernel.modules.required.includes('br_netfilter'));
  assert.ok(p.kernel.modules.optional.includes('r8169'));
  assert.equal(p.iso.volid, 'DEBIAN2DOCKER');
});

test('boot entries: default and verbose share the command line', () => {
  const p = plan();
  assert.deepEqual(p.boot.entries.map((e) => e.id), ['default', 'verbose', 'no-persistence', 'factory-reset']);
  assert.equal(p.boot.entries[0]!.cmdline, 'console=tty0 console=ttyS0,115200 quiet');
  assert.equal(p.boot.entries[1]!.cmdline, 'console=tty0 console=ttyS0,115200 loglevel=7 d2d.debug=1');
  assert.equal(p.boot.entries[2]!.cmdline, 'console=tty0 console=ttyS0,115200 quiet d2d.persist=off');
  assert.equal(p.boot.entries[3]!.cmdline, 'console=tty0 console=ttyS0,115200 quiet d2d.factory-reset');
});

test('persistence: on by default with its packages and paths; off removes them and their boot entries', () => {
  const on = plan('persistence:\n  data: [/srv/www/]\n');
  assert.ok(['cryptsetup-bin', 'e2fsprogs', 'fdisk', 'dosfstools'].every((x) => on.packages.includes(x)));
  assert.deepEqual(on.persistence?.data, ['/var/lib/docker', '/var/lib/containerd', '/home', '/data', '/srv/www']);
  assert.deepEqual(on.persistence?.settings, ['/root', '/etc/docker', '/etc/ssh', '/var/lib/d2d/tls']);
  assert.equal(on.persistence?.pbkdfMemoryKiB, 65536);
  const off = plan('persistence:\n  enabled: false\n');
  assert.equal(off.persistence, null);
  assert.ok(!off.packages.includes('cryptsetup-bin'));
  assert.deepEqual(off.boot.entries.map((e) => e.id), ['default', 'verbose']);
});

test('zstd compression brings zstd into the image for stage 1', () => {
  const p = plan('initramfs:\n  compression: zstd\n  level: 19\n');
  assert.ok(p.packages.includes('zstd'));
});

test('user packages and modules are added, not duplicated', () => {
  const p = plan('packages: [htop, bash]\nkernel:\n  modules: [wireguard]\n');
  assert.equal(p.packages.filter((x) => x === 'bash').length, 1);
  assert.ok(p.packages.includes('htop'));
  assert.ok(p.kernel.modules.required.includes('wireguard'));
  const s = moduleSets([]);
  assert.equal(new Set([...s.required, ...s.optional]).size, s.required.length + s.optional.length);
});

test('swarm mode is in every image: overlay (vxlan), the routing mesh (ip_vs) and encrypted overlays (xfrm, esp) are required', () => {
  const { required, optional } = moduleSets([]);
  for (const m of ['vxlan', 'ip_vs', 'xt_ipvs', 'xfrm_user', 'esp4']) assert.ok(required.includes(m), m);
  for (const m of ['ip_vs_rr', 'xt_policy', 'xt_u32', 'gcm', 'macvlan']) assert.ok(optional.includes(m), m);
});

test('extra boot entries follow the built-in ones, in order', () => {
  const p = plan('boot:\n  entries:\n    - title: serial only\n      cmdline: " console=ttyS0 "\n    - title: "two"\n      cmdline: quiet\n');
  assert.deepEqual(
    p.boot.entries.slice(4),
    [
      { id: 'extra-1', title: 'serial only', cmdline: 'console=ttyS0' },
      { id: 'extra-2', title: 'two', cmdline: 'quiet' },
    ],
  );
});

test('prune rules: relative paths, each with a reason, none that the engine runs', async () => {
  const { PRUNE_RULES } = await import('../../src/plan/prune.js');
  for (const r of PRUNE_RULES) {
    assert.ok(!r.path.startsWith('/'), r.path);
    assert.ok(r.why.length > 20, r.path);
  }
  const paths = PRUNE_RULES.map((r) => r.path);
  for (const needed of ['usr/sbin/dockerd', 'usr/bin/containerd', 'usr/bin/containerd-shim-runc-v2', 'usr/sbin/runc', 'usr/bin/docker', 'usr/bin/tini-static', 'usr/bin/docker-init']) assert.ok(!paths.includes(needed), needed);
  const { PRUNE_PACKAGES } = await import('../../src/plan/prune.js');
  for (const p of PRUNE_PACKAGES) assert.ok(p.why.length > 10, p.name);
  // The engine's own packages and what the init scripts run are never candidates.
  for (const keep of ['docker.io', 'docker-cli', 'containerd', 'runc', 'iptables', 'kmod', 'busybox-static', 'iproute2', 'bash', 'libc6', 'tini']) {
    assert.ok(!PRUNE_PACKAGES.some((p) => p.name === keep), keep);
  }
});
