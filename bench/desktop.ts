// Benchmark of a desktop image. Prints figures; asserts nothing.
//   node dist/bench/desktop.js [--image out/d2d-desktop.iso] [--core out/debian2docker.iso]
// Without --image it builds test/e2e/fixtures/desktop.yaml (two painting sessions and a
// Firefox ESR kiosk). Power-on to first frame is the time until the first session's
// colour covers the screen (QEMU screendump every second), quoted against power-on to
// "docker: ready" in the same boot, and against the core image's boot when --core is given.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from '../src/index.js';
import { PACKAGE_ROOT } from '../src/paths.js';
import { benchBoot } from './floor.js';
import { chooseAccel } from '../src/vm/machine.js';
import { colourShare, parsePpm, type Rgb } from '../src/vm/ppm.js';
import type { Manifest } from '../src/index.js';
import { DOCKER_READY } from '../src/vm/sentinels.js';

const args = process.argv.slice(2);
const value = (n: string): string | undefined => {
  const i = args.indexOf(n);
  return i >= 0 ? args[i + 1] : undefined;
};
const MB = (b: number): string => `${(b / 1e6).toFixed(1)} MB`;
const MiB = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;
/** What the fixture's first session paints. */
const RED: Rgb = [0xd0, 0x20, 0x20];

interface Boot {
  dockerReady?: number;
  firstFrame?: number;
}

function boot(iso: string, accel: 'kvm' | 'tcg', tmp: string, frame: boolean): Promise<Boot> {
  const spec = { accel, tcgThreads: 'multi' as const, memoryMiB: 3072, cpus: 2, firmware: 'bios' as const, serial: 'stdio' as const, display: 'none' as const, network: { restrict: true }, noReboot: true, boot: { kind: 'cdrom' as const, image: iso } };
  return benchBoot(
    spec,
    async (m, t0) => {
      const out: Boot = {};
      const ready = m.console.waitFor(DOCKER_READY, 900000).then(
        () => (out.dockerReady = (Date.now() - t0) / 1000),
        () => undefined,
      );
      if (frame) {
        const ppm = join(tmp, 'frame.ppm');
        while (Date.now() - t0 < 900000) {
          await new Promise((r) => setTimeout(r, 1000));
          try {
            await m.screendump(ppm);
          } catch {
            continue; // QMP not up yet
          }
          if (colourShare(parsePpm(readFileSync(ppm)), RED, 24) > 0.9) {
            out.firstFrame = (Date.now() - t0) / 1000;
            break;
          }
        }
      }
      await ready;
      return out;
    },
    { qmp: true },
  );
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'd2d-bench-desktop-'));
  let iso = value('--image');
  if (!iso) {
    const r = await build({ config: join(PACKAGE_ROOT, 'test/e2e/fixtures/desktop.yaml'), outDir: join(tmp, 'out') });
    iso = r.plan.artifacts.iso;
  }
  const manifest = JSON.parse(readFileSync(iso.replace(/\.iso$/, '.manifest.json'), 'utf8')) as Manifest;
  const accel = await chooseAccel('auto', iso.replace(/\.iso$/, '.kernel'));
  const images = manifest.images.reduce((n, im) => n + im.bytes, 0);
  console.log('debian2docker desktop image benchmark');
  console.log(`  accelerator                       ${accel}`);
  console.log(`  ISO                               ${MB(manifest.artifacts.iso!.bytes)}`);
  console.log(`    of which preloaded images       ${MB(images)} (${manifest.images.map((im) => `${im.tags[0]} ${MB(im.bytes)}`).join(', ')})`);
  console.log(`  initrd                            ${MB(manifest.artifacts.initrd!.bytes)}`);
  console.log(`  root fs cpio, uncompressed        ${MiB(manifest.rootfs.cpioBytes)}`);
  const core = value('--core');
  if (core) {
    const cm = JSON.parse(readFileSync(core.replace(/\.iso$/, '.manifest.json'), 'utf8')) as Manifest;
    console.log(`  core image's root fs, for scale   ${MiB(cm.rootfs.cpioBytes)} (desktop host: ${(manifest.rootfs.cpioBytes / cm.rootfs.cpioBytes).toFixed(2)}x)`);
  }
  const d = await boot(iso, accel, tmp, true);
  console.log(`  power-on to docker ready          ${d.dockerReady?.toFixed(1) ?? 'n/a'} s`);
  console.log(`  power-on to first frame           ${d.firstFrame?.toFixed(1) ?? 'n/a'} s${d.firstFrame && d.dockerReady ? ` (${(d.firstFrame / d.dockerReady).toFixed(2)}x docker ready)` : ''}`);
  if (core) {
    const c = await boot(core, accel, tmp, false);
    console.log(`  core image: power-on to docker ready ${c.dockerReady?.toFixed(1) ?? 'n/a'} s${c.dockerReady && d.firstFrame ? ` (first frame is ${(d.firstFrame / c.dockerReady).toFixed(2)}x that)` : ''}`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
