// An interactive VM session for end-to-end tests: answer prompts on the serial
// console as a person would (passphrases, confirmations, the GRUB menu), and
// run commands in the guest's root shell on the virtio console.
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { Machine } from '../../src/vm/machine.js';
import type { SerialConsole } from '../../src/vm/console.js';
import type { VmSpec } from '../../src/vm/qemu.js';
import { crashWatch, GUEST_CRASH } from '../../src/commands/test.js';

type Spec = Omit<VmSpec, 'ovmfVars' | 'agent' | 'serial' | 'display' | 'network' | 'accel' | 'memoryMiB' | 'cpus'> & Partial<Pick<VmSpec, 'memoryMiB' | 'cpus'>>;

export class Session {
  /** Console position after the last thing waited for: prompts are matched after it. */
  private at = 0;
  private agentConsole: SerialConsole | undefined;
  /** What the test waited for and typed on the serial console so far, to replay after a reboot (keys after the same pauses). */
  private script: ({ wait: RegExp; timeoutMs: number } | { send: string; delayMs: number })[] = [];
  private lastStepAt = Date.now();
  /** False once the test used a channel that cannot be replayed (the root shell, QMP keys). */
  private replayable = true;
  /** Settles only if the current guest's kernel dies (see crashWatch). */
  private crashed: Promise<never>;
  /** One more boot after a crash before anything of the image ran (off in withSession, which retries whole sessions). */
  rebootEarlyCrash = true;

  private constructor(
    private machine: Machine,
    private readonly boot: () => Machine,
    private readonly log: string,
  ) {
    this.crashed = crashWatch(machine);
  }

  /** The current QEMU machine (a new one after a reboot). */
  get m(): Machine {
    return this.machine;
  }

  static start(spec: Spec, log: string, title: string, opts: { qmp?: boolean } = {}): Session {
    appendFileSync(log, `\n===== ${title} =====\n`);
    const tee = (s: string): void => appendFileSync(log, s);
    const boot = (): Machine =>
      Machine.start(
        { accel: 'tcg', memoryMiB: 1024, cpus: 2, serial: 'stdio', display: 'none', network: { restrict: true }, noReboot: true, ...spec },
        { tee, agentTee: (s) => tee(s.replace(/^/gm, '[agent] ')), qmp: opts.qmp },
      );
    return new Session(boot(), boot, log);
  }

  /**
   * Wait for `re` on the serial console (after the last match); returns the match. A guest kernel crash fails
   * the wait at once, unless it came before the image's first line (stage 1's "d2d:"): then nothing of the image
   * has run, and the guest is booted once more, as after a power cut at power-on, and what the test waited for
   * and typed on the serial console until then (the GRUB menu, say) is replayed. (Sessions run TCG single-threaded,
   * which keeps QEMU's own race from killing the guest kernel; this is the safety net: see GUEST_CRASH.)
   */
  async waitFor(re: RegExp, timeoutMs = 300000): Promise<RegExpExecArray> {
    for (;;) {
      try {
        const x = await this.waitOnce(re, timeoutMs);
        this.script.push({ wait: re, timeoutMs });
        this.lastStepAt = Date.now();
        return x;
      } catch (e) {
        if (!(await this.rebootAfterEarlyCrash())) throw e;
      }
    }
  }

  private async waitOnce(re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    const x = await Promise.race([this.machine.console.waitFor(re, timeoutMs, this.at), this.crashed]);
    this.at = this.machine.console.transcript.indexOf(x[0], this.at) + x[0].length;
    return x;
  }

  private send(text: string): void {
    this.script.push({ send: text, delayMs: Date.now() - this.lastStepAt });
    this.lastStepAt = Date.now();
    this.machine.console.send(text);
  }

  private async rebootAfterEarlyCrash(): Promise<boolean> {
    const t = this.machine.console.transcript;
    const crash = GUEST_CRASH.exec(t);
    if (!crash || !this.rebootEarlyCrash || !this.replayable || /d2d: /.test(t.slice(0, crash.index))) return false;
    this.rebootEarlyCrash = false;
    const why = `the guest kernel crashed before the image started (${crash[0]}); booting once more`;
    appendFileSync(this.log, `\n===== ${why} =====\n`);
    process.stderr.write(`    | ${why} (console: ${this.log})\n`);
    this.machine.kill();
    await this.machine.exited;
    this.machine = this.boot();
    this.crashed = crashWatch(this.machine);
    this.at = 0;
    for (const step of this.script) {
      if ('wait' in step) await this.waitOnce(step.wait, step.timeoutMs);
      else {
        await new Promise((r) => setTimeout(r, step.delayMs));
        this.machine.console.send(step.send);
      }
    }
    return true;
  }

  /** Wait for a prompt, then type `text` and Enter on the serial console. */
  async answer(prompt: RegExp, text: string, timeoutMs = 300000): Promise<void> {
    await this.waitFor(prompt, timeoutMs);
    // Let the reader reach its read() after printing the prompt.
    await new Promise((r) => setTimeout(r, 500));
    this.send(`${text}\n`);
  }

  /** Type raw keys on the serial console (e.g. arrow keys in the GRUB menu). */
  keys(s: string): void {
    this.send(s);
  }

  /** Save the guest's screen (needs `{ qmp: true }` at start). */
  async screendump(file: string, format?: 'ppm' | 'png'): Promise<void> {
    await this.m.screendump(file, format);
  }

  /** Press keys together on the guest's keyboard, by QEMU qcode (needs `{ qmp: true }` at start). */
  async sendKeys(keys: string[]): Promise<void> {
    this.replayable = false;
    await this.m.sendKeys(keys);
  }

  /** The root shell on the virtio console. */
  async shell(timeoutMs = 300000): Promise<SerialConsole> {
    if (!this.agentConsole) {
      this.replayable = false;
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
    s.rebootEarlyCrash = false;
    // A crash is noticed when it happens, not when the step that was waiting times out.
    const crashed = crashWatch(s.m);
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
      // Gone before the next boot binds the same forwarded ports.
      await s.pullPlug();
    }
  }
}
