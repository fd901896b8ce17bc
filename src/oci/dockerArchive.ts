// Writes a docker-archive tarball (what `docker save` makes and `docker load`
// reads) from a list of files, without a Docker daemon.
import { createHash } from 'node:crypto';
import { tar, type TarEntry } from './tar.js';

export interface ImageSpec {
  tag: string; // repo:tag
  layer: TarEntry[];
  cmd?: string[];
  entrypoint?: string[];
  env?: string[];
  created: number; // epoch seconds
}

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

export function dockerArchive(spec: ImageSpec): { tarball: Buffer; imageId: string } {
  const layer = tar(spec.layer, spec.created);
  const diffId = `sha256:${sha(layer)}`;
  const created = new Date(spec.created * 1000).toISOString();
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created,
    config: { Env: spec.env ?? ['PATH=/usr/local/bin:/usr/bin:/bin'], Cmd: spec.cmd ?? null, Entrypoint: spec.entrypoint ?? null },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created, created_by: 'debian2docker' }],
  });
  const configId = sha(config);
  const layerDir = sha(layer);
  const manifest = JSON.stringify([{ Config: `${configId}.json`, RepoTags: [spec.tag], Layers: [`${layerDir}/layer.tar`] }]);
  const tarball = tar(
    [
      { path: layerDir, type: 'dir' },
      { path: `${layerDir}/layer.tar`, type: 'file', data: layer },
      { path: `${configId}.json`, type: 'file', data: Buffer.from(config) },
      { path: 'manifest.json', type: 'file', data: Buffer.from(manifest) },
    ],
    spec.created,
  );
  return { tarball, imageId: `sha256:${configId}` };
}

/** A tiny image around a static busybox: enough to prove containers run and get an address. */
export function busyboxImage(busybox: Buffer, tag: string, created: number): { tarball: Buffer; imageId: string } {
  const applets = ['sh', 'echo', 'cat', 'ls', 'ip', 'ifconfig', 'hostname', 'sleep', 'wget', 'ps', 'id', 'uname', 'true'];
  const layer: TarEntry[] = [
    { path: 'bin', type: 'dir' },
    { path: 'bin/busybox', type: 'file', mode: 0o755, data: busybox },
    ...applets.map((a): TarEntry => ({ path: `bin/${a}`, type: 'symlink', target: 'busybox' })),
    { path: 'etc', type: 'dir' },
    { path: 'etc/passwd', type: 'file', data: Buffer.from('root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n') },
    { path: 'etc/group', type: 'file', data: Buffer.from('root:x:0:\nnogroup:x:65534:\n') },
    { path: 'tmp', type: 'dir', mode: 0o1777 },
  ];
  return dockerArchive({ tag, layer, cmd: ['sh'], env: ['PATH=/bin'], created });
}
