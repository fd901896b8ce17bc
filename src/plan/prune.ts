// What the image leaves out although its packages ship it, and why each is safe.
// Paths are relative to the root file system. The manifest lists what was removed.

export interface PruneRule {
  path: string;
  why: string;
}

export const PRUNE_RULES: readonly PruneRule[] = [
  { path: 'usr/bin/ctr', why: "containerd's debugging CLI; dockerd talks to containerd over its API, never through ctr" },
  { path: 'usr/bin/containerd-shim-runc-v1', why: 'the io.containerd.runc.v1 shim; Docker 20.10+ runs containers with the runc.v2 shim' },
  { path: 'usr/bin/containerd-shim', why: 'the legacy io.containerd.runtime.v1.linux shim; no longer used by dockerd' },
];
