// argv for kmod's depmod and modprobe, and a parser of what `modprobe --show-depends` prints.

export function showDependsArgv(base: string, kver: string, module: string, emptyConfigDir: string): string[] {
  // -C: an empty config dir, so the build host's /etc/modprobe.d cannot change the result.
  return ['modprobe', '-C', emptyConfigDir, '-d', base, '-S', kver, '--show-depends', module];
}

/** modules.dep and the rest for kernel release kver, under base/lib/modules/kver. */
export function depmodArgv(base: string, kver: string): string[] {
  return ['depmod', '-b', base, kver];
}

/** Files (absolute, under base) named by `modprobe --show-depends` output, in load order. */
export function parseShowDepends(out: string): { files: string[]; builtin: boolean } {
  const files: string[] = [];
  let builtin = false;
  for (const line of out.split('\n')) {
    const m = /^insmod (\S+)/.exec(line.trim());
    if (m) files.push(m[1]!);
    else if (/^builtin /.test(line.trim())) builtin = true;
  }
  return { files, builtin };
}

/** The firmware files a module file names (MODULE_FIRMWARE), one per line. */
export function modinfoFirmwareArgv(file: string): string[] {
  return ['modinfo', '-F', 'firmware', file];
}

/**
 * The firmware the built-in drivers name, from modules.builtin.modinfo: NUL-separated `MODULE.KEY=VALUE`
 * entries, the .modinfo section of the kernel image (MODULE_FIRMWARE is MODULE_INFO(firmware, ...)).
 * Returns [driver, file] pairs in the file's order.
 */
export function builtinFirmware(modinfo: string): [string, string][] {
  const out: [string, string][] = [];
  for (const e of modinfo.split('\0')) {
    const m = /^([^.=\s]+)\.firmware=(.+)$/.exec(e);
    if (m) out.push([m[1]!, m[2]!]);
  }
  return out;
}
