// KVM probe. /dev/kvm existing is not enough (on some hosts it exists and
// guests hang), so we ask QEMU to start a guest with it and stop at once.
import { accessSync, constants } from 'node:fs';
import { spawnSync } from 'node:child_process';

export interface KvmProbe {
  usable: boolean;
  reason: string;
}

let cached: KvmProbe | undefined;

export async function probeKvm(): Promise<KvmProbe> {
  if (cached) return cached;
  if (process.env.D2D_ACCEL === 'tcg') return (cached = { usable: false, reason: 'D2D_ACCEL=tcg' });
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return (cached = { usable: false, reason: '/dev/kvm is missing or not accessible' });
  }
  // A guest with no firmware work to do: -S stops before the first instruction; quit through the monitor.
  const r = spawnSync('qemu-system-x86_64', ['-accel', 'kvm', '-S', '-display', 'none', '-nodefaults', '-monitor', 'stdio', '-m', '64'], {
    input: 'info kvm\nquit\n',
    timeout: 15000,
    encoding: 'utf8',
  });
  if (r.error || r.status !== 0 || !/kvm support: enabled/.test(r.stdout ?? '')) {
    return (cached = { usable: false, reason: r.error ? r.error.message : (r.stderr || 'QEMU could not start a KVM guest').trim().split('\n')[0]! });
  }
  return (cached = { usable: true, reason: 'ok' });
}
