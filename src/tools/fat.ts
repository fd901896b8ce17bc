// dosfstools and mtools: a FAT image (the EFI system partition on the ISO) made and
// filled without mounting it, so no root is needed and the bytes depend only on
// the inputs and SOURCE_DATE_EPOCH.

/** A FAT volume serial derived from SOURCE_DATE_EPOCH (mkfs.fat would use the clock). */
export function fatSerial(epoch: number): string {
  return (epoch >>> 0).toString(16).padStart(8, '0').toUpperCase();
}

export function mkfsFatArgv(image: string, sizeKiB: number, epoch: number): string[] {
  // --invariant: mkfs.fat (dosfstools 4.2) ignores SOURCE_DATE_EPOCH and stamps the volume label's
  // directory entry with the clock; this makes it a constant (the serial still comes from -i).
  return ['mkfs.fat', '--invariant', '-C', '-n', 'D2D-EFI', '-i', fatSerial(epoch), image, String(sizeKiB)];
}

/** Folders in the FAT image (paths like ::/EFI, parents first). */
export function mmdArgv(image: string, dirs: string[]): string[] {
  return ['mmd', '-i', image, ...dirs];
}

/** Copy a file into the FAT image, keeping its mtime (-m). */
export function mcopyArgv(image: string, file: string, to: string): string[] {
  return ['mcopy', '-m', '-i', image, file, to];
}
