// Stage "images": every preloaded image of the config becomes one compressed
// docker-archive (what `docker load` reads) plus a line in the index the boot
// reads. Sources: a tarball on the build host (docker- or OCI-archive, maybe
// compressed), a registry reference fetched with skopeo and pinned by digest,
// or an image built from Debian packages with mmdebstrap. No Docker daemon.
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../exec/run.js';
import { mmdebstrapImageArgv } from '../tools/mmdebstrap.js';
import { skopeoCopyArgv, skopeoInspectRawArgv, skopeoManifestDigestArgv, skopeoOciToDockerArgv } from '../tools/skopeo.js';
import { parseArchiveManifest, writeDockerArchive } from '../formats/dockerArchive.js';
import { imagesIndex, imageUsers, type BuiltImage, type ImagePlan } from '../plan/images.js';
import { sha256File } from '../fsutil.js';
import { CommandError, ExitCode, StageError } from '../errors.js';
import { diagnoseApt, rootless, type AptSetup } from './rootfs.js';
import { dropAptSnapshot, mergeAptCache, simulatedInstall, snapshotAptCache, versionsMemoDir, type AptCacheDirs } from './aptcache.js';
import type { Context } from '../context.js';
import { decompressToArgv, imageZstdArgv } from '../tools/compress.js';
import { moveArgv, tarListArgv, tarReadArgv } from '../tools/files.js';

/** zstd level of the image archives: most of -19's ratio at a fraction of its time. */
export const IMAGE_ZSTD_LEVEL = 12;

export interface ImageRecord extends BuiltImage {
  source: 'tarball' | 'registry' | 'debian';
  from: string; // the tarball's path, the reference, or the packages
  digest?: string; // registry: the manifest digest the image was pinned to
  bytes: number;
  sha256: string;
}

type Compression = 'gzip' | 'xz' | 'zstd' | 'bzip2' | 'none';

/** The compression of a file, from its first bytes. */
export function sniffCompression(head: Buffer): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return 'zstd';
  if (head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  return 'none';
}

function readHead(file: string, n = 512): Buffer {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(n);
    return b.subarray(0, readSync(fd, b, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

/** A plain tar on disk is a docker-archive (manifest.json) or an OCI archive (index.json + oci-layout). */
export function archiveKind(listing: string): 'docker' | 'oci' | undefined {
  const names = new Set(listing.split('\n').map((l) => l.replace(/^\.\//, '').trim()));
  if (names.has('manifest.json')) return 'docker';
  if (names.has('index.json') && names.has('oci-layout')) return 'oci';
  return undefined;
}

async function fromTarball(ctx: Context, im: ImagePlan, path: string, raw: string, logFile: string): Promise<void> {
  const what = `images: tarball ${path}`;
  if (!existsSync(path)) throw new StageError('images', `${what}: no such file`, { exitCode: ExitCode.config });
  const comp = sniffCompression(readHead(path));
  const plain = join(ctx.ws.imagesDir, `${im.file}.in.tar`);
  if (comp === 'none') copyFileSync(path, plain);
  else await run(decompressToArgv(comp, path, plain), { log: logFile });
  let listing: string;
  try {
    listing = (await run(tarListArgv(plain), { capture: true, log: logFile })).stdout;
  } catch (e) {
    throw new StageError('images', `${what} is not a tar archive (${comp === 'none' ? 'uncompressed' : comp})`, { cause: e, logPath: logFile, exitCode: ExitCode.config, hint: 'give the output of `docker save` or `skopeo copy ... docker-archive:/oci-archive:`' });
  }
  const kind = archiveKind(listing);
  if (kind === undefined) throw new StageError('images', `${what} is neither a docker-archive (manifest.json) nor an OCI archive (index.json, oci-layout)`, { logPath: logFile, exitCode: ExitCode.config });
  if (kind === 'docker') {
    await run(moveArgv(plain, raw), { log: logFile });
  } else {
    await run(skopeoOciToDockerArgv(plain, raw, im.tags[0]), { log: logFile });
    rmSync(plain, { force: true });
  }
}

async function fromRegistry(ctx: Context, im: ImagePlan & { source: { kind: 'registry' } }, raw: string, logFile: string): Promise<string> {
  const { ref, tlsVerify } = im.source;
  const manifestFile = join(ctx.ws.imagesDir, `${im.file}.manifest.json`);
  try {
    const { stdout } = await run(skopeoInspectRawArgv(ref, tlsVerify), { capture: true, log: logFile });
    writeFileSync(manifestFile, stdout);
  } catch (e) {
    const tail = e instanceof CommandError ? e.tail : String(e);
    const hint = /http: server gave HTTP response to HTTPS client/.test(tail)
      ? 'the registry speaks plain HTTP: set tls-verify: false on this image (only for a registry you trust, e.g. on 127.0.0.1)'
      : /manifest unknown|not found|name unknown/i.test(tail)
        ? 'the registry has no such repository or tag'
        : 'check the reference and that the registry is reachable from the build host';
    throw new StageError('images', `cannot fetch image ${ref}`, { cause: e, logPath: logFile, hint, exitCode: /connection refused|no such host|timeout/i.test(tail) ? ExitCode.network : ExitCode.stage });
  }
  const digest = (await run(skopeoManifestDigestArgv(manifestFile), { capture: true, log: logFile })).stdout.trim();
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new StageError('images', `skopeo gave no digest for ${ref}: '${digest}'`, { logPath: logFile });
  const wanted = /@(sha256:[0-9a-f]{64})$/.exec(ref)?.[1];
  if (wanted && wanted !== digest) throw new StageError('images', `${ref}: the registry serves ${digest}, not the digest asked for`, { logPath: logFile });
  await run(skopeoCopyArgv({ ref, digest, tlsVerify, out: raw, tag: im.tags[0] }), { log: logFile });
  rmSync(manifestFile, { force: true });
  return digest;
}

async function fromDebian(ctx: Context, im: ImagePlan & { source: { kind: 'debian' } }, raw: string, logFile: string, apt: AptSetup): Promise<void> {
  const s = im.source;
  const layer = join(ctx.ws.imagesDir, `${im.file}.layer.tar`);
  const p = ctx.plan;
  const args = { extraSources: apt.sources, snapshot: p.debian.snapshot, suite: s.suite, mirror: p.debian.mirror, components: p.debian.components, variant: s.variant, packages: s.packages, mode: rootless() ? ('unshare' as const) : ('root' as const) };
  let cache: AptCacheDirs | undefined;
  if (apt.cacheDir !== undefined) {
    // Which cached packages to hand over; if the simulation fails, the whole cache (the real run reports the error).
    const wanted = await simulatedInstall(args, logFile, versionsMemoDir(apt.cacheDir)).catch(() => undefined);
    cache = snapshotAptCache(apt.cacheDir, ctx.ws.aptCache, im.file, wanted);
  }
  try {
    await run(mmdebstrapImageArgv({ ...args, aptCacheDir: cache?.in, aptCacheOut: cache?.out, output: layer }), { log: logFile, env: { SOURCE_DATE_EPOCH: String(p.sourceDateEpoch) } });
    if (cache && apt.cacheDir) mergeAptCache(cache, apt.cacheDir);
  } catch (e) {
    throw diagnoseApt(readFileSync(logFile, 'utf8'), s.suite, { stage: 'images', logPath: logFile, prefix: `image ${s.tag}: `, cause: e }) ?? e;
  } finally {
    if (cache) dropAptSnapshot(cache);
  }
  await writeDockerArchive(raw, layer, { tag: s.tag, created: p.sourceDateEpoch, entrypoint: s.entrypoint, cmd: s.cmd, env: s.env, user: s.user, workdir: s.workdir });
  rmSync(layer, { force: true });
}

/** Docker's short form of a tag: skopeo writes docker.io/[library/]name:tag, `docker images` shows name:tag. */
export function shortTag(t: string): string {
  return t.replace(/^docker\.io\/(library\/)?/, '');
}

export async function buildImages(ctx: Context, logFile: string, apt: AptSetup): Promise<ImageRecord[]> {
  const dir = ctx.ws.imagesDir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const records: ImageRecord[] = [];
  for (const im of ctx.plan.images) {
    const raw = join(dir, `${im.file}.raw.tar`);
    let digest: string | undefined;
    let from: string;
    switch (im.source.kind) {
      case 'tarball':
        from = im.source.path;
        await fromTarball(ctx, im, im.source.path, raw, logFile);
        break;
      case 'registry':
        from = im.source.ref;
        digest = await fromRegistry(ctx, im as ImagePlan & { source: { kind: 'registry' } }, raw, logFile);
        break;
      case 'debian':
        from = `debian ${im.source.suite}: ${im.source.packages.join(' ')}`;
        await fromDebian(ctx, im as ImagePlan & { source: { kind: 'debian' } }, raw, logFile, apt);
        break;
    }
    const manifestText = (await run(tarReadArgv(raw, 'manifest.json'), { capture: true, log: logFile })).stdout;
    let info: { id: string; tags: string[] };
    try {
      info = parseArchiveManifest(manifestText);
    } catch (e) {
      throw new StageError('images', `image ${from}: ${(e as Error).message}`, { logPath: logFile, exitCode: ExitCode.config });
    }
    const out = join(dir, im.file);
    await run(imageZstdArgv(IMAGE_ZSTD_LEVEL, raw, out), { log: logFile });
    rmSync(raw, { force: true });
    records.push({
      file: im.file,
      id: info.id,
      tags: [...new Set([...info.tags, ...im.tags].map(shortTag))],
      background: im.background,
      source: im.source.kind,
      from,
      ...(digest ? { digest } : {}),
      bytes: statSync(out).size,
      sha256: await sha256File(out),
    });
  }
  // Every service and desktop session must run an image the machine will have (tags inside tarballs are only known now).
  const tags = new Set(records.flatMap((r) => [...r.tags, r.id]));
  for (const u of imageUsers(ctx.plan.services, ctx.plan.desktop?.sessions ?? [])) {
    if (!tags.has(u.image)) {
      throw new StageError('images', `${u.what} runs '${u.image}', which none of the preloaded images is tagged as`, {
        exitCode: ExitCode.config,
        hint: `images carry: ${[...tags].filter((t) => !t.startsWith('sha256:')).join(', ') || '(no tags)'}; add the tag with images[].tags`,
      });
    }
  }
  writeFileSync(join(dir, 'index'), imagesIndex(ctx.plan.configHash, records));
  return records;
}
