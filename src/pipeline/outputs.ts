// The build's outputs, listed once: each one's file in the work folder, its name in the
// output folder (plan.artifacts), and whether a given plan has it. Publishing, the
// manifest's artifact list and build --in-docker's hand-back of files all read this list,
// so a new output (a disk image, network-boot files) is one entry here.
import type { Workspace } from '../context.js';
import type { BuildPlan } from '../plan/plan.js';

export type OutputKind = 'iso' | 'kernel' | 'initrd' | 'images' | 'raw' | 'qcow2';

export interface Output {
  kind: OutputKind;
  /** The file the steps leave in the work folder. */
  work: (ws: Workspace) => string;
  /** Whether a build of this plan makes it. */
  has: (plan: BuildPlan) => boolean;
  /**
   * Moved into the output folder rather than copied: a disk image is gigabytes, mostly holes, that a copy
   * would write out in full. The work folder is inside the output folder, so it is a rename.
   */
  move?: boolean;
}

/** In the manifest's order. */
export const OUTPUTS: readonly Output[] = [
  { kind: 'iso', work: (ws) => ws.iso, has: (p) => p.formats.includes('iso') },
  { kind: 'kernel', work: (ws) => ws.vmlinuz, has: () => true },
  { kind: 'initrd', work: (ws) => ws.initrd, has: () => true },
  { kind: 'images', work: (ws) => ws.imagesInitrd, has: (p) => p.images.length > 0 },
  { kind: 'raw', work: (ws) => ws.rawDisk, has: (p) => p.formats.includes('raw'), move: true },
  { kind: 'qcow2', work: (ws) => ws.qcow2Disk, has: (p) => p.formats.includes('qcow2'), move: true },
];

/** The outputs a build of this plan makes. */
export function outputsOf(plan: BuildPlan): Output[] {
  return OUTPUTS.filter((o) => o.has(plan));
}

/** Every file a build may write into the output folder (whether or not this plan has it), the manifest last. */
export function publishedPaths(plan: BuildPlan): string[] {
  return [...OUTPUTS.map((o) => plan.artifacts[o.kind]), plan.artifacts.manifest];
}
