// A writer of cpio "newc" archive entries (what the kernel, GNU cpio and busybox
// cpio read), for the files layer: entries with owners and modes set from the
// config without the files ever being chowned on the build host, so a rootless
// build writes the same bytes as a root one.

export interface CpioEntry {
  name: string; // relative, no leading "/" or "./"
  mode: number; // type and permission bits, as st_mode
  uid: number;
  gid: number;
  mtime: number;
  data: Buffer; // file contents, or a symlink's target
}

export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;

const pad4 = (n: number): number => (4 - (n % 4)) % 4;
const hex8 = (n: number): string => n.toString(16).toUpperCase().padStart(8, '0');

/** One entry's bytes. Inode numbers only matter for hard links (nlink > 1), which the layer never has. */
export function cpioEntry(e: CpioEntry, ino: number): Buffer {
  const name = Buffer.from(`${e.name}\0`);
  const isDir = (e.mode & 0o170000) === S_IFDIR;
  const fields = [ino, e.mode, e.uid, e.gid, isDir ? 2 : 1, e.mtime, isDir ? 0 : e.data.length, 0, 0, 0, 0, name.length, 0];
  const head = Buffer.from(`070701${fields.map(hex8).join('')}`, 'latin1');
  const body = isDir ? Buffer.alloc(0) : e.data;
  return Buffer.concat([head, name, Buffer.alloc(pad4(head.length + name.length)), body, Buffer.alloc(pad4(body.length))]);
}

/** Entries back to back, without a trailer (the archive they go into supplies it). */
export function cpioEntries(entries: readonly CpioEntry[], firstIno: number): Buffer {
  return Buffer.concat(entries.map((e, i) => cpioEntry(e, firstIno + i)));
}
