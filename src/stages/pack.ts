// Stage "pack" (inside the hook): the whole root filesystem as one cpio (newc)
// archive, compressed. Reproducible: sorted names, mtimes clamped to
// SOURCE_DATE_EPOCH, GNU cpio --reproducible (stable inode numbers).
import { lstatSync, lutimesSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../tools/exec.js';
import type { Context } from '../context.js';
import { INNER_WORKDIR } from '../insideProtocol.js';

/** Paths left out of the image: virtual file systems' contents, caches, apt lists, logs. */
/** Mount points whose stat is the mounted file system's during the build: left out, stage 1 creates them. */
export const EXCLUDE_EXACT = ['proc', 'sys', 'dev', INNER_WORKDIR];
export const EXCLUDE_PREFIXES = [`${INNER_WORKDIR}/`, 'proc/', 'sys/', 'dev/', 'run/', 'tmp/', 'var/tmp/', 'var/cache/apt/', 'var/lib/apt/lists/', 'var/log/', 'var/cache/debconf/templates.dat-old', 'var/lib/dpkg/status-old', 'etc/ssh/ssh_host_'];

export function keepPath(rel: string): boolean {
  // The folders themselves stay (they are mount points); only what is inside them goes.
  return !EXCLUDE_EXACT.includes(rel) && !EXCLUDE_PREFIXES.some((p) => rel.startsWith(p));
}

/** Byte-wise order, as `LC_ALL=C sort` would give: the same on every machine. */
export function byteSort(paths: string[]): string[] {
  return paths.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

export function compressArgv(kind: 'xz' | 'zstd', level: number, input: string): string[] {
  // xz: the check must be crc32 (what the kernel and busybox's unxz accept); no BCJ filter (busybox lacks it).
  // -T0 splits into blocks whose layout depends on the preset only, so output is the same on any core count.
  if (kind === 'xz') return ['xz', '-T0', `-${level}`, '--check=crc32', '--keep', '--force', input];
  return ['zstd', '-q', '-T0', `-${level}`, '--keep', '--force', input];
}

export interface PackResult {
  files: number;
  bytes: number; // uncompressed archive size
  payload: string; // compressed archive path
  biggest: { path: string; bytes: number }[];
}

export async function packRootfs(ctx: Context, root: string, logFile: string): Promise<PackResult> {
  const { stdout } = await run(['find', '.', '-xdev', '-mindepth', '1'], { cwd: root, capture: true, log: logFile });
  const rels = byteSort(
    stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.replace(/^\.\//, ''))
      .filter(keepPath),
  );
  const sde = ctx.plan.sourceDateEpoch;
  const sizes: { path: string; bytes: number }[] = [];
  for (const rel of rels) {
    const st = lstatSync(join(root, rel));
    if (st.isFile()) sizes.push({ path: `/${rel}`, bytes: st.size });
    if (st.mtimeMs / 1000 > sde) lutimesSync(join(root, rel), sde, sde);
  }
  const list = rels.join('\n') + '\n';
  writeFileSync(join(ctx.ws.dir, 'rootfs.list'), list);
  const cpio = ctx.ws.payload;
  await run(['cpio', '--quiet', '-o', '-H', 'newc', '--reproducible', '-O', cpio], { cwd: root, input: list, log: logFile });
  const { compression, level } = ctx.plan.initramfs;
  await run(compressArgv(compression, level, cpio), { log: logFile });
  return {
    files: rels.length,
    bytes: statSync(cpio).size,
    payload: `${cpio}.${compression === 'xz' ? 'xz' : 'zst'}`,
    biggest: sizes.sort((a, b) => b.bytes - a.bytes).slice(0, 25),
  };
}
