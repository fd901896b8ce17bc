// Bad input through the real CLI: each gives a clear message naming the thing
// at fault, a documented exit code, and nothing at the output path.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { aptVersion } from '../../src/stages/preflight.js';
import { cli, onlyLogsLeft, scratchDir, SKIP, visible, workLeft } from './helpers.js';

const tmp = (): string => scratchDir('d2d-bad-');
/** A PATH holding node and nothing else: every host tool is missing. */
function nodeOnlyPath(): string {
  const d = tmp();
  symlinkSync(process.execPath, join(d, 'node'));
  return d;
}

describe('bad input (no build needed)', () => {
  test('invalid config: key, problem and file:line; exit 3', async () => {
    const d = tmp();
    const f = join(d, 'bad.yaml');
    writeFileSync(f, 'name: ok\nboot:\n  timeout: soon\n  cmdlne: quiet\n');
    const r = await cli(['validate', f], { quiet: true });
    assert.equal(r.status, 3);
    assert.match(r.stderr, new RegExp(`${f}:3:\\d+: boot.timeout: `));
    assert.match(r.stderr, new RegExp(`${f}:4:\\d+: boot.cmdlne: unknown key 'cmdlne' \\(did you mean 'cmdline'\\?\\)`));
    const b = await cli(['build', f, '-o', join(d, 'out')], { quiet: true });
    assert.equal(b.status, 3);
    assert.deepEqual(visible(join(d, 'out')), []);
  });

  test('missing host tool: the tool, its package and the apt-get line; exit 4', async () => {
    const d = tmp();
    // A PATH with node only: every build tool is missing.
    const r = await cli(['build', '-o', join(d, 'out')], { env: { PATH: nodeOnlyPath() }, quiet: true });
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /missing host tools: 'mmdebstrap' \(package mmdebstrap\)/);
    assert.match(r.stderr, /apt-get install -y mmdebstrap .*xorriso/);
    assert.deepEqual(visible(join(d, 'out')), []);
  });

  test('doctor reports missing tools with the apt-get line; exit 4', async () => {
    const r = await cli(['doctor'], { env: { PATH: nodeOnlyPath() }, quiet: true });
    assert.equal(r.status, 4);
    assert.match(r.stdout, /MISSING xorriso/);
    assert.match(r.stdout, /apt-get install -y .*xorriso/);
  });

  test('bad command line: exit 2', async () => {
    const r = await cli(['test', 'no-such.iso', '--firmware', 'coreboot'], { quiet: true });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /coreboot/);
  });
});

/** Build `yaml` into a fresh folder; the result, and the artifacts left at the output path. */
async function buildWith(yaml: string, extra: string[] = []): Promise<{ r: Awaited<ReturnType<typeof cli>>; left: string[]; out: string }> {
  const d = tmp();
  writeFileSync(join(d, 'c.yaml'), yaml);
  const r = await cli(['build', join(d, 'c.yaml'), '-o', join(d, 'out'), ...extra], { quiet: true });
  return { r, left: visible(join(d, 'out')), out: join(d, 'out') };
}

describe('debian.snapshot on a host whose APT is older than 2.7', () => {
  const apt = aptVersion(execFileSync('apt-get', ['--version'], { encoding: 'utf8' }));
  const old = apt !== undefined && (apt[0]! < 2 || (apt[0] === 2 && apt[1]! < 7));
  test('refused before anything is built (an old apt would silently install today\'s packages); exit 4', { skip: old ? false : `host APT ${apt?.join('.')} supports snapshots` }, async () => {
    const { r, left } = await buildWith('debian:\n  snapshot: 20251101T000000Z\n');
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /debian\.snapshot needs APT 2\.7 or newer on the build host; this one has 2\.\d+/);
    assert.match(r.stderr, /--in-docker/);
    assert.deepEqual(left, []);
  });
});

describe('bad input (through mmdebstrap)', { skip: SKIP }, () => {
  test('unknown Debian package: named; exit 3; no artifact', { timeout: 10 * 60000 }, async () => {
    const { r, left, out } = await buildWith('packages: [d2d-no-such-package]\n');
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /unknown Debian package in trixie: d2d-no-such-package/);
    // Found while the cache key is computed (the simulated install), before mmdebstrap runs.
    assert.match(r.stderr, /log: .*cache-key\.log/);
    assert.deepEqual(left, []);
    assert.ok(onlyLogsLeft(out), `the work folder keeps its logs only: ${workLeft(out).join(' ')}`);
  });

  test('mirror unreachable: said plainly; exit 6', { timeout: 10 * 60000 }, async () => {
    // Nothing listens on 127.0.0.1:9 (discard): connection refused, no traffic leaves the machine.
    const { r, left } = await buildWith('debian:\n  mirror: http://127.0.0.1:9/debian\n', ['--no-cache']);
    assert.equal(r.status, 6, r.stderr);
    assert.match(r.stderr, /the Debian mirror is unreachable/);
    assert.deepEqual(left, []);
  });

  // Ctrl-C at three moments of a build, each chosen by waiting for the line the build prints there: the
  // cache key being computed (a simulated apt install), mmdebstrap downloading packages, and the root
  // being packed inside mmdebstrap's hook. --no-cache for the last two, so the root stage really runs.
  for (const [moment, line, extra] of [
    ['computing the cache key', /^==> cache-key$/m, []],
    ['while mmdebstrap works', /rootfs: (downloading packages|extracting archives)/, ['--no-cache']],
    ['while the root is packed', /rootfs: pack$/m, ['--no-cache']],
  ] as const) {
    test(`Ctrl-C ${moment}: exit 130, log path printed, nothing at the output path`, { timeout: 10 * 60000 }, async () => {
      const d = tmp();
      let pid = 0;
      let sent = false;
      // As a terminal would: SIGINT to the whole process group, the moment the line is printed.
      const p = cli(['build', '-o', join(d, 'out'), ...extra], {
        onSpawn: (x) => (pid = x),
        onStderr: (all) => {
          if (!sent && line.test(all)) {
            sent = true;
            process.kill(-pid, 'SIGINT');
          }
        },
        quiet: true,
      });
      const r = await p;
      assert.ok(sent, `the build never printed ${line} (exit ${r.status}):\n${r.stderr}`);
      assert.equal(r.status, 130, r.stderr);
      assert.match(r.stderr, /interrupted \(SIGINT\)/);
      assert.match(r.stderr, /logs of the interrupted build: .*logs/);
      assert.deepEqual(visible(join(d, 'out')), []);
    });
  }
});

describe('a failing hook (through mmdebstrap)', { skip: SKIP }, () => {
  test('fails the build, names the hook, shows its output; no artifact', { timeout: 10 * 60000 }, async () => {
    const { r, left, out } = await buildWith('hooks:\n  after-packages:\n    - |\n      echo "hook says: disk on fire"\n      exit 7\n');
    assert.equal(r.status, 5, r.stderr);
    assert.match(r.stderr, /hooks\.after-packages\[0\] \("echo "hook says: disk on fire""\) failed \(exit status 7\)/);
    assert.match(r.stderr, /hook says: disk on fire/);
    assert.deepEqual(left, []);
    // The root file system was built and the kernel unpacked before the hook ran: none of it stays behind.
    assert.ok(onlyLogsLeft(out), `the work folder keeps its logs only: ${workLeft(out).join(' ')}`);
    assert.match(r.stderr, /the failed build's logs are in .*logs \(--keep-work keeps the whole work folder\)/);
  });
});
