// What a build writes besides the manifest: `build --format iso,raw,qcow2` and
// `--disk-size`. The kernel and initrd (network boot) come with every build; the
// ISO is the default format; a disk image (raw, for dd or a hypervisor; qcow2,
// for QEMU/libvirt/OpenStack) is the ISO installed by the image's own installer
// onto a fresh disk of --disk-size (stages/diskimage.ts).
import { D2DError, ExitCode } from '../errors.js';
import { parseSize } from '../sizes.js';

export const FORMATS = ['iso', 'raw', 'qcow2'] as const;
export type Format = (typeof FORMATS)[number];

/** The disk images' size when --disk-size is not given: the image (under 100 MB) and room for persistence. */
export const DEFAULT_DISK_SIZE = '4G';
/** d2d-install's smallest layout: a 512 MiB EFI system partition, the BIOS boot partition and GPT's copies. */
export const MIN_DISK_BYTES = 600 * 2 ** 20;

export interface OutputChoice {
  formats: Format[];
  /** The disk images' size in bytes (raw or qcow2 chosen), else null. */
  diskBytes: number | null;
}

const usage = (message: string, hint?: string): D2DError => new D2DError('E_USAGE', message, { exitCode: ExitCode.usage, hint });

/** `--format` and `--disk-size` as given (undefined: not given) -> what the build writes. */
export function outputChoice(format?: string, diskSize?: string): OutputChoice {
  const formats: Format[] = [];
  for (const f of (format ?? 'iso').split(',').map((s) => s.trim())) {
    if (!(FORMATS as readonly string[]).includes(f)) throw usage(`--format: unknown format '${f}'`, `choose from ${FORMATS.join(', ')}, separated by commas (e.g. --format iso,qcow2)`);
    if (!formats.includes(f as Format)) formats.push(f as Format);
  }
  const disk = formats.includes('raw') || formats.includes('qcow2');
  if (diskSize !== undefined && !disk) throw usage('--disk-size only applies with --format raw or qcow2');
  if (!disk) return { formats, diskBytes: null };
  // Whole MiB: the installer VM is handed the size in MiB.
  const bytes = Math.floor(parseSize(diskSize ?? DEFAULT_DISK_SIZE, '--disk-size') / 2 ** 20) * 2 ** 20;
  if (bytes < MIN_DISK_BYTES) throw usage(`--disk-size ${diskSize} is too small: a disk image needs at least ${MIN_DISK_BYTES / 2 ** 20} MiB`, 'the EFI system partition alone is 512 MiB; give room for persistence too (e.g. 4G)');
  return { formats, diskBytes: bytes };
}
