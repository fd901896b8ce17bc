// argv for qemu-img (qemu-utils).

/**
 * A raw disk image as qcow2. Only the clusters the raw image has data in are written, so the holes of a
 * sparse disk cost nothing; not compressed (-c): a compressed cluster is inflated at every read, and
 * rewritten uncompressed at the first write, for a few MB saved on a mostly empty disk.
 */
export const toQcow2Argv = (raw: string, qcow2: string): string[] => ['qemu-img', 'convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, qcow2];
