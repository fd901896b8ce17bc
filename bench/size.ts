// Where the default image's bytes are. Prints figures; asserts nothing (the
// budget check is in test/e2e/core.test.ts).
//   node dist/bench/size.js [--image out/debian2docker.iso]
// Without --image it builds the default image first (with the package cache).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from '../src/index.js';
import { run } from '../src/exec/run.js';
import { DEFAULT_ISO_BUDGET_BYTES, SIZE_GOAL_BYTES, SIZE_TARGET_BYTES } from '../src/plan/budget.js';
import type { Manifest } from '../src/index.js';

const args = process.argv.slice(2);
const value = (n: string): string | undefined => {
  const i = args.indexOf(n);
  return i >= 0 ? args[i + 1] : undefined;
};
const MB = (b: number): string => `${(b / 1e6).toFixed(1).padStart(6)} MB`;
const MiB = (b: number): string => `${(b / 2 ** 20).toFixed(1).padStart(6)} MiB`;

/** The ISO's files and their sizes, read back from the image itself. */
async function isoFiles(iso: string): Promise<{ path: string; bytes: number }[]> {
  const { stdout } = await run(['xorriso', '-indev', iso, '-find', '/', '-type', 'f', '-exec', 'lsdl'], { capture: true });
  return stdout
    .split('\n')
    .map((l) => /^\S+\s+\d+\s+\S+\s+\S+\s+(\d+)\s+.*'(.+)'$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ path: m[2]!, bytes: Number(m[1]) }))
    .sort((a, b) => b.bytes - a.bytes);
}

async function main(): Promise<void> {
  let iso = value('--image');
  let tmp: string | undefined;
  if (!iso) {
    tmp = mkdtempSync(join(tmpdir(), 'd2d-bench-size-'));
    iso = (await build({ outDir: join(tmp, 'out') })).plan.artifacts.iso;
  }
  const m = JSON.parse(readFileSync(iso.replace(/\.iso$/, '.manifest.json'), 'utf8')) as Manifest;
  const a = m.artifacts;
  const isoBytes = a.iso!.bytes;
  console.log('debian2docker image size');
  console.log(`  ISO                          ${MB(isoBytes)}   budget ${DEFAULT_ISO_BUDGET_BYTES / 1e6} MB, ${isoBytes <= DEFAULT_ISO_BUDGET_BYTES ? 'within' : 'OVER'} by ${MB(Math.abs(DEFAULT_ISO_BUDGET_BYTES - isoBytes)).trim()}`);
  console.log(`                                          goal ${SIZE_GOAL_BYTES / 1e6} MB (issue 7), ${isoBytes <= SIZE_GOAL_BYTES ? 'reached' : `${MB(isoBytes - SIZE_GOAL_BYTES).trim()} to go`}`);
  console.log(`                                          target ${SIZE_TARGET_BYTES / 1e6} MB (issue 17), ${isoBytes <= SIZE_TARGET_BYTES ? 'reached' : `${MB(isoBytes - SIZE_TARGET_BYTES).trim()} to go`}`);
  console.log(`  kernel                       ${MB(a.kernel!.bytes)}`);
  console.log(`  initrd                       ${MB(a.initrd!.bytes)}`);
  console.log(`  root fs, ${m.rootfs.compression.padEnd(4)} compressed     ${MB(m.rootfs.compressedBytes)}   (${((m.rootfs.compressedBytes / m.rootfs.cpioBytes) * 100).toFixed(1)}% of the archive)`);
  console.log(`  root fs archive, uncompressed ${MiB(m.rootfs.cpioBytes)}   (${m.rootfs.files} files)`);
  const pruned = m.rootfs.pruned.reduce((n, p) => n + p.bytes, 0);
  console.log(`  pruned before packing        ${MiB(pruned)}   (${m.rootfs.pruned.length} rules; docs/size.md)`);
  for (const g of m.rootfs.goExports ?? []) console.log(`  Go exports blanked           ${MiB(g.bytes)}   ${g.path}: ${g.symbols} of ${g.of} dynamic symbols`);
  const shared = m.rootfs.fromStage1 ?? [];
  if (shared.length > 0) console.log(`  in stage 1 only, copied in at boot: ${shared.join(', ')}`);
  for (const r of m.rootfs.relativeRelocs ?? []) console.log(`  relative relocs ${(r.how ?? 'zeroed').padEnd(6)}       ${MiB(r.bytes)}   ${r.path}: ${r.relocations} R_X86_64_RELATIVE`);
  const kept = m.rootfs.keptPackages ?? []; // older manifests lack it
  if (kept.length > 0) console.log(`  prunable packages kept: ${kept.map((k) => `${k.name} (${k.because})`).join('; ')}`);
  console.log('  on the ISO:');
  for (const f of await isoFiles(iso)) console.log(`    ${MB(f.bytes)}  ${f.path}`);
  console.log('  biggest files in the root file system (uncompressed):');
  for (const f of m.rootfs.biggestFiles.slice(0, 15)) console.log(`    ${MiB(f.bytes)}  ${f.path}`);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}

await main();
