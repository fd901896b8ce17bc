// xorriso: one hybrid image that boots as CD-ROM and as USB stick/disk, on BIOS
// (El Torito + GRUB's boot_hybrid MBR) and on UEFI (an appended EFI system
// partition that also serves as the El Torito EFI image).
import { BOOT_HYBRID_IMG } from './grub.js';

export interface IsoArgs {
  output: string;
  root: string; // folder with the ISO's files
  volid: string;
  biosImage: string; // path inside root, e.g. boot/grub/bios.img
  efiImage: string; // path inside root, e.g. boot/grub/efi.img
  sourceDateEpoch: number;
}

/** xorriso wants dates as YYYYMMDDhhmmsscc. */
export function isoDate(epoch: number): string {
  const d = new Date(epoch * 1000);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}00`;
}

export function xorrisoArgv(a: IsoArgs): string[] {
  const date = isoDate(a.sourceDateEpoch);
  return [
    'xorriso',
    '-as', 'mkisofs',
    '-o', a.output,
    '-iso-level', '3',
    '-full-iso9660-filenames',
    '-R', '-J', '-joliet-long',
    '-V', a.volid,
    '--modification-date=' + date,
    // BIOS: El Torito no-emulation image; boot_hybrid.img makes the same file bootable from a disk's MBR.
    '-b', a.biosImage, '-no-emul-boot', '-boot-load-size', '4', '-boot-info-table', '--grub2-boot-info',
    '--grub2-mbr', BOOT_HYBRID_IMG,
    // UEFI: the FAT image is both the El Torito EFI entry and a GPT partition for USB boot.
    '--efi-boot', a.efiImage, '-efi-boot-part', '--efi-boot-image',
    '--protective-msdos-label',
    a.root,
  ];
}

/** Copy files out of an ISO image: each [path in the image, path on the host]. */
export function extractArgv(image: string, files: readonly (readonly [string, string])[]): string[] {
  return ['xorriso', '-osirrox', 'on', '-indev', image, ...files.flatMap(([from, to]) => ['-extract', from, to])];
}

/** A plain data ISO (Rock Ridge names) of a folder, with a volume label: a test disk, a drop-in medium. */
export function dataIsoArgv(label: string, output: string, dir: string): string[] {
  return ['xorriso', '-as', 'mkisofs', '-quiet', '-R', '-V', label, '-o', output, dir];
}
