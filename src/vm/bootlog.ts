// The guest's boot log (/var/log/d2d-boot.log: "[UPTIME] message" lines written
// by stage 1 and by lib.sh's say/mark) and when the serial console's output arrived on the host,
// turned into a phase-by-phase boot profile (bench/boot-profile.ts). Pure.
import type { TimedLine } from './console.js';
import { DOCKER_READY } from './sentinels.js';

/** A console transcript and when each character of it arrived (SerialConsole has both). */
export interface ConsoleText {
  readonly transcript: string;
  timeAt(pos: number): number;
}

/** A ConsoleText from pieces of output and their arrival times (the pieces are joined as they are). */
export function consoleText(chunks: readonly TimedLine[]): ConsoleText {
  const starts: number[] = [];
  let transcript = '';
  for (const c of chunks) {
    starts.push(transcript.length);
    transcript += c.text;
  }
  return {
    transcript,
    timeAt: (pos) => {
      let i = 0;
      while (i + 1 < starts.length && starts[i + 1]! <= pos) i++;
      return chunks[i]?.at ?? NaN;
    },
  };
}

/** When the first match of `re` in the transcript started to arrive (host ms); undefined without one. */
export function arrival(c: ConsoleText, re: RegExp): number | undefined {
  const m = new RegExp(re.source, re.flags.replace('g', '')).exec(c.transcript);
  return m ? c.timeAt(m.index) : undefined;
}

/** One line of the boot log: the guest's uptime (s) when it was written, and the message. */
export interface BootLogEntry {
  uptime: number;
  text: string;
}

/** Lines "[12.34] message"; lines without a number in brackets (stray output) are skipped. */
export function parseBootLog(log: string): BootLogEntry[] {
  const out: BootLogEntry[] = [];
  for (const line of log.split('\n')) {
    const m = /^\[(\d+(?:\.\d+)?)\] (.*)$/.exec(line.replace(/\r$/, ''));
    if (m) out.push({ uptime: Number(m[1]), text: m[2]! });
  }
  return out;
}

/** Uptime of the first entry whose message starts with `prefix`. */
export function markAt(entries: readonly BootLogEntry[], prefix: string): number | undefined {
  return entries.find((e) => e.text.startsWith(prefix))?.uptime;
}

/** A console line that carries the guest's uptime when it was printed, and when the host got it. */
export interface Anchor {
  host: number;
  uptime: number;
}

/**
 * Console output that carries the guest's uptime when it was printed: the `d2d:` lines that end
 * with it ("init: ..., uptime 4.51 s", "docker: ready (..., uptime 40.2 s)"), wherever they land
 * in a line (a shell prompt may come first), and kernel lines with a printk stamp ("[    2.62] Run
 * /init"). Each with the time its first character reached the host.
 */
export function uptimeAnchors(c: ConsoleText): Anchor[] {
  const out: Anchor[] = [];
  const add = (re: RegExp, at: (m: RegExpExecArray) => number): void => {
    for (const m of c.transcript.matchAll(re)) {
      const uptime = Number(m[1]);
      // Stamps of 0 are printed late (before the kernel's clock runs, lines are buffered).
      if (uptime > 0) out.push({ host: c.timeAt(at(m as RegExpExecArray)), uptime });
    }
  };
  add(/d2d: [^\n]*?uptime (\d+(?:\.\d+)?) s\b/g, (m) => m.index);
  add(/^\[\s*(\d+\.\d+)\] /gm, (m) => m.index);
  return out.sort((a, b) => a.host - b.host);
}

/**
 * Host wall clock (ms) of guest uptime 0. Each anchor's line reached the host a little after
 * the stamp was taken, never before, so the earliest estimate is the best one. `spread` is
 * how far the anchors disagree (ms): a check that the guest's clock keeps the host's pace.
 */
export function uptimeZero(anchors: readonly Anchor[]): { host: number; spread: number } | undefined {
  if (!anchors.length) return undefined;
  const est = anchors.map((a) => a.host - a.uptime * 1000);
  return { host: Math.min(...est), spread: Math.max(...est) - Math.min(...est) };
}

export interface ProfileRow {
  name: string;
  seconds: number;
}

export interface ProfilePhase {
  name: string;
  seconds: number;
  rows: ProfileRow[];
}

export interface BootProfile {
  /** Power-on to the last boundary found (the `d2d: docker: ready` line), s. */
  total: number;
  phases: ProfilePhase[];
  /** How far the uptime anchors disagree, ms (see uptimeZero). */
  clockSpread: number;
}

export const PHASES = [
  'firmware + boot loader (power-on -> kernel starts)',
  'kernel: decompression, init, initramfs unpack (-> stage 1 runs)',
  'stage 1: unpacking the root payload (xzdec, cpio)',
  'rc.sysinit up to starting containerd',
  'containerd ready, dockerd start -> docker info OK',
  'the ready line (docker info --format)',
] as const;

/**
 * The boot as phases: consecutive boundaries (host-side console lines, and boot log marks
 * mapped to the host clock through uptimeZero), so the rows add up to the total. A boundary
 * that is missing (an older image without a mark) folds its row into the next one.
 * `decompressS`: the kernel's setup and self-decompression before its clock starts, measured
 * in a probe boot; without it, that time stays in the first phase.
 */
export function bootProfile(o: { powerOn: number; console: ConsoleText; log: readonly BootLogEntry[]; decompressS?: number }): BootProfile | undefined {
  const zero = uptimeZero(uptimeAnchors(o.console));
  if (!zero) return undefined;
  const rel = (host: number | undefined): number | undefined => (host === undefined ? undefined : (host - o.powerOn) / 1000);
  const guest = (prefix: string): number | undefined => {
    const u = markAt(o.log, prefix);
    return u === undefined ? undefined : rel(zero.host + u * 1000);
  };
  const seen = (re: RegExp): number | undefined => rel(arrival(o.console, re));
  const grubBoot = seen(/Booting `/);
  const firstOutput = grubBoot === undefined ? undefined : seen(/\S/);
  const clock0 = rel(zero.host)!;
  // The probe is another boot: under load its figure can exceed the time this boot had for
  // it; never let it start the kernel before power-on or before GRUB handed over.
  const earliest = grubBoot ?? 0;
  const kernelStart = o.decompressS === undefined ? undefined : Math.max(clock0 - o.decompressS, Math.min(earliest, clock0));
  const clamped = kernelStart !== undefined && kernelStart > clock0 - o.decompressS!;
  type Bound = [phase: number, name: string, at: number | undefined];
  const grub: Bound[] = [
    [0, "firmware until GRUB's first output", firstOutput],
    [0, 'GRUB menu (its timeout)', grubBoot],
  ];
  const bounds: Bound[] = [
    ...(grubBoot === undefined ? [] : grub),
    [0, grubBoot === undefined ? 'firmware, loading kernel + initrd' : 'GRUB loads kernel + initrd', kernelStart ?? clock0],
    ...(kernelStart === undefined ? [] : [[1, `kernel setup + self-decompression (probe boot${clamped ? ', cut to fit' : ''})`, clock0] as Bound]),
    [1, 'kernel clock starts -> stage 1 (incl. initramfs unpack)', guest('stage 1: started')],
    [2, 'xzdec, cpio into the root tmpfs', guest('stage 1: root file system unpacked')],
    [3, 'switch_root, busybox init -> rc.sysinit', guest('init:')],
    [3, 'coldplug (modalias -> modprobe, 3 passes)', guest('coldplug: done')],
    [3, 'boot2docker-compat, persist-boot', guest('persistence: done')],
    [3, 'modprobe overlay, bridge, nf_tables ...', guest('modules: loaded')],
    [3, 'network (udhcpc) -> sysinit done', guest('sysinit: done')],
    [3, 'init starts containerd', guest('containerd: starting')],
    [4, 'containerd until its socket', guest('containerd: socket up')],
    [4, 'dockerd starts (polls the socket every 0.2 s)', guest('dockerd: starting')],
    [4, 'dockerd -> docker info OK', guest('docker: info OK')],
    [5, '`d2d: docker: ready` on the console', seen(DOCKER_READY)],
  ];
  // A row that spans phases (a mark was missing) makes those phases one: "A + B".
  const phases: ProfilePhase[] = [];
  let prev = 0;
  let pending: string[] = [];
  let from: number | undefined;
  for (const [phase, name, at] of bounds) {
    pending.push(name);
    from ??= phase;
    if (at === undefined) continue;
    const row = { name: pending.join(' + '), seconds: at - prev };
    const key = PHASES.slice(from, phase + 1).join(' + ');
    if (phases.at(-1)?.name !== key) phases.push({ name: key, seconds: 0, rows: [] });
    phases.at(-1)!.rows.push(row);
    phases.at(-1)!.seconds += row.seconds;
    prev = at;
    pending = [];
    from = undefined;
  }
  return { total: prev, phases, clockSpread: zero.spread };
}

/**
 * A probe boot (verbose kernel, earlyprintk): from the setup code's first line to the kernel's clock 0, s.
 * A kernel without EDD (the tailored one) prints nothing from its setup code: then from SeaBIOS's last line
 * before it jumps into the kernel ("Booting from ROM..."), which adds the option ROM's copying.
 */
export function decompressSeconds(c: ConsoleText): number | undefined {
  const setup = arrival(c, /Probing EDD/) ?? arrival(c, /Booting from ROM/);
  const zero = uptimeZero(uptimeAnchors(c));
  return setup !== undefined && zero ? (zero.host - setup) / 1000 : undefined;
}

/** The profile as a text table: phases with seconds and share of the total, their rows indented. */
export function formatProfile(p: BootProfile): string {
  const pct = (s: number): string => `${((s / p.total) * 100).toFixed(0)}%`.padStart(5);
  const out = [`  ${'phase'.padEnd(66)} ${'s'.padStart(6)} share`];
  for (const ph of p.phases) {
    out.push(`  ${ph.name.padEnd(66)} ${ph.seconds.toFixed(1).padStart(6)} ${pct(ph.seconds)}`);
    if (ph.rows.length > 1) for (const r of ph.rows) out.push(`      ${r.name.padEnd(62)} ${r.seconds.toFixed(1).padStart(6)} ${pct(r.seconds)}`);
  }
  out.push(`  ${'total: power-on -> d2d: docker: ready'.padEnd(66)} ${p.total.toFixed(1).padStart(6)}  100%`);
  return out.join('\n');
}
