// An interactive VM session for end-to-end tests: answer prompts on the serial
// console as a person would (passphrases, confirmations, the GRUB menu), and
// run commands in the guest's root shell on the virtio console.
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { Machine } from '../../src/vm/machine.js';
import type { SerialConsole } from '../../src/vm/console.js';
import type { VmSpec } from '../../src/vm/qemu.js';
import { GUEST_CRASH } from '../../src/commands/test.js';

type Spec = Omit<VmSpec, 'ovmfVars' | 'agent' | 'serial' | 'display' | 'network' | 'accel' | 'memoryMiB' | 'cpus'> & Partial<Pick<VmSpec, 'memoryMiB' | 'cpus'>>;

export class Session {
  /** Console position after the last thing waited for: prompts are matched after it. */
  private at = 0;
  private agentConsole: SerialConsole | undefined;
  private constructor(readonly m: Machine) {}

  static start(spec: Spec, log: string, title: string, opts: { qmp?: boolean } = {}): Session {
    appendFileSync(log, `\n===== ${title} =====\n`);
    const tee = (s: string): void => appendFileSync(log, s);
    const m = Machine.start(
      { accel: 'tcg', memoryMiB: 1024, cpus: 2, serial: 'stdio', display: 'none', network: { restrict: true }, noReboot: true, ...spec },
      { tee, agentTee: (s) => tee(s.replace(/^/gm, '[agent] ')), qmp: opts.qmp },
    );
    return new Session(m);
  }

  /** Wait for `re` on the serial console (after the last match); returns the match. */
  async waitFor(re: RegExp, timeoutMs = 300000): Promise<RegExpExecArray> {
    const x = await this.m.console.waitFor(re, timeoutMs, this.at);
    this.at = this.m.console.transcript.indexOf(x[0], this.at) + x[0].length;
    return x;
  }

  /** Wait for a prompt, then type `text` and Enter on the serial console. */
  async answer(prompt: RegExp, text: string, timeoutMs = 300000): Promise<void> {
    await this.waitFor(prompt, timeoutMs);
    // Let the reader reach its read() after printing the prompt.
    await new Promise((r) => setTimeout(r, 500));
    this.m.console.send(`${text}\n`);
  }

  /** Type raw keys on the serial console (e.g. arrow keys in the GRUB menu). */
  keys(s: string): void {
    this.m.console.send(s);
  }

  /** Save the guest's screen (needs `{ qmp: true }` at start). */
  async screendump(file: string, format?: 'ppm' | 'png'): Promise<void> {
    await this.m.screendump(file, format);
  }

  /** Press keys together on the guest's keyboard, by QEMU qcode (needs `{ qmp: true }` at start). */
  async sendKeys(keys: string[]): Promise<void> {
    await this.m.sendKeys(keys);
  }

  /** The root shell on the virtio console. */
  async shell(timeoutMs = 300000): Promise<SerialConsole> {
    if (!this.agentConsole) {
      const a = await this.m.agent();
      await a.waitForShell(timeoutMs);
      this.agentConsole = a;
    }
    return this.agentConsole;
  }

  /** Run a command in the guest; it must succeed. Returns its output. */
  async sh(cmd: string, timeoutMs = 180000): Promise<string> {
    const r = await (await this.shell()).exec(cmd, timeoutMs);
    assert.equal(r.status, 0, `in the guest: ${cmd}\n${r.output}`);
    return r.output;
  }

  /** Run a command in the guest and return its exit status and output. */
  async try(cmd: string, timeoutMs = 180000): Promise<{ status: number; output: string }> {
    return (await this.shell()).exec(cmd, timeoutMs);
  }

  /** Clean power-off from inside; fails the test if the guest does not stop. */
  async off(): Promise<void> {
    await this.shell();
    assert.ok(await this.m.shutdown(180000), 'the guest powered off');
  }

  /** Pull the plug. */
  kill(): void {
    this.m.kill();
  }

  /** Pull the plug and wait until QEMU is gone (it holds a lock on its disk images). */
  async pullPlug(): Promise<void> {
    this.m.kill();
    await this.m.exited;
  }
}

/**
 * Run a test's one self-contained boot (a read-only image, no state kept between boots), once more from the
 * start if the guest kernel crashed (GUEST_CRASH says why that is worth it under TCG); the session is killed
 * after each attempt. Not for tests whose boots write to disks the next attempt would read.
 */
export async function withSession<T>(log: string, start: () => Session, fn: (s: Session) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const s = start();
    // A crash is noticed when it happens, not when the step that was waiting times out.
    const crashed = s.m.console.waitFor(GUEST_CRASH, 24 * 3600 * 1000).then(
      (x) => {
        throw new Error(`the guest kernel crashed: ${x[0]}`);
      },
      () => new Promise<never>(() => undefined),
    );
    const run = fn(s);
    run.catch(() => undefined);
    try {
      return await Promise.race([run, crashed]);
    } catch (e) {
      const crash = GUEST_CRASH.exec(s.m.console.transcript);
      if (!crash || attempt >= 2) throw e;
      const why = `the guest kernel crashed (${crash[0]}); booting once more`;
      appendFileSync(log, `\n===== ${why} =====\n`);
      process.stderr.write(`    | ${why} (console: ${log})\n`);
    } finally {
      s.kill();
    }
  }
}
