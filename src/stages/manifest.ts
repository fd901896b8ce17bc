// Stage "manifest": what was built, from what. Written as NAME.manifest.json.
import { mokSigned } from './bootloader.js';
import { ensureMok, mokDir, mokFingerprint } from './mok.js';
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { sha256File } from '../fsutil.js';
import type { BuildPlan } from '../plan/plan.js';
import { redactSecrets } from '../plan/wifi.js';
import type { PackageEntry } from './record.js';
import type { Config } from '../config/schema.js';
import type { ImageRecord } from './images.js';
import type { KernelOrigin } from './kernel.js';
import type { FirmwareReport } from './firmware.js';
import type { GoExports } from './goexports.js';
import type { RelativeRelocs } from './relative.js';

export interface InsideReport {
  kernel: { version: string; packages: { name: string; version: string }[]; source: KernelOrigin };
  modules: { kept: string[]; missingOptional: string[] };
  packages: PackageEntry[];
  sources: string[];
  pruned: { path: string; bytes: number; why: string }[];
  /** Prunable packages kept because something that stays needs them. */
  keptPackages?: { name: string; because: string }[];
  /** Files removed with whole packages (the stage cache checks a files layer against them). */
  prunedFiles?: string[];
  /** Go programs whose unused dynamic exports were blanked (src/stages/goexports.ts). */
  goExports?: GoExports[];
  /** PIE programs whose relative relocations were packed as RELR, or their in-file copies zeroed (src/stages/relative.ts). */
  relativeRelocs?: RelativeRelocs[];
  /** Root files left out of the payload because stage 1 carries them and copies them in at boot (src/stages/stage1shared.ts). */
  fromStage1?: string[];
  /** boot.secure-boot: the signed boot programs' packages (src/stages/secureboot.ts). */
  secureBoot?: { name: string; version: string }[];
  /** The drivers' firmware files carried in stage 1 (src/stages/firmware.ts); absent when firmware is off. */
  firmware?: FirmwareReport;
  pack: { files: number; bytes: number; payload: string; streams: number[]; biggest: { path: string; bytes: number }[] };
  timings: Record<string, number>;
}

export interface Manifest {
  schema: 1;
  tool: { name: 'debian2docker'; version: string };
  name: string;
  /** rootless: built by a normal user (mmdebstrap --mode=unshare), not as root. */
  build: { rootless: boolean };
  config: { sha256: string; normalised: Config };
  debian: { suite: string; mirror: string; components: string[]; sources: string[] };
  sourceDateEpoch: number;
  /** source: where the kernel came from (package, suite and version; or the local files and their sha256). */
  kernel: { source: KernelOrigin; version: string; debs: { name: string; version: string }[]; modules: string[]; missingOptionalModules: string[] };
  packages: PackageEntry[];
  /** The UEFI boot path: GRUB made by this build, or Debian's signed shim + GRUB + MokManager (boot.secure-boot) and their package versions. */
  /** Firmware files in the image, each with its package and the drivers that name it; the named ones no package had. */
  firmware: FirmwareReport;
  uefi: { secureBoot: false } | { secureBoot: true; packages: { name: string; version: string }[]; /** a kernel Debian did not sign: the machine-owner key's certificate that signed it (SHA-256) */ kernelSignedBy?: string };
  rootfs: { files: number; cpioBytes: number; compression: string; compressedBytes: number; biggestFiles: { path: string; bytes: number }[]; pruned: { path: string; bytes: number; why: string }[]; keptPackages: { name: string; because: string }[]; goExports: GoExports[]; relativeRelocs: RelativeRelocs[]; fromStage1: string[] };
  /** Preloaded images: where each came from (registry images pinned by digest), its id and tags. */
  images: ImageRecord[];
  services: { name: string; image: string; argv: string[] }[];
  artifacts: Record<string, { file: string; bytes: number; sha256: string }>;
  stages: Record<string, number>;
}

export async function artifactInfo(path: string): Promise<{ file: string; bytes: number; sha256: string }> {
  return { file: basename(path), bytes: statSync(path).size, sha256: await sha256File(path) };
}

async function artifactInfos(files: Record<string, string>): Promise<Manifest['artifacts']> {
  const out: Manifest['artifacts'] = {};
  for (const [kind, path] of Object.entries(files)) out[kind] = await artifactInfo(path);
  return out;
}

export async function makeManifest(o: {
  plan: BuildPlan;
  config: Config;
  version: string;
  inside: InsideReport;
  payloadBytes: number;
  /** The output files to describe, by kind (iso, kernel, ...), in the order the manifest lists them (src/pipeline/outputs.ts). */
  files: Record<string, string>;
  images: ImageRecord[];
  timings: Record<string, number>;
}): Promise<Manifest> {
  const { plan, inside } = o;
  return {
    schema: 1,
    tool: { name: 'debian2docker', version: o.version },
    name: plan.name,
    build: { rootless: process.getuid?.() !== 0 },
    config: { sha256: plan.configHash, normalised: redactSecrets(o.config) },
    debian: { suite: plan.debian.suite, mirror: plan.debian.mirror === '' ? '(default: host APT sources)' : plan.debian.mirror, components: plan.debian.components, sources: inside.sources },
    sourceDateEpoch: plan.sourceDateEpoch,
    kernel: {
      source: inside.kernel.source,
      version: inside.kernel.version,
      debs: inside.kernel.packages,
      modules: inside.modules.kept,
      missingOptionalModules: inside.modules.missingOptional,
    },
    packages: inside.packages,
    firmware: inside.firmware ?? { files: [], missing: [], bytes: 0 },
    uefi: plan.secureBoot ? { secureBoot: true, packages: inside.secureBoot ?? [], ...(mokSigned(plan) ? { kernelSignedBy: await mokFingerprint(await ensureMok(mokDir())) } : {}) } : { secureBoot: false },
    rootfs: {
      files: inside.pack.files,
      cpioBytes: inside.pack.bytes,
      compression: plan.initramfs.compression,
      compressedBytes: o.payloadBytes,
      biggestFiles: inside.pack.biggest,
      pruned: inside.pruned,
      keptPackages: inside.keptPackages ?? [],
      goExports: inside.goExports ?? [],
      relativeRelocs: inside.relativeRelocs ?? [],
      fromStage1: inside.fromStage1 ?? [],
    },
    images: o.images,
    services: plan.services.map((s) => ({ name: s.name, image: s.image, argv: s.argv })),
    artifacts: await artifactInfos(o.files),
    stages: o.timings,
  };
}
