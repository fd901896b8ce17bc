// Benchmark: what three preloaded images cost at boot. Prints figures; asserts nothing.
//   node dist/bench/images.js [--rounds N]
// Builds, in the same run and with the same settings, a baseline image (no
// images) and the same image with three preloaded images, one per build-time
// source (a docker-archive tarball, a registry on 127.0.0.1, Debian packages),
// then boots each from a CD and by network boot and times power-on to
// "docker: ready" and to "containers: up" (all imports done).
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from '../src/index.js';
import { Machine, chooseAccel } from '../src/vm/machine.js';
import { imageBoot } from '../src/vm/options.js';
import { msgImage, startRegistry } from '../test/support/images.js';
import { benchBoot } from './floor.js';
import { freePort } from '../src/vm/publish.js';
import { CONTAINERS_UP, DOCKER_READY } from '../src/vm/sentinels.js';

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1] ?? 1) || 1;
const MB = (b: number): string => `${(b / 1e6).toFixed(1)} MB`;

/** Seconds from power-on to each pattern (in order), or undefined for those never seen. */
function bootTimes(spec: Parameters<typeof Machine.start>[0], patterns: RegExp[], timeoutS: number): Promise<(number | undefined)[]> {
  return benchBoot(spec, async (m, powerOn) => {
    const out: (number | undefined)[] = [];
    for (const p of patterns) {
      try {
        await m.console.waitFor(p, timeoutS * 1000);
        out.push((Date.now() - powerOn) / 1000);
      } catch {
        out.push(undefined);
      }
    }
    return out;
  });
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'd2d-bench-images-'));
  const reg = await startRegistry(join(tmp, 'registry'), await freePort());
  try {
    writeFileSync(join(tmp, 'app.tar'), msgImage('bench/app:1', 'from-tarball'));
    writeFileSync(join(tmp, 'reg.tar'), msgImage('bench/reg:1', 'from-registry'));
    const ref = reg.push(join(tmp, 'reg.tar'), 'bench/reg:1');
    // Same settings for both; xz level 1 keeps the builds short.
    const common = 'initramfs: {compression: xz, level: 1}\n';
    writeFileSync(join(tmp, 'base.yaml'), `name: bench-base\n${common}`);
    writeFileSync(
      join(tmp, 'images.yaml'),
      `name: bench-images\n${common}images:\n  - tarball: app.tar\n  - ref: "${ref}"\n    tls-verify: false\n  - tag: "bench/hello:1"\n    debian: {packages: [hello]}\n    cmd: [hello]\n`,
    );
    const out = join(tmp, 'out');
    mkdirSync(out);
    const t0 = Date.now();
    await build({ config: join(tmp, 'base.yaml'), outDir: out });
    const tBase = (Date.now() - t0) / 1000;
    const t1 = Date.now();
    await build({ config: join(tmp, 'images.yaml'), outDir: out });
    const tImages = (Date.now() - t1) / 1000;

    const accel = await chooseAccel('auto', join(out, 'bench-base.kernel'));
    const base = { accel, tcgThreads: 'multi' as const, cpus: 2, memoryMiB: 1024, firmware: 'bios' as const, serial: 'stdio' as const, display: 'none' as const, network: { restrict: true }, noReboot: true };
    const cmdline = 'console=ttyS0,115200 quiet';
    const patterns = [DOCKER_READY, CONTAINERS_UP];
    console.log('debian2docker preloaded images benchmark');
    console.log(`  accelerator ${accel}; ${rounds} round(s); baseline and images image built in this run (warm package cache)`);
    console.log(`  build: baseline ${tBase.toFixed(0)} s, with 3 images ${tImages.toFixed(0)} s`);
    console.log(`  ISO: baseline ${MB(statSync(join(out, 'bench-base.iso')).size)}, with images ${MB(statSync(join(out, 'bench-images.iso')).size)}; images initrd ${MB(statSync(join(out, 'bench-images.images')).size)}`);
    for (const how of ['cdrom', 'kernel'] as const) {
      for (let r = 1; r <= rounds; r++) {
        const row: string[] = [];
        let up: Record<string, number | undefined> = {};
        for (const name of ['bench-base', 'bench-images']) {
          const image = join(out, how === 'cdrom' ? `${name}.iso` : `${name}.kernel`);
          const [ready, containersUp] = await bootTimes({ ...base, boot: imageBoot(image, 'cdrom', cmdline) }, patterns, 900);
          up = { ...up, [name]: containersUp };
          row.push(`${name}: docker ready ${ready?.toFixed(1) ?? 'never'} s, containers up ${containersUp?.toFixed(1) ?? 'never'} s`);
        }
        const a = up['bench-base'];
        const b = up['bench-images'];
        const ratio = a && b ? ` -> with images ${(b / a).toFixed(2)}x the baseline (+${(b - a).toFixed(1)} s)` : '';
        console.log(`  ${how === 'cdrom' ? 'BIOS CD       ' : 'kernel+initrd '} ${row.join('; ')}${ratio}`);
      }
    }
  } finally {
    reg.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
