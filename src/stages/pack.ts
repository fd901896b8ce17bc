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
export const EXCLUDE_PREFIXES = [`${INNER_WORKDIR}/`, 'proc/', 'sys/', 'dev/', 'run/', 'tmp/', 'var/tmp/', 'var/cache/apt/', 'var/lib/apt/lists/', 'var/log/', 'var/cache/debconf/templates.dat-old', 'var/lib/dpkg/status-old', 'etc/ssh/ssh_host_',
  // ldconfig's own speed-up cache: it records inode numbers and ctimes, so it differs from build to build.
  'var/cache/ldconfig/'];

export function keepPath(rel: string): boolean {
  // The folders themselves stay (they are mount points); only what is inside them goes.
  return !EXCLUDE_EXACT.includes(rel) && !EXCLUDE_PREFIXES.some((p) => rel.startsWith(p));
}

/** Byte-wise order, as `LC_ALL=C sort` would give: the same on every machine. */
export function byteSort(paths: string[]): string[] {
  return paths.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/**
 * The engine's Go programs, in the order they go at the end of the archive. They share much code (the Go
 * runtime, gRPC, protobuf, containerd's own packages), but each is 10-95 MB: xz only finds what they share
 * when they sit next to each other within its window. Measured on trixie's docker.io 26.1: 6 MB smaller
 * than the same files in name order (docs/size.md).
 */
export const ADJACENT_LAST = ['usr/bin/containerd', 'usr/bin/containerd-shim-runc-v2', 'usr/sbin/dockerd', 'usr/bin/docker', 'usr/sbin/runc', 'usr/sbin/docker-proxy'];

/** Archive order: byte order, except the engine's programs, which go last and together. */
export function archiveOrder(paths: string[]): string[] {
  const last = ADJACENT_LAST.filter((p) => paths.includes(p));
  return [...byteSort(paths.filter((p) => !last.includes(p))), ...last];
}

/** xz's dictionary at level 9: wide enough to span the engine's programs (ADJACENT_LAST); see docs/size.md. */
export const XZ_DICT = '128MiB';

export function compressArgv(kind: 'xz' | 'zstd', level: number, input: string): string[] {
  // xz: CRC32 check; the x86 BCJ filter (calls and jumps made position-independent: 2% smaller). Stage 1
  // decodes it with xzdec (busybox's unxz has no BCJ and refuses dictionaries over 64 MiB).
  // One thread, so one block: with -T0 xz cuts the archive into independent blocks and loses what
  // files in different blocks share. Single-threaded output is the same on any machine.
  // Level 9 is the size setting: the extreme variant (9e) and a 128 MiB dictionary (which the guest
  // also needs as memory while stage 1 unpacks).
  if (kind === 'xz') {
    const lzma2 = level >= 9 ? `preset=9e,dict=${XZ_DICT}` : `preset=${level}`;
    return ['xz', '-T1', '--x86', `--lzma2=${lzma2}`, '--check=crc32', '--keep', '--force', input];
  }
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
  const rels = archiveOrder(
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
