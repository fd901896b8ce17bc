// Stage "overlay" (inside the hook): put the image's own files into the rootfs
// (target/rootfs, copied verbatim) and write the generated ones: host name,
// daemon.json, the init link. The build host's resolv.conf and hostname that
// mmdebstrap copied in are replaced.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../tools/exec.js';
import { TARGET_DIR } from '../paths.js';
import type { Context } from '../context.js';
import { serviceScript } from '../plan/images.js';
import { inittabLines, sessionConf, sessionRun } from '../plan/desktop.js';

/** Lock root's password (no default password): the console shell needs none. */
export function lockRoot(shadow: string): string {
  return shadow
    .split('\n')
    .map((l) => (l.startsWith('root:') ? l.replace(/^root:[^:]*:/, 'root:*:') : l))
    .join('\n');
}

export async function applyOverlay(ctx: Context, root: string, logFile: string): Promise<void> {
  const p = ctx.plan;
  await run(['cp', '-R', '--no-preserve=ownership', '--preserve=mode', `${TARGET_DIR}/rootfs/.`, `${root}/`], { log: logFile });
  const w = (rel: string, text: string, mode = 0o644): void => {
    const f = join(root, rel);
    mkdirSync(join(f, '..'), { recursive: true });
    rmSync(f, { force: true });
    writeFileSync(f, text);
    chmodSync(f, mode);
  };
  w('etc/hostname', `${p.rootfs.hostname}\n`);
  w('etc/hosts', `127.0.0.1\tlocalhost\n127.0.1.1\t${p.rootfs.hostname}\n::1\t\tlocalhost ip6-localhost ip6-loopback\n`);
  w('etc/resolv.conf', '# written by DHCP at boot\n');
  w('etc/docker/daemon.json', JSON.stringify(p.rootfs.daemonJson, null, 2) + '\n');
  w('etc/d2d-release', `NAME=${p.name}\nCONFIG_SHA256=${p.configHash}\nSUITE=${p.debian.suite}\n`);
  // The last file the image needs; stage 1 checks it to know the unpack was complete.
  w('usr/lib/d2d/rootfs-complete', `${p.configHash}\n`);
  const shadow = join(root, 'etc/shadow');
  if (existsSync(shadow)) writeFileSync(shadow, lockRoot(readFileSync(shadow, 'utf8')));
  // PID 1 is busybox init (see docs/init.md); busybox-static installs /bin/busybox.
  for (const rel of ['usr/sbin/init', 'usr/sbin/reboot', 'usr/sbin/poweroff', 'usr/sbin/halt']) {
    const f = join(root, rel);
    if (!existsSync(f)) symlinkSync('/bin/busybox', f);
  }
  mkdirSync(join(root, 'root'), { recursive: true, mode: 0o700 });
  if (p.ssh.authorized_keys.length > 0) {
    mkdirSync(join(root, 'root/.ssh'), { recursive: true });
    chmodSync(join(root, 'root/.ssh'), 0o700);
    w('root/.ssh/authorized_keys', p.ssh.authorized_keys.join('\n') + '\n', 0o600);
  }
  if (p.ssh.enabled) {
    // Keys only, whatever the package's defaults: there are no passwords on this system.
    w('etc/ssh/sshd_config.d/d2d.conf', 'PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n');
  }
  // Where the boot finds the preloaded images (docs/images.md): the medium's label and this build's id.
  if (p.images.length > 0) w('etc/d2d/boot-images', `LABEL=${p.iso.volid}\nBUILD=${p.configHash}\nCOUNT=${p.images.length}\n`);
  if (p.rootfs.remoteApi) w('etc/d2d/remote-api', `PORT=${p.rootfs.remoteApi.port}\nNAMES="${p.rootfs.remoteApi.names.join(' ')}"\n`);
  if (p.persistence) {
    const q = p.persistence;
    // Read by the boot-time unlock, d2d-persist and d2d-install (docs/persistence.md).
    w('etc/d2d/persist.conf', [`DATA="${q.data.join(' ')}"`, `SETTINGS="${q.settings.join(' ')}"`, `PBKDF_MEMORY=${q.pbkdfMemoryKiB}`, `WAIT=${q.waitSeconds}`, `VOLID=${p.iso.volid}`, `BUILD=${p.configHash}`, `NAME=${p.name}`, ''].join('\n'));
    for (const d of [...q.data, ...q.settings]) mkdirSync(join(root, d), { recursive: true });
  }
  for (const sv of p.services) w(`etc/d2d/services/${sv.file}`, serviceScript(sv));
  if (p.desktop) {
    const d = p.desktop;
    d.sessions.forEach((s, i) => {
      w(`etc/d2d/desktop/${s.name}.conf`, sessionConf(d, s, i));
      w(`etc/d2d/desktop/${s.name}.run`, sessionRun(s));
    });
    // init supervises the sessions; a locked (kiosk) machine has no shell on its screen (serial stays).
    const inittab = readFileSync(join(root, 'etc/inittab'), 'utf8')
      .split('\n')
      .filter((l) => l !== '' && !(d.lock && l.includes('console-shell tty1')));
    w('etc/inittab', [...inittab, '# desktop sessions (config desktop.sessions, docs/desktop.md)', ...inittabLines(d), ''].join('\n'));
  }
  writeFileSync(join(root, 'root/.bashrc'), '[ -f /etc/profile.d/d2d.sh ] && . /etc/profile.d/d2d.sh\n');
}
