// The configuration schema: the single source for validation, defaults and the
// JSON Schema that `debian2docker schema` prints. Unknown keys are errors.
import { z } from 'zod';

const packageName = z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, 'not a valid Debian package name');
const moduleName = z.string().regex(/^[A-Za-z0-9_-]+$/, 'not a valid kernel module name');

export const DebianSchema = z.strictObject({
  suite: z.string().min(1).describe('Debian suite or codename, e.g. trixie'),
  mirror: z
    .string()
    .describe('APT mirror URL; empty uses mmdebstrap\'s default (the host\'s own sources)')
    .refine((s) => s === '' || /^(https?|file):\/\//.test(s), 'must be an http(s):// or file:// URL, or empty'),
  components: z.array(z.string().regex(/^[a-z-]+$/)).min(1).describe('archive components, e.g. [main]'),
  variant: z.enum(['minbase', 'essential', 'apt', 'required', 'important', 'standard']).describe('mmdebstrap variant'),
});

export const KernelSchema = z.strictObject({
  package: packageName.describe('Debian kernel package to boot, e.g. linux-image-amd64'),
  modules: z.array(moduleName).describe('extra kernel modules to keep, besides the built-in set'),
});

export const BootEntrySchema = z.strictObject({
  title: z.string().min(1).max(70).describe('menu text'),
  cmdline: z.string().describe('kernel command line of this entry'),
});

export const BootSchema = z.strictObject({
  cmdline: z.string().describe('kernel command line for the default menu entry'),
  timeout: z.number().int().min(0).max(300).describe('seconds the boot menu waits'),
  entries: z.array(BootEntrySchema).describe('extra menu entries (same kernel and initrd, another command line)'),
});

export const DockerSchema = z.strictObject({
  package: packageName.describe('Docker engine package (docker.io)'),
  daemon: z.record(z.string(), z.unknown()).describe('contents of /etc/docker/daemon.json'),
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
    path: absPath.describe('where the file or folder goes in the image'),
    content: z.string().optional().describe('the file\'s contents'),
    source: z.string().min(1).optional().describe('a file or folder on the build host, relative to the config file'),
    mode: z.string().regex(/^0?[0-7]{3,4}$/, "an octal mode such as '0644'").optional().describe('octal mode, e.g. "0755"'),
    owner: z.string().regex(/^[a-z_][a-z0-9_-]*(:[a-z_][a-z0-9_-]*)?$/, "user or user:group, e.g. 'root:root'").optional().describe('owner in the image, user or user:group'),
  })
  .refine((f) => (f.content === undefined) !== (f.source === undefined), { message: 'give exactly one of content or source' });

/** A hook: an inline shell script, or a script file relative to the config file. Runs in the image's root (chroot) under /bin/sh -e. */
export const HookSchema = z.union([z.string().min(1), z.strictObject({ file: z.string().min(1).describe('script file, relative to the config file') })], {
  error: 'a hook is a shell script (text; use a YAML block "|" for several lines or a ": " inside) or {file: script.sh}',
});

export const HooksSchema = z.strictObject({
  'after-packages': z.array(HookSchema).describe('run after the packages are installed, before debian2docker adds its own files'),
  'before-pack': z.array(HookSchema).describe('run last, just before the root file system is packed'),
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
    debian: DebianSchema,
    packages: z.array(packageName).describe('extra Debian packages to install'),
    files: z.array(FileSchema).describe('files and folders to put into the image'),
    hooks: HooksSchema,
    kernel: KernelSchema,
    boot: BootSchema,
    docker: DockerSchema,
    ssh: SshSchema,
    initramfs: InitramfsSchema,
  })
  .superRefine((c, ctx) => {
    if (c.ssh.enabled && c.ssh.authorized_keys.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['ssh', 'enabled'], message: 'an SSH server needs at least one key in ssh.authorized_keys (there are no passwords)' });
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
