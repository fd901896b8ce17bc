// Small fake kernel files for the unit tests: only the headers the config rules read.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from '../support/scratch.js';

/** A minimal x86 bzImage header carrying `release` as its version string. */
export function fakeBzImage(release: string): Buffer {
  const b = Buffer.alloc(0x1000);
  b.write('HdrS', 0x202, 'latin1');
  b.writeUInt16LE(0x100, 0x20e); // version string at 0x100 + 0x200
  b.write(`${release} (builder@example) #1 SMP PREEMPT_DYNAMIC\0`, 0x300, 'latin1');
  return b;
}

/** The first bytes of a .deb (an ar archive whose first member is debian-binary). */
export const DEB_HEAD = Buffer.from('!<arch>\ndebian-binary   1700000000  0     0     100644  4         `\n2.0\n', 'latin1');

/** A folder with two fake kernel .debs, a fake vmlinuz (6.1.0-test) and its modules folder. */
export function kernelFixtures(): string {
  const d = scratchDir('d2d-kernel-');
  writeFileSync(join(d, 'linux-image-6.1.0-9-cloud-amd64_6.1.1-1_amd64.deb'), DEB_HEAD);
  writeFileSync(join(d, 'linux-image-cloud-amd64_6.1.1-1_amd64.deb'), DEB_HEAD);
  writeFileSync(join(d, 'vmlinuz'), fakeBzImage('6.1.0-test'));
  mkdirSync(join(d, 'lib/modules/6.1.0-test/kernel'), { recursive: true });
  return d;
}
