// Stage "kernel" (inside the hook): get the kernel the config names and unpack
// it into the workspace, from one of three sources:
//  - package: apt in the image's root fetches it (signatures verified), from
//    debian.suite or from an extra suite such as trixie-backports (stages/kernelApt.ts);
//  - deb: the user's own .deb files, unpacked as they are (not signature-checked:
//    choosing them is the user's trust decision; the manifest records their sha256);
//  - files: a kernel image and its lib/modules/VERSION folder;
//  - build: the kernel compiled from source before this hook (stages/kernelBuild.ts), from the work folder.
// The package is never installed: that would pull in initramfs-tools and run it for nothing.
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { run } from '../exec/run.js';
import { extractArgv, fieldsArgv, missingKernelDeps, parseFields, type DebControl } from '../tools/dpkgdeb.js';
import { ExitCode, StageError } from '../errors.js';
import { sha256File } from '../fsutil.js';
import { describeKernelSource, type KernelSource } from '../plan/kernel.js';
import type { Context } from '../context.js';
import { fetchFromApt } from './kernelApt.js';
import type { BuiltKernel } from './kernelBuild.js';

/** Where the kernel came from, as the manifest records it. */
export type KernelOrigin =
  | { kind: 'package'; package: string; suite: string; version: string; aptSource?: string }
  | { kind: 'deb'; debs: { file: string; sha256: string; package: string; version: string }[] }
  | { kind: 'files'; vmlinuz: { file: string; sha256: string }; modulesTree: string }
  | { kind: 'build'; package: string; version: string; key: string; configSha256: string; builtin: string[]; modular: string[]; fragments: string[]; features: string[] };

export interface KernelInfo {
  version: string; // the kernel release, what `uname -r` says: e.g. 6.12.38+deb13-amd64
  packages: { name: string; version: string }[]; // the kernel packages that were unpacked
  source: KernelOrigin;
}

export async function fetchKernel(ctx: Context, root: string, logFile: string): Promise<KernelInfo> {
  const src = ctx.plan.kernel.source;
  mkdirSync(ctx.ws.kernelDir, { recursive: true });
  if (src.kind === 'files') return fromFiles(ctx, src);
  if (src.kind === 'build') return fromBuild(ctx, src);
  let packages: { name: string; version: string }[];
  let source: KernelOrigin;
  if (src.kind === 'package') {
    const got = await fetchFromApt(ctx, root, src, logFile);
    for (const deb of got.debs) await run(extractArgv(deb, ctx.ws.kernelDir), { log: logFile });
    packages = got.packages;
    source = { kind: 'package', package: src.package, suite: src.suite, version: got.packages.find((p) => p.name === src.package)?.version ?? '', aptSource: got.aptSource };
  } else {
    const controls = await readDebs(src.debs, logFile);
    for (const c of controls) await run(extractArgv(c.file, ctx.ws.kernelDir), { log: logFile });
    packages = controls.map((c) => ({ name: c.package, version: c.version }));
    source = { kind: 'deb', debs: await Promise.all(controls.map(async (c) => ({ file: c.file, sha256: await sha256File(c.file), package: c.package, version: c.version }))) };
  }
  const version = takeVmlinuz(ctx, src, logFile);
  return { version, packages, source };
}

/** Read the control fields of the user's .debs; every kernel package they depend on must be among them. */
async function readDebs(debs: string[], logFile: string): Promise<DebControl[]> {
  const controls: DebControl[] = [];
  for (const deb of debs) {
    const { stdout } = await run(fieldsArgv(deb), { log: logFile, capture: true }).catch((e: unknown) => {
      throw new StageError('kernel', `kernel.deb: cannot read ${deb} as a Debian package`, { logPath: logFile, cause: e, exitCode: ExitCode.config });
    });
    controls.push(parseFields(deb, stdout));
  }
  const missing = missingKernelDeps(controls);
  if (missing.length > 0) {
    const lines = missing.map((m) => `${m.from.package} (${basename(m.from.file)}) depends on ${m.needs}`);
    throw new StageError('kernel', `kernel.deb lacks kernel packages its files depend on:\n  ${lines.join('\n  ')}`, {
      logPath: logFile,
      exitCode: ExitCode.config,
      hint: 'add their .deb files to kernel.deb (e.g. `apt-get download NAME` fetches one)',
    });
  }
  return controls;
}

/**
 * The kernel images among unpacked packages, by release: /boot/vmlinuz-VERSION (Debian up to 6.x),
 * or (usr/)lib/modules/VERSION/vmlinuz (Debian's 7.x kernels, package linux-binary-VERSION).
 */
export function findKernelImages(kernelDir: string): Map<string, string> {
  const found = new Map<string, string>();
  const bootDir = join(kernelDir, 'boot');
  if (existsSync(bootDir)) for (const f of readdirSync(bootDir).filter((x) => x.startsWith('vmlinuz-'))) found.set(f.slice('vmlinuz-'.length), join(bootDir, f));
  for (const mods of ['lib/modules', 'usr/lib/modules'].map((m) => join(kernelDir, m))) {
    if (!existsSync(mods)) continue;
    for (const v of readdirSync(mods)) if (!found.has(v) && existsSync(join(mods, v, 'vmlinuz'))) found.set(v, join(mods, v, 'vmlinuz'));
  }
  return found;
}

/** The unpacked packages' one kernel image: copy it out; its VERSION is the kernel release. */
function takeVmlinuz(ctx: Context, src: KernelSource, logFile: string): string {
  // Older kernels ship /lib/modules, newer ones /usr/lib/modules; depmod and modprobe -d look under BASE/lib/modules.
  if (!existsSync(join(ctx.ws.kernelDir, 'lib')) && existsSync(join(ctx.ws.kernelDir, 'usr/lib/modules'))) {
    symlinkSync('usr/lib', join(ctx.ws.kernelDir, 'lib'));
  }
  const images = findKernelImages(ctx.ws.kernelDir);
  if (images.size !== 1) {
    throw new StageError('kernel', `${describeKernelSource(src)} should provide exactly one kernel image (/boot/vmlinuz-* or /usr/lib/modules/*/vmlinuz), found ${images.size}${images.size > 0 ? ` (${[...images.keys()].join(', ')})` : ''}`, {
      logPath: logFile,
      exitCode: src.kind === 'deb' ? ExitCode.config : ExitCode.stage,
      hint: src.kind === 'deb' ? 'kernel.deb needs the package with the kernel image (a metapackage alone has none: add the packages it depends on)' : 'kernel.package must be a Debian kernel image package such as linux-image-amd64',
    });
  }
  const [version, image] = [...images][0]!;
  copyFileSync(image, ctx.ws.vmlinuz);
  if (!existsSync(join(ctx.ws.kernelDir, 'lib/modules', version, 'modules.order')) && !existsSync(join(ctx.ws.kernelDir, 'lib/modules', version, 'kernel'))) {
    throw new StageError('kernel', `${describeKernelSource(src)} has the kernel ${version} but not its modules (lib/modules/${version})`, {
      logPath: logFile,
      exitCode: src.kind === 'deb' ? ExitCode.config : ExitCode.stage,
      hint: src.kind === 'deb' ? 'add the linux-modules (and linux-base-VERSION) packages of that kernel to kernel.deb' : undefined,
    });
  }
  return version;
}

/** The compiled kernel the kernel-build step left in the work folder (its kernel.json says what it is). */
function fromBuild(ctx: Context, src: Extract<KernelSource, { kind: 'build' }>): KernelInfo {
  const k = JSON.parse(readFileSync(join(ctx.ws.builtKernel, 'kernel.json'), 'utf8')) as BuiltKernel;
  takeKernel(ctx, join(ctx.ws.builtKernel, 'vmlinuz'), join(ctx.ws.builtKernel, 'lib/modules', k.release));
  return {
    version: k.release,
    packages: [{ name: k.package, version: k.version }],
    source: { kind: 'build', package: k.package, version: k.version, key: k.key, configSha256: k.configSha256, builtin: k.builtin, modular: k.modular, fragments: src.fragments, features: src.features },
  };
}

/**
 * A kernel image and its lib/modules/RELEASE folder into the workspace; returns the release (the folder's
 * name). A copy: depmod writes its index files into the folder, and the given tree stays untouched.
 * `build` and `source` point into a kernel source tree and are not needed.
 */
function takeKernel(ctx: Context, vmlinuz: string, modulesTree: string): string {
  const version = basename(modulesTree);
  copyFileSync(vmlinuz, ctx.ws.vmlinuz);
  cpSync(modulesTree, join(ctx.ws.kernelDir, 'lib/modules', version), {
    recursive: true,
    verbatimSymlinks: true,
    filter: (from) => !(dirname(from) === modulesTree && ['build', 'source'].includes(basename(from))),
  });
  return version;
}

/** A kernel image and its modules folder, named by the release (the config rules checked they match). */
async function fromFiles(ctx: Context, src: Extract<KernelSource, { kind: 'files' }>): Promise<KernelInfo> {
  const version = takeKernel(ctx, src.vmlinuz, src.modulesTree);
  return { version, packages: [], source: { kind: 'files', vmlinuz: { file: src.vmlinuz, sha256: await sha256File(src.vmlinuz) }, modulesTree: src.modulesTree } };
}
