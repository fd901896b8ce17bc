// Stage "overlay" (inside the hook): put the image's own files into the rootfs
// (target/rootfs, copied verbatim), lock root's password, link init, and write
// the settings files rendered from the plan (src/render/settings.ts). The build
// host's resolv.conf and hostname that mmdebstrap copied in are replaced.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../exec/run.js';
import { TARGET_DIR } from '../paths.js';
import type { Context } from '../context.js';
import { renderSettings } from '../render/settings.js';
import { copyTreeArgv } from '../tools/files.js';

/** Lock root's password (no default password): the console shell needs none. */
export function lockRoot(shadow: string): string {
  return shadow
    .split('\n')
    .map((l) => (l.startsWith('root:') ? l.replace(/^root:[^:]*:/, 'root:*:') : l))
    .join('\n');
}

export async function applyOverlay(ctx: Context, root: string, logFile: string): Promise<void> {
  const p = ctx.plan;
  await run(copyTreeArgv(`${TARGET_DIR}/rootfs`, root, { keepMode: true }), { log: logFile });
  const shadow = join(root, 'etc/shadow');
  if (existsSync(shadow)) writeFileSync(shadow, lockRoot(readFileSync(shadow, 'utf8')));
  // No identity baked in: systemd's install (openssh-server pulls it in) writes a random /etc/machine-id,
  // which made two builds of one config differ and every machine of an image share one id. Emptied
  // here, the way systemd marks an image not yet booted; rc.sysinit makes one at each boot.
  const machineId = join(root, 'etc/machine-id');
  if (existsSync(machineId)) writeFileSync(machineId, '');
  // PID 1 is busybox init (see docs/init.md); busybox-static installs /bin/busybox.
  for (const rel of ['usr/sbin/init', 'usr/sbin/reboot', 'usr/sbin/poweroff', 'usr/sbin/halt']) {
    const f = join(root, rel);
    if (!existsSync(f)) symlinkSync('/bin/busybox', f);
  }
  mkdirSync(join(root, 'root'), { recursive: true, mode: 0o700 });
  // The persisted folders exist in the image, so the first unlock has a factory state to copy.
  for (const d of [...(p.persistence?.data ?? []), ...(p.persistence?.settings ?? [])]) mkdirSync(join(root, d), { recursive: true });
  for (const f of renderSettings(p, readFileSync(join(root, 'etc/inittab'), 'utf8'))) {
    const path = join(root, f.path);
    mkdirSync(join(path, '..'), { recursive: true });
    if (f.dirMode !== undefined) chmodSync(join(path, '..'), f.dirMode);
    rmSync(path, { force: true });
    writeFileSync(path, f.text);
    chmodSync(path, f.mode);
  }
  writeFileSync(join(root, 'root/.bashrc'), '[ -f /etc/profile.d/d2d.sh ] && . /etc/profile.d/d2d.sh\n');
}
