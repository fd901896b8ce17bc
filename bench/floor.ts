// Boot timing shared by the benchmarks: power-on to a console line, and the
// floor to quote it against, the image's own kernel booting a trivial
// initramfs (static busybox whose /init says a word and powers off).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine } from '../src/vm/machine.js';

/** What ends a boot as failed rather than slow. */
export const BOOT_FAILED = /d2d: FATAL|Kernel panic|Out of memory/;

/** Power-on to a console pattern, in seconds, or undefined if it never came (or `failed` came first). */
export async function bootTime(spec: Parameters<typeof Machine.start>[0], pattern: RegExp, timeoutS: number, o: { failed?: RegExp; consoleLog?: string } = {}): Promise<number | undefined> {
  if (o.consoleLog) writeFileSync(o.consoleLog, '');
  const log = o.consoleLog;
  const m = Machine.start(spec, log ? { tee: (s) => writeFileSync(log, s, { flag: 'a' }) } : undefined);
  const t0 = Date.now();
  try {
    await Promise.race([m.console.waitFor(pattern, timeoutS * 1000), m.console.waitFor(o.failed ?? BOOT_FAILED, timeoutS * 1000).then(() => Promise.reject(new Error('failed')))]);
    return (Date.now() - t0) / 1000;
  } catch {
    return undefined;
  } finally {
    m.kill();
  }
}

/** Writes the trivial initramfs into `dir` and returns its path; /init prints `d2d-floor-ready`. */
export function floorInitrd(dir: string): string {
  const tree = join(dir, 'floor');
  mkdirSync(join(tree, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(tree, 'bin/busybox'));
  writeFileSync(join(tree, 'init'), '#!/bin/busybox sh\n/bin/busybox echo d2d-floor-ready\n/bin/busybox poweroff -f\n');
  chmodSync(join(tree, 'init'), 0o755);
  const out = join(dir, 'floor.cpio');
  execFileSync('sh', ['-c', `cd "${tree}" && find . | cpio --quiet -o -H newc -R 0:0 > "${out}"`]);
  return out;
}
