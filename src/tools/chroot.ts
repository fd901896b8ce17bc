// argv for the commands a build runs inside the root it is making (chroot ROOT ...).

export function chrootArgv(root: string, argv: readonly string[]): string[] {
  return ['chroot', root, ...argv];
}

/** A hook's script, read from stdin, run by the root's own sh (-e: the first failing command ends it). */
export const hookArgv = (root: string): string[] => chrootArgv(root, ['/bin/sh', '-e', '-s']);

export const chownArgv = (root: string, owner: string, path: string): string[] => chrootArgv(root, ['chown', '-R', owner, path]);

export const localeGenArgv = (root: string): string[] => chrootArgv(root, ['locale-gen']);

/** The console keymap compiled to the binary form busybox's loadkmap reads (map: its path in the root). */
export const keymapArgv = (root: string, map: string): string[] => chrootArgv(root, ['sh', '-c', 'loadkeys -q -b "$1" > /etc/d2d/keymap.bmap', 'sh', map]);

/** Every installed package: name, version, architecture, tab-separated. */
export const installedPackagesArgv = (root: string): string[] => chrootArgv(root, ['dpkg-query', '-W', '-f', '${Package}\\t${Version}\\t${Architecture}\\n']);

/** The shared libraries a program needs, as the root's own loader resolves them. */
export const lddArgv = (root: string, path: string): string[] => chrootArgv(root, ['ldd', path]);
