// Benchmark of the core image. Prints figures; asserts nothing.
//   node dist/bench/core.js [--image out/debian2docker.iso] [--skip-memory]
// Without --image it builds the default image cold (no package cache) first.
// Boot times are under whatever accelerator the probe picks (TCG here: multi-threaded, as `run`
// boots, and once single-threaded, as `test` boots), and are
// quoted against a floor measured in the same run: the same kernel booting a
// trivial init that powers off at once.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from '../src/index.js';
import { chooseAccel } from '../src/vm/machine.js';
import type { Manifest } from '../src/index.js';
import { bootTime, floorInitrd } from './floor.js';
import { DOCKER_READY } from '../src/vm/sentinels.js';

const args = process.argv.slice(2);
const flag = (n: string): boolean => args.includes(n);
const value = (n: string): string | undefined => {
  const i = args.indexOf(n);
  return i >= 0 ? args[i + 1] : undefined;
};
const MB = (b: number): string => `${(b / 1e6).toFixed(1)} MB`;
const MiB = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'd2d-bench-'));
  let iso = value('--image');
  let buildSeconds: number | undefined;
  if (!iso) {
    const t0 = Date.now();
    const r = await build({ outDir: join(tmp, 'out'), noCache: true });
    buildSeconds = (Date.now() - t0) / 1000;
    iso = r.plan.artifacts.iso;
  }
  const manifest = JSON.parse(readFileSync(iso.replace(/\.iso$/, '.manifest.json'), 'utf8')) as Manifest;
  const kernel = iso.replace(/\.iso$/, '.kernel');
  const initrd = iso.replace(/\.iso$/, '.initrd');
  const accel = await chooseAccel('auto', kernel);
  const cmdline = 'console=ttyS0,115200 quiet';
  const base = { accel, tcgThreads: 'multi' as const, cpus: 2, firmware: 'bios' as const, serial: 'stdio' as const, display: 'none' as const, network: { restrict: true }, noReboot: true };

  console.log('debian2docker core image benchmark');
  console.log(`  accelerator                     ${accel}`);
  if (buildSeconds !== undefined) console.log(`  cold build (no package cache)   ${buildSeconds.toFixed(0)} s`);
  console.log(`  ISO                             ${MB(manifest.artifacts.iso!.bytes)}`);
  console.log(`  initrd (what the loader loads)  ${MB(manifest.artifacts.initrd!.bytes)}`);
  console.log(`  kernel                          ${MB(manifest.artifacts.kernel!.bytes)}`);
  console.log(`  root fs cpio, uncompressed      ${MiB(manifest.rootfs.cpioBytes)}`);
  console.log(`  root fs, ${manifest.rootfs.compression} compressed        ${MB(manifest.rootfs.compressedBytes)} (${((manifest.rootfs.compressedBytes / manifest.rootfs.cpioBytes) * 100).toFixed(0)}%)`);

  const floor = await bootTime({ ...base, memoryMiB: 1024, boot: { kind: 'kernel', kernel, initrd: floorInitrd(tmp), append: cmdline } }, /d2d-floor-ready/, 300);
  const cd = await bootTime({ ...base, memoryMiB: 1024, boot: { kind: 'cdrom', image: iso } }, DOCKER_READY, 600);
  const net = await bootTime({ ...base, memoryMiB: 1024, boot: { kind: 'kernel', kernel, initrd, append: cmdline } }, DOCKER_READY, 600);
  const ratio = (x?: number): string => (x !== undefined && floor ? ` (${(x / floor).toFixed(1)}x the floor)` : '');
  console.log(`  floor: same kernel, trivial init ${floor?.toFixed(1) ?? 'n/a'} s`);
  console.log(`  power-on -> docker ready, BIOS CD        ${cd?.toFixed(1) ?? 'never'} s${ratio(cd)}`);
  console.log(`  power-on -> docker ready, kernel+initrd  ${net?.toFixed(1) ?? 'never'} s${ratio(net)}`);
  if (accel === 'tcg') {
    // What `debian2docker test` and the e2e suite pay for a verdict QEMU's race cannot spoil (VmSpec.tcgThreads).
    const single = await bootTime({ ...base, tcgThreads: 'single', memoryMiB: 1024, boot: { kind: 'kernel', kernel, initrd, append: cmdline } }, DOCKER_READY, 600);
    const vsMulti = single !== undefined && net !== undefined ? ` (${(single / net).toFixed(2)}x multi-threaded)` : '';
    console.log(`  the same, single-threaded TCG (test)     ${single?.toFixed(1) ?? 'never'} s${vsMulti}`);
  }

  if (!flag('--skip-memory')) {
    // Least -m (in 64 MiB steps) that still reaches Docker ready, by bisection.
    let lo = 128; // assumed too small
    let hi = 1024; // known to work
    while (hi - lo > 64) {
      const mid = Math.round((lo + hi) / 2 / 64) * 64;
      const t = await bootTime({ ...base, memoryMiB: mid, boot: { kind: 'kernel', kernel, initrd, append: cmdline } }, DOCKER_READY, 600);
      console.log(`    -m ${mid}: ${t === undefined ? 'no' : `docker ready in ${t.toFixed(1)} s`}`);
      if (t === undefined) lo = mid;
      else hi = mid;
    }
    console.log(`  least memory reaching docker ready  ${hi} MiB (64 MiB steps)`);
  }
  rmSync(tmp, { recursive: true, force: true });
}

await main();
