// The kernel sources: config -> plan, the argv of every tool call, and the
// parsers the kernel stage decides with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, loadConfigText } from '../../src/config/load.js';
import { makePlan } from '../../src/plan/plan.js';
import { describeKernelSource } from '../../src/plan/kernel.js';
import { aptGetArgv, kernelRequest, kernelSourceStanza, parseAptSources, updateKernelSourceArgv, KERNEL_SOURCES_FILE } from '../../src/tools/apt.js';
import { extractArgv, fieldsArgv, missingKernelDeps, parseFields, relationNames } from '../../src/tools/dpkgdeb.js';
import { bzImageRelease, looksLikeDeb } from '../../src/formats/bzimage.js';
import { DEB_HEAD, fakeBzImage, kernelFixtures } from './fixtures.js';

function planOf(dir: string, yaml: string) {
  writeFileSync(join(dir, 'k.yaml'), yaml);
  const l = loadConfig(join(dir, 'k.yaml'));
  return makePlan(l.config, { outDir: '/o', configHash: l.hash, sourceDateEpoch: 1700000000 });
}

test('kernel source: the default is the tailored kernel, compiled from linux-source-6.12 with no user fragments', () => {
  const l = loadConfigText(undefined);
  const p = makePlan(l.config, { outDir: '/o', configHash: l.hash, sourceDateEpoch: 1 });
  assert.deepEqual(p.kernel.source, { kind: 'build', package: 'linux-source-6.12', suite: 'trixie', fragments: [], features: [] });
});

test('kernel source: desktop sessions get Debian\'s kernel unless a file names one; a lone suite means Debian\'s package from it', () => {
  const desktop = 'images: [{tag: "me/desk:1", debian: {packages: [xterm]}, cmd: [xterm]}]\ndesktop:\n  sessions: [{name: main, image: "me/desk:1"}]\n';
  const source = (yaml: string): unknown => {
    const l = loadConfigText(yaml);
    return makePlan(l.config, { outDir: '/o', configHash: l.hash, sourceDateEpoch: 1 }).kernel.source;
  };
  assert.deepEqual(source(desktop), { kind: 'package', package: 'linux-image-amd64', suite: 'trixie', extraSuite: undefined });
  assert.deepEqual(source(`${desktop}kernel:\n  build: linux-source-6.12\n`), { kind: 'build', package: 'linux-source-6.12', suite: 'trixie', fragments: [], features: [] });
  assert.deepEqual(source('kernel:\n  suite: trixie-backports\n'), { kind: 'package', package: 'linux-image-amd64', suite: 'trixie-backports', extraSuite: 'trixie-backports' });
  assert.equal(describeKernelSource(makePlan(loadConfigText('kernel: {package: linux-image-amd64}\n').config, { outDir: '/o', configHash: 'x', sourceDateEpoch: 1 }).kernel.source), 'package linux-image-amd64 from trixie');
});

test('kernel source: package from another suite adds that suite; naming debian.suite adds nothing', () => {
  const d = kernelFixtures();
  assert.deepEqual(planOf(d, 'kernel:\n  package: linux-image-cloud-amd64\n  suite: trixie-backports\n').kernel.source, {
    kind: 'package',
    package: 'linux-image-cloud-amd64',
    suite: 'trixie-backports',
    extraSuite: 'trixie-backports',
  });
  const same = planOf(d, 'kernel:\n  package: linux-image-cloud-amd64\n  suite: trixie\n').kernel.source;
  assert.ok(same.kind === 'package' && same.extraSuite === undefined);
  // A lone suite modifies the inherited package.
  assert.deepEqual(planOf(d, 'debian:\n  suite: bookworm\nkernel:\n  suite: bookworm-backports\n').kernel.source, {
    kind: 'package',
    package: 'linux-image-amd64',
    suite: 'bookworm-backports',
    extraSuite: 'bookworm-backports',
  });
});

test('kernel source: local .debs, resolved next to the config file, replace the default package', () => {
  const d = kernelFixtures();
  const p = planOf(d, 'kernel:\n  deb:\n    - linux-image-cloud-amd64_6.1.1-1_amd64.deb\n    - linux-image-6.1.0-9-cloud-amd64_6.1.1-1_amd64.deb\n  modules: [wireguard]\n');
  assert.deepEqual(p.kernel.source, { kind: 'deb', debs: [join(d, 'linux-image-cloud-amd64_6.1.1-1_amd64.deb'), join(d, 'linux-image-6.1.0-9-cloud-amd64_6.1.1-1_amd64.deb')] });
  assert.ok(p.kernel.modules.required.includes('wireguard'), 'kernel.modules still applies');
  assert.equal(describeKernelSource(p.kernel.source), 'local files linux-image-cloud-amd64_6.1.1-1_amd64.deb, linux-image-6.1.0-9-cloud-amd64_6.1.1-1_amd64.deb');
});

test('kernel source: a kernel image with its modules folder', () => {
  const d = kernelFixtures();
  const p = planOf(d, 'kernel:\n  vmlinuz: vmlinuz\n  modules_tree: lib/modules/6.1.0-test\n');
  assert.deepEqual(p.kernel.source, { kind: 'files', vmlinuz: join(d, 'vmlinuz'), modulesTree: join(d, 'lib/modules/6.1.0-test') });
});

test('kernel source through extends: the last file that names a kernel wins as a whole', () => {
  const d = kernelFixtures();
  writeFileSync(join(d, 'base.yaml'), 'kernel:\n  package: linux-image-rt-amd64\n  suite: trixie-backports\n');
  writeFileSync(join(d, 'local.yaml'), 'extends: base.yaml\nkernel:\n  vmlinuz: vmlinuz\n  modules_tree: lib/modules/6.1.0-test\n');
  assert.equal(loadConfig(join(d, 'local.yaml')).config.kernel.suite, undefined, 'the inherited suite goes with the inherited package');
  writeFileSync(join(d, 'pkg.yaml'), 'extends: local.yaml\nkernel:\n  package: linux-image-cloud-amd64\n');
  const k = loadConfig(join(d, 'pkg.yaml')).config.kernel;
  assert.deepEqual([k.package, k.suite, k.vmlinuz, k.modules_tree], ['linux-image-cloud-amd64', undefined, undefined, undefined]);
});

test('apt argv for the kernel: simulate and download in the image root, the extra suite pinned, its index alone refreshed', () => {
  assert.equal(kernelRequest('linux-image-amd64', undefined), 'linux-image-amd64');
  assert.equal(kernelRequest('linux-image-cloud-amd64', 'trixie-backports'), 'linux-image-cloud-amd64/trixie-backports');
  assert.deepEqual(aptGetArgv('/r', ['-s', 'install', 'linux-image-cloud-amd64/trixie-backports']), ['chroot', '/r', 'apt-get', '-y', '--no-install-recommends', '-s', 'install', 'linux-image-cloud-amd64/trixie-backports']);
  assert.deepEqual(updateKernelSourceArgv('/r'), [
    'chroot', '/r', 'apt-get', '-y', '--no-install-recommends',
    '-o', 'Dir::Etc::SourceList=/etc/apt/sources.list.d/d2d-kernel.sources', '-o', 'Dir::Etc::SourceParts=-', '-o', 'APT::Get::List-Cleanup=0', 'update',
  ]);
  assert.ok(KERNEL_SOURCES_FILE.endsWith('.sources'), 'deb822, so an inline Signed-By key can be copied');
  for (const argv of [aptGetArgv('/r', ['update']), updateKernelSourceArgv('/r')]) assert.ok(!argv.some((a) => /AllowInsecure|AllowUnauthenticated|trusted|allow-insecure/i.test(a)), argv.join(' '));
});

test('the kernel suite takes the mirror, components and keys of the image\'s main suite (mmdebstrap one-line sources)', () => {
  const src = parseAptSources([
    { name: 'sources.list', text: 'deb http://mirror.invalid/debian trixie main contrib\ndeb http://mirror.invalid/debian trixie-updates main\n# deb http://x.invalid/debian trixie main\ndeb http://security.invalid/debian-security trixie-security main\n' },
  ]);
  assert.equal(src.length, 3);
  assert.equal(kernelSourceStanza(src, 'trixie', 'trixie-backports'), 'Types: deb\nURIs: http://mirror.invalid/debian\nSuites: trixie-backports\nComponents: main contrib\n');
  assert.equal(kernelSourceStanza(src, 'bookworm', 'bookworm-backports'), undefined, 'no source of the main suite: nothing to derive from');
});

test('the kernel suite from deb822 sources: Signed-By kept (inline keys too), trusted=yes never copied', () => {
  const src = parseAptSources([
    { name: 'debian.sources', text: 'Types: deb\nURIs: http://mirror.invalid/debian\nSuites: trixie trixie-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb-src\nURIs: http://mirror.invalid/debian\nSuites: trixie\nComponents: main\n' },
    { name: 'local.list', text: 'deb [trusted=yes signed-by=/k.gpg] file:///srv/repo trixie main\n' },
    { name: 'inline.sources', text: 'Types: deb\nURIs: http://other.invalid/debian\nSuites: sid\nComponents: main\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n abc\n' },
  ]);
  assert.equal(src.length, 3, 'deb-src stanzas are not sources of packages');
  assert.equal(
    kernelSourceStanza(src, 'trixie', 'trixie-backports'),
    'Types: deb\nURIs: http://mirror.invalid/debian\nSuites: trixie-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: file:///srv/repo\nSuites: trixie-backports\nComponents: main\nSigned-By: /k.gpg\n',
  );
  assert.match(kernelSourceStanza(src, 'sid', 'experimental')!, /^Signed-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n \.\n abc$/m);
});

test('dpkg-deb argv: unpack and read control fields', () => {
  assert.deepEqual(extractArgv('/d/k.deb', '/w/kernel'), ['dpkg-deb', '-x', '/d/k.deb', '/w/kernel']);
  assert.deepEqual(fieldsArgv('/d/k.deb'), ['dpkg-deb', '-f', '/d/k.deb', 'Package', 'Version', 'Depends', 'Provides']);
});

test('local .debs: every kernel package a deb depends on must be given too', () => {
  const meta = parseFields('/d/meta.deb', 'Package: linux-image-cloud-amd64\nVersion: 6.1.1-1\nDepends: linux-image-6.1.0-9-cloud-amd64 (= 6.1.1-1)\n');
  const image = parseFields('/d/img.deb', 'Package: linux-image-6.1.0-9-cloud-amd64\nVersion: 6.1.1-1\nDepends: kmod, linux-base (>= 4.3~), initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool\n');
  assert.deepEqual(meta, { file: '/d/meta.deb', package: 'linux-image-cloud-amd64', version: '6.1.1-1', depends: 'linux-image-6.1.0-9-cloud-amd64 (= 6.1.1-1)', provides: '' });
  const missing = missingKernelDeps([meta]);
  assert.equal(missing.length, 1);
  assert.equal(missing[0]!.needs, 'linux-image-6.1.0-9-cloud-amd64');
  assert.deepEqual(missingKernelDeps([meta, image]), [], 'kmod, linux-base and initramfs tools are not needed: nothing is installed');
  // Split kernels (linux-image + linux-modules), folded fields and Provides.
  const split = parseFields('/d/k.deb', 'Package: linux-image-6.8.0-1-generic\nVersion: 6.8.0-1.1\nDepends: linux-modules-6.8.0-1-generic,\n linux-base\n');
  assert.deepEqual(relationNames(split.depends), [['linux-modules-6.8.0-1-generic'], ['linux-base']]);
  assert.equal(missingKernelDeps([split]).length, 1);
  const mods = parseFields('/d/m.deb', 'Package: kali-modules\nVersion: 1\nProvides: linux-modules-6.8.0-1-generic (= 6.8.0-1.1)\n');
  assert.deepEqual(missingKernelDeps([split, mods]), []);
});

test('bzImage release string and .deb header', () => {
  assert.equal(bzImageRelease(fakeBzImage('6.12.38+deb13-cloud-amd64')), '6.12.38+deb13-cloud-amd64');
  assert.equal(bzImageRelease(Buffer.alloc(0x1000)), undefined, 'no HdrS magic');
  const noVersion = fakeBzImage('x');
  noVersion.writeUInt16LE(0, 0x20e);
  assert.equal(bzImageRelease(noVersion), undefined);
  assert.equal(bzImageRelease(Buffer.from('short')), undefined);
  assert.ok(looksLikeDeb(DEB_HEAD));
  assert.ok(!looksLikeDeb(Buffer.from('!<arch>\nother.o         ')));
});
