// The JSON documents of `build --json`, `test --json` and of a failure with --json (src/results.ts):
// their exact shapes, since scripts read them with jq. README "Machine-readable output" documents them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommanderError } from 'commander';
import { buildResult, errorResult, testResult, wantsJson } from '../../src/results.js';
import { ConfigError, D2DError, ExitCode, InterruptedError, MissingToolError, StageError } from '../../src/errors.js';
import type { Manifest } from '../../src/stages/manifest.js';
import type { TestReport } from '../../src/commands/test.js';

/** The parts of a manifest the document reads; the rest is irrelevant to it. */
function fakeManifest(over: Partial<Manifest> = {}): Manifest {
  return {
    schema: 1,
    tool: { name: 'debian2docker', version: '9.8.7' },
    name: 'demo',
    sourceDateEpoch: 1700000000,
    kernel: { version: '6.12.38-amd64' },
    artifacts: {
      iso: { file: 'demo.iso', bytes: 1000, sha256: 'a'.repeat(64) },
      kernel: { file: 'demo.kernel', bytes: 200, sha256: 'b'.repeat(64) },
      initrd: { file: 'demo.initrd', bytes: 700, sha256: 'c'.repeat(64) },
    },
    stages: { preflight: 0.5, total: 321.25 },
    ...over,
  } as unknown as Manifest;
}

test('build document: every artifact with its path beside the manifest, size and sha256', () => {
  assert.deepEqual(buildResult(fakeManifest(), '/srv/out/demo.manifest.json'), {
    ok: true,
    name: 'demo',
    version: '9.8.7',
    manifest: '/srv/out/demo.manifest.json',
    sourceDateEpoch: 1700000000,
    kernel: '6.12.38-amd64',
    artifacts: {
      iso: { path: '/srv/out/demo.iso', bytes: 1000, sha256: 'a'.repeat(64) },
      kernel: { path: '/srv/out/demo.kernel', bytes: 200, sha256: 'b'.repeat(64) },
      initrd: { path: '/srv/out/demo.initrd', bytes: 700, sha256: 'c'.repeat(64) },
    },
    seconds: 321.25,
  });
});

test('build document: the images initrd when there is one; seconds null when no total was recorded', () => {
  const m = fakeManifest({ stages: {} });
  m.artifacts.images = { file: 'demo.images', bytes: 5, sha256: 'd'.repeat(64) };
  const r = buildResult(m, 'out/demo.manifest.json');
  assert.deepEqual(Object.keys(r.artifacts), ['iso', 'kernel', 'initrd', 'images']);
  assert.equal(r.artifacts.images?.path, 'out/demo.images');
  assert.equal(r.seconds, null);
});

test('test document: each check with name, ok, detail and seconds; counts; null where nothing was measured', () => {
  const report: TestReport = {
    ok: false,
    accel: 'tcg',
    readySeconds: 41.5,
    results: [
      { name: 'docker ready', ok: true, detail: 'Server Version: 26.1.5', seconds: 1.25 },
      { name: 'container runs', ok: false, detail: 'exit 1', seconds: 3 },
      { name: 'guest', ok: false, detail: 'kernel oops' },
    ],
  };
  assert.deepEqual(testResult('out/demo.iso', report), {
    ok: false,
    image: 'out/demo.iso',
    accel: 'tcg',
    readySeconds: 41.5,
    passed: 1,
    total: 3,
    checks: [
      { name: 'docker ready', ok: true, detail: 'Server Version: 26.1.5', seconds: 1.25 },
      { name: 'container runs', ok: false, detail: 'exit 1', seconds: 3 },
      { name: 'guest', ok: false, detail: 'kernel oops', seconds: null },
    ],
  });
  const noBoot = testResult('x.iso', { ok: false, accel: 'kvm', results: [{ name: 'boot', ok: false, detail: 'boot failed: d2d: FATAL', seconds: 9 }] });
  assert.equal(noBoot.readySeconds, null);
  assert.equal(noBoot.passed, 0);
});

test('error document: code, message, hint and exit status of each kind of error', () => {
  const config = new ConfigError([{ file: 'my.yaml', line: 3, column: 1, path: 'boot.timeout', message: 'expected a number' }]);
  assert.deepEqual(errorResult(config), {
    error: {
      code: 'E_CONFIG',
      message: 'my.yaml:3:1: boot.timeout: expected a number',
      hint: config.hint,
      exitCode: ExitCode.config,
      problems: [{ file: 'my.yaml', line: 3, column: 1, path: 'boot.timeout', message: 'expected a number' }],
    },
  });
  const stage = errorResult(new StageError('rootfs', 'mmdebstrap exited with status 1', { logPath: '/w/logs/rootfs.log' }));
  assert.deepEqual(stage, { error: { code: 'E_STAGE', message: "stage 'rootfs' failed: mmdebstrap exited with status 1", hint: null, exitCode: ExitCode.stage, log: '/w/logs/rootfs.log' } });
  const tool = errorResult(new MissingToolError('xorriso', 'xorriso')).error;
  assert.equal(tool.code, 'E_MISSING_TOOL');
  assert.equal(tool.exitCode, ExitCode.missingTool);
  assert.match(tool.hint ?? '', /apt-get install -y xorriso/);
  assert.deepEqual(errorResult(new D2DError('E_X', 'plain', { exitCode: 6 })), { error: { code: 'E_X', message: 'plain', hint: null, exitCode: 6 } });
  assert.equal(errorResult(new InterruptedError('SIGINT')).error.exitCode, 130);
  assert.equal(errorResult(new InterruptedError('SIGTERM')).error.exitCode, 143);
});

test('error document: a usage error is E_USAGE, exit 2, without commander\'s "error: " prefix; anything else is E_INTERNAL', () => {
  const usage = errorResult(new CommanderError(1, 'commander.unknownOption', "error: unknown option '--bogus'")).error;
  assert.equal(usage.code, 'E_USAGE');
  assert.equal(usage.message, "unknown option '--bogus'");
  assert.equal(usage.exitCode, ExitCode.usage);
  const internal = errorResult(new TypeError('x is undefined')).error;
  assert.equal(internal.code, 'E_INTERNAL');
  assert.equal(internal.message, 'x is undefined');
  assert.equal(internal.exitCode, ExitCode.failure);
  // Every document is plain JSON: it survives a round trip unchanged.
  for (const e of [new Error('a'), 'a string thrown']) assert.deepEqual(JSON.parse(JSON.stringify(errorResult(e))), errorResult(e));
});

test('wantsJson: --json anywhere before a lone --', () => {
  assert.equal(wantsJson(['build', '--json']), true);
  assert.equal(wantsJson(['--verbose', 'test', 'x.iso', '--json', '--accel', 'tcg']), true);
  assert.equal(wantsJson(['build', 'my.yaml']), false);
  assert.equal(wantsJson(['build', '--', '--json']), false);
  assert.equal(wantsJson(['build', '--jsonx']), false);
});
