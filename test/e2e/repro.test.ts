// Reproducible builds and the stage cache (issue 7). The default config built
// twice with the same SOURCE_DATE_EPOCH — once from the stage cache, once with
// --no-cache — gives the same ISO, kernel and initrd, byte for byte, and the
// same manifest apart from the stage durations it records (the one field that
// is about the build, not the image). And a config that differs from the
// default by its files is rebuilt from the cached root file system, and boots
// with those files.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { testImageReport } from '../../src/commands/test.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { join } from 'node:path';
import { cli, E2E_DIR, e2eDir, REPRO_SDE, scratchDir, SKIP } from './helpers.js';
import type { CacheReport } from '../../src/commands/cache.js';

const SDE = REPRO_SDE;
/** core.test's default build, made with the same SOURCE_DATE_EPOCH (when it ran first, as in npm test). */
const CORE = join(E2E_DIR, 'core'); // core.test's build, read only
const NAME = 'debian2docker';

function manifestWithoutDurations(dir: string): string {
  const m = JSON.parse(readFileSync(join(dir, `${NAME}.manifest.json`), 'utf8')) as Record<string, unknown>;
  delete m.stages;
  return JSON.stringify(m, null, 1);
}

const SCENARIO = join(PACKAGE_ROOT, 'test/e2e/scenarios/rebuild.sh');

interface StageManifest {
  stages: Record<string, number>;
  artifacts: Record<string, { sha256: string }>;
}

const readManifest = (dir: string, name = NAME): StageManifest => JSON.parse(readFileSync(join(dir, `${name}.manifest.json`), 'utf8')) as StageManifest;

describe('reproducible build', { skip: SKIP }, () => {
  test('two builds of the default config, one from the caches and one with --no-cache, are bit-identical', { timeout: 40 * 60000 }, async (t) => {
    const coreManifest = join(CORE, `${NAME}.manifest.json`);
    const reuse = existsSync(coreManifest) && String((JSON.parse(readFileSync(coreManifest, 'utf8')) as { sourceDateEpoch?: number }).sourceDateEpoch) === SDE;
    // repro-1 uses the caches (after core.test, its root file system comes from the stage cache); repro-2 uses none.
    const dirs = [e2eDir('repro-1'), e2eDir('repro-2'), ...(reuse ? [CORE] : [])];
    for (const [i, d] of dirs.slice(0, 2).entries()) {
      rmSync(d, { recursive: true, force: true });
      const r = await cli(['build', '-o', d, ...(i === 1 ? ['--no-cache'] : [])], { env: { SOURCE_DATE_EPOCH: SDE } });
      assert.equal(r.status, 0, r.stderr);
    }
    const [cached, full] = [readManifest(dirs[0]!), readManifest(dirs[1]!)];
    assert.ok(!('rootfs (cached)' in full.stages) && 'rootfs' in full.stages, '--no-cache built the root file system');
    // After core.test this build normally takes its root from the stage cache. Not asserted: if Debian published
    // a package update in between, the key rightly differs (the next test asserts a hit a minute apart).
    if (reuse) t.diagnostic(`root file system ${'rootfs (cached)' in cached.stages ? 'from the stage cache' : 'built anew: no entry for its key (package versions or this tool\'s code changed since core.test, or the entry was evicted)'}`);
    for (const d of dirs.slice(1)) {
      const other = readManifest(d);
      for (const kind of ['iso', 'kernel', 'initrd']) assert.equal(other.artifacts[kind]!.sha256, cached.artifacts[kind]!.sha256, `${kind} differs between ${dirs[0]} and ${d}`);
      assert.equal(manifestWithoutDurations(d), manifestWithoutDurations(dirs[0]!));
    }
  });

  test('a config that changes only files is rebuilt from the cached root file system, and boots with them', { timeout: 30 * 60000 }, async () => {
    const out = e2eDir('rebuild');
    rmSync(out, { recursive: true, force: true });
    mkdirSync(join(out, 'bin'), { recursive: true });
    writeFileSync(join(out, 'bin/hello'), '#!/bin/sh\necho "hello from the files layer"\n');
    const config = (probe: string): string =>
      `files:\n  - {path: /etc/d2d-rebuild-probe, content: "${probe}\\n"}\n  - {path: /opt/d2d-rebuild/bin, source: bin}\n  - {path: /opt/d2d-rebuild/bin/hello, source: bin/hello, mode: "0750", owner: "nobody:nogroup"}\n`;
    // Two rounds: the first may have to build the root file system (when this test runs alone); the second changes
    // the probe file only, so its root file system must come from the cache.
    for (const probe of ['first', 'second']) {
      writeFileSync(join(out, 'rebuild.yaml'), config(probe));
      const r = await cli(['build', join(out, 'rebuild.yaml'), '-o', join(out, probe)], { env: { SOURCE_DATE_EPOCH: SDE } });
      assert.equal(r.status, 0, r.stderr);
    }
    const second = readManifest(join(out, 'second'));
    assert.ok('rootfs (cached)' in second.stages && !('rootfs' in second.stages), `the second build reused the root file system: ${JSON.stringify(second.stages)}`);
    assert.notEqual(second.artifacts.initrd!.sha256, readManifest(join(out, 'first')).artifacts.initrd!.sha256, 'the changed file changed the initrd');
    const report = await testImageReport(join(out, 'second', `${NAME}.kernel`), { scenario: SCENARIO, files: { 'expected-content': 'second' }, consoleLog: join(out, 'console.log') });
    for (const x of report.results) assert.ok(x.ok, `check '${x.name}' failed: ${x.detail}`);
    assert.match(report.results.find((x) => x.name === 'scenario')?.detail ?? '', /ok: a new folder, a script with mode 0750/);
  });

  test('cache info shows the root stage the rebuild just used; cache clean removes what it is asked to, and only that', { timeout: 10 * 60000 }, async () => {
    const info = async (env?: Record<string, string>): Promise<CacheReport> => {
      const r = await cli(['cache', 'info', '--json'], { env, quiet: true });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as CacheReport;
    };
    const real = await info();
    assert.ok(real.packages.files > 50, `the builds filled the package cache: ${real.packages.files} packages`);
    const newest = real.stages.entries[0];
    assert.ok(newest && Date.now() - newest.lastUsed < 15 * 60000, `the rebuild's restore marked its root stage used: ${JSON.stringify(newest)}`);
    // Cleaning is tried on a scratch cache (XDG_CACHE_HOME) holding copies of that root stage and of two cached
    // packages, one of them made 40 days stale: the caches the other tests use stay as they are.
    const x = scratchDir('d2d-cachecli-');
    const env = { XDG_CACHE_HOME: x };
    cpSync(join(real.stages.dir, newest.key), join(x, 'debian2docker/stages', newest.key), { recursive: true });
    mkdirSync(join(x, 'debian2docker/apt'), { recursive: true });
    const [stale, fresh] = readdirSync(real.packages.dir).filter((f) => f.endsWith('.deb')).sort((a, b) => statSync(join(real.packages.dir, a)).size - statSync(join(real.packages.dir, b)).size);
    for (const f of [stale!, fresh!]) copyFileSync(join(real.packages.dir, f), join(x, 'debian2docker/apt', f));
    const longAgo = new Date(Date.now() - 40 * 86400_000);
    utimesSync(join(x, 'debian2docker/apt', stale!), longAgo, longAgo);
    const some = await cli(['cache', 'clean', '--older-than', '30'], { env, quiet: true });
    assert.equal(some.status, 0, some.stderr);
    assert.match(some.stdout, /removed 1 package not used for 30 days/);
    assert.match(some.stdout, /removed 0 root stages not used for 30 days/);
    const after = await info(env);
    assert.deepEqual([after.packages.files, after.stages.entries.map((e) => e.key)], [1, [newest.key]]);
    const all = await cli(['cache', 'clean'], { env, quiet: true });
    assert.match(all.stdout, /removed 1 package \(/);
    assert.match(all.stdout, /removed 1 root stage \(\d+ MB\)/);
    const empty = await info(env);
    assert.deepEqual([empty.packages.files, empty.stages.entries.length], [0, 0]);
    assert.ok(existsSync(join(real.stages.dir, newest.key)), 'the real stage cache is untouched');
    const bad = await cli(['cache', 'clean', '--older-than', 'soon'], { env, quiet: true });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--older-than <days>.*'soon' is invalid.*a number of days/);
  });
});
