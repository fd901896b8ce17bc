// Where boot time goes, phase by phase, from power-on to `d2d: docker: ready`.
//   node dist/bench/boot-profile.js [--image out/debian2docker.iso]
// Without --image it builds the default image first (with the package cache).
// Boots, under whatever accelerator the probe picks (TCG here):
//   - the floor: the same kernel with a trivial init (as in bench/core.ts);
//   - three probes: the same again, with a verbose kernel and earlyprintk, only to time the
//     kernel's setup code and self-decompression, which run before the kernel's clock (the
//     least of the three: other jobs' load only ever adds);
//   - the image from a CD (BIOS) and by network boot (kernel + initrd), with the image's own
//     quiet command line, so the profile is the real boot and not a chattier one.
// Timestamps: the host's clock per piece of console output (SerialConsole.timeAt), and the guest's
// uptime in /var/log/d2d-boot.log (stage 1 and the init scripts' marks), read over the
// virtio console after Docker is ready and placed on the host's clock through the console
// lines that carry the uptime (see src/vm/bootlog.ts). Prints figures; asserts nothing.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from '../src/index.js';
import { Machine, chooseAccel } from '../src/vm/machine.js';
import { bootProfile, decompressSeconds, formatProfile, parseBootLog, type BootProfile } from '../src/vm/bootlog.js';
import type { Manifest } from '../src/index.js';
import { benchBoot, floorInitrd, until } from './floor.js';
import { BOOT_FAILED, DOCKER_READY } from '../src/vm/sentinels.js';

const args = process.argv.slice(2);
const value = (n: string): string | undefined => {
  const i = args.indexOf(n);
  return i >= 0 ? args[i + 1] : undefined;
};

type Spec = Parameters<typeof Machine.start>[0];

/** Power-on to `pattern`, in seconds, and what `more` reads from the machine then (it is killed after). */
function boot<T>(spec: Spec, pattern: RegExp, timeoutS: number, more: (m: Machine) => T | Promise<T>): Promise<{ seconds: number; more: T }> {
  return benchBoot(spec, async (m, powerOn) => {
    await until(m, pattern, timeoutS, BOOT_FAILED);
    const seconds = (Date.now() - powerOn) / 1000;
    return { seconds, more: await more(m) };
  });
}

/** Boot the image to Docker ready, read its boot log, and make the profile. */
async function profile(spec: Spec, decompressS: number | undefined): Promise<{ p?: BootProfile; log: string }> {
  return benchBoot(spec, async (m, powerOn) => {
    await until(m, DOCKER_READY, 600, BOOT_FAILED);
    const agent = await m.agent();
    await agent.waitForShell(120000);
    const r = await agent.exec('cat /var/log/d2d-boot.log', 60000);
    return { p: bootProfile({ powerOn, console: m.console, log: parseBootLog(r.output), decompressS }), log: r.output };
  });
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'd2d-bootprof-'));
  try {
    await profileAll(tmp);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function profileAll(tmp: string): Promise<void> {
  let iso = value('--image');
  if (!iso) iso = (await build({ outDir: join(tmp, 'out') })).plan.artifacts.iso;
  const manifest = JSON.parse(readFileSync(iso.replace(/\.iso$/, '.manifest.json'), 'utf8')) as Manifest;
  const kernel = iso.replace(/\.iso$/, '.kernel');
  const initrd = iso.replace(/\.iso$/, '.initrd');
  const accel = await chooseAccel('auto', kernel);
  const cmdline = 'console=ttyS0,115200 quiet';
  const base = { accel, tcgThreads: 'multi' as const, cpus: 2, memoryMiB: 1024, firmware: 'bios' as const, serial: 'stdio' as const, display: 'none' as const, network: { restrict: true }, noReboot: true };
  const floorCpio = floorInitrd(tmp);

  console.log('debian2docker boot profile');
  console.log(`  image        ${iso} (kernel ${manifest.kernel.version}, root fs ${manifest.rootfs.compression}, ${(manifest.rootfs.compressedBytes / 1e6).toFixed(1)} MB)`);
  console.log(`  accelerator  ${accel}, 2 vCPUs, 1024 MiB`);

  const floor = await boot({ ...base, boot: { kind: 'kernel', kernel, initrd: floorCpio, append: cmdline } }, /d2d-floor-ready/, 300, () => undefined);
  // The least of three probes: other load only ever adds to it.
  const probes: number[] = [];
  for (let i = 0; i < 3; i++) {
    const d = (await boot({ ...base, boot: { kind: 'kernel', kernel, initrd: floorCpio, append: 'console=ttyS0,115200 earlyprintk=serial,ttyS0,115200' } }, /d2d-floor-ready/, 300, (m) => decompressSeconds(m.console))).more;
    if (d !== undefined) probes.push(d);
  }
  const decompressS = probes.length ? Math.min(...probes) : undefined;
  console.log(`  floor: same kernel, trivial init        ${floor.seconds.toFixed(1)} s`);
  console.log(`  kernel setup + self-decompression       ${decompressS?.toFixed(2) ?? 'n/a (neither a "Probing EDD" nor a "Booting from ROM" line, or no printk stamps)'} s (least of ${probes.length} probe boots, verbose kernel + earlyprintk: ${probes.map((d) => d.toFixed(2)).join(', ')})`);

  const runs: [string, Spec][] = [
    ['BIOS CD boot', { ...base, boot: { kind: 'cdrom', image: iso } }],
    ['kernel + initrd (network boot style)', { ...base, boot: { kind: 'kernel', kernel, initrd, append: cmdline } }],
  ];
  for (const [name, spec] of runs) {
    console.log('');
    try {
      const r = await profile(spec, decompressS);
      if (!r.p) {
        console.log(`${name}: no console line carried the guest's uptime; boot log:\n${r.log}`);
        continue;
      }
      console.log(`${name}: power-on -> docker ready ${r.p.total.toFixed(1)} s, ${(r.p.total / floor.seconds).toFixed(1)}x the floor (${floor.seconds.toFixed(1)} s)`);
      console.log(formatProfile(r.p));
      console.log(`  (guest clock vs host: the uptime anchors agree within ${r.p.clockSpread.toFixed(0)} ms)`);
      if (process.env.D2D_BOOTPROF_VERBOSE) console.log(`  boot log:\n${r.log.replace(/^/gm, '    ')}`);
    } catch (e) {
      console.log(`${name}: ${(e as Error).message}`);
    }
  }
}

await main();
