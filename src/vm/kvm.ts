// KVM probe. /dev/kvm existing is not enough: on some hosts (nested or
// paravirtualised) QEMU starts with -accel kvm and the firmware runs, but a
// Linux kernel dies with "KVM internal error" or hangs. So the probe boots a
// real kernel with no root file system and expects its panic within seconds.
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractArgv } from '../tools/xorriso.js';

export interface KvmProbe {
  usable: boolean;
  reason: string;
}

const cache = new Map<string, KvmProbe>();

/** Find a kernel to probe with: the given one, one inside an ISO, or the host's. */
function probeKernel(image: string | undefined, tmp: string): string | undefined {
  if (image?.endsWith('.kernel')) return image;
  if (image?.endsWith('.iso')) {
    const out = join(tmp, 'vmlinuz');
    const [cmd, ...args] = extractArgv(image, [['/boot/vmlinuz', out]]);
    const r = spawnSync(cmd!, args, { stdio: 'ignore' });
    if (r.status === 0) return out;
  }
  return undefined;
}

export async function probeKvm(image?: string): Promise<KvmProbe> {
  const key = image ?? '';
  const hit = cache.get(key);
  if (hit) return hit;
  const done = (p: KvmProbe): KvmProbe => (cache.set(key, p), p);
  if (process.env.D2D_ACCEL === 'tcg') return done({ usable: false, reason: 'D2D_ACCEL=tcg' });
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return done({ usable: false, reason: '/dev/kvm is missing or not accessible' });
  }
  const tmp = mkdtempSync(join(tmpdir(), 'd2d-kvm-'));
  try {
    const kernel = probeKernel(image, tmp);
    if (kernel === undefined) {
      // QEMU may accept KVM and still fail to run a kernel (seen on paravirtualised hosts), so
      // without a kernel to try, KVM is not counted as usable.
      return done({ usable: false, reason: '/dev/kvm is there but unverified: give an image (doctor --image IMAGE) to boot a kernel under KVM' });
    }
    const r = spawnSync(
      'qemu-system-x86_64',
      ['-accel', 'kvm', '-cpu', 'host', '-m', '256', '-nodefaults', '-display', 'none', '-serial', 'stdio', '-no-reboot', '-kernel', kernel, '-append', 'console=ttyS0 panic=-1 loglevel=3'],
      { timeout: 30000, encoding: 'utf8' },
    );
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    if (/Kernel panic/.test(out) && !/KVM internal error/.test(out)) return done({ usable: true, reason: 'a kernel booted under KVM' });
    const why = /KVM internal error/.test(out) ? 'KVM internal error while booting a kernel' : r.error ? 'a kernel under KVM did not finish booting in 30 s' : 'a kernel under KVM failed';
    return done({ usable: false, reason: why });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
