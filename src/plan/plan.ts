// A pure function from Config to BuildPlan: everything the stages will do,
// decided up front, printed by `debian2docker plan` and tested without running anything.
import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { moduleSets } from './modules.js';
import type { AptSource } from './aptsources.js';
import { planImages, planServices, type ImagePlan, type ServicePlan } from './images.js';
import { kernelSource, type KernelSource } from './kernel.js';
import { DESKTOP_MODULES, DESKTOP_PACKAGES, planDesktop, type DesktopPlan } from './desktop.js';
import type { BootEntry } from '../tools/grub.js';
import { D2DError, ExitCode } from '../errors.js';
import type { Format, OutputChoice } from './formats.js';
import { driverFirmwarePackages, JOINED_NETWORKS_DIR, planWifi, REGDB_FILES, REGDB_PACKAGE, WIFI_MODULES, WIFI_PACKAGES, wifiEnabled, type WifiPlan } from './wifi.js';

export type { BootEntry };

/** Packages every image needs besides the user's: the engine, its CLI and runtime, and the init's tools. */
export function basePackages(c: Config): string[] {
  return [
    c.docker.package,
    'docker-cli', // trixie's docker.io only Recommends it, and mmdebstrap skips Recommends
    'containerd',
    'runc', // docker.io depends on it; with docker.runtime crun its program is pruned (plan/prune.ts)
    ...(c.docker.runtime === 'crun' ? ['crun'] : []),
    'iptables',
    'kmod', // modprobe for coldplug and for dockerd
    'busybox-static', // init, udhcpc, uevent; also stage 1 of the initramfs
    'iproute2',
    'ca-certificates',
    'bash',
    // Stage 1 carries the root file system's decompressor (see stages/stage1extras.ts): busybox has no zstd,
    // and its unxz knows neither the x86 BCJ filter nor dictionaries over 64 MiB, which the payload uses.
    c.initramfs.compression === 'zstd' ? 'zstd' : 'xzdec',
    ...(c.ssh.enabled ? ['openssh-server'] : []),
    ...(needsTzdata(c.timezone) ? ['tzdata'] : []),
    ...(needsLocales(c.locale) ? ['locales'] : []),
    // loadkeys -b turns console-data's keymap into the binary map busybox loadkmap loads at boot.
    ...(c.keyboard !== 'us' ? ['kbd', 'console-data'] : []),
    // The remote API's CA and certificates are made on the machine at first boot.
    ...(c.docker['remote-api'].enabled ? ['openssl'] : []),
    ...(c.persistence.enabled ? PERSISTENCE_PACKAGES : []),
    ...(c.desktop.sessions.some((s) => s.gui ?? true) ? DESKTOP_PACKAGES : []),
    ...(wifiEnabled(c) ? WIFI_PACKAGES : []),
  ];
}

const trimSlash = (p: string): string => p.replace(/\/+$/, '') || '/';

/** Where Debian's crun installs its program: the path daemon.json names for the crun runtime. */
export const CRUN_PATH = '/usr/bin/crun';

/**
 * daemon.json: the config's settings, and with docker.runtime crun, crun as a runtime and the default one.
 * Docker runs it through the same shim as runc (containerd-shim-runc-v2, told the program's path). A
 * default-runtime or a crun runtime the config sets itself is kept as it is.
 */
export function daemonJson(d: Pick<Config['docker'], 'runtime' | 'daemon'>): Record<string, unknown> {
  if (d.runtime !== 'crun') return d.daemon;
  const runtimes = (d.daemon.runtimes ?? {}) as Record<string, unknown>;
  return { ...d.daemon, 'default-runtime': d.daemon['default-runtime'] ?? 'crun', runtimes: { crun: { path: CRUN_PATH }, ...runtimes } };
}

export const needsTzdata = (tz: string): boolean => !['UTC', 'Etc/UTC'].includes(tz);
export const needsLocales = (l: string): boolean => !['C', 'POSIX', 'C.UTF-8'].includes(l);

export interface BuildPlan {
  name: string;
  configHash: string;
  outDir: string;
  artifacts: { iso: string; kernel: string; initrd: string; manifest: string; images: string; raw: string; qcow2: string };
  /** What the build writes (build --format); the kernel and initrd always. */
  formats: Format[];
  /** The disk images' size (raw or qcow2 among the formats), else null. */
  diskBytes: number | null;
  debian: { suite: string; mirror: string; components: string[]; variant: string; sources: AptSource[]; snapshot: string };
  packages: string[];
  kernel: { source: KernelSource; modules: { required: string[]; optional: string[] } };
  rootfs: { hostname: string; daemonJson: Record<string, unknown>; remoteApi: { port: number; names: string[] } | null };
  /** Encrypted persistence, install to disk and factory reset (docs/persistence.md); null when disabled. */
  persistence: PersistencePlan | null;
  /** Desktop and app sessions (docs/desktop.md); null when the config has none. */
  desktop: DesktopPlan | null;
  system: { timezone: string; locale: string; keyboard: string };
  ssh: Config['ssh'];
  files: Config['files'];
  hooks: Config['hooks'];
  initramfs: { compression: 'xz' | 'zstd'; level: number };
  boot: { timeout: number; entries: BootEntry[] };
  /** UEFI through Debian's signed shim and GRUB (stages/secureboot.ts). Outside `boot`: the root stage fetches them. */
  secureBoot: boolean;
  /** Wi-Fi (docs/wifi.md); null when off. */
  wifi: WifiPlan | null;
  /** Firmware files for the drivers (stages/firmware.ts); packages empty when none is wanted. */
  firmware: { drivers: boolean; files: string[]; packages: string[] };
  iso: { volid: string };
  images: ImagePlan[];
  services: ServicePlan[];
  sourceDateEpoch: number;
}

export interface PersistencePlan {
  data: string[];
  settings: string[];
  pbkdfMemoryKiB: number;
  waitSeconds: number;
}

/** The packages d2d-persist, the boot-time unlock and d2d-install run on. */
export const PERSISTENCE_PACKAGES = ['cryptsetup-bin', 'e2fsprogs', 'fdisk', 'dosfstools'];

export interface PlanOptions {
  outDir: string;
  configHash: string;
  sourceDateEpoch: number;
  /** build --format and --disk-size (default: the ISO only). */
  outputs?: OutputChoice;
}

/**
 * What firmware the build looks for; nothing named, nothing fetched. Wi-Fi adds the regulatory database
 * (wireless-regdb's files, whoever loads it: built-in cfg80211 reads it before the root is there) and the
 * packages with its drivers' firmware.
 */
export function firmwarePlan(c: Config): BuildPlan['firmware'] {
  const f = c.firmware;
  const wifi = wifiEnabled(c);
  const files = [...f.files, ...(wifi ? REGDB_FILES : [])];
  const packages = [...f.packages, ...(wifi ? [REGDB_PACKAGE, ...(f.drivers ? driverFirmwarePackages(c.wifi.drivers) : [])] : [])];
  const any = f.drivers || files.length > 0;
  return { drivers: f.drivers, files: [...new Set(files)], packages: any ? [...new Set(packages)] : [] };
}

/** The kernel modules: the image's, the config's, and Wi-Fi's core and drivers. */
function kernelModules(c: Config): BuildPlan['kernel']['modules'] {
  const wifi = wifiEnabled(c) ? [...WIFI_MODULES, ...c.wifi.drivers] : [];
  return moduleSets([...c.kernel.modules, ...wifi], c.desktop.sessions.length > 0 ? DESKTOP_MODULES : []);
}

/** The formats, checked against the config: a disk image is made by the image's own installer, which persistence brings. */
function diskOutputs(c: Config, o: OutputChoice): Pick<BuildPlan, 'formats' | 'diskBytes'> {
  if (o.diskBytes !== null && !c.persistence.enabled) {
    const f = o.formats.filter((x) => x !== 'iso').join(',');
    throw new D2DError('E_USAGE', `--format ${f}: this config turns persistence off (persistence.enabled: false), and with it the installer that lays out a disk image`, {
      exitCode: ExitCode.usage,
      hint: 'build the ISO and network-boot files only, or turn persistence back on',
    });
  }
  return { formats: [...o.formats], diskBytes: o.diskBytes };
}

export function makePlan(c: Config, o: PlanOptions): BuildPlan {
  const outDir = resolve(o.outDir);
  const a = (ext: string): string => join(outDir, `${c.name}.${ext}`);
  const cmdline = c.boot.cmdline.trim();
  return {
    name: c.name,
    configHash: o.configHash,
    outDir,
    artifacts: { iso: a('iso'), kernel: a('kernel'), initrd: a('initrd'), manifest: a('manifest.json'), images: a('images'), raw: a('raw'), qcow2: a('qcow2') },
    ...diskOutputs(c, o.outputs ?? { formats: ['iso'], diskBytes: null }),
    debian: { suite: c.debian.suite, mirror: c.debian.mirror, components: [...new Set(c.debian.components)], variant: c.debian.variant, sources: c.debian.sources.map((s) => ({ ...s })), snapshot: c.debian.snapshot },
    packages: [...new Set([...basePackages(c), ...c.packages])].sort(),
    kernel: { source: kernelSource(c), modules: kernelModules(c) },
    rootfs: { hostname: c.hostname, daemonJson: daemonJson(c.docker), remoteApi: c.docker['remote-api'].enabled ? { port: c.docker['remote-api'].port, names: [...c.docker['remote-api'].names] } : null },
    system: { timezone: c.timezone, locale: c.locale, keyboard: c.keyboard },
    persistence: c.persistence.enabled
      ? {
          data: c.persistence.data.map(trimSlash),
          // The networks d2d-wifi join adds are settings: kept, and dropped by "reset settings".
          settings: [...new Set([...c.persistence.settings.map(trimSlash), ...(wifiEnabled(c) ? [JOINED_NETWORKS_DIR] : [])])],
          pbkdfMemoryKiB: c.persistence['pbkdf-memory'], waitSeconds: c.persistence.wait }
      : null,
    desktop: planDesktop(c),
    ssh: c.ssh,
    files: c.files,
    hooks: c.hooks,
    initramfs: { compression: c.initramfs.compression, level: c.initramfs.level },
    boot: {
      timeout: c.boot.timeout,
      entries: [
        { id: 'default', title: `${c.name}`, cmdline },
        // Same system, kernel messages on: the entry to pick when a machine does not come up.
        { id: 'verbose', title: `${c.name} (verbose boot)`, cmdline: cmdline.replace(/(^|\s)quiet(?=\s|$)/g, ' ').trim() + ' loglevel=7 d2d.debug=1' },
        // Persistence: one boot without it, and the factory reset that needs no passphrase to erase.
        ...(c.persistence.enabled
          ? [
              { id: 'no-persistence', title: `${c.name} (without persistence)`, cmdline: `${cmdline} d2d.persist=off` },
              { id: 'factory-reset', title: `${c.name}: restore factory defaults`, cmdline: `${cmdline} d2d.factory-reset` },
            ]
          : []),
        ...c.boot.entries.map((e, i) => ({ id: `extra-${i + 1}`, title: e.title, cmdline: e.cmdline.trim() })),
      ],
    },
    secureBoot: c.boot['secure-boot'],
    wifi: planWifi(c),
    firmware: firmwarePlan(c),
    // ISO 9660 volume ids: upper case, digits and underscore, at most 32 characters.
    iso: { volid: c.name.toUpperCase().replace(/[^A-Z0-9_]/g, '_').slice(0, 32) },
    images: planImages(c),
    services: planServices(c),
    sourceDateEpoch: o.sourceDateEpoch,
  };
}
