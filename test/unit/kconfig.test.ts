import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { modularSymbols, parseDotConfig, parseFragment, unmetRequests } from '../../src/formats/kconfig.js';
import { PACKAGE_ROOT } from '../../src/paths.js';

test('a fragment: values, "is not set", strings; comments skipped; a stray line names file:line', () => {
  const r = parseFragment('# why\nCONFIG_A=y\n\n# CONFIG_B is not set\nCONFIG_C="-d2d"\nCONFIG_D=0x10\n', 'x.config');
  assert.deepEqual(r.map((x) => [x.symbol, x.value, x.line]), [['A', 'y', 2], ['B', 'n', 4], ['C', '-d2d', 5], ['D', '0x10', 6]]);
  assert.throws(() => parseFragment('CONFIG_A=y\nCONFIG_B=y # trailing\n', 'x.config'), /x\.config:2: not a Kconfig line/);
  assert.throws(() => parseFragment('CONFIG_A=y\nCONFG_B=y\n', 'y.config'), /y\.config:2/);
  assert.throws(() => parseFragment('#CONFIG_E=y\n', 'z.config'), /z\.config:1/);
});

test('unmet requests: dropped, demoted and changed values are named with their fragment line; the last request wins', () => {
  const reqs = [
    ...parseFragment('CONFIG_A=y\nCONFIG_B=y\n# CONFIG_C is not set\nCONFIG_D=y\nCONFIG_S="x"\n', 'a.config'),
    ...parseFragment('CONFIG_D=n\n', 'b.config'),
  ];
  const dot = parseDotConfig('CONFIG_A=y\nCONFIG_B=m\nCONFIG_C=y\n# CONFIG_D is not set\nCONFIG_S="y"\n');
  const bad = unmetRequests(reqs, dot).map((m) => `${m.file}:${m.line} ${m.symbol} ${m.value}->${m.got}`);
  assert.deepEqual(bad, ['a.config:2 B y->m', 'a.config:3 C n->y', 'a.config:5 S x->y']);
  // "is not set" is met by an absent symbol too.
  assert.deepEqual(unmetRequests(parseFragment('# CONFIG_Z is not set\n', 'c'), dot), []);
  assert.deepEqual(modularSymbols(dot), ['B']);
});

// The tailored kernel's own fragments (target/kernel): every line parses, no symbol is asked twice
// with different values, and Docker's "generally necessary" list (moby's check-config.sh) and
// Swarm's needs are requested, built in.
test('the tailored kernel fragments ask for what Docker and Swarm need, built in', () => {
  const dir = join(PACKAGE_ROOT, 'target/kernel');
  const reqs = readdirSync(dir).filter((f) => f.endsWith('.config')).flatMap((f) => parseFragment(readFileSync(join(dir, f), 'utf8'), f));
  const seen = new Map<string, string>();
  for (const r of reqs) {
    const before = seen.get(r.symbol);
    assert.ok(before === undefined || before === r.value, `${r.file}:${r.line} ${r.symbol} asked as ${before} and ${r.value}`);
    seen.set(r.symbol, r.value);
  }
  const necessary = 'NAMESPACES NET_NS PID_NS IPC_NS UTS_NS CGROUPS CGROUP_CPUACCT CGROUP_DEVICE CGROUP_FREEZER CGROUP_SCHED CPUSETS MEMCG KEYS VETH BRIDGE BRIDGE_NETFILTER IP_NF_FILTER IP_NF_MANGLE IP_NF_TARGET_MASQUERADE IP6_NF_FILTER IP6_NF_MANGLE IP6_NF_TARGET_MASQUERADE NETFILTER_XT_MATCH_ADDRTYPE NETFILTER_XT_MATCH_CONNTRACK NETFILTER_XT_MATCH_IPVS NETFILTER_XT_MARK IP_NF_RAW IP_NF_NAT NF_NAT IP6_NF_RAW IP6_NF_NAT POSIX_MQUEUE CGROUP_BPF';
  const swarm = 'VXLAN BRIDGE_VLAN_FILTERING IP_VS IP_VS_NFCT IP_VS_PROTO_TCP IP_VS_PROTO_UDP IP_VS_RR XFRM_USER INET_ESP CRYPTO_GCM CRYPTO_SEQIV CRYPTO_GHASH NETFILTER_XT_MATCH_POLICY NETFILTER_XT_MATCH_BPF';
  const crypt = 'DM_CRYPT CRYPTO_AES_NI_INTEL CRYPTO_XTS OVERLAY_FS ISO9660_FS EXT4_FS';
  for (const s of `${necessary} ${swarm} ${crypt}`.split(' ')) assert.equal(seen.get(s), 'y', `CONFIG_${s}=y is not requested in target/kernel/*.config`);
  assert.deepEqual([...seen].filter(([, v]) => v === 'm'), [], 'nothing as a module');
});

test('kernel.build: the plan, the build root\'s argv (configure, verify, compile, copy out) and a key that follows the fragments', async () => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { loadConfigText } = await import('../../src/config/load.js');
  const { kernelSource } = await import('../../src/plan/kernel.js');
  const { mmdebstrapKernelArgv } = await import('../../src/tools/mmdebstrap.js');
  const { kernelKey, fragmentFiles, keyVersions } = await import('../../src/stages/kernelBuild.js');
  const src = kernelSource(loadConfigText('kernel:\n  build: linux-source-6.12\n').config);
  assert.deepEqual(src, { kind: 'build', package: 'linux-source-6.12', suite: 'trixie', fragments: [], features: [] });
  if (src.kind !== 'build') return;
  const argv = mmdebstrapKernelArgv({ mode: 'unshare', suite: 'trixie', mirror: '', components: ['main'], packages: ['linux-source-6.12', 'bc'], dir: '/tmp/d2d-kernel', copyIn: ['/w/build.sh', '/w/fragments'], verify: ['/usr/bin/node', '/p/kernel-verify.js'], out: '/c/.k.partial' });
  assert.ok(argv.includes('--variant=apt') && argv.includes('--mode=unshare') && argv.includes('--include=linux-source-6.12,bc'));
  assert.deepEqual(argv.filter((a) => a.startsWith('--customize-hook=')), [
    '--customize-hook=mkdir -p "$1"/tmp/d2d-kernel',
    '--customize-hook=copy-in /w/build.sh /w/fragments /tmp/d2d-kernel',
    '--customize-hook=chroot "$1" sh /tmp/d2d-kernel/build.sh config /tmp/d2d-kernel',
    '--customize-hook=/usr/bin/node /p/kernel-verify.js "$1"/tmp/d2d-kernel',
    '--customize-hook=chroot "$1" sh /tmp/d2d-kernel/build.sh compile /tmp/d2d-kernel',
    '--customize-hook=sync-out /tmp/d2d-kernel/out /c/.k.partial',
  ]);
  assert.deepEqual(argv.slice(-2), ['trixie', '/dev/null']);
  // Built-in fragments first, in merge order, then the user's; the key changes with a fragment's content or a version.
  const d = mkdtempSync(join(tmpdir(), 'd2d-kconfig-'));
  const mine = join(d, 'mine.config');
  writeFileSync(mine, 'CONFIG_WIREGUARD=y\n');
  const withMine = { ...src, fragments: [mine] };
  assert.deepEqual(fragmentFiles(withMine).map((f) => f.name).slice(0, 2), ['target/kernel/base.config', 'target/kernel/security.config']);
  assert.equal(fragmentFiles(withMine).at(-1)!.name, mine);
  const k1 = kernelKey(withMine, ['linux-source-6.12=6.12.118-1']).key;
  assert.equal(kernelKey(withMine, ['linux-source-6.12=6.12.118-1']).key, k1);
  assert.notEqual(kernelKey(withMine, ['linux-source-6.12=6.12.119-1']).key, k1);
  // What a builder container's mmdebstrap lists besides (other essential packages, some twice) does not change
  // the key; the compiler's version does.
  const host = ['linux-source-6.12=6.12.118-1', 'gcc-14=14.2.0-19', 'libc6=2.41-12', 'libstdc++6=14.2.0-19', 'make=4.4.1-2', 'bc=1.07.1-4'];
  const container = ['base-passwd=3.6.7', 'libc6=2.41-12', 'bc=1.07.1-4', 'gcc-14=14.2.0-19', 'libc6=2.41-12', 'linux-source-6.12', 'linux-source-6.12=6.12.118-1', 'make=4.4.1-2', 'makedev=2.3.1-97'];
  assert.deepEqual(keyVersions(withMine, container), ['bc=1.07.1-4', 'gcc-14=14.2.0-19', 'libc6=2.41-12', 'linux-source-6.12=6.12.118-1', 'make=4.4.1-2']);
  assert.equal(kernelKey(withMine, host).key, kernelKey(withMine, container).key);
  assert.notEqual(kernelKey(withMine, host.map((v) => v.replace('gcc-14=14.2.0-19', 'gcc-14=14.2.0-20'))).key, kernelKey(withMine, host).key);
  writeFileSync(mine, 'CONFIG_WIREGUARD=n\n');
  assert.notEqual(kernelKey(withMine, ['linux-source-6.12=6.12.118-1']).key, k1);
});
