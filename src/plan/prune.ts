// What the image leaves out although its packages ship it, and why each is safe.
// Paths are relative to the root file system. The manifest lists what was removed.
import { needsLocales } from './plan.js';

export interface PruneRule {
  path: string;
  why: string;
}

export const PRUNE_RULES: readonly PruneRule[] = [
  { path: 'usr/bin/ctr', why: "containerd's debugging CLI; dockerd talks to containerd over its API, never through ctr" },
  { path: 'usr/bin/containerd-shim-runc-v1', why: 'the io.containerd.runc.v1 shim; Docker 20.10+ runs containers with the runc.v2 shim' },
  { path: 'usr/bin/containerd-shim', why: 'the legacy io.containerd.runtime.v1.linux shim; no longer used by dockerd' },
];

/** The rules for one image: the fixed ones, plus sources that the build compiled into something smaller. */
export function pruneRules(p: { system: { locale: string; keyboard: string } }): PruneRule[] {
  const rules = [...PRUNE_RULES];
  if (needsLocales(p.system.locale)) {
    rules.push({ path: 'usr/share/i18n', why: 'locale sources and charmaps: the configured locale is already compiled into /usr/lib/locale/locale-archive' });
  }
  if (p.system.keyboard !== 'us') {
    rules.push({ path: 'usr/share/keymaps', why: "console-data's keymaps: the configured one is already converted to /etc/d2d/keymap.bmap" });
  }
  return rules;
}
