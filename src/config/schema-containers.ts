// The configuration schema's container parts: preloaded images, services, and desktop
// sessions (src/config/schema.ts puts them into the whole). Unknown keys are errors.
import { z } from 'zod';
import { DOCKER_NAME, portSpec, suiteName, volumeSpec } from './values.js';

export const packageName = z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, 'not a valid Debian package name');

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
