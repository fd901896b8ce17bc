// Every settings file the build writes into the image, rendered from the plan (pure but for
// the Wi-Fi passphrase files it reads, through a reader a test can replace):
// host name, daemon.json, SSH, and the files under /etc/d2d that the image's scripts
// read (persist.conf, remote-api, boot-images, services, desktop sessions, and the build's
// identity, which the files layer writes). Each value
// comes from the plan, so each default lives once, in src/config/default.yaml; the
// overlay step writes the list into the root (src/stages/overlay.ts).
import type { BuildPlan } from '../plan/plan.js';
import { serviceScript } from '../plan/images.js';
import { inittabLines, sessionConf, sessionRun } from '../plan/desktop.js';
import { networkBlock, networkFile, networkPassphrase, readPassphraseFile } from '../plan/wifi.js';

export interface RenderedFile {
  /** Relative to the root. */
  path: string;
  text: string;
  mode: number;
  /** The mode of the folder it is in, when that matters (made if missing; else left as it is). */
  dirMode?: number;
}

/** persist.conf: read by the boot-time unlock, d2d-persist and d2d-install (docs/persistence.md). */
export function persistConf(p: BuildPlan): string | undefined {
  const q = p.persistence;
  if (!q) return undefined;
  return [`DATA="${q.data.join(' ')}"`, `SETTINGS="${q.settings.join(' ')}"`, `PBKDF_MEMORY=${q.pbkdfMemoryKiB}`, `WAIT=${q.waitSeconds}`, ''].join('\n');
}

/** Where the image's scripts read which build they are (persist.sh sources it; docs/persistence.md). */
export const BUILD_ID_FILE = 'etc/d2d/build';

/**
 * The files that say which build this is: the config's hash, the name and the ISO's volume label. They are
 * not the root stage's: a build that takes its root file system from the stage cache (a config that differs
 * in its name or its files only) must still name itself, so the files layer writes them (src/stages/layer.ts).
 */
export function identityFiles(p: Pick<BuildPlan, 'name' | 'configHash' | 'iso' | 'debian'>): RenderedFile[] {
  return [
    { path: 'etc/d2d-release', text: `NAME=${p.name}\nCONFIG_SHA256=${p.configHash}\nSUITE=${p.debian.suite}\n`, mode: 0o644 },
    { path: BUILD_ID_FILE, text: `BUILD=${p.configHash}\nNAME=${p.name}\nVOLID=${p.iso.volid}\n`, mode: 0o644 },
  ];
}

/**
 * The settings files, in the order they are written. `inittab` is the image's own (target/rootfs/etc/inittab):
 * desktop sessions add their lines to it, and a locked (kiosk) machine loses the shell on its screen.
 */
export function renderSettings(p: BuildPlan, inittab: string, readSecret: (file: string) => string = readPassphraseFile): RenderedFile[] {
  const out: RenderedFile[] = [];
  const w = (path: string, text: string, mode = 0o644, dirMode?: number): void => {
    out.push({ path, text, mode, ...(dirMode === undefined ? {} : { dirMode }) });
  };
  w('etc/hostname', `${p.rootfs.hostname}\n`);
  w('etc/hosts', `127.0.0.1\tlocalhost\n127.0.1.1\t${p.rootfs.hostname}\n::1\t\tlocalhost ip6-localhost ip6-loopback\n`);
  w('etc/resolv.conf', '# written by DHCP at boot\n');
  w('etc/docker/daemon.json', JSON.stringify(p.rootfs.daemonJson, null, 2) + '\n');
  // The last file the image needs; stage 1 checks it to know the unpack was complete. (No build's id in it:
  // the root stage serves every config with the same root; identityFiles() are the files layer's.)
  w('usr/lib/d2d/rootfs-complete', 'complete\n');
  // sshd refuses keys in a folder others can write to; 0700 as ssh-keygen makes it.
  if (p.ssh.authorized_keys.length > 0) w('root/.ssh/authorized_keys', p.ssh.authorized_keys.join('\n') + '\n', 0o600, 0o700);
  // Keys only, whatever the package's defaults: there are no passwords on this system.
  if (p.ssh.enabled) w('etc/ssh/sshd_config.d/d2d.conf', 'PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n');
  // Where the boot finds the preloaded images (docs/images.md): the medium's label and this build's id.
  if (p.images.length > 0) w('etc/d2d/boot-images', `LABEL=${p.iso.volid}\nBUILD=${p.configHash}\nCOUNT=${p.images.length}\n`);
  if (p.rootfs.remoteApi) w('etc/d2d/remote-api', `PORT=${p.rootfs.remoteApi.port}\nNAMES="${p.rootfs.remoteApi.names.join(' ')}"\n`);
  const persist = persistConf(p);
  if (persist !== undefined) w('etc/d2d/persist.conf', persist);
  for (const sv of p.services) w(`etc/d2d/services/${sv.file}`, serviceScript(sv));
  if (p.wifi) {
    // Read by d2d-wifi. The networks' passphrases are root's alone (0600 files in a 0700 folder).
    w('etc/d2d/wifi.conf', `COUNTRY=${p.wifi.country}\n`);
    for (const n of p.wifi.networks) w(`etc/d2d/wifi/${networkFile(n.ssid)}`, networkBlock(n.ssid, networkPassphrase(n, readSecret), n.hidden), 0o600, 0o700);
  }
  if (p.desktop) {
    const d = p.desktop;
    d.sessions.forEach((s, i) => {
      w(`etc/d2d/desktop/${s.name}.conf`, sessionConf(d, s, i));
      w(`etc/d2d/desktop/${s.name}.run`, sessionRun(s));
    });
    // init supervises the sessions; a locked (kiosk) machine has no shell on its screen (serial stays).
    const lines = inittab.split('\n').filter((l) => l !== '' && !(d.lock && l.includes('console-shell tty1')));
    w('etc/inittab', [...lines, '# desktop sessions (config desktop.sessions, docs/desktop.md)', ...inittabLines(d), ''].join('\n'));
  }
  return out;
}
