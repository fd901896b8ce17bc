// Where the image's kernel comes from, decided from the config (pure).
import type { Config } from '../config/schema.js';
import { wifiEnabled } from './wifi.js';

export type KernelSource =
  /** From apt in the image's root. `extraSuite`: a suite other than debian.suite, added as an APT source for the kernel only. */
  | { kind: 'package'; package: string; suite: string; extraSuite: string | undefined }
  /** Local .deb files (absolute paths): the user's own trust decision, not signature-checked. */
  | { kind: 'deb'; debs: string[] }
  /** A kernel image and its lib/modules/VERSION folder (absolute paths); the folder's name is the release. */
  | { kind: 'files'; vmlinuz: string; modulesTree: string }
  /**
   * Compiled from a Debian source package (linux-source-X, from the image's suite) with the tailored
   * configuration (target/kernel/*.config) and the user's fragments after it (absolute paths). `features`:
   * the optional built-in fragments the config turns on (wifi: target/kernel/wifi.config).
   */
  | { kind: 'build'; package: string; suite: string; fragments: string[]; features: KernelFeature[] };

/** Optional parts of the tailored kernel, each a fragment target/kernel/NAME.config turned on by a config section. */
export type KernelFeature = 'wifi';

export function kernelSource(c: Config): KernelSource {
  const k = c.kernel;
  if (k.deb !== undefined) return { kind: 'deb', debs: [...k.deb] };
  if (k.build !== undefined) return { kind: 'build', package: k.build, suite: c.debian.suite, fragments: [...(k.fragments ?? [])], features: wifiEnabled(c) ? ['wifi'] : [] };
  if (k.vmlinuz !== undefined && k.modules_tree !== undefined) return { kind: 'files', vmlinuz: k.vmlinuz, modulesTree: k.modules_tree };
  // The schema guarantees a package when there is no other source.
  const suite = k.suite ?? c.debian.suite;
  return { kind: 'package', package: k.package!, suite, extraSuite: suite === c.debian.suite ? undefined : suite };
}

/** The kernel source in words, for messages. */
export function describeKernelSource(s: KernelSource): string {
  if (s.kind === 'package') return `package ${s.package} from ${s.suite}`;
  if (s.kind === 'build') {
    const extra = [...s.features.map((f) => `${f}.config`), ...s.fragments.map((f) => f.split('/').pop())];
    return `kernel compiled from ${s.package} (${s.suite})${extra.length > 0 ? ` with ${extra.join(', ')}` : ''}`;
  }
  if (s.kind === 'deb') return `local ${s.debs.length === 1 ? 'file' : 'files'} ${s.debs.map((d) => d.split('/').pop()).join(', ')}`;
  return `local kernel ${s.vmlinuz.split('/').pop()} with modules from ${s.modulesTree}`;
}
