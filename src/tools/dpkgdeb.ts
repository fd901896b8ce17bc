// dpkg-deb on the build host: unpack a .deb, read its control fields. Pure argv
// builders and parsers; the calls are in the kernel stage.

export function extractArgv(deb: string, dir: string): string[] {
  return ['dpkg-deb', '-x', deb, dir];
}

export const CONTROL_FIELDS = ['Package', 'Version', 'Depends', 'Provides'] as const;

export function fieldsArgv(deb: string): string[] {
  return ['dpkg-deb', '-f', deb, ...CONTROL_FIELDS];
}

export interface DebControl {
  file: string;
  package: string;
  version: string;
  depends: string;
  provides: string;
}

/** Parse `dpkg-deb -f DEB Package Version ...` output (RFC 822 style, folded lines joined). */
export function parseFields(file: string, out: string): DebControl {
  const f: Record<string, string> = {};
  let last = '';
  for (const line of out.split('\n')) {
    if (/^\s/.test(line) && last !== '') f[last] += ` ${line.trim()}`;
    else {
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m) f[(last = m[1]!)] = m[2]!.trim();
    }
  }
  return { file, package: f.Package ?? '', version: f.Version ?? '', depends: f.Depends ?? '', provides: f.Provides ?? '' };
}

/** Package names in a Depends/Provides field: groups of alternatives, without versions or arch qualifiers. */
export function relationNames(field: string): string[][] {
  return field
    .split(',')
    .map((g) => g.trim())
    .filter((g) => g !== '')
    .map((g) => g.split('|').map((a) => a.trim().split(/[\s(:[]/)[0]!));
}

/**
 * Whether a package carries a kernel's files: linux-image-*, linux-modules-*, and since Debian's
 * 7.x kernels (trixie-backports) also linux-binary-* (the vmlinuz, in /usr/lib/modules/VERSION)
 * and linux-base-VERSION (System.map, modules.builtin). Not `linux-base`, the maintainer scripts' helper.
 */
export function isKernelPackage(name: string): boolean {
  return name !== 'linux-base' && /^linux-(image|modules|binary|base)-/.test(name);
}

/**
 * Kernel packages the given .debs depend on but do not include: for each dependency whose
 * alternatives are all kernel packages (isKernelPackage), one of them must be among the
 * debs (by name or Provides). Other dependencies (kmod, initramfs tools) are not needed: the
 * kernel's files are unpacked, not installed.
 */
export function missingKernelDeps(debs: DebControl[]): { from: DebControl; needs: string }[] {
  const have = new Set(debs.flatMap((d) => [d.package, ...relationNames(d.provides).flat()]));
  const out: { from: DebControl; needs: string }[] = [];
  for (const d of debs) {
    for (const group of relationNames(d.depends)) {
      if (!group.every(isKernelPackage)) continue;
      if (!group.some((n) => have.has(n))) out.push({ from: d, needs: group.join(' | ') });
    }
  }
  return out;
}
