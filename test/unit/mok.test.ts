// The machine-owner key (src/stages/mok.ts), with the real openssl: made once in a private folder,
// reused after, never remade over a folder that lost part of it; where it is looked for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureMok, mokDir, mokFingerprint } from '../../src/stages/mok.js';
import { D2DError } from '../../src/errors.js';

test('MOK: made on first use (key 0600, folder 0700, DER beside), then reused as it is', async () => {
  const base = mkdtempSync(join(tmpdir(), 'd2d-mok-'));
  try {
    const dir = join(base, 'sub', 'mok');
    const a = await ensureMok(dir);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(a.key).mode & 0o777, 0o600);
    assert.ok(readFileSync(a.key, 'utf8').includes('PRIVATE KEY'));
    assert.equal(readFileSync(a.der)[0], 0x30, 'DER: an ASN.1 SEQUENCE');
    const fp = await mokFingerprint(a);
    assert.match(fp, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const b = await ensureMok(dir);
    assert.equal(await mokFingerprint(b), fp, 'the same key the second time');
    // A folder missing a file is not silently replaced: machines enrolled the old certificate.
    rmSync(b.key);
    await assert.rejects(ensureMok(dir), (e: unknown) => e instanceof D2DError && /lacks .*mok\.key/.test(e.message) && /move .* away/.test(e.hint ?? ''));
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('MOK: DEBIAN2DOCKER_MOK_DIR, else XDG_CONFIG_HOME, else ~/.config', () => {
  assert.equal(mokDir({ DEBIAN2DOCKER_MOK_DIR: '/k/m', XDG_CONFIG_HOME: '/c' }), '/k/m');
  assert.equal(mokDir({ XDG_CONFIG_HOME: '/c' }), '/c/debian2docker/mok');
  assert.match(mokDir({}), /\/\.config\/debian2docker\/mok$/);
});
