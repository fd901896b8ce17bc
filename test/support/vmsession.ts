// An interactive VM session for end-to-end tests: answer prompts on the serial
// console as a person would (passphrases, confirmations, the GRUB menu), and
// run commands in the guest's root shell on the virtio console.
import assert from 'node:assert/strict';
import { appendFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { Machine, type BootMenu } from '../../src/vm/machine.js';
import type { SerialConsole } from '../../src/vm/console.js';
import type { VmSpec } from '../../src/vm/qemu.js';
import { bootWithRetry, crashWatch } from '../../src/vm/crash.js';

type Spec = Omit<VmSpec, 'ovmfVars' | 'agent' | 'serial' | 'display' | 'network' | 'accel' | 'memoryMiB' | 'cpus'> & Partial<Pick<VmSpec, 'memoryMiB' | 'cpus'>>;

export class Session {
  /** Console position after the last thing waited for: prompts are matched after it. */
  private at = 0;
  private agentConsole: SerialConsole | undefined;
  /** Settles only if the guest's kernel dies (see crashWatch): every wait fails at once then. */
  private readonly crashed: Promise<never>;

  private constructor(readonly m: Machine) {
    this.crashed = crashWatch(m);
  }

  /**
   * Boot a machine for a test. Run it through withSession, which boots once more after a guest kernel crash.
   * The boot menu's default entry is taken at once (Enter at its countdown), unless opts.bootMenu is 'wait':
   * for a test that picks an entry itself.
   */
  static start(spec: Spec, log: string, title: string, opts: { qmp?: boolean; bootMenu?: BootMenu } = {}): Session {
    appendFileSync(log, `\n===== ${title} =====\n`);
    const tee = (s: string): void => appendFileSync(log, s);
    return new Session(
      Machine.start(
        { accel: 'tcg', memoryMiB: 1024, cpus: 2, serial: 'stdio', display: 'none', network: { restrict: true }, noReboot: true, ...spec },
        { tee, agentTee: (s) => tee(s.replace(/^/gm, '[agent] ')), qmp: opts.qmp, bootMenu: opts.bootMenu ?? 'enter' },
      ),
    );
  }

  /** Wait for `re` on the serial console (after the last match); returns the match. A guest kernel crash fails it at once. */
  async waitFor(re: RegExp, timeoutMs = 300000): Promise<RegExpExecArray> {
    const x = await Promise.race([this.m.console.waitFor(re, timeoutMs, this.at), this.crashed]);
    this.at = this.m.console.transcript.indexOf(x[0], this.at) + x[0].length;
    return x;
  }

  private send(text: string): void {
    this.m.console.send(text);
  }

  /** Wait for a prompt, then type `text` and Enter on the serial console. */
  async answer(prompt: RegExp, text: string, timeoutMs = 300000): Promise<void> {
    await this.waitFor(prompt, timeoutMs);
    // No pause: the guest's prompts (persist.sh, persist-boot) turn echo off before they print, and the serial
    // tty keeps what is typed until the read() that follows the prompt takes it.
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

  /** Press the power button (needs `{ qmp: true }` at start); fails the test if the guest does not power off. */
  async powerButton(): Promise<void> {
    assert.ok(await this.m.pressPowerButton(180000), 'the guest powered off after its power button was pressed');
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
 * Run one boot of a test (src/vm/crash.ts's bootWithRetry, as every boot of the harness): once more from the
 * start if the guest kernel crashed. `disks`: files the boot writes and the next boot reads (a USB stick, an
 * installed disk); they are copied before the first attempt and put back before the second, so a retry
 * starts from the same state. Without them, only for boots that keep no state.
 */
export async function withSession<T>(log: string, start: () => Session, fn: (s: Session) => Promise<T>, o: { disks?: string[] } = {}): Promise<T> {
  const saved = (o.disks ?? []).map((d) => ({ d, copy: `${d}.before-boot` }));
  // Sparse copies: a mostly empty 2 GiB disk image costs what it holds.
  for (const x of saved) execFileSync('cp', ['--sparse=always', '--reflink=auto', x.d, x.copy]);
  try {
    return await bootWithRetry(
      start,
      (s) => s.m,
      (s) => fn(s),
      {
        note: (why) => {
          appendFileSync(log, `\n===== ${why} =====\n`);
          process.stderr.write(`    | ${why} (console: ${log})\n`);
        },
        beforeRetry: () => {
          for (const x of saved) execFileSync('cp', ['--sparse=always', '--reflink=auto', x.copy, x.d]);
        },
      },
    );
  } finally {
    for (const x of saved) rmSync(x.copy, { force: true });
  }
}
