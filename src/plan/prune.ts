// What the image leaves out although its packages ship it, and why each is safe.
// Paths are relative to the root file system. The manifest lists what was removed,
// docs/size.md explains each rule with its measured size.
import { posix } from 'node:path';
import { CRUN_PATH, needsLocales, needsTzdata } from './plan.js';

export interface PruneRule {
  path: string;
  why: string;
  /** Put a symbolic link to this (relative) target where the file was: a smaller program that stands in for it. */
  linkTo?: string;
}

/** Whole packages whose files go: they only serve installing packages, which happens at build time. */
export interface PrunePackage {
  name: string;
  why: string;
  /** Data only this package reads, removed with it (never when the package is kept). */
  alsoPaths?: string[];
}

const RAM_ROOT = 'the running root is a RAM disk rebuilt at every boot: packages are chosen at build time (config packages:)';

export const PRUNE_RULES: readonly PruneRule[] = [
  { path: 'usr/bin/ctr', why: "containerd's debugging CLI; dockerd talks to containerd over its API, never through ctr" },
  { path: 'usr/bin/containerd-shim-runc-v1', why: 'the io.containerd.runc.v1 shim; Docker 20.10+ runs containers with the runc.v2 shim' },
  { path: 'usr/bin/containerd-shim', why: 'the legacy io.containerd.runtime.v1.linux shim; no longer used by dockerd' },
  { path: 'usr/bin/tini', why: "tini linked against libc; Docker's --init uses docker-init, which is tini-static" },
  { path: 'usr/lib/x86_64-linux-gnu/gconv', why: "glibc's iconv modules for legacy character sets; UTF-8, ASCII and Latin-1 are built into libc, and nothing on the image converts charsets" },
  { path: 'usr/share/zsh', why: 'completions for zsh, which the image does not have' },
  { path: 'usr/share/fish', why: 'completions for fish, which the image does not have' },
  { path: 'usr/share/bash-completion', why: 'completion scripts for the bash-completion framework, which is not installed (nothing loads them)' },
  { path: 'usr/bin/c_rehash', why: "Perl script that re-hashes a certificate folder; the image's CA store is hashed at build time" },
  { path: 'usr/lib/ssl/misc', why: "OpenSSL's example Perl scripts (CA.pl, tsget.pl)" },
  { path: 'usr/sbin/pam-auth-update', why: 'Perl tool that rewrites /etc/pam.d at package install time; the PAM configuration it wrote stays' },
  { path: 'usr/sbin/pam_getenv', why: 'Perl helper for PAM environment files, used by install-time scripts only' },
  { path: 'usr/lib/x86_64-linux-gnu/security/pam_userdb.so', why: 'PAM module for Berkeley DB user lists; no /etc/pam.d file on the image uses it' },
  { path: 'usr/sbin/arpd', why: "iproute2's ARP-collecting daemon (keeps a Berkeley DB); nothing starts it" },
  { path: 'usr/bin/lslogins', why: "util-linux's report of users' login history; the image has one user, root, and keeps no login records" },
  { path: 'usr/lib/x86_64-linux-gnu/ossl-modules/legacy.so', why: "OpenSSL's legacy-algorithm provider; Debian's openssl.cnf does not load it" },
  { path: 'usr/sbin/ldconfig', why: "rebuilds the shared-library cache when libraries are installed; /etc/ld.so.cache is made at build time, and the running image installs none (dpkg and apt are pruned)" },
  { path: 'usr/bin/localedef', why: "compiles locale definitions; the image's locale is compiled at build time, before this prune" },
  { path: 'usr/sbin/zic', why: 'compiles time zone rules; the image keeps the compiled ones it needs' },
  { path: 'usr/sbin/iconvconfig', why: "indexes glibc's iconv modules, which are pruned" },
];

/**
 * Packages that only install packages. Their files are removed unless something that stays needs one of them
 * (an ELF library or program interpreter, a script's #! interpreter): the prune stage checks that, keeps the
 * package, and says why in the manifest. Their dpkg records stay in /var/lib/dpkg/status.
 */
export const PRUNE_PACKAGES: readonly PrunePackage[] = [
  { name: 'apt', why: `the package manager; ${RAM_ROOT}` },
  { name: 'libapt-pkg7.0', why: "apt's library" },
  { name: 'sqv', why: "apt's OpenPGP signature verifier" },
  { name: 'debian-archive-keyring', why: "the archive keys apt checks Debian's signatures with" },
  { name: 'dpkg', why: `installs .deb files; ${RAM_ROOT}. Its per-package file lists and install scripts go too; /var/lib/dpkg/status, the list of installed packages, stays`, alsoPaths: ['var/lib/dpkg/info'] },
  { name: 'debconf', why: "asks packages' install-time questions, with its answer database; no package is installed on the running image", alsoPaths: ['var/cache/debconf'] },
  { name: 'adduser', why: "Perl script packages' install scripts call to create system users (done at build time)" },
  { name: 'init-system-helpers', why: 'update-rc.d / deb-systemd-helper register services with sysvinit or systemd; the image runs busybox init with its own inittab' },
  { name: 'perl-base', why: 'Perl, for maintainer scripts, debconf and adduser; nothing that stays is a Perl script (a remaining one keeps it)' },
  { name: 'libstdc++6', why: 'the C++ runtime; apt was its only user (a remaining C++ program keeps it)' },
  { name: 'libdb5.3t64', why: 'Berkeley DB; its users (the PAM module pam_userdb, arpd) are pruned' },
  { name: 'liblastlog2-2', why: "util-linux's lastlog2 database library; its one user on the image, lslogins, is pruned" },
  { name: 'libsqlite3-0', why: 'SQLite; in a minimal Debian only apt and liblastlog2 use it (a remaining user keeps it)' },
];

/** The rules for one image: the fixed ones, plus sources that the build compiled into something smaller. */
export function pruneRules(p: { system: { locale: string; keyboard: string; timezone: string }; rootfs: { remoteApi: unknown; daemonJson?: Record<string, unknown> }; desktop?: unknown }): PruneRule[] {
  const rules = [...PRUNE_RULES];
  if (p.desktop) {
    rules.push(
      { path: 'usr/lib/x86_64-linux-gnu/gbm', why: "libgbm's Mesa backend, dlopen()ed for GL buffers only; the X server runs without GL (modesetting with AccelMethod none)" },
      { path: 'usr/share/console-setup', why: "keyboard-configuration's Perl tables for its install-time questions; the X server's layout comes from the config (desktop.keyboard)" },
    );
  }
  if (needsLocales(p.system.locale)) {
    rules.push({ path: 'usr/share/i18n', why: 'locale sources and charmaps: the configured locale is already compiled into /usr/lib/locale/locale-archive' });
  }
  if (p.system.keyboard !== 'us') {
    rules.push({ path: 'usr/share/keymaps', why: "console-data's keymaps: the configured one is already converted to /etc/d2d/keymap.bmap" });
  }
  if (!needsTzdata(p.system.timezone)) {
    // tzdata is Priority: required, so minbase has it even when the image runs on UTC.
    rules.push({ path: 'usr/share/zoneinfo', why: 'time zone rules: the image runs on UTC (no /etc/localtime, so libc uses UTC); containers bring their own' });
  }
  if (p.rootfs.remoteApi === null) {
    rules.push({ path: 'usr/bin/openssl', why: "the OpenSSL CLI (a dependency of ca-certificates); only the remote API's first-boot certificates use it, and that is off" });
  }
  if (p.rootfs.daemonJson?.['default-runtime'] === 'crun') {
    // dockerd will not start without a program named runc (its built-in runtime); crun takes runc's command line.
    const why = "runc, Docker's runtime in Debian (docker.io depends on it, so its package stays installed): this image starts containers with crun (docker.runtime), and a link to crun stands in its place, for dockerd's check at start and `--runtime runc`";
    rules.push({ path: 'usr/sbin/runc', why, linkTo: posix.relative('/usr/sbin', CRUN_PATH) });
    rules.push({ path: 'usr/lib/x86_64-linux-gnu/libcrun.a', why: "crun's static library (Debian's crun package ships it), for linking programs against libcrun at build time; the crun program does not load it" });
  }
  return rules;
}

const DLOPEN_GL = "the X server runs without GL (modesetting with AccelMethod none, GLX off): Mesa's drivers are only ever dlopen()ed, and apps bring their own in their containers";

/**
 * A desktop host's X server depends on Mesa's GL and EGL stack (and through it LLVM), but is
 * configured not to use it (docs/desktop.md). Dropped when nothing that stays links to them.
 */
export const DESKTOP_PRUNE_PACKAGES: readonly PrunePackage[] = [
  { name: 'libgl1-mesa-dri', why: DLOPEN_GL },
  { name: 'mesa-libgallium', why: DLOPEN_GL },
  { name: 'libglx-mesa0', why: DLOPEN_GL },
  { name: 'libegl-mesa0', why: DLOPEN_GL },
  { name: 'mesa-vulkan-drivers', why: DLOPEN_GL },
  { name: 'libllvm19', why: 'LLVM, the shader compiler of Mesa\'s drivers (pruned)' },
  { name: 'libllvm18', why: 'LLVM, the shader compiler of Mesa\'s drivers (pruned)' },
  { name: 'libz3-4', why: "LLVM's SMT solver library (LLVM is pruned)" },
  { name: 'libdrm-amdgpu1', why: "Mesa's AMD driver's libdrm part (Mesa's drivers are pruned; the kernel driver is separate)" },
  { name: 'libdrm-radeon1', why: "Mesa's Radeon driver's libdrm part" },
  { name: 'libdrm-nouveau2', why: "Mesa's Nouveau driver's libdrm part" },
  { name: 'libdrm-intel1', why: "Mesa's Intel driver's libdrm part" },
  { name: 'libsensors5', why: "hardware sensors, read by Mesa's HUD only" },
  { name: 'libvulkan1', why: 'the Vulkan loader; nothing on the host uses Vulkan' },
  { name: 'udev', why: 'the X server is configured with static input devices (no udev daemon runs: busybox uevent loads drivers)', alsoPaths: ['etc/udev/hwdb.bin', 'usr/lib/udev/hwdb.bin'] },
  { name: 'systemd-hwdb', why: "udev's hardware database (udev is pruned)", alsoPaths: ['usr/lib/udev/hwdb.bin'] },
  { name: 'libsystemd-shared', why: "systemd's shared code, for udev's tools (pruned)" },
  { name: 'systemd', why: "systemd as init and its services, pulled in by udev; the image's init is busybox (docs/init.md)" },
];

/** Packages to prune for one image. */
export function prunePackages(p: { desktop: unknown } = { desktop: null }): PrunePackage[] {
  return [...PRUNE_PACKAGES, ...(p.desktop ? DESKTOP_PRUNE_PACKAGES : [])];
}
