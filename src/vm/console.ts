// Follows a guest's serial console: keeps a transcript, waits for patterns,
// and runs shell commands in the guest's root shell with their output and exit
// status. Markers are written so that the echo of the typed command can never
// match them (the guest computes part of the marker: $((1+1)) -> 2).
import type { Readable, Writable } from 'node:stream';

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r/g;

export class TimeoutError extends Error {}

/** A console line and the host's wall clock (Date.now()) when its first character arrived. */
export interface TimedLine {
  at: number;
  text: string;
}

export class SerialConsole {
  private text = '';
  private waiters: { re: RegExp; from: number; resolve: (m: RegExpExecArray) => void }[] = [];
  private seq = 0;
  private closed = false;
  private onClose: (() => void)[] = [];
  /** Where each chunk of output starts in `text`, and when it arrived (host Date.now()). */
  private chunkPos: number[] = [];
  private chunkAt: number[] = [];

  constructor(
    out: Readable,
    private readonly input: Writable,
    private readonly tee?: (chunk: string) => void,
  ) {
    out.setEncoding('utf8');
    out.on('data', (chunk: string) => {
      this.tee?.(chunk);
      const clean = chunk.replace(ANSI, '');
      if (clean) {
        this.chunkPos.push(this.text.length);
        this.chunkAt.push(Date.now());
      }
      this.text += clean;
      this.check();
    });
    out.on('close', () => {
      this.closed = true;
      this.onClose.forEach((f) => f());
    });
  }

  get transcript(): string {
    return this.text;
  }

  get length(): number {
    return this.text.length;
  }

  /** When the character at `pos` of the transcript arrived (host Date.now()); NaN before any output. */
  timeAt(pos: number): number {
    let lo = 0;
    let hi = this.chunkPos.length - 1;
    if (hi < 0) return NaN;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.chunkPos[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return this.chunkAt[lo]!;
  }

  /** Every line so far with the time its first character arrived (the last one may be incomplete). */
  timedLines(): TimedLine[] {
    const out: TimedLine[] = [];
    let pos = 0;
    for (const text of this.text.split('\n')) {
      if (pos < this.text.length) out.push({ at: this.timeAt(pos), text });
      pos += text.length + 1;
    }
    return out;
  }

  lastLines(n: number): string {
    return this.text.split('\n').slice(-n).join('\n');
  }

  private check(): void {
    for (const w of [...this.waiters]) {
      w.re.lastIndex = 0;
      const m = w.re.exec(this.text.slice(w.from));
      if (m) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  }

  /** Wait until `re` matches console output written after position `from`. */
  waitFor(re: RegExp, timeoutMs: number, from = 0): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const w = { re, from, resolve: (m: RegExpExecArray) => (clearTimeout(t), resolve(m)) };
      const t = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new TimeoutError(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${re}`));
      }, timeoutMs);
      this.onClose.push(() => {
        if (this.waiters.includes(w)) {
          clearTimeout(t);
          this.waiters.splice(this.waiters.indexOf(w), 1);
          reject(new Error(`the VM stopped while waiting for ${re}`));
        }
      });
      this.waiters.push(w);
      this.check();
      // Asked after the VM stopped: what was printed is all there will be (and no timer may keep the process up).
      if (this.closed && this.waiters.includes(w)) {
        clearTimeout(t);
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`the VM stopped while waiting for ${re}`));
      }
    });
  }

  send(text: string): void {
    if (!this.closed) this.input.write(text);
  }

  /** Wait until the guest's shell answers on this console. */
  async waitForShell(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const id = `${process.pid}x${++this.seq}`;
      const from = this.length;
      this.send(`\necho D2D-SH-${id}-$((1+1))\n`);
      try {
        await this.waitFor(new RegExp(`D2D-SH-${id}-2`), Math.min(5000, Math.max(1000, deadline - Date.now())), from);
        return;
      } catch (e) {
        if (!(e instanceof TimeoutError) || Date.now() >= deadline) throw e;
      }
    }
  }

  /** Run a command in the guest shell; resolves with its output and exit status. */
  async exec(cmd: string, timeoutMs = 60000): Promise<{ status: number; output: string }> {
    const id = `${process.pid}x${++this.seq}`;
    const from = this.length;
    this.send(`echo D2D-B-${id}-$((1+1)); ${cmd}; echo D2D-E-${id}-$((1+1))-$?\n`);
    const end = await this.waitFor(new RegExp(`D2D-E-${id}-2-(\\d+)`), timeoutMs, from);
    const region = this.text.slice(from);
    const b = new RegExp(`D2D-B-${id}-2\\n`).exec(region);
    const output = region.slice(b ? b.index + b[0].length : 0, end.index).replace(/\n$/, '');
    return { status: Number(end[1]), output };
  }
}
