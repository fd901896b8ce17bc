// What a config says about its preloaded images, read before any plan is made: the tags it
// gives them and everything that runs one. The config's rules check services and sessions
// against these (src/config/load.ts); the plan reuses them (src/plan/images.ts).
import type { Config } from './schema.js';

/** The tag a reference names, without its digest; undefined when it has none (name@sha256:... only). */
export function refTag(ref: string): string | undefined {
  const name = ref.replace(/@sha256:[0-9a-f]{64}$/, '');
  const last = name.slice(name.lastIndexOf('/') + 1);
  return last.includes(':') ? name : undefined;
}

/** The tags the config itself gives its images (a tarball's own tags are read at build time). */
export function declaredTags(images: Config['images']): string[] {
  const out: string[] = [];
  for (const im of images) {
    if ('tag' in im) out.push(im.tag);
    if ('ref' in im) {
      const t = refTag(im.ref);
      if (t) out.push(t);
    }
    out.push(...(im.tags ?? []));
  }
  return [...new Set(out)];
}

/** Everything that runs a preloaded image (services, desktop sessions), named for error messages. */
export function imageUsers(
  services: readonly { name: string; image: string }[],
  sessions: readonly { name: string; image: string }[],
): { what: string; path: (string | number)[]; image: string }[] {
  return [
    ...services.map((sv, i) => ({ what: `service '${sv.name}'`, path: ['services', i, 'image'], image: sv.image })),
    ...sessions.map((d, i) => ({ what: `desktop session '${d.name}'`, path: ['desktop', 'sessions', i, 'image'], image: d.image })),
  ];
}
