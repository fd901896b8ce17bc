// The configuration schema: the single source for validation, defaults and the
// JSON Schema that `debian2docker schema` prints. Unknown keys are errors.
import { z } from 'zod';
import { DOCKER_NAME, kernelCmdline, oneLine, portSpec, suiteName, volumeSpec } from './values.js';

const packageName = z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, 'not a valid Debian package name');
const moduleName = z.string().regex(/^[A-Za-z0-9_-]+$/, 'not a valid kernel module name');

export const AptSourceSchema = z.strictObject({
  uri: z.string().regex(/^(https?|file):\/\/\S+$/, 'an http(s):// or file:// URL').describe('repository URL'),
  suite: z.string().min(1).regex(/^\S+$/).describe('suite, or "./" style path of a flat repository'),
  components: z.array(z.string().regex(/^[A-Za-z0-9._-]+$/)).optional().describe('components (none for a flat repository)'),
  key: z.string().min(1).describe('the repository\'s ASCII-armored OpenPGP public key, a file relative to the config file; apt trusts it for this source only'),
});

export const DebianSchema = z.strictObject({
  suite: suiteName.describe('Debian suite or codename, e.g. trixie'),
  mirror: z
    .string()
    .describe('APT mirror URL; empty uses mmdebstrap\'s default (the host\'s own sources)')
    .refine((s) => s === '' || /^(https?|file):\/\//.test(s), 'must be an http(s):// or file:// URL, or empty'),
  components: z.array(z.string().regex(/^[a-z-]+$/)).min(1).describe('archive components, e.g. [main]'),
  variant: z.enum(['minbase', 'essential', 'apt', 'required', 'important', 'standard']).describe('mmdebstrap variant'),
  sources: z.array(AptSourceSchema).describe('extra APT repositories, each with its own signing key (signatures are always verified)'),
  snapshot: z
    .string()
    .regex(/^(\d{8}T\d{6}Z)?$/, 'a snapshot id such as 20251101T000000Z (UTC), or empty')
    .describe("install the package set of this moment from the archive's snapshot service (APT >= 2.7 finds it from the archive's Release file); empty: the current archive"),
});

/** The keys that say where the kernel comes from; a config file that sets one of them replaces the
 * inherited kernel source as a whole (see config/kernelSource.ts). */
export const KERNEL_SOURCE_KEYS = ['package', 'suite', 'deb', 'vmlinuz', 'modules_tree'] as const;

const debFile = z.string().regex(/\.deb$/, 'must be a Debian package file (*.deb)');

export const KernelSchema = z
  .strictObject({
    package: packageName.optional().describe('Debian kernel package fetched with apt (signatures verified), e.g. linux-image-amd64 or linux-image-cloud-amd64'),
    suite: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.+-]*$/, 'must be a Debian suite or codename, e.g. trixie-backports')
      .optional()
      .describe("suite to fetch kernel.package from, e.g. trixie-backports; added as an extra APT source on debian.mirror for the kernel only (default: debian.suite)"),
    deb: z
      .array(debFile)
      .min(1, 'give at least one .deb file')
      .optional()
      .describe('local kernel .deb file(s), relative to the config file: the linux-image package and the linux-image/linux-modules packages it depends on. Not signature-checked: your own trust decision'),
    vmlinuz: z.string().min(1).optional().describe('a kernel image (bzImage) file, relative to the config file; needs kernel.modules_tree'),
    modules_tree: z.string().min(1).optional().describe("that kernel's modules folder lib/modules/VERSION (as `make modules_install` writes it), relative to the config file; its name is the kernel release"),
    modules: z.array(moduleName).describe('extra kernel modules to keep, besides the built-in set; a missing one fails the build'),
  })
  .superRefine((k, ctx) => {
    // Exactly one kernel source. Each problem is reported at a key the user wrote, so it gets a line.
    const kinds = (['package', 'deb', 'vmlinuz'] as const).filter((x) => k[x] !== undefined);
    const issue = (key: string, message: string): void => void ctx.addIssue({ code: 'custom', path: [key], message });
    const sourceHelp = 'kernel.package (from apt, optionally with kernel.suite), kernel.deb (local .deb files) or kernel.vmlinuz with kernel.modules_tree';
    if (kinds.length > 1) issue(kinds[1]!, `give one kernel source, not both kernel.${kinds[0]} and kernel.${kinds[1]}: ${sourceHelp}`);
    if (kinds.length === 0 && k.modules_tree === undefined) issue('package', `no kernel source: give ${sourceHelp}`);
    if (k.vmlinuz !== undefined && k.modules_tree === undefined) issue('vmlinuz', 'kernel.vmlinuz needs kernel.modules_tree, the lib/modules/VERSION folder of the same kernel');
    if (k.modules_tree !== undefined && k.vmlinuz === undefined) issue('modules_tree', 'kernel.modules_tree goes with kernel.vmlinuz, the kernel image those modules belong to');
    if (k.suite !== undefined && k.package === undefined) issue('suite', 'kernel.suite only applies to kernel.package (a local kernel is not fetched from a suite)');
  });

export const BootEntrySchema = z.strictObject({
  title: oneLine.min(1).max(70).describe('menu text'),
  cmdline: kernelCmdline.describe('kernel command line of this entry'),
});

export const BootSchema = z.strictObject({
  cmdline: kernelCmdline.describe('kernel command line for the default menu entry'),
  timeout: z.number().int().min(0).max(300).describe('seconds the boot menu waits'),
  entries: z.array(BootEntrySchema).describe('extra menu entries (same kernel and initrd, another command line)'),
});

const hostOrIp = z.string().regex(/^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/, 'a host name or IPv4 address');

export const RemoteApiSchema = z.strictObject({
  enabled: z.boolean().describe('serve the Docker API on the network: TLS only, client certificates required; the CA and certificates are made on the machine at first boot'),
  port: z.number().int().min(1).max(65535).describe('TCP port (2376 is the TLS convention)'),
  names: z.array(hostOrIp).describe('extra host names / addresses clients use, put into the server certificate (its host name, localhost, 127.0.0.1 and its addresses at first boot always are)'),
});

export const DockerSchema = z
  .strictObject({
    package: packageName.describe('Docker engine package (docker.io)'),
    daemon: z.record(z.string(), z.unknown()).describe('contents of /etc/docker/daemon.json'),
    'remote-api': RemoteApiSchema,
  })
  .superRefine((d, ctx) => {
    // Security default: the API is never reachable over plain TCP.
    const hosts = d.daemon.hosts;
    if (Array.isArray(hosts) && hosts.some((h) => typeof h === 'string' && /^tcp:/.test(h))) {
      ctx.addIssue({ code: 'custom', path: ['daemon', 'hosts'], message: 'a tcp:// API socket in daemon.json would be plain TCP: use docker.remote-api (TLS with client certificates) instead' });
    }
    for (const k of ['tls', 'tlsverify']) {
      if (d.daemon[k] === false) ctx.addIssue({ code: 'custom', path: ['daemon', k], message: `${k}: false is not allowed (no plain-TCP Docker API)` });
    }
  });

export const SshSchema = z.strictObject({
  enabled: z.boolean().describe('run an SSH server (key login only; host keys are made at first boot)'),
  authorized_keys: z
    .array(z.string().regex(/^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp\d+|sk-\S+) [A-Za-z0-9+/=]+( .*)?$/, 'not an OpenSSH public key line'))
    .describe("public keys allowed to log in as root"),
});

export const InitramfsSchema = z.strictObject({
  compression: z.enum(['xz', 'zstd']).describe('compression of the root filesystem archive'),
  level: z.number().int().min(1).max(19).describe('compression level (xz: 1-9, zstd: 1-19)'),
});

const absPath = z.string().regex(/^\/[^\0]*$/, 'must be an absolute path in the image');

export const FileSchema = z
  .strictObject({
    // A '..' would lead out of the image's root: files are written on the build host, into that root.
    path: absPath.refine((p) => !p.split('/').includes('..'), "no '..' in the path: it would point outside the image").describe('where the file or folder goes in the image'),
    content: z.string().optional().describe('the file\'s contents'),
    source: z.string().min(1).optional().describe('a file or folder on the build host, relative to the config file'),
    mode: z.string().regex(/^0?[0-7]{3,4}$/, "an octal mode such as '0644'").optional().describe('octal mode, e.g. "0755"'),
    owner: z.string().regex(/^[a-z_][a-z0-9_-]*(:[a-z_][a-z0-9_-]*)?$/, "user or user:group, e.g. 'root:root'").optional().describe('owner in the image, user or user:group'),
  })
  .refine((f) => (f.content === undefined) !== (f.source === undefined), { message: 'give exactly one of content or source' });

/** Paths the encrypted persistence volume keeps: bind-mounted from it at boot; everything else is factory-fresh. */
const persistPath = absPath.superRefine((p, ctx) => {
  if (/^\/(proc|sys|dev|run|tmp)?\/?$/.test(p) || p.split('/').includes('..') || /\s/.test(p)) {
    ctx.addIssue({ code: 'custom', message: 'must be a folder of the image (not /, /proc, /sys, /dev, /run or /tmp; no "..", no spaces)' });
  } else if (!/^[A-Za-z0-9._+@,:=/-]*$/.test(p)) {
    // The lists go into /etc/d2d/persist.conf, which the boot's shell sources and splits unquoted:
    // a $ or ` there would run, a * would be expanded.
    ctx.addIssue({ code: 'custom', message: 'letters, digits and . _ - + @ , : = / only: the folder lists are read by the boot\'s shell (/etc/d2d/persist.conf)' });
  }
});

export const PersistenceSchema = z.strictObject({
  enabled: z.boolean().describe('d2d-persist, d2d-install and the boot-time unlock of a LUKS volume labelled d2d-persist'),
  data: z.array(persistPath).describe('folders kept on the volume and kept by "reset settings" (Docker data, homes, your files)'),
  settings: z.array(persistPath).describe('folders kept on the volume but dropped by "reset settings" (configuration, generated secrets)'),
  'pbkdf-memory': z
    .number()
    .int()
    .min(16384)
    .max(1048576)
    .describe('KiB of RAM argon2id needs to unlock the volume; pinned (default 64 MiB) so a small machine can open it'),
  wait: z.number().int().min(0).max(120).describe('seconds the boot waits for USB disks to appear before looking for the volume'),
});

/** A hook: an inline shell script, or a script file relative to the config file. Runs in the image's root (chroot) under /bin/sh -e. */
export const HookSchema = z.union([z.string().min(1), z.strictObject({ file: z.string().min(1).describe('script file, relative to the config file') })], {
  error: 'a hook is a shell script (text; use a YAML block "|" for several lines or a ": " inside) or {file: script.sh}',
});

export const HooksSchema = z.strictObject({
  'after-packages': z.array(HookSchema).describe('run after the packages are installed, before debian2docker adds its own files'),
  'before-pack': z.array(HookSchema).describe('run last, just before the root file system is packed'),
});

// A Docker image reference: [registry[:port]/]path[:tag][@sha256:digest].
const imageRef = z
  .string()
  .regex(/^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$/, 'not an image reference such as name:tag, registry:5000/name:tag or name@sha256:<64 hex>');
const imageTag = z
  .string()
  .regex(/^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'not an image tag such as name:tag or registry:5000/name:tag');
const envMap = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not an environment variable name'), z.union([z.string(), z.number(), z.boolean()]).transform(String), {
  // The compose habit is a list of NAME=value: say what to write instead of "expected record".
  error: (iss) => (iss.code === 'invalid_type' ? `env is a mapping of NAME: value, such as {TZ: Europe/Berlin}${Array.isArray(iss.input) ? ', not a list of NAME=value' : ''}` : undefined),
});

const imageCommon = {
  tags: z.array(imageTag).optional().describe('tags applied to the image at boot, besides the ones it carries'),
  background: z.boolean().optional().describe('import after the services start, in the background (for large images no service needs)'),
};

export const ImageSchema = z.union(
  [
    z.strictObject({
      tarball: z.string().min(1).describe('a docker-archive (docker save) or oci-archive tarball on the build host, relative to the config file; may be gzip/xz/zstd compressed'),
      ...imageCommon,
    }),
    z.strictObject({
      ref: imageRef.describe('registry reference fetched at build time (no Docker daemon), pinned by digest in the manifest'),
      'tls-verify': z.boolean().optional().describe('false: talk plain HTTP / unverified TLS to this registry (a local test registry)'),
      ...imageCommon,
    }),
    z.strictObject({
      tag: imageTag.describe('the name:tag of the image built from Debian packages'),
      debian: z.strictObject({
        packages: z.array(packageName).describe('packages to install (with their dependencies) on top of the base'),
        suite: suiteName.optional().describe('default: debian.suite'),
        variant: z.enum(['essential', 'minbase', 'apt', 'required']).optional().describe('mmdebstrap variant of the base (default essential: no apt, smallest)'),
      }),
      entrypoint: z.array(z.string()).optional(),
      cmd: z.array(z.string()).optional(),
      env: envMap.optional().describe('environment of the image'),
      user: z.string().regex(/^[a-z_][a-z0-9_-]*$|^\d+(:\d+)?$/, 'a user name or uid[:gid]').optional(),
      workdir: z.string().regex(/^\//, 'an absolute path').optional(),
      ...imageCommon,
    }),
  ],
  { error: 'an image is one of {tarball: FILE}, {ref: NAME:TAG} or {tag: NAME:TAG, debian: {packages: [...]}}' },
);

export const ServiceSchema = z.strictObject({
  name: z.string().regex(DOCKER_NAME, 'a container name: letters, digits, _ . - (at least 2 characters, Docker\'s rule)').describe('container name'),
  image: z.string().min(1).describe('a preloaded image (a tag from images:)'),
  command: z.array(z.string()).optional().describe('command and arguments (default: the image\'s)'),
  entrypoint: z.string().optional().describe('override the image\'s entrypoint'),
  env: envMap.optional(),
  ports: z.array(portSpec).optional().describe('published ports, HOST:CONTAINER'),
  volumes: z.array(volumeSpec).optional().describe("volumes, VOLUME:/PATH or /HOST/PATH:/PATH, optionally :ro or :rw"),
  restart: z.enum(['no', 'always', 'unless-stopped', 'on-failure']).optional().describe('restart policy (default unless-stopped)'),
});

/** One desktop or app session: its own display server on its own VT, and its container drawing on it. */
export const SessionSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,30}$/, 'a short name: lower-case letters, digits, _ and -').describe('session name: container d2d-desktop-NAME, home volume d2d-home-NAME'),
  image: z.string().min(1).describe('a preloaded image (a tag from images:)'),
  command: z.array(z.string()).optional().describe("command and arguments (default: the image's)"),
  env: envMap.optional(),
  gui: z.boolean().optional().describe('false: a text app, run on its VT with a terminal instead of a display server (default true)'),
  'wait-for': z.string().regex(/^https?:\/\/[^\s]+$/, 'an http:// or https:// URL').optional().describe('kiosk / thin client: the host waits (up to 5 minutes) for this URL to answer before starting the app'),
  user: z.string().regex(/^\d+(:\d+)?$/, 'a numeric uid or uid:gid').optional().describe('who the app runs as in its container (default 1000:1000; its home is /home/user)'),
  network: z
    .union([z.boolean(), z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'a Docker network name')])
    .optional()
    .describe('permission: false (default) no network at all; true the default bridge; or a Docker network by name'),
  sound: z.boolean().optional().describe('permission: the sound devices (/dev/snd): the app can also record from microphones'),
  gpu: z.boolean().optional().describe("permission: the first GPU's render node (/dev/dri/renderD128): a larger kernel attack surface"),
  folders: z
    .array(z.string().regex(/^\/[^:\s]*:\/[^:\s]*(:(ro|rw))?$/, "a host folder or file and where the app sees it, such as '/data/share:/share' or '/data/share:/share:ro'"))
    .optional()
    .describe('permission: host folders (or files) the app may read (and write unless :ro)'),
  capabilities: z.array(z.string().regex(/^[A-Z][A-Z_]+$/, 'a capability name such as NET_ADMIN')).optional().describe('permission: Linux capabilities given back (all are dropped)'),
  'nested-docker': z.boolean().optional().describe('DANGER: a privileged container that can run its own Docker inside; not a sandbox (docs/desktop.md)'),
});

export const DesktopSchema = z.strictObject({
  sessions: z.array(SessionSchema).describe('desktop / app sessions, one per VT from VT2 (Ctrl+Alt+F2, F3, ...); the first is shown at boot'),
  lock: z.boolean().describe('kiosk: no console shell on the screen, no VT switching, no Ctrl+Alt+Backspace'),
  keyboard: z.string().regex(/^[a-z]{2,3}(\([a-z0-9_-]+\))?$/, "an XKB layout such as us, de or fr").describe('keyboard layout of the display servers (XKB)'),
});

export const ConfigSchema = z
  .strictObject({
    extends: z.string().optional().describe("a config file this one builds on (relative to this file), or 'default'; the chain always starts from the embedded default"),
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, dot, dash and underscore only')
      .describe('base name of the artifacts: NAME.iso, NAME.kernel, NAME.initrd, NAME.manifest.json'),
    hostname: z
      .string()
      .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a valid host name (a-z, 0-9, dashes)')
      .describe('host name of the booted machine'),
    timezone: z.string().regex(/^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/, 'a tz database name such as Europe/Berlin or UTC').describe('time zone (tz database name); UTC needs no package'),
    locale: z
      .string()
      .regex(/^(C|POSIX|C\.UTF-8|[a-z]{2,3}_[A-Z]{2}(\.UTF-8)?(@[a-z]+)?)$/, 'a locale such as en_US.UTF-8 or C.UTF-8')
      .describe('LANG of the machine; C.UTF-8 is built in, others are generated at build time'),
    keyboard: z.string().regex(/^[a-z][a-z0-9_.-]*$/, 'a console keymap name such as us, de, fr, uk or de-latin1').describe('console keyboard layout (a keymap of console-data); us is the kernel\'s own'),
    debian: DebianSchema,
    packages: z.array(packageName).describe('extra Debian packages to install'),
    files: z.array(FileSchema).describe('files and folders to put into the image'),
    hooks: HooksSchema,
    kernel: KernelSchema,
    boot: BootSchema,
    docker: DockerSchema,
    ssh: SshSchema,
    initramfs: InitramfsSchema,
    images: z.array(ImageSchema).describe('container images preloaded into the engine at boot'),
    services: z.array(ServiceSchema).describe('containers started at boot, from preloaded images'),
    persistence: PersistenceSchema,
    desktop: DesktopSchema,
  })
  .superRefine((c, ctx) => {
    if (c.ssh.enabled && c.ssh.authorized_keys.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['ssh', 'enabled'], message: 'an SSH server needs at least one key in ssh.authorized_keys (there are no passwords)' });
    }
    const names = new Set<string>();
    c.services.forEach((sv, i) => {
      if (names.has(sv.name)) ctx.addIssue({ code: 'custom', path: ['services', i, 'name'], message: `two services are named '${sv.name}'` });
      names.add(sv.name);
    });
    const sessions = new Set<string>();
    c.desktop.sessions.forEach((d, i) => {
      if (sessions.has(d.name)) ctx.addIssue({ code: 'custom', path: ['desktop', 'sessions', i, 'name'], message: `two desktop sessions are named '${d.name}'` });
      sessions.add(d.name);
      if (d['wait-for'] && !d.network) ctx.addIssue({ code: 'custom', path: ['desktop', 'sessions', i, 'wait-for'], message: 'an app that waits for a URL needs the network permission (network: true)' });
    });
    if (c.desktop.sessions.length > 10) ctx.addIssue({ code: 'custom', path: ['desktop', 'sessions'], message: 'at most 10 sessions (VT2 to VT11)' });
    const seen = new Map<string, string>();
    for (const cls of ['data', 'settings'] as const) {
      c.persistence[cls].forEach((p, i) => {
        const norm = p.replace(/\/+$/, '');
        const other = seen.get(norm);
        if (other) ctx.addIssue({ code: 'custom', path: ['persistence', cls, i], message: `${p} is already listed in persistence.${other}` });
        for (const [q, qc] of seen) {
          if (norm.startsWith(q + '/') || q.startsWith(norm + '/')) ctx.addIssue({ code: 'custom', path: ['persistence', cls, i], message: `${p} and ${q} (persistence.${qc}) overlap: list only one of them` });
        }
        seen.set(norm, cls);
      });
    }
    if (c.initramfs.compression === 'xz' && c.initramfs.level > 9) {
      ctx.addIssue({ code: 'custom', path: ['initramfs', 'level'], message: 'xz levels are 1-9' });
    }
  });

export type Config = z.infer<typeof ConfigSchema>;

/** JSON Schema for editors, generated from the same definition. */
export function jsonSchema(): unknown {
  return z.toJSONSchema(ConfigSchema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' });
}
