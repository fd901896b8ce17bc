// End to end: the tailored kernel (kernel.build), compiled from Debian's linux-source package in a
// throwaway root, cached, and booted. A fragment asking for an option whose dependencies are off
// fails the build before the compile, naming the fragment's line; the image built with the
// kernel boots to Docker, and moby's check-config.sh finds everything Docker and Swarm need, built in.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testImageReport } from '../../src/commands/test.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { cli, e2eDir, onlyLogsLeft, SKIP } from './helpers.js';
import { TAILORED_KERNEL_BUDGET_BYTES } from '../../src/plan/kernelBuild.js';

const FAST = 'initramfs:\n  compression: zstd\n  level: 3\n';
const CHECK_CONFIG = '/usr/share/docker.io/contrib/check-config.sh';

interface BuildManifest {
  kernel: { version: string; source: { kind: string; package: string; version: string; key: string; configSha256: string; builtin: string[]; modular: string[] }; modules: string[] };
  artifacts: Record<string, { bytes: number }>;
  stages: Record<string, number>;
}

// Not in the default run yet: the compile takes minutes of both cores, more than the suite's 30-minute
// target has room for until the tailored kernel is the default (issue 17) and every boot gets faster with it.
// D2D_E2E_KERNEL_BUILD=1 runs it (npm run test:kernel-build).
const RUN = process.env.D2D_E2E_KERNEL_BUILD === '1' ? SKIP : 'set D2D_E2E_KERNEL_BUILD=1 (compiles a kernel: minutes)';

describe('kernel compiled from Debian\'s source (kernel.build)', { skip: RUN }, () => {
  const out = e2eDir('kernel-build');

  test('a fragment option with unmet dependencies fails before the compile, naming file:line; exit 3', { timeout: 20 * 60000 }, async () => {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'gpu.config'), '# the Intel GPU, without DRM\nCONFIG_DRM_I915=y\n');
    writeFileSync(join(out, 'bad.yaml'), `name: d2d-kb\n${FAST}kernel:\n  build: linux-source-6.12\n  fragments: [gpu.config]\n`);
    const r = await cli(['build', join(out, 'bad.yaml'), '-o', join(out, 'bad')], { quiet: true });
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /stage 'kernel-build' failed: the kernel configuration lost 1 requested option\(s\)/);
    assert.match(r.stderr, new RegExp(`${join(out, 'gpu.config').replace(/[.]/g, '\\.')}:2: CONFIG_DRM_I915=y requested, the configuration has it off`));
    assert.ok(onlyLogsLeft(join(out, 'bad')));
    const log = readFileSync(join(out, 'bad', '.d2d-work', 'd2d-kb', 'logs', 'kernel-build.log'), 'utf8');
    assert.doesNotMatch(log, /^ {2}CC {6}init\/main\.o$/m, 'nothing was compiled');
  });

  test('compiled once and cached; the image boots it; check-config.sh finds Docker\'s and Swarm\'s needs built in', { timeout: 60 * 60000 }, async () => {
    writeFileSync(join(out, 'k.yaml'), `name: d2d-kb\n${FAST}kernel:\n  build: linux-source-6.12\n`);
    const r = await cli(['build', join(out, 'k.yaml'), '-o', join(out, 'img')]);
    assert.equal(r.status, 0, r.stderr);
    // Compiled, or taken from the kernel cache when this machine compiled the same kernel before.
    assert.match(r.stderr, /kernel-build: compile: 100% \(\d+ files\) in \d+ s|kernel-build: \S+-d2d from the kernel cache/);
    const m = JSON.parse(readFileSync(join(out, 'img', 'd2d-kb.manifest.json'), 'utf8')) as BuildManifest;
    const src = m.kernel.source;
    assert.equal(src.kind, 'build');
    assert.equal(src.package, 'linux-source-6.12');
    assert.match(src.version, /^6\.12\./);
    assert.match(m.kernel.version, /^6\.12\.\d+-d2d$/);
    for (const d of ['overlay', 'br_netfilter', 'vxlan', 'ip_vs', 'dm-crypt', 'virtio_net', 'ahci']) assert.ok(src.builtin.includes(d), `${d} built in: ${src.builtin.length} drivers`);
    assert.deepEqual(src.modular, []);
    assert.deepEqual(m.kernel.modules, [], 'no module files in the image');
    const kernelBytes = statSync(join(out, 'img', 'd2d-kb.kernel')).size;
    assert.ok(kernelBytes <= TAILORED_KERNEL_BUDGET_BYTES, `bzImage ${kernelBytes} bytes, over its budget of ${TAILORED_KERNEL_BUDGET_BYTES}`);

    // Another hostname: the root stage is built again, the kernel comes from the kernel cache in seconds.
    writeFileSync(join(out, 'k2.yaml'), `name: d2d-kb\n${FAST}hostname: kb2\nkernel:\n  build: linux-source-6.12\n`);
    const again = await cli(['build', join(out, 'k2.yaml'), '-o', join(out, 'img2')]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, new RegExp(`kernel-build: ${m.kernel.version} from the kernel cache \\(${src.key}\\)`));
    const m2 = JSON.parse(readFileSync(join(out, 'img2', 'd2d-kb.manifest.json'), 'utf8')) as BuildManifest;
    assert.equal(m2.kernel.source.configSha256, src.configSha256);
    assert.deepEqual(readFileSync(join(out, 'img2', 'd2d-kb.kernel')), readFileSync(join(out, 'img', 'd2d-kb.kernel')));

    assert.ok(existsSync(CHECK_CONFIG), `${CHECK_CONFIG} (docker.io) is needed on the host`);
    const t = await testImageReport(join(out, 'img', 'd2d-kb.kernel'), {
      scenario: join(PACKAGE_ROOT, 'test/e2e/scenarios/kernel-build.sh'),
      files: { 'expected-kernel': m.kernel.version, 'check-config.sh': readFileSync(CHECK_CONFIG, 'utf8') },
      consoleLog: join(out, 'console.log'),
    });
    for (const x of t.results) assert.ok(x.ok, `check '${x.name}' failed: ${x.detail}`);
    assert.match(t.results.find((x) => x.name === 'scenario')!.detail, /check-config\.sh: every generally necessary option/);
  });
});
