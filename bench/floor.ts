// The boot-time floor shared by the benchmarks: the image's own kernel booting a
// trivial initramfs (static busybox whose /init says a word and powers off).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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
