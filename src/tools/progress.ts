// Progress of a step that reads files with an external program (xz, zstd): how many bytes the
// programs have read of their inputs, out of the total. The programs print nothing useful when
// not on a terminal, so the figure comes from the kernel: the offset of each program's open
// input file (/proc/PID/fdinfo). Lines go through a sink (log.progress): a live line on a
// terminal, plain lines now and then in a log (CI).
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
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
