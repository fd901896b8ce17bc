// argv for util-linux's sfdisk.

/** The partition table as JSON (exit 1 when the disk has none). */
export const partitionTableArgv = (disk: string): string[] => ['sfdisk', '--json', disk];
