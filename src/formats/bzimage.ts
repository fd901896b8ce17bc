// What a kernel's own files say about it, read without running anything:
// the release string in a bzImage's setup header, and whether a file is a .deb.
// Used by the config rules (a mismatch is a config error with a line) and the kernel stage.
import { closeSync, openSync, readSync } from 'node:fs';

/** The first bytes of a file (fewer if it is shorter). */
export function readHead(path: string, bytes: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/**
 * The kernel release of an x86 bzImage (what `uname -r` will say), from its setup header:
 * "HdrS" at 0x202, and at 0x20E a pointer (minus 0x200) to a string such as
 * "6.12.38+deb13-amd64 (builder@host) #1 SMP PREEMPT_DYNAMIC ...". Undefined when the
 * buffer is not a bzImage or carries no version string. Needs the first ~64 KiB.
 */
export function bzImageRelease(head: Buffer): string | undefined {
  if (head.length < 0x210 || head.toString('latin1', 0x202, 0x206) !== 'HdrS') return undefined;
  const ptr = head.readUInt16LE(0x20e);
  if (ptr === 0) return undefined;
  const at = ptr + 0x200;
  if (at >= head.length) return undefined;
  const end = head.indexOf(0, at);
  const text = head.toString('latin1', at, end < 0 ? Math.min(head.length, at + 256) : end);
  const release = text.split(' ')[0];
  return release && /^\d+\.\d+/.test(release) ? release : undefined;
}

/** Debian packages are ar archives whose first member is debian-binary. */
export function looksLikeDeb(head: Buffer): boolean {
  return head.toString('latin1', 0, 8) === '!<arch>\n' && head.toString('latin1', 8, 21) === 'debian-binary';
}
