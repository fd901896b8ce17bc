// iPXE scripts for `debian2docker serve` (pure): the small chain script a machine's firmware gets
// over TFTP (or a DHCP server's boot file), and the per-machine script `serve` answers it with.

/** A MAC address as iPXE's ${net0/mac:hexhyp} prints it and as machine files are named: 52-54-00-12-34-56. */
export function normaliseMac(s: string): string | undefined {
  const parts = s.trim().toLowerCase().split(/[-:]/);
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-f]{2}$/.test(p))) return undefined;
  return parts.join('-');
}

/**
 * The first script a machine runs: it asks `serve` for its own. `base` is serve's URL as the machines
 * reach it (http://HOST:PORT); iPXE fills in the MAC of the interface it booted from.
 */
export function chainScript(base: string): string {
  return ['#!ipxe', 'dhcp', `chain ${base}/boot.ipxe?mac=\${net0/mac:hexhyp}`, ''].join('\n');
}

export interface BootFiles {
  kernel: string;
  initrd: string;
  /** NAME.images (preloaded images), loaded after the initrd; null when the build has none. */
  images: string | null;
}

/**
 * The script that boots one machine: the build's kernel with its command line (the build's own, then
 * every machine's extra, then this machine's) and its initrds, all over HTTP from `base`.
 */
export function machineScript(o: { base: string; name: string; mac: string; files: BootFiles; cmdline: string }): string {
  const initrds = [o.files.initrd, ...(o.files.images ? [o.files.images] : [])];
  return [
    '#!ipxe',
    `echo debian2docker: ${o.name} for ${o.mac}`,
    // initrd=NAME: the kernel's EFI stub loads the initrds iPXE names; BIOS ignores it.
    `kernel ${o.base}/${o.files.kernel} ${initrds.map((f) => `initrd=${f}`).join(' ')} ${o.cmdline}`.trimEnd(),
    ...initrds.map((f) => `initrd ${o.base}/${f}`),
    'boot',
    '',
  ].join('\n');
}

/** Command-line words iPXE would mangle (it expands ${...}) or the kernel would split: refused in machine files. */
export function cmdlineProblem(s: string): string | undefined {
  if (/[\n\r]/.test(s)) return 'one line only';
  if (s.includes('${')) return 'no ${...}: iPXE would expand it';
  return undefined;
}
