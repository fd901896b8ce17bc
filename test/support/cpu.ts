// How busy the host's processors were over a run: two readings of /proc/stat's first line. The runner
// prints it at the end, so a run's log says whether its slots kept the cores busy (docs/harness.md).
import { readFileSync } from 'node:fs';

export interface CpuTimes {
  busy: number;
  total: number;
}

/** The all-CPU line of /proc/stat: user nice system idle iowait irq softirq steal ... (in clock ticks). */
export function parseCpuLine(stat: string): CpuTimes {
  const line = stat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('no "cpu " line in /proc/stat');
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - (f[3] ?? 0) - (f[4] ?? 0), total };
}

export function cpuNow(): CpuTimes | undefined {
  try {
    return parseCpuLine(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return undefined;
  }
}

/** Busy share of all processors between two readings, in percent (undefined without both). */
export function busyPercent(a: CpuTimes | undefined, b: CpuTimes | undefined): number | undefined {
  if (!a || !b || b.total <= a.total) return undefined;
  return (100 * (b.busy - a.busy)) / (b.total - a.total);
}
