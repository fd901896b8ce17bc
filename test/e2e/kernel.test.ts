// End to end: images with a kernel other than the default (local .debs, a vmlinuz and its
// modules), built with the real tools and booted in QEMU (network boot: kernel + initrd, the
// cheapest boot).
// The guest must run exactly the kernel the manifest names, with its modules.
// Each build is kept small and fast (zstd level 3); each boot is one TCG boot.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testImageReport } from '../../src/commands/test.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { cli, e2eDir, onlyLogsLeft, scratchDir, SKIP, workLeft } from './helpers.js';

interface KernelManifest {
  kernel: {
    source: { kind: string; package?: string; suite?: string; version?: string; aptSource?: string; debs?: { file: string; sha256: string; package: string; version: string }[]; vmlinuz?: unknown; modulesTree?: string };
    version: string;
    modules: string[];
  };
  debian: { sources: string[] };
}

const SCENARIO = join(PACKAGE_ROOT, 'test/e2e/scenarios/kernel.sh');
const FAST = 'initramfs:\n  compression: zstd\n  level: 3\n';

async function buildAndRead(out: string, yaml: string): Promise<KernelManifest> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'kernel.yaml'), yaml);
  const r = await cli(['build', join(out, 'kernel.yaml'), '-o', out]);
  assert.equal(r.status, 0, `build failed:\n${r.stderr}`);
  return JSON.parse(readFileSync(join(out, 'd2d-kernel.manifest.json'), 'utf8')) as KernelManifest;
}

/** Boot kernel + initrd; the in-guest scenario compares `uname -r` with the manifest's release. */
async function bootAndCheck(out: string, release: string): Promise<void> {
  const r = await testImageReport(join(out, 'd2d-kernel.kernel'), { scenario: SCENARIO, files: { 'expected-kernel': release }, consoleLog: join(out, 'console.log') });
  for (const x of r.results) assert.ok(x.ok, `check '${x.name}' failed: ${x.detail}`);
  const scenario = r.results.find((x) => x.name === 'scenario');
  assert.ok(scenario, 'the scenario ran');
  assert.match(scenario.detail, new RegExp(`ok: running kernel ${release.replace(/[.+]/g, '\\$&')}`));
  assert.ok(r.ok);
}

// A kernel from another suite (trixie-backports) is built and booted by test/e2e/images.test.ts, whose
// image carries it beside the preloaded images: one build and two boots serve both.

/**
 * The host's own cloud kernel as local .debs (metapackage + image package), downloaded once with
 * `apt-get download` into the e2e cache: a .deb the way a user, or a distribution like Kali, hands one over.
 */
function hostCloudKernelDebs(): { dir: string; image: string; files: string[] } {
  const dir = e2eDir('kernel-debs');
  mkdirSync(dir, { recursive: true });
  const deps = execFileSync('apt-cache', ['depends', '--important', 'linux-image-cloud-amd64'], { encoding: 'utf8' });
  const image = /Depends: (linux-image-\S+)/.exec(deps)?.[1];
  assert.ok(image, `apt-cache depends linux-image-cloud-amd64 names no image package:\n${deps}`);
  if (!readdirSync(dir).some((f) => f.startsWith(`${image}_`))) execFileSync('apt-get', ['download', 'linux-image-cloud-amd64', image], { cwd: dir, stdio: 'pipe' });
  const files = readdirSync(dir).filter((f) => f.endsWith('.deb') && (f.startsWith('linux-image-cloud-amd64_') || f.startsWith(`${image}_`)));
  assert.equal(files.length, 2, files.join(', '));
  return { dir, image, files };
}

describe('kernel from local .deb files (downloaded on the host with apt-get download)', { skip: SKIP }, () => {
  const out = e2eDir('kernel-deb');

  test('builds from the metapackage and the image package it depends on; the manifest has their sha256; the guest runs it', { timeout: 30 * 60000 }, async () => {
    const { dir: debs, image, files } = hostCloudKernelDebs();
    const yaml = `name: d2d-kernel\n${FAST}kernel:\n  deb:\n${files.map((f) => `    - ${join(debs, f)}\n`).join('')}`;

    // The metapackage alone is refused, naming the package it lacks.
    const lone = scratchDir('d2d-kdeb-');
    writeFileSync(join(lone, 'k.yaml'), `name: d2d-kernel\n${FAST}kernel:\n  deb: [${join(debs, files.find((f) => f.startsWith('linux-image-cloud-amd64_'))!)}]\n`);
    const r = await cli(['build', join(lone, 'k.yaml'), '-o', join(lone, 'out')], { quiet: true });
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, new RegExp(`kernel\\.deb lacks kernel packages its files depend on:\\n\\s+linux-image-cloud-amd64 \\(linux-image-cloud-amd64_\\S+\\.deb\\) depends on ${image.replace(/[.+]/g, '\\$&')}`));
    assert.ok(!existsSync(join(lone, 'out', 'd2d-kernel.iso')));

    const m = await buildAndRead(out, yaml);
    const src = m.kernel.source;
    assert.equal(src.kind, 'deb');
    assert.equal(src.debs?.length, 2);
    for (const d of src.debs!) assert.equal(d.sha256, createHash('sha256').update(readFileSync(d.file)).digest('hex'), d.file);
    assert.ok(src.debs!.some((d) => d.package === image));
    assert.equal(m.kernel.version, image.replace(/^linux-image-/, ''));
    await bootAndCheck(out, m.kernel.version);
  });
});

describe('kernel from a vmlinuz and its modules folder', { skip: SKIP }, () => {
  const out = e2eDir('kernel-files');

  test('builds with that exact kernel image and its modules (the same kernel the .deb test boots)', { timeout: 15 * 60000 }, async () => {
    const { dir, image } = hostCloudKernelDebs();
    const release = image.replace(/^linux-image-/, '');
    const tree = e2eDir('kernel-tree');
    rmSync(tree, { recursive: true, force: true });
    execFileSync('dpkg-deb', ['-x', join(dir, readdirSync(dir).find((f) => f.startsWith(`${image}_`))!), tree]);
    // Debian up to 6.x: /boot/vmlinuz-V and /lib/modules/V; 7.x: /usr/lib/modules/V/{vmlinuz,...}.
    const vmlinuz = [join(tree, 'boot', `vmlinuz-${release}`), join(tree, 'usr/lib/modules', release, 'vmlinuz')].find(existsSync)!;
    const modules = [join(tree, 'lib/modules', release), join(tree, 'usr/lib/modules', release)].find(existsSync)!;
    assert.ok(vmlinuz && modules, `no kernel image or modules for ${release} in ${tree}`);
    const m = await buildAndRead(out, `name: d2d-kernel\n${FAST}kernel:\n  vmlinuz: ${vmlinuz}\n  modules_tree: ${modules}\n`);
    const sha = createHash('sha256').update(readFileSync(vmlinuz)).digest('hex');
    assert.deepEqual(m.kernel.source, { kind: 'files', vmlinuz: { file: vmlinuz, sha256: sha }, modulesTree: modules });
    assert.equal(m.kernel.version, release);
    assert.equal(createHash('sha256').update(readFileSync(join(out, 'd2d-kernel.kernel'))).digest('hex'), sha, 'NAME.kernel is the given image');
    for (const mod of ['overlay', 'br_netfilter', 'nf_tables']) assert.ok(m.kernel.modules.some((f) => f.endsWith(`/${mod}.ko`)), `module ${mod}`);
  });
});

describe('kernel: bad input through a real build', { skip: SKIP }, () => {
  async function failingBuild(yaml: string): Promise<{ status: number | null; stderr: string; left: string[] }> {
    const d = scratchDir('d2d-kbad-');
    writeFileSync(join(d, 'c.yaml'), yaml);
    const r = await cli(['build', join(d, 'c.yaml'), '-o', join(d, 'out')], { quiet: true });
    const left = existsSync(join(d, 'out')) ? readdirSync(join(d, 'out')).filter((f) => !f.startsWith('.')) : [];
    assert.ok(onlyLogsLeft(join(d, 'out')), `the failed build's work folder keeps its logs only: ${workLeft(join(d, 'out')).join(' ')}`);
    return { status: r.status, stderr: r.stderr, left };
  }

  test('a required module the kernel lacks: the module and the kernel are named; exit 5; no artifact', { timeout: 10 * 60000 }, async () => {
    const r = await failingBuild('kernel:\n  package: linux-image-amd64\n  modules: [no_such_module_xyz]\n');
    assert.equal(r.status, 5, r.stderr);
    assert.match(r.stderr, /stage 'modules' failed: kernel \d+\.\d+\S*-amd64 \(package linux-image-amd64 from trixie\) lacks required module\(s\): no_such_module_xyz \(listed in kernel\.modules\)/);
    assert.match(r.stderr, /log: .*modules\.log/);
    assert.deepEqual(r.left, []);
  });

  test('a kernel suite the mirror does not have: named; exit 3; no artifact', { timeout: 10 * 60000 }, async () => {
    const r = await failingBuild('kernel:\n  suite: trixie-no-such-suite\n');
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /stage 'kernel' failed: kernel\.suite 'trixie-no-such-suite' is not on the mirror/);
    assert.deepEqual(r.left, []);
  });
});
