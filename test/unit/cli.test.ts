// The command line of `build` and `test` (src/cli.ts) with the API replaced by recording fakes: which
// options reach the API, what --json prints on stdout (one document, nothing else), and the exit
// statuses; then main.ts itself for failures with --json (a bad config or a bad flag: nothing is built).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CommanderError } from 'commander';
import { exitOf, makeProgram, type CliApi } from '../../src/cli.js';
import { planFor } from '../../src/commands/build.js';
import { cmdlineFor } from '../../src/commands/test.js';
import { D2DError } from '../../src/errors.js';
import { buildResult, testResult } from '../../src/results.js';
import type { Manifest } from '../../src/stages/manifest.js';
import type { BuildPlan } from '../../src/plan/plan.js';
import type { TestReport } from '../../src/commands/test.js';
import { CLI_ENTRY } from '../../src/paths.js';
import { scratchDir } from '../support/scratch.js';

const MANIFEST = {
  schema: 1,
  tool: { name: 'debian2docker', version: '0.0.1' },
  name: 'debian2docker',
  sourceDateEpoch: 1700000000,
  kernel: { version: '6.12.38-amd64' },
  artifacts: { iso: { file: 'debian2docker.iso', bytes: 3, sha256: 'e'.repeat(64) } },
  stages: { total: 12 },
} as unknown as Manifest;

function writeManifest(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(MANIFEST));
}

/** A program whose API records its calls; `out` collects what would go to stdout. */
function fake(o: { report?: TestReport; inDockerStatus?: number } = {}): { api: CliApi; calls: { fn: string; args: unknown[] }[]; out: string[] } {
  const calls: { fn: string; args: unknown[] }[] = [];
  const out: string[] = [];
  const api: CliApi = {
    build: async (opts) => {
      calls.push({ fn: 'build', args: [opts] });
      const manifestPath = join(opts.outDir, 'debian2docker.manifest.json');
      writeManifest(manifestPath);
      return { plan: {} as BuildPlan, manifestPath };
    },
    buildInDocker: async (opts) => {
      calls.push({ fn: 'buildInDocker', args: [opts] });
      // The container writes where the host's plan says, as the real one does (same-path binds).
      if ((o.inDockerStatus ?? 0) === 0) writeManifest(planFor(opts).plan.artifacts.manifest);
      return o.inDockerStatus ?? 0;
    },
    testImageReport: async (image, opts) => {
      calls.push({ fn: 'testImageReport', args: [image, opts] });
      return o.report ?? { ok: true, accel: 'tcg', readySeconds: 30, results: [{ name: 'docker ready', ok: true, detail: 'ok', seconds: 1 }] };
    },
    out: (text) => out.push(text),
  };
  return { api, calls, out };
}

const run = async (api: CliApi, args: string[]): Promise<number | undefined> => {
  const p = makeProgram(api);
  await p.parseAsync(args, { from: 'user' });
  return exitOf(p);
};

test('build: the options reach the API; without --json nothing goes to stdout', async () => {
  const f = fake();
  const out = scratchDir('d2d-cli-');
  await run(f.api, ['build', 'my.yaml', '-o', out, '--no-cache', '--keep-work', '--rebuild-kernel']);
  assert.deepEqual(f.calls, [{ fn: 'build', args: [{ config: 'my.yaml', outDir: out, noCache: true, keepWork: true, rebuildKernel: true, outputs: { formats: ['iso'], diskBytes: null } }] }]);
  assert.deepEqual(f.out, []);
});

test('build --format and --disk-size reach the API as the outputs; a bad format stops before it (exit 2)', async () => {
  const f = fake();
  const out = scratchDir('d2d-cli-');
  await run(f.api, ['build', '-o', out, '--format', 'iso,qcow2', '--disk-size', '2G']);
  assert.deepEqual(f.calls, [{ fn: 'build', args: [{ config: undefined, outDir: out, noCache: false, keepWork: undefined, rebuildKernel: undefined, outputs: { formats: ['iso', 'qcow2'], diskBytes: 2 * 2 ** 30 } }] }]);
  const g = fake();
  await assert.rejects(run(g.api, ['build', '--format', 'vhd']), (e: Error & { exitCode?: number }) => /unknown format 'vhd'/.test(e.message) && e.exitCode === 2);
  assert.deepEqual(g.calls, []);
});

test('build --json: exactly one JSON document on stdout, the one buildResult makes from the manifest', async () => {
  const f = fake();
  const out = scratchDir('d2d-cli-');
  assert.equal(await run(f.api, ['build', '--json', '-o', out]), undefined);
  assert.equal(f.out.length, 1);
  const manifestPath = join(out, 'debian2docker.manifest.json');
  assert.deepEqual(JSON.parse(f.out[0]!), buildResult(MANIFEST, manifestPath));
  assert.equal(JSON.parse(f.out[0]!).artifacts.iso.path, join(out, 'debian2docker.iso'));
  assert.deepEqual((f.calls[0]?.args[0] as { noCache: boolean }).noCache, false);
});

test('build --in-docker --json: the document from the manifest the container wrote; its failure is an error with its status', async () => {
  const out = scratchDir('d2d-cli-');
  const ok = fake();
  await run(ok.api, ['build', '--in-docker', '--json', '-o', out]);
  assert.equal(ok.calls[0]?.fn, 'buildInDocker');
  assert.equal(JSON.parse(ok.out[0]!).manifest, planFor({ outDir: out }).plan.artifacts.manifest);

  const failed = fake({ inDockerStatus: 5 });
  await assert.rejects(run(failed.api, ['build', '--in-docker', '--json', '-o', out]), (e: unknown) => e instanceof D2DError && e.code === 'E_IN_DOCKER' && e.exitCode === 5);
  assert.deepEqual(failed.out, []);
  // Without --json the status is passed on as before, with no error of its own.
  assert.equal(await run(fake({ inDockerStatus: 5 }).api, ['build', '--in-docker', '-o', out]), 5);
});

test('test --json: one document with every check; a failed check exits 1 and is not an error', async () => {
  const report: TestReport = { ok: false, accel: 'tcg', readySeconds: 50, results: [{ name: 'docker ready', ok: true, detail: 'ok', seconds: 2 }, { name: 'bridge network', ok: false, detail: 'no address', seconds: 4 }] };
  const f = fake({ report });
  assert.equal(await run(f.api, ['test', 'out/x.iso', '--json', '--firmware', 'uefi', '--timeout', '99']), 1);
  assert.deepEqual(JSON.parse(f.out.join('')), testResult('out/x.iso', report));
  const [image, opts] = f.calls[0]!.args as [string, Record<string, unknown>];
  assert.equal(image, 'out/x.iso');
  assert.equal(opts.firmware, 'uefi');
  assert.equal(opts.timeout, '99');
  assert.equal(opts.accel, 'auto');
  assert.equal(opts.bootFrom, 'cdrom');
});

test('test without --json: the verdict is the exit status only', async () => {
  const f = fake();
  assert.equal(await run(f.api, ['test', 'x.iso']), 0);
  assert.deepEqual(f.out, []);
});

test('usage errors are thrown as commander errors (main.ts: exit 2), before the API is called', async () => {
  for (const args of [
    ['build', '--rebuild-builder', '--json'],
    ['build', '--app-text'],
    ['build', '--in-docker', '--format', 'iso,raw'],
    ['build', '--bogus'],
    ['test', 'x.iso', '--firmware', 'coreboot', '--json'],
    ['test', '--json'],
  ]) {
    const f = fake();
    const p = makeProgram(f.api);
    // Commander's own message would go to this test's stderr: kept quiet here.
    p.configureOutput({ writeErr: () => undefined });
    for (const c of p.commands) c.configureOutput({ writeErr: () => undefined });
    await assert.rejects(p.parseAsync(args, { from: 'user' }), CommanderError, args.join(' '));
    assert.deepEqual(f.calls, [], args.join(' '));
  }
});

/** The real entry point, as the bin runs it. */
function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI_ENTRY, ...args], { encoding: 'utf8', timeout: 30000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('main: with --json a failure prints one error document on stdout and the human message on stderr', () => {
  const d = scratchDir('d2d-cli-');
  const bad = join(d, 'bad.yaml');
  writeFileSync(bad, 'bogus: 1\n');
  // The config is read before anything is built: this stops there.
  const r = cli(['build', bad, '--json', '-o', join(d, 'out')]);
  assert.equal(r.status, 3);
  const doc = JSON.parse(r.stdout) as { error: { code: string; exitCode: number; hint: string; problems: { path: string; line: number }[] } };
  assert.equal(doc.error.code, 'E_CONFIG');
  assert.equal(doc.error.exitCode, 3);
  assert.deepEqual(doc.error.problems.map((p) => [p.path, p.line]), [['bogus', 1]]);
  assert.match(r.stderr, /invalid configuration/);
  assert.match(r.stderr, /unknown key 'bogus'/);

  const usage = cli(['build', '--json', '--bogus']);
  assert.equal(usage.status, 2);
  assert.equal((JSON.parse(usage.stdout) as { error: { code: string } }).error.code, 'E_USAGE');
  assert.match(usage.stderr, /unknown option '--bogus'/);
});

test('main: without --json a failure writes nothing on stdout', () => {
  const d = scratchDir('d2d-cli-');
  writeFileSync(join(d, 'bad.yaml'), 'bogus: 1\n');
  const r = cli(['build', join(d, 'bad.yaml'), '-o', join(d, 'out')]);
  assert.equal(r.status, 3);
  assert.equal(r.stdout, '');
  assert.equal(cli(['build', '--bogus']).stdout, '');
});

test('test -p HOST:GUEST (repeatable): the forwards reach the API; a bad one stops before any boot', async () => {
  const f = fake();
  await run(f.api, ['test', 'x.iso', '-p', '8080:80', '-p', '2222:22']);
  const opts = f.calls[0]!.args[1] as { forwards: unknown };
  assert.deepEqual(opts.forwards, [
    { hostPort: 8080, guestPort: 80 },
    { hostPort: 2222, guestPort: 22 },
  ]);
  const g = fake();
  await assert.rejects(run(g.api, ['test', 'x.iso', '-p', '8080']), /-p 8080: give HOST:GUEST/);
  assert.deepEqual(g.calls, []);
});

test('test: the kernel command line comes from a build\'s manifest, never from a disk image that has none', () => {
  const d = mkdtempSync(join(tmpdir(), 'd2d-cmdline-'));
  try {
    writeFileSync(join(d, 'disk.img'), 'not json at all');
    assert.equal(cmdlineFor(join(d, 'disk.img')), 'console=tty0 console=ttyS0,115200 quiet');
    writeFileSync(join(d, 'x.manifest.json'), JSON.stringify({ config: { normalised: { boot: { cmdline: 'console=ttyS0 custom' } } } }));
    assert.equal(cmdlineFor(join(d, 'x.kernel')), 'console=ttyS0 custom');
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
