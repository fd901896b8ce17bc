// The kernel from apt, in the image's root: from debian.suite, or from another
// suite (e.g. trixie-backports) through an extra APT source on the same mirror
// as the image's own, present only while the kernel is fetched. apt verifies
// the suite's signatures as for every other package.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../exec/run.js';
import { kernelRequest, kernelSourceStanza, KERNEL_SOURCES_FILE, parseAptSources, updateKernelSourceArgv } from '../tools/apt.js';
import { APT_ENV, fetchPackages } from './aptfetch.js';
import { isKernelPackage } from '../tools/dpkgdeb.js';
import { CommandError, ExitCode, StageError } from '../errors.js';
import type { KernelSource } from '../plan/kernel.js';
import type { Context } from '../context.js';


/** The image's APT source files (one-line and deb822). */
function imageSources(root: string): { name: string; text: string }[] {
  const files: { name: string; text: string }[] = [];
  const main = join(root, 'etc/apt/sources.list');
  if (existsSync(main)) files.push({ name: 'sources.list', text: readFileSync(main, 'utf8') });
  const dir = join(root, 'etc/apt/sources.list.d');
  if (existsSync(dir)) for (const f of readdirSync(dir).sort()) files.push({ name: f, text: readFileSync(join(dir, f), 'utf8') });
  return files;
}

export interface AptKernel {
  packages: { name: string; version: string }[]; // the kernel packages to unpack
  debs: string[]; // their downloaded files
  aptSource?: string; // the extra source, when the kernel came from another suite
}

export async function fetchFromApt(ctx: Context, root: string, src: Extract<KernelSource, { kind: 'package' }>, logFile: string): Promise<AptKernel> {
  let aptSource: string | undefined;
  const sourcesFile = join(root, KERNEL_SOURCES_FILE);
  if (src.extraSuite !== undefined) {
    aptSource = kernelSourceStanza(parseAptSources(imageSources(root)), ctx.plan.debian.suite, src.extraSuite);
    if (aptSource === undefined) {
      throw new StageError('kernel', `cannot add kernel.suite '${src.extraSuite}': the image has no APT source for debian.suite '${ctx.plan.debian.suite}' to take the mirror from`, { logPath: logFile });
    }
    writeFileSync(sourcesFile, aptSource);
  }
  try {
    if (src.extraSuite !== undefined) {
      await run(updateKernelSourceArgv(root), { log: logFile, env: APT_ENV }).catch((e: unknown) => {
        throw suiteError(src.extraSuite!, e, logFile);
      });
    }
    const request = kernelRequest(src.package, src.extraSuite);
    const { packages, debs } = await fetchPackages(root, [request], (name) => isKernelPackage(name) || name === src.package, {
      stage: 'kernel',
      logFile,
      unknown: (e) =>
        new StageError('kernel', `kernel package '${src.package}' cannot be installed from ${src.suite}${e instanceof CommandError ? `\n${e.tail}` : ''}`, {
          logPath: logFile,
          code: 'E_UNKNOWN_PACKAGE',
          exitCode: ExitCode.config,
          hint: 'check kernel.package and kernel.suite: `apt-cache search linux-image` lists the kernels of a suite',
          cause: e,
        }),
    });
    return { packages: packages.map((p) => ({ name: p.name, version: p.version })), debs, aptSource };
  } finally {
    // The image's APT configuration stays the image's own.
    rmSync(sourcesFile, { force: true });
  }
}

export function suiteError(suite: string, e: unknown, logFile: string): StageError {
  const tail = e instanceof CommandError ? e.tail : String(e);
  if (/does not have a Release file|no longer has a Release file|404\s+Not Found/i.test(tail)) {
    return new StageError('kernel', `kernel.suite '${suite}' is not on the mirror\n${tail}`, { logPath: logFile, code: 'E_SUITE', exitCode: ExitCode.config, hint: 'check kernel.suite (e.g. trixie-backports) and debian.mirror' });
  }
  if (/NO_PUBKEY|not signed|signatures couldn't be verified|BADSIG|EXPKEYSIG/i.test(tail)) {
    return new StageError('kernel', `kernel.suite '${suite}': its signatures could not be verified\n${tail}`, { logPath: logFile, code: 'E_SIGNATURE', hint: 'signature checks are never turned off; the suite must be signed by a key the image trusts' });
  }
  return new StageError('kernel', `cannot read kernel.suite '${suite}' from the mirror\n${tail}`, { logPath: logFile, code: 'E_MIRROR_UNREACHABLE', exitCode: ExitCode.network, cause: e });
}
