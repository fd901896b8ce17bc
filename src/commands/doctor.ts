// `debian2docker doctor`: which host tools are there, which are missing, and
// the apt-get line that installs the missing ones. Also probes KVM.
import { checkTools } from '../stages/preflight.js';
import { probeKvm } from '../vm/kvm.js';
import { which } from '../exec/run.js';

export async function doctor(image?: string): Promise<{ ok: boolean; report: string }> {
  const tools = await checkTools(['build', 'vm', 'test'], { zstd: true, skopeo: true });
  const lines = tools.map((t) => `${t.found ? 'ok     ' : 'MISSING'} ${t.file ?? t.tool}  (${t.pkg}: ${t.purpose})`);
  const missing = [...new Set(tools.filter((t) => !t.found).map((t) => t.pkg))];
  // Optional: only `build --in-docker` needs it, so it never makes doctor fail.
  const docker = await which('docker');
  lines.push(`${docker ? 'ok     ' : 'info   '} docker  (docker.io: ${docker ? 'there' : 'not installed'}; only build --in-docker needs it)`);
  const kvm = await probeKvm(image);
  lines.push(`${kvm.usable ? 'ok     ' : 'info   '} KVM: ${kvm.usable ? 'usable' : `not usable (${kvm.reason}); QEMU will use TCG (slower)`}`);
  if (process.getuid?.() !== 0) lines.push('info    not root: builds use mmdebstrap --mode=unshare (needs /etc/subuid entries and the uidmap package)');
  if (missing.length > 0) lines.push('', `install the missing tools with:\n  apt-get install -y ${missing.join(' ')}`);
  return { ok: missing.length === 0, report: lines.join('\n') };
}
