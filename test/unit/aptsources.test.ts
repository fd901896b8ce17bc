// Extra APT repositories: the deb822 file with the embedded key, how mmdebstrap gets it,
// how a bad key is reported, and config checks of the key file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deb822Source, sourceFileName } from '../../src/plan/aptsources.js';
import { mmdebstrapArgv } from '../../src/tools/mmdebstrap.js';
import { diagnoseApt } from '../../src/stages/rootfs.js';
import { recordSources } from '../../src/stages/record.js';
import { loadConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { problems } from './problems.js';
import { aptVersion } from '../../src/stages/preflight.js';
import { scratchDir } from '../support/scratch.js';

const KEY = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZabc\n=AbCd\n-----END PGP PUBLIC KEY BLOCK-----\n';

test('deb822 source: the key is embedded in Signed-By, empty lines as " ."', () => {
  assert.equal(
    deb822Source({ uri: 'http://127.0.0.1:1/r/', suite: 'stable', components: ['main', 'extra'] }, KEY),
    'Types: deb\nURIs: http://127.0.0.1:1/r/\nSuites: stable\nComponents: main extra\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n mDMEZabc\n =AbCd\n -----END PGP PUBLIC KEY BLOCK-----\n',
  );
  assert.doesNotMatch(deb822Source({ uri: 'file:///r', suite: './' }, KEY), /Components/);
  assert.equal(sourceFileName(0), 'd2d-extra-1.sources');
});

test('mmdebstrap gets the .sources files before apt update (setup hooks), signatures on', () => {
  const a = mmdebstrapArgv({ suite: 'trixie', mirror: '', components: ['main'], variant: 'minbase', packages: ['x'], customizeHook: ['h'], mode: 'root', extraSources: ['/w/d2d-extra-1.sources'] });
  const i = a.indexOf('--setup-hook=copy-in /w/d2d-extra-1.sources /etc/apt/sources.list.d/');
  assert.ok(i > 0 && a.indexOf('--setup-hook=mkdir -p "$1"/etc/apt/sources.list.d') < i);
  assert.ok(!a.some((x) => /trusted=yes|allow-insecure|AllowUnauthenticated/i.test(x)));
});

test('a signature failure names the repository', () => {
  const out = "W: GPG error: http://127.0.0.1:4242 stable InRelease: The following signatures couldn't be verified because the public key is not available: NO_PUBKEY 0123\nE: The repository 'http://127.0.0.1:4242 stable InRelease' is not signed.\n";
  const e = diagnoseApt(out, 'trixie');
  assert.equal(e?.code, 'E_SIGNATURE');
  assert.match(e!.message, /signatures of the repository http:\/\/127\.0\.0\.1:4242 could not be verified/);
  assert.match(e!.hint ?? '', /debian\.sources\[\]\.key/);
});

test('the manifest records an extra source without its key', () => {
  const root = scratchDir('d2d-src-');
  mkdirSync(join(root, 'etc/apt/sources.list.d'), { recursive: true });
  writeFileSync(join(root, 'etc/apt/sources.list'), 'deb http://127.0.0.1:9/debian trixie main\n');
  writeFileSync(join(root, 'etc/apt/sources.list.d/d2d-extra-1.sources'), deb822Source({ uri: 'http://127.0.0.1:1/r/', suite: 'stable', components: ['main'] }, KEY));
  assert.deepEqual(recordSources(root), ['deb http://127.0.0.1:9/debian trixie main', 'Types: deb', 'URIs: http://127.0.0.1:1/r/', 'Suites: stable', 'Components: main', 'Signed-By: (embedded key)']);
});

test('debian.sources: the key file must exist and be an armored public key, named at its line', () => {
  const dir = scratchDir('d2d-key-');
  writeFileSync(join(dir, 'bin.gpg'), Buffer.from([0x99, 0x01, 0x0d]));
  const cfg = join(dir, 'my.yaml');
  for (const [key, msg] of [
    ['missing.asc', /no such key file: .*missing\.asc/],
    ['bin.gpg', /is not an ASCII-armored OpenPGP public key/],
  ] as const) {
    try {
      loadConfigText(`debian:\n  sources:\n    - uri: "http://127.0.0.1:1/r"\n      suite: stable\n      key: ${key}\n`, cfg);
      assert.fail('accepted');
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.problems[0]!.path, 'debian.sources.0.key');
      assert.equal(e.problems[0]!.line, 5);
      assert.match(e.problems[0]!.message, msg);
    }
  }
});

test('debian.snapshot: APT::Snapshot for mmdebstrap and the image; the id is checked; APT versions parsed', () => {
  const a = mmdebstrapArgv({ suite: 'trixie', mirror: '', components: ['main'], variant: 'minbase', packages: ['x'], customizeHook: ['h'], mode: 'root', snapshot: '20251101T000000Z' });
  assert.ok(a.includes('--aptopt=APT::Snapshot "20251101T000000Z"'));
  assert.ok(!mmdebstrapArgv({ suite: 'trixie', mirror: '', components: ['main'], variant: 'minbase', packages: ['x'], customizeHook: ['h'], mode: 'root' }).some((x) => x.includes('Snapshot')));
  const p = problems('debian:\n  snapshot: "2025-11-01"\n');
  assert.deepEqual([p[0]!.path, p[0]!.line], ['debian.snapshot', 2]);
  assert.match(p[0]!.message, /a snapshot id such as 20251101T000000Z/);
  assert.deepEqual(aptVersion('apt 2.6.1 (amd64)\nSupported modules:'), [2, 6, 1]);
  assert.deepEqual(aptVersion('apt 3.0.4 (amd64)'), [3, 0, 4]);
  assert.equal(aptVersion('nope'), undefined);
});
