// The files layer and the stage cache's key: the archive entries the config's
// files become (read back by GNU cpio, the reference reader), and which config
// changes reach the root stage's key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpioEntries, S_IFREG } from '../../src/formats/cpio.js';
import { filesInLayer, layerEntries, layerNeeds } from '../../src/stages/layer.js';
import { cacheKey, hostInputs } from '../../src/pipeline/stagecache.js';
import { simulatedPackages } from '../../src/tools/mmdebstrap.js';
import { StageError } from '../../src/errors.js';
import { loadConfigText } from '../../src/config/load.js';
import { makePlan } from '../../src/plan/plan.js';
import { scratchDir } from '../support/scratch.js';

/** A plan from a config given as an object (JSON is YAML), merged over the default like a user's file. */
function planFrom(c: Record<string, unknown>): ReturnType<typeof makePlan> {
  const l = loadConfigText(JSON.stringify(c));
  return makePlan(l.config, { outDir: '/o', configHash: l.hash, sourceDateEpoch: 1700000000 });
}

const ID = { name: 'box', configHash: 'c0ffee', iso: { volid: 'BOX' }, debian: { suite: 'trixie' } } as const;
const BASE = { paths: new Set(['etc', 'opt', 'usr', 'usr/bin']), passwd: 'root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n', group: 'root:x:0:\nnogroup:x:65534:\n' };

test('layer entries: missing parents first, modes and owners from the config, links kept as links', () => {
  const src = scratchDir('d2d-layer-');
  mkdirSync(join(src, 'tree/sub'), { recursive: true });
  writeFileSync(join(src, 'tree/sub/run.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(join(src, 'tree/sub/run.sh'), 0o755);
  symlinkSync('sub/run.sh', join(src, 'tree/link'));
  const files = [
    { path: '/etc/motd', content: 'hello\n' },
    { path: '/opt/app/tree', source: join(src, 'tree'), owner: 'nobody:nogroup' },
    { path: '/opt/app/secret', content: 'x', mode: '0600' },
  ];
  const e = layerEntries({ ...ID, files, sourceDateEpoch: 1700000000 } as Parameters<typeof layerEntries>[0], BASE);
  assert.deepEqual(
    e.map((x) => [x.name, x.mode.toString(8), `${x.uid}:${x.gid}`]),
    [
      // The build's identity first (the root stage's key leaves it out), then the config's files.
      ['etc/d2d-release', '100644', '0:0'],
      ['etc/d2d', '40755', '0:0'],
      ['etc/d2d/build', '100644', '0:0'],
      ['etc/motd', '100644', '0:0'],
      ['opt/app', '40755', '0:0'],
      ['opt/app/tree', '40755', '65534:65534'],
      ['opt/app/tree/link', '120777', '65534:65534'],
      ['opt/app/tree/sub', '40755', '65534:65534'],
      ['opt/app/tree/sub/run.sh', '100755', '65534:65534'],
      ['opt/app/secret', '100600', '0:0'],
    ],
  );
  assert.ok(e.every((x) => x.mtime === 1700000000));
  assert.equal(e[2]!.data.toString(), 'BUILD=c0ffee\nNAME=box\nVOLID=BOX\n');
  assert.equal(e[0]!.data.toString(), 'NAME=box\nCONFIG_SHA256=c0ffee\nSUITE=trixie\n');
  // Files that went into the root (before-pack hooks): the identity only.
  assert.deepEqual(layerEntries({ ...ID, files, sourceDateEpoch: 1 } as Parameters<typeof layerEntries>[0], BASE, false).map((x) => x.name), ['etc/d2d-release', 'etc/d2d', 'etc/d2d/build']);
  assert.deepEqual(layerNeeds(files).map((n) => [n.path, n.needs.kind]), [['opt/app/tree/sub/run.sh', 'script']]);

  // GNU cpio reads the entries back (with a trailer appended, as the root stage's tail supplies).
  const trailer = cpioEntries([{ name: 'TRAILER!!!', mode: 0, uid: 0, gid: 0, mtime: 0, data: Buffer.alloc(0) }], 0);
  writeFileSync(join(src, 'a.cpio'), Buffer.concat([cpioEntries(e, 100), trailer]));
  const listing = execFileSync('cpio', ['-t', '-v', '--quiet', '-F', join(src, 'a.cpio')], { encoding: 'utf8' });
  assert.match(listing, /^-rw------- .* opt\/app\/secret$/m);
  assert.match(listing, /^lrwxrwxrwx .* opt\/app\/tree\/link -> sub\/run\.sh$/m);
  const out = join(src, 'out');
  mkdirSync(out);
  execFileSync('cpio', ['-i', '-d', '--quiet', '--no-absolute-filenames', '-F', join(src, 'a.cpio')], { cwd: out });
  assert.equal(readFileSync(join(out, 'opt/app/tree/sub/run.sh'), 'utf8'), '#!/bin/sh\necho hi\n');
  assert.equal(statSync(join(out, 'opt/app/secret')).mode & 0o7777, 0o600);
});

test('layer entries: an owner the image does not know is an error naming the entry', () => {
  assert.throws(
    () => layerEntries({ ...ID, files: [{ path: '/etc/x', content: 'x', owner: 'ghost' }], sourceDateEpoch: 0 } as Parameters<typeof layerEntries>[0], BASE),
    (e: unknown) => e instanceof StageError && /files\[0\]: cannot set owner 'ghost' on \/etc\/x: no user 'ghost'/.test(e.message),
  );
  assert.equal(cpioEntries([{ name: 'a', mode: S_IFREG | 0o644, uid: 0, gid: 0, mtime: 0, data: Buffer.from('abc') }], 1).length % 4, 0);
});

test('stage cache key: files, the name and the boot menu do not reach it; packages, hooks and the code do', () => {
  const opts = { epochFromEnv: false, rootless: false, code: 'c1' };
  const plan = planFrom({ files: [{ path: '/etc/a', content: 'one' }] });
  const key = cacheKey(plan, ['a=1'], opts).key;
  assert.equal(cacheKey(planFrom({ files: [{ path: '/etc/a', content: 'two' }], boot: { timeout: 9 } }), ['a=1'], opts).key, key);
  // Nor the name (and the volume label made of it): the files layer writes the build's identity.
  assert.equal(cacheKey(planFrom({ name: 'another-name', files: [{ path: '/etc/a', content: 'one' }] }), ['a=1'], opts).key, key, 'the name');
  assert.notEqual(cacheKey(plan, ['a=2'], opts).key, key, 'a package version');
  assert.notEqual(cacheKey(plan, ['a=1'], { ...opts, code: 'c2' }).key, key, 'the tool\'s code');
  assert.notEqual(cacheKey(planFrom({ files: [{ path: '/etc/a', content: 'one' }], packages: ['jq'] }), ['a=1'], opts).key, key, 'the package list');
  // With before-pack hooks the files go into the root before them, so they are part of the key.
  const hooked = (c: string): ReturnType<typeof planFrom> => planFrom({ files: [{ path: '/etc/a', content: c }], hooks: { 'before-pack': ['true'] } });
  assert.equal(filesInLayer(hooked('one')), false);
  assert.notEqual(cacheKey(hooked('one'), ['a=1'], opts).key, cacheKey(hooked('two'), ['a=1'], opts).key);
  assert.deepEqual(hostInputs(plan), []);
});

test('simulated install: NAME=VERSION per package, sorted', () => {
  const out = 'I: simulate\nInst libc6 (2.41-12+deb13u5 Debian:13.8/stable [amd64]) []\nInst bash (5.2.37-2+b5 Debian:13.8/stable [amd64])\nConf bash (5.2.37-2+b5 Debian:13.8/stable [amd64])\n';
  assert.deepEqual(simulatedPackages(out), ['bash=5.2.37-2+b5', 'libc6=2.41-12+deb13u5']);
});
