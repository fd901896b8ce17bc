// A running QEMU guest: starts QEMU from a VmSpec, wires the serial console,
// and stops it (politely, then by force). Also picks the accelerator.
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start } from '../exec/run.js';
import { probeKvm } from './kvm.js';
import { OVMF_VARS, OVMF_VARS_MS, qemuArgv, type VmSpec } from './qemu.js';
import { SerialConsole } from './console.js';
import { Qmp } from './qmp.js';
import { BOOT_MENU_COUNTDOWN } from './sentinels.js';

export async function chooseAccel(want: string, image?: string): Promise<'kvm' | 'tcg'> {
  if (want === 'kvm' || want === 'tcg') return want;
  return (await probeKvm(image)).usable ? 'kvm' : 'tcg';
}

/** QEMU loads one initrd; like iPXE or GRUB given several, hand the kernel their concatenation. */
export function withInitrds<T extends Pick<VmSpec, 'boot'>>(spec: T, dir: string): T {
  const b = spec.boot;
  if (b.kind !== 'kernel' || !b.extraInitrds?.length) return spec;
  const combined = join(dir, 'initrd.img');
  writeFileSync(combined, Buffer.concat([b.initrd, ...b.extraInitrds].map((f) => readFileSync(f))));
  return { ...spec, boot: { kind: 'kernel', kernel: b.kernel, initrd: combined, append: b.append } };
}

/** UEFI guests need a writable copy of the firmware's variable store; put it in `dir`. */
export function withFirmwareVars<T extends Pick<VmSpec, 'firmware' | 'secureBoot' | 'varsFrom'>>(spec: T, dir: string): T & { ovmfVars?: string } {
  if (spec.firmware !== 'uefi') return spec;
  const vars = join(dir, 'OVMF_VARS.fd');
  copyFileSync(spec.varsFrom ?? (spec.secureBoot ? OVMF_VARS_MS : OVMF_VARS), vars);
  return { ...spec, ovmfVars: vars };
}

/** At a boot loader's menu: press Enter at its countdown ('enter'), or leave it to its timeout or a person ('wait'). */
export type BootMenu = 'wait' | 'enter';

export class Machine {
  readonly console: SerialConsole;
  readonly exited: Promise<number | null>;
  private constructor(
    readonly proc: ChildProcess,
    readonly argv: string[],
    private readonly tmp: string,
    tee?: (s: string) => void,
  ) {
    this.console = new SerialConsole(proc.stdout!, proc.stdin!, tee);
    proc.stderr?.on('data', (b: Buffer) => tee?.(`[qemu] ${b.toString()}`));
    this.exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
  }

  private agentConsole: SerialConsole | undefined;

  /** The root shell on the guest's virtio console (see VmSpec.agent); connects on first use. */
  async agent(timeoutMs = 30000): Promise<SerialConsole> {
    if (this.agentConsole) return this.agentConsole;
    const path = join(this.tmp, 'agent.sock');
    const deadline = Date.now() + timeoutMs;
    while (!existsSync(path)) {
      if (Date.now() > deadline) throw new Error('QEMU did not create the agent socket');
      await new Promise((r) => setTimeout(r, 100));
    }
    const sock = connect(path);
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    this.agentConsole = new SerialConsole(sock, sock, this.agentTee);
    return this.agentConsole;
  }

  private agentTee: ((s: string) => void) | undefined;
  private qmpPath: string | undefined;
  private qmpConn: Promise<Qmp> | undefined;

  /** QEMU's control socket (needs `qmp` at start); connects on first use. */
  private qmp(timeoutMs = 30000): Promise<Qmp> {
    if (!this.qmpPath) throw new Error('this machine was started without a QMP socket: pass { qmp: true } to Machine.start');
    // One connection for concurrent callers; a failed attempt is not cached, so the next call retries.
    this.qmpConn ??= Qmp.connect(this.qmpPath, timeoutMs).catch((e: unknown) => {
      this.qmpConn = undefined;
      throw e;
    });
    return this.qmpConn;
  }

  /** Save the guest's screen to `file` (QEMU's screendump; PPM unless asked for PNG). */
  async screendump(file: string, format?: 'ppm' | 'png'): Promise<void> {
    await (await this.qmp()).screendump(file, format);
  }

  /** Press keys together on the guest's keyboard (QEMU qcodes, e.g. ['ctrl', 'alt', 'f3']). */
  async sendKeys(keys: string[], holdMs?: number): Promise<void> {
    await (await this.qmp()).sendKeys(keys, holdMs);
  }

  /**
   * opts.bootMenu 'enter': press Enter when the boot loader's menu starts its countdown (the default entry,
   * at once); 'wait' (the default): leave the menu to its timeout, or to whoever types on the console.
   */
  static start(spec: Omit<VmSpec, 'ovmfVars' | 'agent'>, opts: { tee?: (s: string) => void; agentTee?: (s: string) => void; log?: string; qmp?: boolean; bootMenu?: BootMenu } = {}): Machine {
    const tmp = mkdtempSync(join(tmpdir(), 'd2d-vm-'));
    const qmp = opts.qmp ? { qmp: join(tmp, 'qmp.sock') } : {};
    const full: VmSpec = withFirmwareVars({ ...withInitrds(spec, tmp), agent: join(tmp, 'agent.sock'), ...qmp }, tmp);
    const argv = qemuArgv(full);
    const proc = start(argv, { log: opts.log });
    const m = new Machine(proc, argv, tmp, opts.tee);
    m.agentTee = opts.agentTee;
    m.qmpPath = full.qmp;
    // Only a boot loader shows the menu; a kernel boot has none. The wait ends with the machine at the latest.
    if (opts.bootMenu === 'enter' && spec.boot.kind !== 'kernel' && spec.boot.kind !== 'network') {
      m.console.waitFor(BOOT_MENU_COUNTDOWN, 24 * 3600 * 1000).then(
        () => m.console.send('\r'),
        () => undefined,
      );
    }
    return m;
  }

  /** Power off from inside (clean shutdown); kill QEMU if it does not stop in time. */
  async shutdown(timeoutMs = 90000): Promise<boolean> {
    (this.agentConsole ?? this.console).send('\npoweroff\n');
    return this.awaitPowerOff(timeoutMs);
  }

  /** Press the ACPI power button (needs `qmp` at start); true if the guest then powered off by itself in time. */
  async pressPowerButton(timeoutMs = 90000): Promise<boolean> {
    await (await this.qmp()).powerButton();
    return this.awaitPowerOff(timeoutMs);
  }

  private async awaitPowerOff(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const clean = await Promise.race([this.exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)))]);
    clearTimeout(timer); // a pending timer would keep the process alive after the VM is gone
    if (!clean) this.kill();
    this.cleanup();
    return clean;
  }

  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
    this.cleanup();
  }

  private cleanup(): void {
    // An open QMP socket would keep the test process alive after QEMU is gone.
    this.qmpConn?.then((q) => q.close(), () => undefined);
    this.qmpConn = undefined;
    rmSync(this.tmp, { recursive: true, force: true });
  }
}
