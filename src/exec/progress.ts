// Progress of a step that reads files with an external program (xz, zstd): how many bytes the
// programs have read of their inputs, out of the total. The programs print nothing useful when
// not on a terminal, so the figure comes from the kernel: the offset of each program's open
// input file (/proc/PID/fdinfo). And mmdebstrap's packages: how many are downloaded and installed,
// counted in its root. Lines go through a sink (log.progress): a live line on a terminal, plain lines
// now and then in a log (CI).
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';

/** How far process `pid` has read the file `path`: its open file's offset, or undefined when it has it not open. */
export function readOffset(pid: number, path: string): number | undefined {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return undefined; // gone, or not ours to read
  }
  for (const fd of fds) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) !== path) continue;
      const m = /^pos:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      if (m) return Number(m[1]);
    } catch {
      /* the fd closed while we looked */
    }
  }
  return undefined;
}

const MiB = 1024 * 1024;

/** "41% of 277 MiB": the figure the lines carry. */
export function formatBytesDone(done: number, total: number): string {
  const pct = total > 0 ? Math.min(100, Math.floor((done * 100) / total)) : 100;
  return `${pct}% of ${Math.max(1, Math.round(total / MiB))} MiB`;
}

interface Input {
  path: string;
  bytes: number;
  pid?: number;
  /** Last offset seen; the whole file once its reader has exited. */
  seen: number;
}

/**
 * Bytes read by several programs of their input files, reported every `everyMs` through `emit` as
 * "LABEL: 41% of 277 MiB VERB", with a first line at the start and a last one (100%) at the end, so
 * a log always shows a step's progress however short it was.
 */
export class ByteProgress {
  private readonly inputs: Input[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly t0 = Date.now();

  constructor(
    private readonly label: string,
    private readonly verb: string,
    private readonly emit: (line: string, final: boolean) => void,
    private readonly everyMs = 5000,
  ) {}

  /** An input file; `attach` (given to run()'s onSpawn) ties it to the program that reads it. */
  input(path: string): (child: ChildProcess) => void {
    const inp: Input = { path, bytes: statSync(path).size, seen: 0 };
    this.inputs.push(inp);
    return (child) => {
      inp.pid = child.pid;
      child.once('exit', () => (inp.seen = inp.bytes));
    };
  }

  start(): this {
    this.report();
    this.timer = setInterval(() => this.report(), this.everyMs);
    this.timer.unref();
    return this;
  }

  /** The last line; call it when every program has finished (also after a failure: it stops the timer). */
  stop(ok = true): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (ok) {
      const total = this.total();
      this.emit(`${this.label}: ${formatBytesDone(total, total)} ${this.verb} in ${((Date.now() - this.t0) / 1000).toFixed(0)} s`, true);
    }
  }

  private total(): number {
    return this.inputs.reduce((s, i) => s + i.bytes, 0);
  }

  /** Bytes read so far, over every input. */
  done(): number {
    let sum = 0;
    for (const i of this.inputs) {
      if (i.pid !== undefined && i.seen < i.bytes) {
        const pos = readOffset(i.pid, i.path);
        if (pos !== undefined) i.seen = Math.max(i.seen, Math.min(pos, i.bytes));
      }
      sum += i.seen;
    }
    return sum;
  }

  private report(): void {
    this.emit(`${this.label}: ${formatBytesDone(this.done(), this.total())} ${this.verb}`, false);
  }
}

/** What mmdebstrap is doing, from its own `I:` lines, and where its root is. */
type PackagePhase = { name: string; count: (root: string) => number; verb: string };

/** Files in `dir` whose names end with `suffix` (0 when the folder is not there yet). */
function countFiles(dir: string, suffix: string): number {
  try {
    return readdirSync(dir).filter((f) => f.endsWith(suffix)).length;
  } catch {
    return 0;
  }
}

/** mmdebstrap's phases that take a while, and how far each is, read from its root. */
const PACKAGE_PHASES: Record<string, PackagePhase> = {
  'downloading packages': { name: 'downloading packages', count: (r) => countFiles(join(r, 'var/cache/apt/archives'), '.deb'), verb: 'at hand' },
  'installing essential packages': { name: 'installing essential packages', count: (r) => countFiles(join(r, 'var/lib/dpkg/info'), '.list'), verb: 'installed' },
  'installing remaining packages': { name: 'installing remaining packages', count: (r) => countFiles(join(r, 'var/lib/dpkg/info'), '.list'), verb: 'installed' },
};

/**
 * How far mmdebstrap is with the image's packages: while it downloads, the .deb files in its root's apt
 * archive folder; while it installs, dpkg's file lists. Fed mmdebstrap's output lines (`line`); reports
 * every `everyMs` as "rootfs: installing remaining packages: 57 installed", and a last line for each
 * phase when the next begins, with its time. A count, not a share: no list known before the run says how
 * many packages mmdebstrap will install (the cache key's simulated install also holds the kernel's, which
 * the image's own kernel step installs later). mmdebstrap draws its own bar only on a terminal.
 */
export class PackageProgress {
  private root: string | undefined;
  private phase: PackagePhase | undefined;
  private t0 = Date.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly emit: (line: string, final: boolean) => void,
    private readonly everyMs = 3000,
  ) {}

  line(l: string): void {
    const tmp = /^I: using (\/\S+) as tempdir/.exec(l);
    if (tmp) this.root = tmp[1];
    // Any other step of mmdebstrap's (I: ...) or of the image's (==> ...) ends the phase.
    if (!/^(I: |==> )/.test(l)) return;
    this.finish();
    const m = /^I: ([a-z ]+?)(\.\.\.| with apt| inside)/.exec(l);
    this.phase = m ? PACKAGE_PHASES[m[1]!] : undefined;
    if (this.phase && this.root) {
      this.t0 = Date.now();
      this.timer = setInterval(() => this.report(false), this.everyMs);
      this.timer.unref();
    }
  }

  /** The current phase's last line; call it when mmdebstrap ends too (it also stops the timer). */
  finish(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.report(true);
    this.phase = undefined;
  }

  private report(final: boolean): void {
    if (!this.phase || !this.root) return;
    const n = this.phase.count(this.root);
    this.emit(`rootfs: ${this.phase.name}: ${n} ${this.phase.verb}${final ? ` in ${((Date.now() - this.t0) / 1000).toFixed(0)} s` : ''}`, final);
  }
}

/**
 * A wait whose share cannot be known (a VM booting, a program that prints nothing until it ends): every
 * `everyMs`, "LABEL: DOING (N s)", where `doing` says what is under way now (or nothing), and when `work`
 * settles, "LABEL done in N s" (a failure stops the lines and is the caller's to tell).
 */
export async function during<T>(label: string, doing: () => string, work: Promise<T>, emit: (line: string, final: boolean) => void, everyMs = 3000): Promise<T> {
  const t0 = Date.now();
  const secs = (): string => ((Date.now() - t0) / 1000).toFixed(0);
  const timer = setInterval(() => {
    const what = doing();
    emit(`${label}${what ? `: ${what}` : ''} (${secs()} s)`, false);
  }, everyMs);
  timer.unref();
  try {
    const r = await work;
    emit(`${label} done in ${secs()} s`, true);
    return r;
  } finally {
    clearInterval(timer);
  }
}

/** The guest's last step on its console (`d2d: sysinit: done` -> "sysinit: done"), or nothing yet. */
export function lastGuestStep(transcript: string): string {
  const all = transcript.match(/^d2d: [^\n]+$/gm);
  return all ? all[all.length - 1]!.slice(5).trim() : '';
}
