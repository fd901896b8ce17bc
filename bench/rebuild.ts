// Benchmark of rebuilds (issue 7): a full build of the default config plus one
// file, then the same config with that file changed, which takes the root file
// system from the stage cache. Prints both times and the ratio; asserts nothing.
//   node dist/bench/rebuild.js [--keep]
// SOURCE_DATE_EPOCH is set to a fresh value (it is part of the cache key when
// set), so the first build cannot find an entry left by an earlier run. The
// package cache is used as a normal build uses it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from '../src/index.js';
import type { Manifest } from '../src/index.js';

async function timedBuild(config: string, outDir: string): Promise<{ seconds: number; stages: Record<string, number>; iso: number }> {
  const t0 = Date.now();
  const r = await build({ config, outDir });
  const seconds = (Date.now() - t0) / 1000;
  const m = JSON.parse(readFileSync(r.manifestPath, 'utf8')) as Manifest;
  return { seconds, stages: m.stages, iso: m.artifacts.iso!.bytes };
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'd2d-bench-rebuild-'));
  process.env.SOURCE_DATE_EPOCH = String(Math.floor(Date.now() / 1000));
  const config = join(tmp, 'rebuild.yaml');
  const withFile = (text: string): void => writeFileSync(config, `files:\n  - {path: /etc/motd, content: "${text}\\n"}\n`);
  withFile('first build');
  const full = await timedBuild(config, join(tmp, 'full'));
  withFile('one file changed');
  const again = await timedBuild(config, join(tmp, 'rebuild'));
  const s = (x: number | undefined): string => (x === undefined ? '-' : `${x.toFixed(1)} s`);
  console.log('debian2docker rebuild benchmark (default config + one file)');
  console.log(`  full build (package cache used)        ${s(full.seconds)}   rootfs ${s(full.stages.rootfs)}, of which pack ${s(full.stages['rootfs/pack'])}`);
  console.log(`  rebuild after changing the file         ${s(again.seconds)}   ${Object.entries(again.stages).filter(([k]) => k !== 'total').map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
  console.log(`  ratio rebuild / full                    ${(again.seconds / full.seconds).toFixed(3)} (${(full.seconds / again.seconds).toFixed(0)}x faster)`);
  console.log(`  ISO                                     ${(full.iso / 1e6).toFixed(1)} MB, then ${(again.iso / 1e6).toFixed(1)} MB`);
  if (!process.argv.includes('--keep')) rmSync(tmp, { recursive: true, force: true });
}

await main();
