// Boot timing shared by the benchmarks: power-on to a console line, and the
// floor to quote it against, the image's own kernel booting a trivial
// initramfs (static busybox whose /init says a word and powers off).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine } from '../src/vm/machine.js';
import { bootWithRetry } from '../src/vm/crash.js';
import { BOOT_FAILED } from '../src/vm/sentinels.js';

/** What ends a boot as failed rather than slow. */
export { BOOT_FAILED };

type Spec = Parameters<typeof Machine.start>[0];

/**
 * Every bench boot: the harness's crash-aware boot (src/vm/crash.ts), so a guest kernel crash under TCG gets
 * one more boot, said on stderr, as in the tests. `run` gets the machine and its power-on time; the machine
 * is killed (and gone) when it returns.
 */
export function benchBoot<T>(spec: Spec, run: (m: Machine, powerOn: number) => Promise<T>, opts: Parameters<typeof Machine.start>[1] = {}): Promise<T> {
  let powerOn = 0;
  return bootWithRetry(
    () => {
      powerOn = Date.now();
      return Machine.start(spec, opts);
    },
    (m) => m,
    (m) => run(m, powerOn),
    { note: (why) => console.error(`  (${why})`) },
  );
}

/** Wait for `pattern`, failing at once if `failed` comes first. */
export async function until(m: Machine, pattern: RegExp, timeoutS: number, failed: RegExp = BOOT_FAILED): Promise<void> {
  await Promise.race([
    m.console.waitFor(pattern, timeoutS * 1000),
    m.console.waitFor(failed, timeoutS * 1000).then(() => Promise.reject(new Error(`boot failed:\n${m.console.lastLines(15)}`))),
  ]);
}

/** Power-on to a console pattern, in seconds, or undefined if it never came (or `failed` came first). */
export async function bootTime(spec: Spec, pattern: RegExp, timeoutS: number, o: { failed?: RegExp; consoleLog?: string } = {}): Promise<number | undefined> {
  if (o.consoleLog) writeFileSync(o.consoleLog, '');
  const log = o.consoleLog;
  try {
    return await benchBoot(
      spec,
      async (m, powerOn) => {
        await until(m, pattern, timeoutS, o.failed);
        return (Date.now() - powerOn) / 1000;
      },
      log ? { tee: (s) => writeFileSync(log, s, { flag: 'a' }) } : undefined,
    );
  } catch {
    return undefined;
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
