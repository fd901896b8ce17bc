// Where a suite run's processor time goes. Start it before the suite, stop it (Ctrl-C or SIGTERM)
// after; it prints, for each test file, the processor seconds of the processes it started (its builds
// and guests, found by their parent chain), the guests' share (QEMU), and the machine's busy time over
// the same span: the suite is CPU-bound on 2 cores, so these say what to make cheaper.
//   node dist/bench/suite-cpu.js > cpu.txt &  npm test;  kill %1
// Reads /proc every 2 s from one process (no command per sample). A process is counted from the
// samples that saw it: one that lives less than 2 s (a dpkg, an iptables) is missed, and so are the
// last 2 s of each; the machine's figure is the reference, and the difference is what went unseen.
import { readdirSync, readFileSync } from 'node:fs';

const HZ = 100; // USER_HZ: what /proc reports in, on every Linux architecture Debian builds
const PERIOD_MS = 2000;

/**
 * A process's own processor time (utime + stime, in ticks), its parent, and its key: the pid and its start
 * time, since pids are reused (pid_max is 32768 here, and a suite run starts more processes than that).
 */
function stat(pid: string): { key: string; ticks: number; ppid: string } | undefined {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return { key: `${pid}@${f[19]}`, ticks: Number(f[11]) + Number(f[12]), ppid: f[1]! };
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
const before = new Set(pids().map((p) => stat(p)?.key));
/** The key of the process now holding each pid (a parent is looked up by pid). */
const current = new Map<string, string>();
/** Per process seen: the test file it belongs to ('' for none), whether it is a guest, its latest own time. */
const seen = new Map<string, { file: string; qemu: boolean; ticks: number }>();
const t0 = Date.now();
const m0 = machineBusy();

/** The test file a process works for: its own command line's, or its nearest known ancestor's. */
function fileOf(pid: string, ppid: string): string {
  const own = /(dist\/test\/\S+\.test\.js)/.exec(cmdline(pid))?.[1];
  if (own && cmdline(pid).includes('node')) return own;
  const parent = current.get(ppid);
  return (parent && seen.get(parent)?.file) || '';
}

function sample(): void {
  // In pid order, so a parent is usually met before its children.
  for (const pid of pids().sort((a, b) => Number(a) - Number(b))) {
    const st = stat(pid);
    if (!st || before.has(st.key)) continue;
    current.set(pid, st.key);
    let p = seen.get(st.key);
    if (!p) {
      const cmd = cmdline(pid);
      if (cmd === '') continue; // a zombie or a kernel thread
      p = { file: fileOf(pid, st.ppid), qemu: cmd.startsWith('qemu-system-'), ticks: 0 };
      seen.set(st.key, p);
    }
    p.ticks = Math.max(p.ticks, st.ticks);
  }
}

function report(): void {
  const s = (ticks: number): string => (ticks / HZ).toFixed(1).padStart(9);
  const files = new Map<string, { all: number; qemu: number }>();
  for (const p of seen.values()) {
    if (!p.file) continue;
    const f = files.get(p.file) ?? { all: 0, qemu: 0 };
    f.all += p.ticks;
    if (p.qemu) f.qemu += p.ticks;
    files.set(p.file, f);
  }
  const rows = [...files].sort((a, b) => b[1].all - a[1].all);
  const sum = (k: 'all' | 'qemu'): number => rows.reduce((a, r) => a + r[1][k], 0);
  process.stdout.write(`# processor seconds by test file (the processes it started; of them, guests), ${((Date.now() - t0) / 1000).toFixed(0)} s of wall time\n`);
  for (const [f, t] of rows) process.stdout.write(`${f.padEnd(45)}${s(t.all)}${s(t.qemu)}\n`);
  process.stdout.write(`${'(all files)'.padEnd(45)}${s(sum('all'))}${s(sum('qemu'))}\n`);
  process.stdout.write(`${'whole machine (busy time)'.padEnd(45)}${s(machineBusy() - m0)}\n`);
  process.exit(0);
}

process.on('SIGINT', report);
process.on('SIGTERM', report);
setInterval(sample, PERIOD_MS);
sample();
