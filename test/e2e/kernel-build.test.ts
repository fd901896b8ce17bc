// End to end: a user's fragment for the tailored kernel (kernel.build) asking for an option whose
// dependencies are off fails the build before the compile, naming the fragment's line. The default
// kernel itself (compiled once per machine, cached, booted, checked with moby's check-config.sh) is
// proven by the core test: it is the default image's kernel.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, e2eDir, onlyLogsLeft, SKIP } from './helpers.js';

const FAST = 'initramfs:\n  compression: zstd\n  level: 3\n';

describe('kernel compiled from Debian\'s source (kernel.build)', { skip: SKIP }, () => {
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
});
