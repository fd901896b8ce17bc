// Stage "pack" (inside the hook): the whole root filesystem as one cpio (newc)
// archive, compressed. Reproducible: sorted names, mtimes clamped to
// SOURCE_DATE_EPOCH, GNU cpio --reproducible (stable inode numbers).
import { appendFileSync, closeSync, copyFileSync, createReadStream, createWriteStream, lstatSync, lutimesSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { run } from '../exec/run.js';
import { ByteProgress } from '../exec/progress.js';
import { log } from '../log.js';
import type { Context } from '../context.js';
import { INNER_WORKDIR } from '../insideProtocol.js';
import { cpioCreateArgv } from '../tools/cpio.js';
import { listTreeArgv } from '../tools/files.js';
import { compressArgv, XZ_DICT, XZ_REST_DICT } from '../tools/compress.js';

/** Paths left out of the image: virtual file systems' contents, caches, apt lists, logs. Mount points
 *  whose stat is the mounted file system's during the build are left out too: stage 1 creates them. */
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
 * The engine's Go programs, in the order they open the archive. They share much code (the Go runtime,
 * gRPC, protobuf, containerd's own packages), but each is 10-95 MB: xz only finds what they share when
 * they sit next to each other within its window. Measured on trixie's docker.io 26.1: 37 MB for the six
 * instead of 50 MB compressed one by one (docs/size.md).
 */
export const ENGINE_PROGRAMS = ['usr/bin/containerd', 'usr/bin/containerd-shim-runc-v2', 'usr/sbin/dockerd', 'usr/bin/docker', 'usr/sbin/runc', 'usr/sbin/docker-proxy'];

/** The file stage 1 checks: the archive's very last one, so its presence means the unpack went to the end. */
export const ROOTFS_SENTINEL = 'usr/lib/d2d/rootfs-complete';

/**
 * Archive order: the engine's programs first (after their folders), then everything else in byte order,
 * the sentinel last. Returns how many entries the engine part has: the payload is compressed as two xz
 * streams cut there (see compressPayload).
 */
export function archiveOrder(paths: string[]): { order: string[]; engineEntries: number } {
  const programs = ENGINE_PROGRAMS.filter((p) => paths.includes(p));
  const folders = byteSort([...new Set(programs.flatMap((p) => p.split('/').slice(0, -1).map((_, i, a) => a.slice(0, i + 1).join('/'))))].filter((d) => paths.includes(d)));
  const first = [...folders, ...programs];
  const rest = byteSort(paths.filter((p) => !first.includes(p) && p !== ROOTFS_SENTINEL));
  return { order: [...first, ...rest, ...(paths.includes(ROOTFS_SENTINEL) ? [ROOTFS_SENTINEL] : [])], engineEntries: first.length };
}

/** Byte offset in a newc cpio archive just after its first n entries. */
export function cpioOffsetAfter(file: string, n: number): number {
  const fd = openSync(file, 'r');
  try {
    const pad4 = (x: number): number => (x + 3) & ~3;
    const head = Buffer.alloc(110);
    let off = 0;
    for (let i = 0; i < n; i++) {
      if (readSync(fd, head, 0, 110, off) !== 110 || head.toString('latin1', 0, 6) !== '070701') throw new Error(`${file}: no cpio header at ${off}`);
      const field = (k: number): number => parseInt(head.toString('latin1', 6 + k * 8, 14 + k * 8), 16);
      const fileSize = field(6);
      const nameSize = field(11);
      off = pad4(pad4(off + 110 + nameSize) + fileSize);
    }
    return off;
  } finally {
    closeSync(fd);
  }
}

/** Copy bytes [start, end) of src to dst. */
async function copyRange(src: string, dst: string, start: number, end: number): Promise<void> {
  if (end <= start) return writeFileSync(dst, '');
  await pipeline(createReadStream(src, { start, end: end - 1 }), createWriteStream(dst));
}

/**
 * Compress the archive up to `end` (where the sentinel's entry starts: the files layer and the sentinel
 * follow as one more stream, src/stages/layer.ts). xz: two streams, cut after the engine's programs: they
 * get the big dictionary, the rest a small one. Stage 1 decodes the streams side by side when the memory
 * allows, and one after the other, freeing the big dictionary when the first ends, on a small machine (a
 * 512 MiB guest holds the unpacked files, the compressed payload and the dictionary at once). The two are
 * compressed at the same time here too: one thread each. Returns the payload (the streams back to back)
 * and each stream's size, in order.
 */
async function compressPayload(ctx: Context, cpio: string, engineEntries: number, end: number, logFile: string): Promise<{ payload: string; streams: number[] }> {
  const { compression, level } = ctx.plan.initramfs;
  const body = `${cpio}.body`;
  // The longest step of a build (minutes at xz -9): its progress is how much the compressors have read.
  const progress = new ByteProgress('pack', 'compressed', (line, final) => log.progress(line, final));
  if (compression === 'zstd') {
    await copyRange(cpio, body, 0, end);
    const attach = progress.input(body);
    progress.start();
    try {
      await run(compressArgv('zstd', level, body), { log: logFile, onSpawn: attach });
    } catch (e) {
      progress.stop(false);
      throw e;
    }
    progress.stop();
    renameSync(`${body}.zst`, `${cpio}.base.zst`);
    rmSync(body, { force: true });
    return { payload: `${cpio}.base.zst`, streams: [statSync(`${cpio}.base.zst`).size] };
  }
  const cut = cpioOffsetAfter(cpio, engineEntries);
  const parts = [`${cpio}.1`, `${cpio}.2`];
  await copyRange(cpio, parts[0]!, 0, cut);
  await copyRange(cpio, parts[1]!, cut, end);
  const attach = parts.map((p) => progress.input(p));
  progress.start();
  try {
    await Promise.all([
      run(compressArgv('xz', level, parts[0]!, XZ_DICT), { log: logFile, onSpawn: attach[0] }),
      run(compressArgv('xz', level, parts[1]!, XZ_REST_DICT), { log: logFile, onSpawn: attach[1] }),
    ]);
  } catch (e) {
    progress.stop(false);
    throw e;
  }
  progress.stop();
  const out = `${cpio}.base.xz`;
  const streams = parts.map((p) => statSync(`${p}.xz`).size);
  copyFileSync(`${parts[0]}.xz`, out);
  appendFileSync(out, readFileSync(`${parts[1]}.xz`));
  for (const p of parts) {
    rmSync(p, { force: true });
    rmSync(`${p}.xz`, { force: true });
  }
  return { payload: out, streams };
}

export interface PackResult {
  files: number;
  bytes: number; // uncompressed archive size
  payload: string; // compressed archive path (without the last stream: the files layer adds it)
  /** The payload's compressed streams' sizes, in order (stage 1 decodes each on its own). */
  streams: number[];
  biggest: { path: string; bytes: number }[];
}

/** leftOut: files of the root that stage 1 carries and copies into it at boot (src/stages/stage1shared.ts). */
export async function packRootfs(ctx: Context, root: string, logFile: string, leftOut: ReadonlySet<string> = new Set()): Promise<PackResult> {
  const { stdout } = await run(listTreeArgv(), { cwd: root, capture: true, log: logFile });
  const { order: rels, engineEntries } = archiveOrder(
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
  // The files layer learns every path of the root, those left out of the archive included.
  writeFileSync(ctx.ws.rootList, rels.join('\n') + '\n');
  const archived = rels.filter((r) => !leftOut.has(r));
  const cpio = ctx.ws.payload;
  await run(cpioCreateArgv(cpio), { cwd: root, input: archived.join('\n') + '\n', log: logFile });
  // The sentinel's entry and the trailer are left for the files layer's stream; the image's users and
  // groups and the list of paths are what that stage needs to know of the root (src/stages/layer.ts).
  if (archived[archived.length - 1] !== ROOTFS_SENTINEL) throw new Error(`the root file system has no /${ROOTFS_SENTINEL} (target/rootfs is incomplete)`);
  const tailStart = cpioOffsetAfter(cpio, archived.length - 1);
  await copyRange(cpio, ctx.ws.rootTail, tailStart, statSync(cpio).size);
  copyFileSync(join(root, 'etc/passwd'), ctx.ws.rootPasswd);
  copyFileSync(join(root, 'etc/group'), ctx.ws.rootGroup);
  const engineArchived = rels.slice(0, engineEntries).filter((r) => !leftOut.has(r)).length;
  const { payload, streams } = await compressPayload(ctx, cpio, engineArchived, tailStart, logFile);
  return {
    files: archived.length,
    bytes: statSync(cpio).size,
    payload,
    streams,
    biggest: sizes.sort((a, b) => b.bytes - a.bytes).slice(0, 25),
  };
}
