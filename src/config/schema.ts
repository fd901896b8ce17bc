// The configuration schema: the single source for validation, defaults and the
// JSON Schema that `debian2docker schema` prints. Unknown keys are errors.
import { z } from 'zod';
import { kernelCmdline, oneLine, suiteName } from './values.js';
import { DesktopSchema, ImageSchema, packageName, ServiceSchema } from './schema-containers.js';

export { DesktopSchema, ImageSchema, ServiceSchema, SessionSchema } from './schema-containers.js';

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
export const KERNEL_SOURCE_KEYS = ['package', 'suite', 'deb', 'vmlinuz', 'modules_tree', 'build', 'fragments'] as const;

const debFile = z.string().regex(/\.deb$/, 'must be a Debian package file (*.deb)');

export const KernelSchema = z
  .strictObject({
    package: packageName.optional().describe('Debian kernel package fetched with apt (signatures verified), e.g. linux-image-amd64 (signed for Secure Boot; what desktop sessions get) or linux-image-cloud-amd64; replaces the default kernel.build'),
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
    build: packageName
      .regex(/^linux-source-\d/, 'a Debian kernel source package such as linux-source-6.12')
      .optional()
      .describe("compile the kernel from this Debian source package (e.g. linux-source-6.12, from debian.suite) with debian2docker's tailored configuration: Docker's, Swarm's and the image's hardware needs built in, no debug info. Built once per source version and configuration, then cached (a first build takes minutes). The default (linux-source-6.12), except with desktop sessions. With boot.secure-boot, signed with your machine-owner key"),
    fragments: z
      .array(z.string().regex(/\.config$/, 'must be a Kconfig fragment file (*.config)'))
      .optional()
      .describe('extra Kconfig fragments for kernel.build, relative to the config file: CONFIG_NAME=value lines merged after the built-in ones; an option that does not survive (unmet dependencies) fails the build, naming it'),
    modules: z.array(moduleName).describe('extra kernel modules to keep, besides the built-in set; a missing one fails the build'),
  })
  .superRefine((k, ctx) => {
    // Exactly one kernel source. Each problem is reported at a key the user wrote, so it gets a line.
    const kinds = (['package', 'deb', 'vmlinuz', 'build'] as const).filter((x) => k[x] !== undefined);
    const issue = (key: string, message: string): void => void ctx.addIssue({ code: 'custom', path: [key], message });
    const sourceHelp = 'kernel.package (from apt, optionally with kernel.suite), kernel.deb (local .deb files), kernel.vmlinuz with kernel.modules_tree, or kernel.build (compiled from a Debian source package)';
    if (kinds.length > 1) issue(kinds[1]!, `give one kernel source, not both kernel.${kinds[0]} and kernel.${kinds[1]}: ${sourceHelp}`);
    if (kinds.length === 0 && k.modules_tree === undefined) issue('package', `no kernel source: give ${sourceHelp}`);
    if (k.vmlinuz !== undefined && k.modules_tree === undefined) issue('vmlinuz', 'kernel.vmlinuz needs kernel.modules_tree, the lib/modules/VERSION folder of the same kernel');
    if (k.modules_tree !== undefined && k.vmlinuz === undefined) issue('modules_tree', 'kernel.modules_tree goes with kernel.vmlinuz, the kernel image those modules belong to');
    if (k.suite !== undefined && k.package === undefined) issue('suite', 'kernel.suite only applies to kernel.package (a local or compiled kernel is not fetched from a suite)');
    if (k.fragments !== undefined && k.build === undefined) issue('fragments', 'kernel.fragments only applies to kernel.build (the kernel compiled from source)');
  });

export const BootEntrySchema = z.strictObject({
  title: oneLine.min(1).max(70).describe('menu text'),
  cmdline: kernelCmdline.describe('kernel command line of this entry'),
});

export const BootSchema = z.strictObject({
  cmdline: kernelCmdline.describe('kernel command line for the default menu entry'),
  timeout: z.number().int().min(0).max(300).describe('seconds the boot menu waits'),
  entries: z.array(BootEntrySchema).describe('extra menu entries (same kernel and initrd, another command line)'),
  'secure-boot': z
    .boolean()
    .describe("UEFI boots through Debian's signed shim and GRUB, so machines with Secure Boot on start the image: Debian's kernel (kernel.package) as it is signed; any other kernel signed by the build with your machine-owner key, enrolled once per machine (DEBIAN2DOCKER_MOK_DIR, made on first use). About 3.5 MB more (docs/secure-boot.md)"),
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
    runtime: z.enum(['crun', 'runc']).describe("the OCI runtime Docker starts containers with: crun (C, 0.6 MB; the default) or runc (Go, 10.7 MB; docker.io's own). With crun, runc's program is left out of the image (docs/size.md)"),
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

/** A firmware file's path under /lib/firmware, `*` matching within a name: rtl_nic/rtl8168h-2.fw, iwlwifi-so-a0-gf-a0*.ucode. */
const firmwarePath = z
  .string()
  .regex(/^[A-Za-z0-9_*+.,@-]+(\/[A-Za-z0-9_*+.,@-]+)*$/, 'a path under /lib/firmware such as rtl_nic/rtl8168h-2.fw (* matches within a name)')
  .refine((s) => !s.split('/').includes('..'), 'no .. in a firmware path');

export const FirmwareSchema = z.strictObject({
  drivers: z.boolean().describe("carry the firmware files the kernel's drivers name (MODULE_FIRMWARE), from firmware.packages; false: none of them"),
  files: z.array(firmwarePath).describe('more firmware for hardware you name: paths under /lib/firmware, * allowed (e.g. iwlwifi-so-a0-gf-a0*.ucode); add the package that has them to firmware.packages'),
  packages: z.array(packageName).describe("Debian firmware packages searched for those files (from debian.components' non-free-firmware); only the files named go into the image"),
});

/** A WPA passphrase: 8 to 63 printable ASCII characters (IEEE 802.11i), also WPA3's SAE password here. */
export const WIFI_PASSPHRASE = /^[\x20-\x7e]{8,63}$/;

export const WifiNetworkSchema = z
  .strictObject({
    ssid: z
      .string()
      .min(1)
      .refine((s) => Buffer.byteLength(s) <= 32, 'an SSID is at most 32 bytes')
      .refine((s) => !/[\0\n\r]/.test(s), 'no NUL or line break in an SSID')
      .describe("the network's name (SSID)"),
    passphrase: z
      .string()
      .regex(WIFI_PASSPHRASE, 'a WPA passphrase is 8 to 63 printable ASCII characters')
      .optional()
      .describe('WPA2/WPA3 passphrase, written into the image (anyone with the image can read it); prefer passphrase-file or d2d-wifi join'),
    'passphrase-file': z
      .string()
      .min(1)
      .optional()
      .describe('a file on the build host holding the passphrase (first line), relative to the config file: keeps the secret out of the config; it is still written into the image'),
    hidden: z.boolean().optional().describe('the network does not announce itself: probe for it by name'),
  })
  .refine((n) => n.passphrase === undefined || n['passphrase-file'] === undefined, { message: 'give passphrase or passphrase-file, not both' });

export const WifiSchema = z.strictObject({
  enabled: z.boolean().describe('Wi-Fi: wpa_supplicant, the regulatory database and d2d-wifi in the image (about 2 MB); wifi.networks or wifi.drivers turn it on too'),
  country: z
    .string()
    .regex(/^([A-Z]{2})?$/, 'a two-letter country code such as DE or US, or empty')
    .describe('regulatory domain (ISO 3166 alpha-2, e.g. DE): the channels and power allowed there; empty: the world domain, the most restrictive'),
  networks: z.array(WifiNetworkSchema).describe('networks joined at boot; more are added on the machine with d2d-wifi join'),
  drivers: z
    .array(moduleName)
    .describe('kernel modules of Wi-Fi cards to keep, e.g. iwlmvm (Intel), rtw89_8852be (Realtek), mt7921e (MediaTek); their firmware comes along. With kernel.build, their options must be in kernel.fragments'),
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
    firmware: FirmwareSchema,
    wifi: WifiSchema,
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
