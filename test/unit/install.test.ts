// The package as users get it: `npm pack`'s tarball installed into an empty prefix must give a working
// `debian2docker` command and an importable API, and carry every file the program reads at run time
// (src/paths.ts) and nothing of the tests or benchmarks. And a copy that was never built says so in
// one line instead of a stack trace.
//
// The tarball is packed with --ignore-scripts from the dist/ this test runs from (just built by
// `npm run build`): packing runs "prepare", which would rebuild dist/ under the other test files
// running now. The install takes the dependencies from npm's cache when it has them
// (--prefer-offline) and from the registry otherwise. About 10 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { VERSION } from '../../src/version.js';
import { scratchDir } from '../support/scratch.js';

function sh(argv: string[], cwd: string, timeoutS = 60): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, encoding: 'utf8', timeout: timeoutS * 1000, env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' } });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('npm pack + npm install -g: the installed command, its files and the API work', { timeout: 120000 }, async () => {
  const d = scratchDir('d2d-install-');
  const pack = sh(['npm', 'pack', '--ignore-scripts', '--json', '--pack-destination', d], PACKAGE_ROOT);
  assert.equal(pack.status, 0, pack.stderr);
  const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
  const files = info!.files.map((f) => f.path);
  for (const f of ['bin/debian2docker.js', 'dist/src/main.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/inside.js', 'dist/src/indocker-entry.js', 'src/config/default.yaml', 'target/stage1/init', 'package.json']) {
    assert.ok(files.includes(f), `the tarball lacks ${f}`);
  }
  const stray = files.filter((f) => /^dist\/(test|bench)\//.test(f) || f.endsWith('.map') || /^(src|test|bench)\/.*\.ts$/.test(f) || f.startsWith('node_modules/'));
  assert.deepEqual(stray, [], 'tests, benchmarks, sources or source maps in the tarball');

  const prefix = join(d, 'prefix');
  const inst = sh(['npm', 'install', '-g', '--prefix', prefix, '--prefer-offline', join(d, info!.filename)], d, 90);
  assert.equal(inst.status, 0, inst.stderr);
  const bin = join(prefix, 'bin', 'debian2docker');
  const root = join(prefix, 'lib', 'node_modules', 'debian2docker');

  const version = sh([bin, '--version'], d);
  assert.equal(version.status, 0, version.stderr);
  assert.equal(version.stdout.trim(), VERSION);
  const example = join(root, 'examples', 'minimal.yaml');
  const valid = sh([bin, 'validate', example], d);
  assert.equal(valid.status, 0, valid.stderr);
  assert.match(valid.stderr, /ok .*minimal\.yaml is valid/);
  const plan = sh([bin, 'plan', example, '-o', join(d, 'out')], d);
  assert.equal(plan.status, 0, plan.stderr);
  assert.equal((JSON.parse(plan.stdout) as { outDir: string }).outDir, join(d, 'out'));

  // Every file the program reads at run time, from where the installed copy looks for it.
  const paths = (await import(join(root, 'dist/src/paths.js'))) as typeof import('../../src/paths.js');
  assert.equal(paths.PACKAGE_ROOT.replace(/\/$/, ''), root);
  for (const f of [paths.DEFAULT_CONFIG, paths.CLI_ENTRY, join(paths.TARGET_DIR, 'stage1/init'), join(paths.TARGET_DIR, 'rootfs/usr/lib/d2d/rc.sysinit'), join(paths.PACKAGE_ROOT, 'dist/src/inside.js'), join(paths.PACKAGE_ROOT, 'dist/src/indocker-entry.js')]) {
    assert.ok(existsSync(f), `installed package lacks ${f}`);
  }
  // The image's scripts are copied with their modes (src/stages/overlay.ts): they must stay executable.
  assert.ok((statSync(join(paths.TARGET_DIR, 'stage1/init')).mode & 0o111) !== 0, 'target/stage1/init lost its executable bit');

  // The API through package.json "exports", as a dependent package imports it.
  writeFileSync(join(prefix, 'lib', 'api.mjs'), "import * as d2d from 'debian2docker';\nconst c = d2d.validate(process.argv[2]);\nprocess.stdout.write(JSON.stringify({ version: d2d.VERSION, build: typeof d2d.build, test: typeof d2d.testImageReport, name: c.name }));\n");
  const api = sh([process.execPath, join(prefix, 'lib', 'api.mjs'), example], d);
  assert.equal(api.status, 0, api.stderr);
  const got = JSON.parse(api.stdout) as { version: string; build: string; test: string; name: string };
  assert.deepEqual({ ...got, name: typeof got.name }, { version: VERSION, build: 'function', test: 'function', name: 'string' });
});

test('bin/debian2docker.js without dist/: one line that says to build, exit 1', () => {
  const d = scratchDir('d2d-nodist-');
  mkdirSync(join(d, 'bin'));
  copyFileSync(join(PACKAGE_ROOT, 'bin/debian2docker.js'), join(d, 'bin/debian2docker.js'));
  writeFileSync(join(d, 'package.json'), readFileSync(join(PACKAGE_ROOT, 'package.json')));
  const r = sh([process.execPath, join(d, 'bin/debian2docker.js'), '--version'], d);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^error: debian2docker is not built: .*dist\/src\/main\.js is missing \(run `npm run build` in /);
});
