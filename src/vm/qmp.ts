// A minimal QMP client: enough to look at the guest's screen and press keys
// on its keyboard, for tests of what happens before the serial console (or
// instead of it: boot menus, firmware, the VGA text console).
import { existsSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { resolve } from 'node:path';

interface Pending {
  id: number;
  cmd: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

type Message = { QMP?: unknown; event?: string; id?: unknown; return?: unknown; error?: { class?: string; desc?: string } };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Qmp {
  private buf = '';
  private nextId = 1;
  private pending: Pending[] = [];
  private greeting: ((ok: boolean) => void) | undefined;
  private closedError: Error | undefined;

  private constructor(private readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (s: string) => this.onData(s));
    sock.on('error', (e) => this.fail(new Error(`QMP: ${e.message}`)));
    sock.on('close', () => this.fail(new Error('QMP: connection closed')));
  }

  /** Connect to QEMU's QMP socket at `path` and leave negotiation mode. */
  static async connect(path: string, timeoutMs = 30000): Promise<Qmp> {
    const deadline = Date.now() + timeoutMs;
    // QEMU creates the socket some time after it was spawned; the caller usually races it.
    while (!existsSync(path)) {
      if (Date.now() > deadline) throw new Error(`QEMU did not create the QMP socket ${path} within ${timeoutMs} ms`);
      await sleep(50);
    }
    let sock: Socket;
    for (;;) {
      try {
        sock = await new Promise<Socket>((ok, ko) => {
          const s = netConnect(path);
          s.once('connect', () => {
            s.off('error', ko);
            ok(s);
          });
          s.once('error', ko);
        });
        break;
      } catch (e) {
        // A socket file can be there before QEMU listens on it (or left over from a previous run).
        if (Date.now() > deadline) throw new Error(`cannot connect to QMP socket ${path}: ${(e as Error).message}`);
        await sleep(50);
      }
    }
    const q = new Qmp(sock);
    let timer: NodeJS.Timeout | undefined;
    try {
      // QEMU speaks first; commands sent before its greeting would be answered out of turn.
      const greeted = await Promise.race([
        new Promise<boolean>((r) => (q.greeting = r)),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), Math.max(0, deadline - Date.now())))),
      ]);
      if (!greeted) throw q.closedError ?? new Error(`no QMP greeting on ${path} within ${timeoutMs} ms`);
      await q.execute('qmp_capabilities');
    } catch (e) {
      q.close();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return q;
  }

  /** Run one QMP command; resolves with its `return` value. */
  execute(cmd: string, args?: Record<string, unknown>): Promise<unknown> {
    if (this.closedError) return Promise.reject(new Error(`QMP ${cmd}: ${this.closedError.message}`));
    const id = this.nextId++;
    return new Promise((res, rej) => {
      this.pending.push({ id, cmd, resolve: res, reject: rej });
      this.sock.write(`${JSON.stringify({ execute: cmd, ...(args ? { arguments: args } : {}), id })}\n`);
    });
  }

  /** Save the guest's screen to `file` (written by QEMU, so the path is made absolute). */
  async screendump(file: string, format: 'ppm' | 'png' = 'ppm'): Promise<void> {
    // `format` exists only since QEMU 7.1; leaving it out for PPM keeps older QEMUs working.
    await this.execute('screendump', { filename: resolve(file), ...(format === 'ppm' ? {} : { format }) });
  }

  /** Press `keys` together (QEMU qcodes, e.g. ['ctrl', 'alt', 'f3']) and release them. */
  async sendKeys(keys: string[], holdMs?: number): Promise<void> {
    await this.execute('send-key', {
      keys: keys.map((k) => ({ type: 'qcode', data: k })),
      ...(holdMs === undefined ? {} : { 'hold-time': holdMs }),
    });
  }

  /** Press the machine's ACPI power button (what a person does to shut a PC down). */
  async powerButton(): Promise<void> {
    await this.execute('system_powerdown');
  }

  close(): void {
    this.fail(new Error('QMP: connection closed by the client'));
    this.sock.destroy();
  }

  private onData(s: string): void {
    // Messages are newline-terminated JSON, but a read can hold part of one, or several.
    this.buf += s;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (line) this.onMessage(line);
    }
  }

  private onMessage(line: string): void {
    let m: Message;
    try {
      m = JSON.parse(line) as Message;
    } catch {
      this.fail(new Error(`QMP: not JSON: ${line.slice(0, 200)}`));
      this.sock.destroy();
      return;
    }
    if (m.QMP !== undefined) {
      this.greeting?.(true);
      this.greeting = undefined;
      return;
    }
    // Events (RESET, SHUTDOWN, ...) arrive whenever they happen; nobody here waits for them.
    if (m.event !== undefined) return;
    if (!('return' in m) && !('error' in m)) return;
    // Replies come in order, but matching the echoed id guards against a stray reply.
    const i = typeof m.id === 'number' ? this.pending.findIndex((p) => p.id === m.id) : 0;
    const p = i >= 0 ? this.pending.splice(i, 1)[0] : undefined;
    if (!p) return;
    if (m.error) p.reject(new Error(`QMP ${p.cmd} failed: ${m.error.desc ?? JSON.stringify(m.error)}`));
    else p.resolve(m.return);
  }

  private fail(e: Error): void {
    this.closedError ??= e;
    this.greeting?.(false);
    this.greeting = undefined;
    for (const p of this.pending.splice(0)) p.reject(new Error(`QMP ${p.cmd}: ${e.message}`));
  }
}
