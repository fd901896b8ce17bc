// Stage "kernel" (runs inside mmdebstrap's customize hook, root = the new rootfs):
// download the chosen kernel package with the rootfs's own apt (so signatures are
// verified against the target suite's keys), without installing it, and unpack it
// into the workspace. Installing it would pull in initramfs-tools and run it for nothing.
import { copyFileSync, existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../tools/exec.js';
import { StageError } from '../errors.js';
import type { Context } from '../context.js';

export interface KernelInfo {
  version: string; // e.g. 6.12.118+deb13-amd64
  packages: { name: string; version: string }[]; // the kernel packages that were unpacked
}

/** Parse `apt-get install -s` output: the packages apt would install, with versions. */
export function parseSimulatedInstalls(out: string): { name: string; version: string }[] {
  const res: { name: string; version: string }[] = [];
  for (const m of out.matchAll(/^Inst (\S+) (?:\[[^\]]*\] )?\((\S+)/gm)) res.push({ name: m[1]!, version: m[2]! });
  return res;
}

export function debFileName(name: string, version: string, arch = 'amd64'): string {
  return `${name}_${version.replace(/:/g, '%3a')}_${arch}.deb`;
}

export async function fetchKernel(ctx: Context, root: string, logFile: string): Promise<KernelInfo> {
  const pkg = ctx.plan.kernel.package;
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  const apt = ['chroot', root, 'apt-get', '-y', '--no-install-recommends'];
  let sim: string;
  try {
    sim = (await run([...apt, '-s', 'install', pkg], { log: logFile, capture: true, env })).stdout;
  } catch (e) {
    throw new StageError('kernel', `kernel package '${pkg}' cannot be installed from ${ctx.plan.debian.suite}`, {
      logPath: logFile,
      hint: 'check kernel.package: `apt-cache search linux-image` lists the kernels of a suite',
      cause: e,
    });
  }
  const kernelPkgs = parseSimulatedInstalls(sim).filter((p) => p.name.startsWith('linux-image-') || p.name === pkg);
  await run([...apt, '--download-only', 'install', pkg], { log: logFile, env });
  mkdirSync(ctx.ws.kernelDir, { recursive: true });
  const archives = join(root, 'var/cache/apt/archives');
  for (const p of kernelPkgs) {
    const deb = join(archives, debFileName(p.name, p.version));
    if (!existsSync(deb)) throw new StageError('kernel', `apt did not download ${p.name} ${p.version} (${deb})`, { logPath: logFile });
    await run(['dpkg-deb', '-x', deb, ctx.ws.kernelDir], { log: logFile });
  }
  const bootDir = join(ctx.ws.kernelDir, 'boot');
  const images = existsSync(bootDir) ? readdirSync(bootDir).filter((f) => f.startsWith('vmlinuz-')) : [];
  if (images.length !== 1) {
    throw new StageError('kernel', `package '${pkg}' should provide exactly one /boot/vmlinuz-*, found ${images.length}`, {
      logPath: logFile,
      hint: 'kernel.package must be a Debian kernel image package such as linux-image-amd64',
    });
  }
  const version = images[0]!.slice('vmlinuz-'.length);
  copyFileSync(join(bootDir, images[0]!), ctx.ws.vmlinuz);
  // Older kernels ship /lib/modules; depmod and modprobe -d look under BASE/lib/modules.
  if (!existsSync(join(ctx.ws.kernelDir, 'lib')) && existsSync(join(ctx.ws.kernelDir, 'usr/lib/modules'))) {
    symlinkSync('usr/lib', join(ctx.ws.kernelDir, 'lib'));
  }
  return { version, packages: kernelPkgs };
}
