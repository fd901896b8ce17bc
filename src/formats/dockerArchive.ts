// Writes a docker-archive tarball (what `docker save` makes and `docker load`
// reads) from a list of files, without a Docker daemon.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { header, tar, type TarEntry } from './tar.js';
import { sha256File } from '../fsutil.js';

export interface ImageSpec {
  tag: string; // repo:tag
  layer: TarEntry[];
  cmd?: string[];
  entrypoint?: string[];
  env?: string[];
  created: number; // epoch seconds
  user?: string;
  workdir?: string;
}

function imageConfig(spec: Omit<ImageSpec, 'layer'>, diffId: string): string {
  const created = new Date(spec.created * 1000).toISOString();
  return JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created,
    config: {
      Env: spec.env ?? ['PATH=/usr/local/bin:/usr/bin:/bin'],
      Cmd: spec.cmd ?? null,
      Entrypoint: spec.entrypoint ?? null,
      ...(spec.user ? { User: spec.user } : {}),
      ...(spec.workdir ? { WorkingDir: spec.workdir } : {}),
    },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created, created_by: 'debian2docker' }],
  });
}

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

export function dockerArchive(spec: ImageSpec): { tarball: Buffer; imageId: string } {
  const layer = tar(spec.layer, spec.created);
  const layerHex = sha(layer);
  const config = imageConfig(spec, `sha256:${layerHex}`);
  const configId = sha(config);
  const manifest = JSON.stringify([{ Config: `${configId}.json`, RepoTags: [spec.tag], Layers: [`${layerHex}/layer.tar`] }]);
  const tarball = tar(
    [
      { path: layerHex, type: 'dir' },
      { path: `${layerHex}/layer.tar`, type: 'file', data: layer },
      { path: `${configId}.json`, type: 'file', data: Buffer.from(config) },
      { path: 'manifest.json', type: 'file', data: Buffer.from(manifest) },
    ],
    spec.created,
  );
  return { tarball, imageId: `sha256:${configId}` };
}

/**
 * The same archive around a layer that is already a tar file on disk (mmdebstrap's
 * output, hundreds of MB): streamed to `out`, never held in memory.
 */
export async function writeDockerArchive(out: string, layerFile: string, spec: Omit<ImageSpec, 'layer'>): Promise<{ imageId: string }> {
  const layerHex = await sha256File(layerFile);
  const config = Buffer.from(imageConfig(spec, `sha256:${layerHex}`));
  const configId = sha(config);
  const manifest = Buffer.from(JSON.stringify([{ Config: `${configId}.json`, RepoTags: [spec.tag], Layers: [`${layerHex}/layer.tar`] }]));
  const size = statSync(layerFile).size;
  const fd = openSync(out, 'w');
  try {
    const pad = (n: number): void => void (n % 512 && writeSync(fd, Buffer.alloc(512 - (n % 512))));
    writeSync(fd, header({ path: layerHex, type: 'dir' }, spec.created));
    writeSync(fd, header({ path: `${layerHex}/layer.tar`, type: 'file' }, spec.created, size));
    const src = openSync(layerFile, 'r');
    try {
      const buf = Buffer.alloc(4 << 20);
      for (let n; (n = readSync(src, buf, 0, buf.length, null)) > 0; ) writeSync(fd, buf, 0, n);
    } finally {
      closeSync(src);
    }
    pad(size);
    for (const [path, data] of [[`${configId}.json`, config], ['manifest.json', manifest]] as const) {
      writeSync(fd, header({ path, type: 'file', data }, spec.created));
      writeSync(fd, data);
      pad(data.length);
    }
    writeSync(fd, Buffer.alloc(1024));
  } finally {
    closeSync(fd);
  }
  return { imageId: `sha256:${configId}` };
}

/** What `docker load` will make of a docker-archive's manifest.json: the image id and its tags. */
export function parseArchiveManifest(text: string): { id: string; tags: string[] } {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    throw new Error('manifest.json is not JSON');
  }
  if (!Array.isArray(m) || m.length === 0) throw new Error('manifest.json lists no image');
  if (m.length > 1) throw new Error(`the archive holds ${m.length} images; give one image per tarball`);
  const e = m[0] as { Config?: unknown; RepoTags?: unknown };
  const hex = typeof e.Config === 'string' ? /([0-9a-f]{64})(\.json)?$/.exec(e.Config)?.[1] : undefined;
  if (!hex) throw new Error('manifest.json names no config blob');
  const tags = Array.isArray(e.RepoTags) ? e.RepoTags.filter((t): t is string => typeof t === 'string') : [];
  return { id: `sha256:${hex}`, tags };
}

/** A tiny image around a static busybox: enough to prove containers run and get an address. */
export function busyboxImage(busybox: Buffer, tag: string, created: number, extra: TarEntry[] = [], cmd = ['sh']): { tarball: Buffer; imageId: string } {
  const applets = ['sh', 'echo', 'cat', 'ls', 'ip', 'ifconfig', 'hostname', 'sleep', 'wget', 'ps', 'id', 'uname', 'true', 'httpd'];
  const layer: TarEntry[] = [
    { path: 'bin', type: 'dir' },
    { path: 'bin/busybox', type: 'file', mode: 0o755, data: busybox },
    ...applets.map((a): TarEntry => ({ path: `bin/${a}`, type: 'symlink', target: 'busybox' })),
    { path: 'etc', type: 'dir' },
    { path: 'etc/passwd', type: 'file', data: Buffer.from('root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n') },
    { path: 'etc/group', type: 'file', data: Buffer.from('root:x:0:\nnogroup:x:65534:\n') },
    { path: 'tmp', type: 'dir', mode: 0o1777 },
    ...extra,
  ];
  return dockerArchive({ tag, layer, cmd, env: ['PATH=/bin'], created });
}
