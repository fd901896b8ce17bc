// Benchmark: which processor model and how many vCPUs boot an image to Docker soonest under TCG
// (src/vm/qemu.ts TCG_CPU, src/vm/options.ts's default cpus). Prints figures; asserts nothing.
//   node dist/bench/tcg-cpu.js --image out/debian2docker.kernel [--rounds 3] [--models qemu64,max:1]
// A variant is MODEL or MODEL:CPUS (2 vCPUs when not given). Each round boots every variant at
// once, one guest per core (single-threaded TCG), so each round's noise falls on all of them alike;
// the figures are medians over the rounds and ratios against the first variant, measured in the same run.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { bootTime } from './floor.js';
import { DOCKER_READY } from '../src/vm/sentinels.js';

const args = process.argv.slice(2);
const value = (n: string): string | undefined => {
  const i = args.indexOf(n);
  return i >= 0 ? args[i + 1] : undefined;
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const kernel = value('--image');
  if (!kernel || !kernel.endsWith('.kernel')) throw new Error('--image NAME.kernel is needed (its NAME.initrd beside it): a network-boot pair from a build');
  const initrd = kernel.replace(/\.kernel$/, '.initrd');
  if (!existsSync(kernel) || !existsSync(initrd)) throw new Error(`${kernel} or ${initrd} does not exist`);
  const rounds = Number(value('--rounds') ?? 3);
  const models = (value('--models') ?? 'qemu64,max').split(',');
  if (models.length > availableParallelism()) console.error(`note: ${models.length} models on ${availableParallelism()} cores: the guests share cores`);
  const times = new Map<string, number[]>(models.map((m) => [m, []]));
  for (let r = 1; r <= rounds; r++) {
    const got = await Promise.all(
      models.map((variant) => {
        const [tcgCpu, cpus] = variant.split(':');
        return bootTime(
          { accel: 'tcg', tcgThreads: 'single', tcgCpu, cpus: Number(cpus ?? 2), memoryMiB: 1024, firmware: 'bios', serial: 'stdio', display: 'none', network: { restrict: true }, noReboot: true, boot: { kind: 'kernel', kernel, initrd, append: 'console=ttyS0,115200 quiet' } },
          DOCKER_READY,
          600,
        );
      }),
    );
    got.forEach((s, i) => {
      if (s !== undefined) times.get(models[i]!)!.push(s);
    });
    console.log(`round ${r}: ${models.map((m, i) => `${m} ${got[i]?.toFixed(1) ?? 'failed'} s`).join(', ')}`);
  }
  const base = median(times.get(models[0]!)!);
  console.log(`power-on to Docker ready, median of ${rounds} rounds (TCG, single-threaded):`);
  for (const m of models) {
    const t = times.get(m)!;
    console.log(`  ${m.padEnd(16)} ${t.length ? `${median(t).toFixed(1)} s  (${(median(t) / base).toFixed(2)} x ${models[0]})` : 'no boot finished'}`);
  }
}

main().catch((e: Error) => {
  console.error(`bench:tcg-cpu: ${e.message}`);
  process.exit(1);
});
