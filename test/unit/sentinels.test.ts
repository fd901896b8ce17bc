// The console lines the host waits for (src/vm/sentinels.ts) are still what the image's scripts print.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { BOOT_FAILED, BOOT_MENU_COUNTDOWN, CONTAINERS_UP, DOCKER_READY, STAGE1_FATAL } from '../../src/vm/sentinels.js';

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

test("BOOT_MENU_COUNTDOWN matches the countdown of the host's GRUB, whose modules the images carry", () => {
  // GRUB's normal module holds the message as a printf format; the harness sees it with the seconds filled in.
  for (const platform of ['i386-pc', 'x86_64-efi']) {
    const mod = readFileSync(`/usr/lib/grub/${platform}/normal.mod`, 'latin1');
    const format = /The highlighted entry will be executed automatically in %ds\./.exec(mod)?.[0];
    assert.ok(format, `${platform}/normal.mod still has the countdown message`);
    assert.match(format.replace('%d', '3'), BOOT_MENU_COUNTDOWN);
  }
  assert.doesNotMatch('  Booting `debian2docker\'', BOOT_MENU_COUNTDOWN);
});
