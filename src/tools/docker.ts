// docker: `build --in-docker`. Pure argv builders (tested against exact argv)
// plus the pure pieces of the builder image (its package list, its tag) and of
// the container (which host folders it sees, and how).
import { createHash } from 'node:crypto';
import { dirname, isAbsolute, normalize, sep } from 'node:path';
import { D2DError, ExitCode } from '../errors.js';
import { HOST_TOOLS } from '../exec/hosttools.js';

/** The Debian suite the builder image is made from: trixie ships Node 20.19, which our engines field accepts. */
export const BUILDER_SUITE = 'trixie';
/** essential + apt: the smallest variant that still has apt, which the inner mmdebstrap needs to resolve packages. */
export const BUILDER_VARIANT = 'apt';
/** Bump when the recipe changes in a way the package list does not show. */
export const BUILDER_RECIPE = 1;

/**
 * The builder image's packages: every host package a native build needs (from HOST_TOOLS, so the two
 * cannot drift apart), plus what the host provides implicitly: Node.js to run the tool itself, the
 * archive keyring and CA certificates for apt, and `mount`, which mmdebstrap's root mode calls but the
 * `apt` variant leaves out.
 */
export function builderPackages(): string[] {
  const fromTools = HOST_TOOLS.filter((t) => t.needed === 'build' && t.pkg !== 'dpkg').map((t) => t.pkg);
  return [...new Set([...fromTools, 'nodejs', 'ca-certificates', 'debian-archive-keyring', 'mount'])].sort();
}

export interface BuilderInputs {
  suite: string;
  variant: string;
  packages: readonly string[];
  toolVersion: string;
  recipe: number;
}

/** Tag of the builder image: a hash of everything it is made from, so an unchanged one is reused. */
export function builderTag(i: BuilderInputs): string {
  const canon = JSON.stringify({ suite: i.suite, variant: i.variant, packages: [...i.packages].sort(), toolVersion: i.toolVersion, recipe: i.recipe });
  return `debian2docker-builder:${createHash('sha256').update(canon).digest('hex').slice(0, 12)}`;
}

export const dockerInfoArgv = (): string[] => ['docker', 'info', '--format', '{{.ServerVersion}}'];

/** Prints the image id; exits 1 when there is no such image. */
export const imageIdArgv = (tag: string): string[] => ['docker', 'image', 'inspect', '--format', '{{.Id}} {{.Size}}', tag];

export const importArgv = (tar: string, tag: string): string[] => ['docker', 'import', '--change', 'ENV LC_ALL=C.UTF-8', tar, tag];

export const removeImageArgv = (id: string): string[] => ['docker', 'rmi', id];

export const killArgv = (name: string, signal: 'INT' | 'KILL'): string[] => ['docker', 'kill', `--signal=${signal}`, name];

/** `node --version` in the image, to check it against package.json's engines before the first build. */
export const nodeVersionArgv = (tag: string): string[] => ['docker', 'run', '--rm', '--network=none', tag, 'node', '--version'];

export interface Bind {
  path: string;
  writable: boolean;
}

/**
 * Host folders the container sees, each at the same path as on the host: then every path the inner
 * build prints (a config error's file:line, a log file, an artifact) is a valid host path with no
 * translation. Folders inside another bind are merged into it when it already grants the access they
 * need; a writable folder inside a read-only one stays a bind of its own (Docker mounts parents first).
 */
export function binds(wanted: readonly Bind[]): Bind[] {
  const merged = new Map<string, boolean>();
  for (const b of wanted) {
    const p = normalize(b.path).replace(/(.)\/+$/, '$1');
    checkBindPath(p);
    merged.set(p, (merged.get(p) ?? false) || b.writable);
  }
  const all = [...merged.entries()].map(([path, writable]) => ({ path, writable })).sort((a, b) => a.path.localeCompare(b.path));
  const inside = (child: string, parent: string): boolean => parent === '/' || child.startsWith(parent + sep);
  return all.filter((b) => !all.some((o) => o !== b && inside(b.path, o.path) && (o.writable || !b.writable)));
}

/**
 * Folders the builder's own tools live in. A bind at one of them, above one, or inside one would hide
 * part of the builder (e.g. a host folder over /usr/lib/grub). /usr/local is the exception: Debian puts
 * nothing there, and a global `npm install` of this tool does.
 */
const BUILDER_PATHS = ['/usr', '/etc', '/bin', '/sbin', '/lib', '/lib64', '/proc', '/sys', '/dev', '/var/lib/apt', '/var/lib/dpkg', '/var/cache/apt'];

function checkBindPath(p: string): void {
  if (!isAbsolute(p)) throw new Error(`bind path must be absolute: ${p}`);
  // --mount takes a comma-separated list: these characters would need quoting.
  if (/[,"\n]/.test(p)) throw new D2DError('E_DOCKER_PATH', `cannot hand ${p} to a container: the path contains a comma, quote or newline`, { exitCode: ExitCode.usage, hint: 'move it to a path without those characters' });
  const within = (a: string, b: string): boolean => a === b || b === '/' || a.startsWith(b + '/');
  const hit = p.startsWith('/usr/local/') ? undefined : BUILDER_PATHS.find((s) => within(s, p) || within(p, s));
  if (hit !== undefined) {
    throw new D2DError('E_DOCKER_PATH', `cannot hand ${p} to the build container at the same path: it would hide the builder's own ${hit}`, {
      exitCode: ExitCode.usage,
      hint: 'keep the config, the output folder and the cache under /home, /root, /srv, /tmp or similar',
    });
  }
}

export interface RunSpec {
  image: string;
  name: string;
  binds: readonly Bind[];
  env: Record<string, string>;
  workdir: string;
  command: readonly string[];
}

/**
 * The build container. Least privilege that lets mmdebstrap's root mode work (see docs/in-docker.md):
 *  - CAP_SYS_ADMIN: mmdebstrap mounts /proc, /sys and /dev into the chroot it builds. Docker's default
 *    seccomp profile allows mount(2) once this capability is granted, so seccomp stays on.
 *  - apparmor=unconfined: Docker's default AppArmor profile denies every mount, whatever the capabilities
 *    (a no-op on hosts without AppArmor).
 *  - --network=host: the build fetches from the host's APT sources (and, for `images: ref:`, from a
 *    registry on the host's 127.0.0.1) exactly as a native build would; no capability to change it.
 *  - --init: a real PID 1 that forwards Ctrl-C to the build and reaps the processes mmdebstrap leaves.
 *  - --rm: the container is gone when the build ends, whatever the outcome.
 */
export function runArgv(s: RunSpec): string[] {
  const argv = ['docker', 'run', '--rm', '--init', `--name=${s.name}`, '--network=host', '--cap-add=SYS_ADMIN', '--security-opt=apparmor=unconfined'];
  for (const b of s.binds) argv.push(`--mount=type=bind,source=${b.path},target=${b.path}${b.writable ? '' : ',readonly'}`);
  for (const [k, v] of Object.entries(s.env).sort(([a], [b]) => a.localeCompare(b))) argv.push(`--env=${k}=${v}`);
  argv.push(`--workdir=${s.workdir}`, s.image, ...s.command);
  return argv;
}

/** The folder a bind must cover for a file (its parent) or a folder (itself). */
export const folderOf = (path: string, isDir: boolean): string => (isDir ? path : dirname(path));
