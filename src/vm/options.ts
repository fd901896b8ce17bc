// Command-line VM options -> a VmSpec (shared by `run` and `test`).
import { existsSync } from 'node:fs';
import { D2DError, ExitCode } from '../errors.js';
import type { VmSpec } from './qemu.js';

export interface VmCliOptions {
  memory?: string;
  cpus?: string;
  firmware?: string;
  bootFrom?: string;
  disk?: string[];
  accel?: string;
  tcgThreads?: string;
}

function int(name: string, v: string | undefined, def: number, min: number): number {
  const n = v === undefined ? def : Number(v);
  if (!Number.isInteger(n) || n < min) throw new D2DError('E_USAGE', `--${name} must be a whole number >= ${min}, got '${v}'`, { exitCode: ExitCode.usage });
  return n;
}

export function imageBoot(image: string, bootFrom: string, cmdline: string): VmSpec['boot'] {
  if (!existsSync(image)) throw new D2DError('E_USAGE', `no such image: ${image}`, { exitCode: ExitCode.usage, hint: 'build one with `debian2docker build`' });
  if (image.endsWith('.kernel')) {
    const initrd = image.replace(/\.kernel$/, '.initrd');
    if (!existsSync(initrd)) throw new D2DError('E_USAGE', `network boot needs ${initrd} beside ${image}`, { exitCode: ExitCode.usage });
    // The preloaded images' initrd, when the build made one, goes after the main one.
    const images = image.replace(/\.kernel$/, '.images');
    return { kind: 'kernel', kernel: image, initrd, append: cmdline, ...(existsSync(images) ? { extraInitrds: [images] } : {}) };
  }
  if (bootFrom !== 'cdrom' && bootFrom !== 'usb' && bootFrom !== 'disk') throw new D2DError('E_USAGE', `--boot-from must be cdrom, usb or disk`, { exitCode: ExitCode.usage });
  // A disk image (build --format raw, qcow2) is a disk, or a USB stick: never a CD, whatever the default says.
  if (/\.(raw|qcow2)$/.test(image)) return { kind: bootFrom === 'usb' ? 'usb' : 'disk', image };
  return { kind: bootFrom, image };
}

/** `tcgThreads`: the command's default when --tcg-threads is not given (see VmSpec.tcgThreads). */
export function baseSpec(o: VmCliOptions, accel: 'kvm' | 'tcg', tcgThreads: 'single' | 'multi'): Pick<VmSpec, 'accel' | 'tcgThreads' | 'memoryMiB' | 'cpus' | 'firmware' | 'secureBoot'> {
  const f = o.firmware ?? 'bios';
  if (f !== 'bios' && f !== 'uefi' && f !== 'secure-boot') throw new D2DError('E_USAGE', `--firmware must be bios, uefi or secure-boot (UEFI enforcing Secure Boot, Microsoft's keys enrolled)`, { exitCode: ExitCode.usage });
  const firmware = f === 'bios' ? 'bios' : 'uefi';
  const threads = o.tcgThreads ?? tcgThreads;
  if (threads !== 'single' && threads !== 'multi') throw new D2DError('E_USAGE', `--tcg-threads must be single or multi`, { exitCode: ExitCode.usage });
  return { accel, tcgThreads: threads, memoryMiB: int('memory', o.memory, 1024, 128), cpus: int('cpus', o.cpus, 2, 1), firmware, ...(f === 'secure-boot' ? { secureBoot: true } : {}) };
}
