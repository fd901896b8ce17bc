// The console lines the host waits for (src/vm/sentinels.ts) are still what the image's scripts print.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { BOOT_FAILED, CONTAINERS_UP, DOCKER_READY, STAGE1_FATAL } from '../../src/vm/sentinels.js';

const target = (p: string): string => readFileSync(join(PACKAGE_ROOT, 'target', p), 'utf8');

/** What lib.sh's `say WORDS` puts on the console, for each `say "..."` in a script (its variables left as they are). */
function said(script: string): string[] {
  const lib = target('rootfs/usr/lib/d2d/lib.sh');
  const prefix = /^say\(\) \{\n\techo "([^"$]*)\$\*"/m.exec(lib)?.[1];
  assert.ok(prefix, "lib.sh's say() still echoes a fixed prefix and its arguments");
  return [...script.matchAll(/^\s*say "([^"]*)"/gm)].map((m) => `${prefix}${m[1]}`);
}

test('docker-ready says the line DOCKER_READY waits for', () => {
  assert.ok(said(target('rootfs/usr/lib/d2d/docker-ready')).some((l) => DOCKER_READY.test(l)));
});

test('containers-up says the line CONTAINERS_UP waits for', () => {
  assert.ok(said(target('rootfs/usr/lib/d2d/containers-up')).some((l) => CONTAINERS_UP.test(l)));
});

test("stage 1's fatal() prints what STAGE1_FATAL and BOOT_FAILED match", () => {
  const m = /echo "(d2d: FATAL: )\$\*"/.exec(target('stage1/init'));
  assert.ok(m, 'stage 1 still has its fatal message');
  assert.match(m[1]!, STAGE1_FATAL);
  assert.match(m[1]!, BOOT_FAILED);
});

test('BOOT_FAILED: a guest kernel crash and an OOM kill fail a boot; the ready line does not', () => {
  assert.match('[ 12.3] Kernel panic - not syncing: VFS', BOOT_FAILED);
  assert.match('Out of memory: Killed process 123 (xzdec)', BOOT_FAILED);
  assert.doesNotMatch('d2d: docker: ready (26.1.5, overlay2, uptime 31.00 s)', BOOT_FAILED);
});
