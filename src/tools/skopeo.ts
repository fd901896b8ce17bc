// skopeo: fetches images from registries and converts OCI archives, without a
// Docker daemon. Pure argv builders (tested against exact argv).

/** `docker://` wants either a tag or a digest: fetch by repository@digest. */
export function repoOf(ref: string): string {
  const noDigest = ref.replace(/@sha256:[0-9a-f]{64}$/, '');
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

/** The raw manifest (or manifest list) of a reference; its digest is what we pin. */
export function skopeoInspectRawArgv(ref: string, tlsVerify: boolean): string[] {
  return ['skopeo', 'inspect', '--raw', `--tls-verify=${tlsVerify}`, '--retry-times', '2', `docker://${ref}`];
}

export function skopeoManifestDigestArgv(file: string): string[] {
  return ['skopeo', 'manifest-digest', file];
}

/** Copy the amd64 image of REPO@DIGEST into a docker-archive, tagged as `tag` when given. */
export function skopeoCopyArgv(o: { ref: string; digest: string; tlsVerify: boolean; out: string; tag?: string }): string[] {
  return [
    'skopeo', 'copy', '--quiet',
    '--override-arch', 'amd64', '--override-os', 'linux',
    `--src-tls-verify=${o.tlsVerify}`, '--retry-times', '2',
    `docker://${repoOf(o.ref)}@${o.digest}`,
    `docker-archive:${o.out}${o.tag ? `:${o.tag}` : ''}`,
  ];
}

/** OCI archive -> docker-archive (what `docker load` reads everywhere). */
export function skopeoOciToDockerArgv(input: string, out: string, tag?: string): string[] {
  return ['skopeo', 'copy', '--quiet', '--override-arch', 'amd64', '--override-os', 'linux', `oci-archive:${input}`, `docker-archive:${out}${tag ? `:${tag}` : ''}`];
}
