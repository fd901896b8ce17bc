// Preloaded images and boot-time services, decided up front (pure).
// Images become compressed docker-archives on the boot medium (ISO: /d2d/images,
// network boot: a second initrd); an index file tells the boot which file holds
// which image id and which tags to apply. Services become one generated
// `docker run` line each under /etc/d2d/services.
import type { Config } from '../config/schema.js';
import { shellQuote } from '../tools/exec.js';

export type ImageSource =
  | { kind: 'tarball'; path: string }
  | { kind: 'registry'; ref: string; tlsVerify: boolean }
  | {
      kind: 'debian';
      tag: string;
      packages: string[];
      suite: string;
      variant: string;
      entrypoint?: string[];
      cmd?: string[];
      env: string[];
      user?: string;
      workdir?: string;
    };

export interface ImagePlan {
  /** File name on the boot medium, e.g. 01-hello.tar.zst. */
  file: string;
  source: ImageSource;
  /** Tags applied at boot (the config's, plus the built image's own name). */
  tags: string[];
  background: boolean;
}

export interface ServicePlan {
  name: string;
  image: string;
  /** The file under /etc/d2d/services: NN-name (run in this order). */
  file: string;
  argv: string[];
}

/** Where images go on the ISO, and the folder stage 1 moves a network boot's image initrd to. */
export const ISO_IMAGES_DIR = 'd2d/images';
export const INITRD_IMAGES_DIR = 'd2d-images';
/** The label of a drop-in medium whose tarballs are imported at boot (docs/images.md). */
export const DROPIN_LABEL = 'D2D-IMAGES';

/** The files of the images folder a boot medium or the images initrd carries: the index and the archives. */
export function imageFiles(images: readonly ImagePlan[]): string[] {
  return ['index', ...images.map((im) => im.file)];
}

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

function slug(s: string): string {
  return (
    s
      .replace(/@sha256:.*$/, '')
      .replace(/^.*\//, '')
      .replace(/\.(tar|tgz|gz|xz|zst|zstd)$/g, '')
      .replace(/\.(tar)$/g, '')
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .slice(0, 40) || 'image'
  );
}

export function planImages(c: Config): ImagePlan[] {
  return c.images.map((im, i) => {
    const n = String(i + 1).padStart(2, '0');
    const common = { tags: [...(im.tags ?? [])], background: im.background ?? false };
    if ('tarball' in im) return { file: `${n}-${slug(im.tarball)}.tar.zst`, source: { kind: 'tarball', path: im.tarball }, ...common };
    if ('ref' in im) {
      const t = refTag(im.ref);
      return {
        file: `${n}-${slug(im.ref)}.tar.zst`,
        source: { kind: 'registry', ref: im.ref, tlsVerify: im['tls-verify'] ?? true },
        ...common,
        tags: [...new Set([...(t ? [t] : []), ...common.tags])],
      };
    }
    return {
      file: `${n}-${slug(im.tag)}.tar.zst`,
      source: {
        kind: 'debian',
        tag: im.tag,
        packages: [...im.debian.packages],
        suite: im.debian.suite ?? c.debian.suite,
        variant: im.debian.variant ?? 'essential',
        entrypoint: im.entrypoint,
        cmd: im.cmd,
        env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...Object.entries(im.env ?? {}).map(([k, v]) => `${k}=${v}`)],
        user: im.user,
        workdir: im.workdir,
      },
      ...common,
      tags: [...new Set([im.tag, ...common.tags])],
    };
  });
}

/** The `docker run` of a service. Its own label lets `docker ps --filter label=d2d.service` find them. */
export function serviceArgv(sv: Config['services'][number]): string[] {
  const argv = ['docker', 'run', '-d', '--name', sv.name, '--label', `d2d.service=${sv.name}`, '--restart', sv.restart ?? 'unless-stopped'];
  for (const [k, v] of Object.entries(sv.env ?? {})) argv.push('-e', `${k}=${v}`);
  for (const p of sv.ports ?? []) argv.push('-p', p);
  for (const v of sv.volumes ?? []) argv.push('-v', v);
  if (sv.entrypoint !== undefined) argv.push('--entrypoint', sv.entrypoint);
  argv.push(sv.image, ...(sv.command ?? []));
  return argv;
}

export function planServices(c: Config): ServicePlan[] {
  return c.services.map((sv, i) => ({ name: sv.name, image: sv.image, file: `${String(i + 1).padStart(2, '0')}-${sv.name}`, argv: serviceArgv(sv) }));
}

/** The text of /etc/d2d/services/NN-name: one quoted command, run by /usr/lib/d2d/services. */
export function serviceScript(s: ServicePlan): string {
  return `# generated by debian2docker from the config's services: entry '${s.name}'\n${shellQuote(s.argv)}\n`;
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

export interface BuiltImage {
  file: string;
  id: string; // sha256:<config digest>
  tags: string[];
  background: boolean;
}

/**
 * The index the boot reads: a header naming the build, then one line per
 * image: FILE ID fg|bg TAG... (no field has spaces: tags and ids cannot).
 */
export function imagesIndex(buildId: string, images: readonly BuiltImage[]): string {
  const lines = [`# d2d-images 1 ${buildId}`];
  for (const im of images) lines.push([im.file, im.id, im.background ? 'bg' : 'fg', ...im.tags].join(' '));
  return lines.join('\n') + '\n';
}
