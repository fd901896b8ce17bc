// Single values that end up on the booted machine, checked where the config is loaded so a
// mistake is named at its file:line instead of failing at boot (docker run refusing a port),
// or worse, being run (a '$(...)' in a file the boot's shell sources).
import { z } from 'zod';

/** A published port of a service, as `docker run -p` reads it: [IP:]HOST[-HOST]:CONTAINER[-CONTAINER][/PROTO]. */
export interface PortSpec {
  ip: string | undefined;
  host: [number, number];
  container: [number, number];
  proto: 'tcp' | 'udp';
}

const PORT_FORMAT = "a port mapping such as '8080:80', '127.0.0.1:8080:80', '8000-8009:8000-8009' or '53:53/udp'";

const PORT_SHAPE = /^(?:([^:]*):)?(\d+)(?:-(\d+))?:(\d+)(?:-(\d+))?(?:\/(tcp|udp))?$/;

/** Parse a port mapping; a string is the reason it is wrong. */
export function parsePortSpec(s: string): PortSpec | string {
  const m = PORT_SHAPE.exec(s);
  if (!m) return PORT_FORMAT;
  const [, ip, h1, h2, c1, c2, proto] = m;
  if (ip !== undefined) {
    const octets = ip.split('.');
    if (octets.length !== 4 || octets.some((o) => !/^\d{1,3}$/.test(o) || Number(o) > 255)) {
      return `'${ip}' is not an IPv4 address (three parts are IP:HOST:CONTAINER)`;
    }
  }
  for (const p of [h1, h2, c1, c2]) {
    if (p !== undefined && (Number(p) < 1 || Number(p) > 65535)) return `port ${Number(p)} is out of range: ports are 1-65535`;
  }
  const host: [number, number] = [Number(h1), Number(h2 ?? h1)];
  const container: [number, number] = [Number(c1), Number(c2 ?? c1)];
  for (const [a, b] of [host, container]) if (a > b) return `the range ${a}-${b} runs backwards: write ${b}-${a}`;
  // Docker's rule: a container range needs a host range of the same length; one container port
  // may take any free port of a host range.
  if (container[0] !== container[1] && host[1] - host[0] !== container[1] - container[0]) {
    return `the host range has ${host[1] - host[0] + 1} ports and the container range ${container[1] - container[0] + 1}: they must have the same length`;
  }
  return { ip: ip === '0.0.0.0' ? undefined : ip, host, container, proto: (proto as 'tcp' | 'udp' | undefined) ?? 'tcp' };
}

// The shape as a pattern too (for editors, through the JSON Schema); the parse says what is wrong inside it.
export const portSpec = z.string().regex(PORT_SHAPE, { message: PORT_FORMAT, abort: true }).superRefine((s, ctx) => {
  const p = parsePortSpec(s);
  if (typeof p === 'string') ctx.addIssue({ code: 'custom', message: p });
});

/** Docker's own rule for container and volume names (at least two characters). */
export const DOCKER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

const VOLUME_FORMAT = "a volume such as 'data:/data' or '/srv/www:/usr/share/www:ro' (SOURCE:DEST, optionally :ro or :rw)";

/** A service volume: SOURCE:DEST[:ro|rw], SOURCE a volume name or an absolute host path. */
export function volumeProblem(v: string): string | undefined {
  const parts = v.split(':');
  if (parts.length < 2 || parts.length > 3 || (parts[2] !== undefined && !/^(ro|rw)$/.test(parts[2]))) {
    return VOLUME_FORMAT;
  }
  const [source, dest] = parts as [string, string];
  if (!/^\/\S*$/.test(source) && !DOCKER_NAME.test(source)) {
    return `'${source}' is neither an absolute host path nor a volume name (letters, digits, _ . -, at least 2 characters): Docker would refuse it`;
  }
  if (!/^\/\S*$/.test(dest)) return `the container path '${dest}' must be absolute`;
  if (/^\/+$/.test(dest)) return "a volume cannot be mounted over the container's /";
  return undefined;
}

export const volumeSpec = z.string().regex(/^[^:\s]+:[^:\s]+(:(ro|rw))?$/, { message: VOLUME_FORMAT, abort: true }).superRefine((v, ctx) => {
  const p = volumeProblem(v);
  if (p) ctx.addIssue({ code: 'custom', message: p });
});

/** The container path a volume or folder mount is seen at, normalised for comparison. */
export function mountDest(v: string): string {
  return (v.split(':')[1] ?? '').replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
}

/**
 * A kernel command line goes into grub.cfg as `linux KERNEL CMDLINE`: GRUB's own parser reads it,
 * so a newline would end the entry (and could start another), and ; & | $ { } < > ` \ would be
 * GRUB syntax rather than kernel parameters.
 */
export const kernelCmdline = z.string().superRefine((s, ctx) => {
  // x86 kernels keep 2048 bytes (COMMAND_LINE_SIZE); the generated menu entries add up to ~40.
  const MAX = 1900;
  if (/[\0-\x1f\x7f]/.test(s)) ctx.addIssue({ code: 'custom', message: 'a kernel command line is one line (no newline, tab or other control character): it is written into grub.cfg' });
  else if (/[;&|$<>`\\{}]/.test(s)) ctx.addIssue({ code: 'custom', message: `'${/[;&|$<>`\\{}]/.exec(s)![0]}' would be read by GRUB, not passed to the kernel: leave out ; & | $ { } < > \` \\` });
  else if (s.length > MAX) ctx.addIssue({ code: 'custom', message: `${s.length} characters: at most ${MAX} (the kernel keeps 2048, and the menu entries add a few parameters)` });
});

/** Text shown in a menu: one line. */
export const oneLine = z.string().regex(/^[^\0-\x1f\x7f]*$/, 'one line of text (no newline, tab or other control character)');

/** A Debian suite or codename (it reaches mmdebstrap, APT's sources and /etc/d2d-release). */
export const suiteName = z.string().regex(/^[a-z0-9][a-z0-9.+-]*$/, 'must be a Debian suite or codename, e.g. trixie or trixie-backports');
