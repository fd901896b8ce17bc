// Shared by the end-to-end tests that boot an image with the harness: what its report must show.
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import type { TestReport } from '../../src/commands/test.js';

/** The built-in checks every boot of a default-like image passes (src/vm/checks.ts). */
export const CHECKS = ['docker ready', 'storage driver overlay2', 'test disk mounted', 'image imported from a tarball', 'container runs', 'the engine has nothing to warn about', 'container on the default bridge gets an address', 'clean shutdown'];

/** What a build's NAME.manifest.json holds: the tool's own type, so a test reads no field the build does not write. */
export type { Manifest } from '../../src/stages/manifest.js';

/** GET over TLS from 127.0.0.1:port, verifying the server against `ca`. */
export function httpsGet(port: number, path: string, tls: { ca: Buffer; cert?: Buffer; key?: Buffer }): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, ...tls, timeout: 60000 }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Every check that ran, a line each: a failed assertion shows them all (a boot that never reached Docker has only one). */
function checksRan(r: TestReport): string {
  return r.results.map((x) => `  ${x.ok ? 'ok' : 'FAILED'} ${x.name}: ${x.detail.split('\n')[0]}`).join('\n');
}

/** Asserts that each named check ran and passed (not the run as a whole: see assertPassed). */
export function assertChecks(r: TestReport, names: string[]): void {
  const byName = new Map(r.results.map((x) => [x.name, x]));
  for (const name of names) {
    const x = byName.get(name);
    assert.ok(x, `check '${name}' did not run; the checks that ran:\n${checksRan(r)}`);
    assert.ok(x.ok, `check '${name}' failed: ${x.detail}`);
  }
}

/** Every built-in check and each of `extra` ran and passed, and so did the run. */
export function assertPassed(r: TestReport, extra: string[] = []): void {
  assertRunPassed(r, [...CHECKS, ...extra]);
  assert.ok((r.readySeconds ?? 0) > 0);
}

/** Asserts that each named check ran and passed, and the run as a whole too (no check failed). */
export function assertRunPassed(r: TestReport, names: string[]): void {
  assertChecks(r, names);
  assert.ok(r.ok, `failed:\n${checksRan(r)}`);
}
