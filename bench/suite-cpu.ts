// Where a suite run's processor time goes. Start it before the suite, stop it (Ctrl-C or SIGTERM)
// after; it prints, for each test file, the processor seconds the file's process and the children it
// waited for used (the builds and guests it started), the guests' share (QEMU), and the machine's busy
// time over the same span: the suite is CPU-bound on 2 cores, so these say what to make cheaper.
//   node dist/bench/suite-cpu.js > cpu.txt &  npm test;  kill %1
// Reads /proc every 2 s from one process (no command per sample). A file's last 2 s go uncounted, so
// the machine's figure is the reference; a process that lives less than 2 s between samples is counted
// in its parent's children once waited for.
import { readdirSync, readFileSync } from 'node:fs';

const HZ = 100; // USER_HZ: what /proc reports in, on every Linux architecture Debian builds
const PERIOD_MS = 2000;

/** utime, stime, cutime, cstime of a process, in ticks; undefined once it is gone. */
function times(pid: string): number[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [11, 12, 13, 14].map((i) => Number(f[i]));
  } catch {
    return undefined;
  }
}

function cmdline(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** The machine's busy ticks (user, nice, system, irq, softirq, steal). */
function machineBusy(): number {
  const f = readFileSync('/proc/stat', 'latin1').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
}

const pids = (): string[] => readdirSync('/proc').filter((d) => /^\d+$/.test(d));
const before = new Set(pids());
const files = new Map<string, number>();
const guests = new Map<string, number>();
const kind = new Map<string, { file?: string; qemu?: boolean }>();
const t0 = Date.now();
const m0 = machineBusy();

function sample(): void {
  for (const pid of pids()) {
    if (before.has(pid)) continue;
    let k = kind.get(pid);
    if (!k) {
      const cmd = cmdline(pid);
      if (cmd === '') continue; // a zombie or a kernel thread: try again next time
      const file = /(dist\/test\/\S+\.test\.js)/.exec(cmd)?.[1];
      k = { file: cmd.includes('node') ? file : undefined, qemu: cmd.startsWith('qemu-system-') };
      kind.set(pid, k);
    }
    if (!k.file && !k.qemu) continue;
    const t = times(pid);
    if (!t) continue;
    if (k.file) files.set(k.file, Math.max(files.get(k.file) ?? 0, t[0]! + t[1]! + t[2]! + t[3]!));
    if (k.qemu) guests.set(pid, t[0]! + t[1]!);
  }
}

function report(): void {
  const s = (ticks: number): string => (ticks / HZ).toFixed(1).padStart(9);
  const rows = [...files].sort((a, b) => b[1] - a[1]);
  process.stdout.write(`# processor seconds by test file (own + waited-for children), ${((Date.now() - t0) / 1000).toFixed(0)} s of wall time\n`);
  for (const [f, t] of rows) process.stdout.write(`${f.padEnd(45)}${s(t)}\n`);
  process.stdout.write(`${'(all files)'.padEnd(45)}${s(rows.reduce((a, r) => a + r[1], 0))}\n`);
  process.stdout.write(`${'guests (QEMU), all files'.padEnd(45)}${s([...guests.values()].reduce((a, b) => a + b, 0))}\n`);
  process.stdout.write(`${'whole machine (busy time)'.padEnd(45)}${s(machineBusy() - m0)}\n`);
  process.exit(0);
}

process.on('SIGINT', report);
process.on('SIGTERM', report);
setInterval(sample, PERIOD_MS);
sample();
