// Stage "modules": keep only the kernel modules the image needs. The closure is
// computed by the kernel's own metadata through `modprobe --show-depends`, which
// also follows softdeps (libcrc32c -> crc32c) that modules.dep alone misses.
// Compressed modules are stored uncompressed: the whole initramfs is compressed anyway.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { tmpdir } from 'node:os';
import { run } from '../exec/run.js';
import { CommandError, StageError } from '../errors.js';
import type { Context } from '../context.js';
import { REQUIRED_MODULES } from '../plan/modules.js';
import { WIFI_MODULES } from '../plan/wifi.js';
import { describeKernelSource } from '../plan/kernel.js';
import { depmodArgv, parseShowDepends, showDependsArgv } from '../tools/kmod.js';
import { decompressInPlaceArgv } from '../tools/compress.js';

export interface ModulesResult {
  kept: string[]; // module file paths relative to the modules folder
  missingOptional: string[];
}

export async function installModules(ctx: Context, root: string, kver: string, logFile: string): Promise<ModulesResult> {
  const kbase = ctx.ws.kernelDir;
  const src = join(kbase, 'lib/modules', kver);
  await run(depmodArgv(kbase, kver), { log: logFile });
  const emptyConf = mkdtempSync(join(tmpdir(), 'd2d-modprobe-'));
  const files = new Set<string>();
  const missingRequired: string[] = [];
  const missingOptional: string[] = [];
  const { required, optional } = ctx.plan.kernel.modules;
  try {
    for (const [mod, isRequired] of [...required.map((m) => [m, true] as const), ...optional.map((m) => [m, false] as const)]) {
      try {
        const { stdout } = await run(showDependsArgv(kbase, kver, mod, emptyConf), { log: logFile, capture: true });
        for (const f of parseShowDepends(stdout).files) files.add(f);
      } catch (e) {
        if (!(e instanceof CommandError)) throw e;
        (isRequired ? missingRequired : missingOptional).push(mod);
      }
    }
  } finally {
    rmSync(emptyConf, { recursive: true, force: true });
  }
  if (missingRequired.length > 0) {
    // Say why each one is required: the image's own needs, or the user's kernel.modules.
    const wifi = ctx.plan.wifi;
    const why = (m: string): string =>
      REQUIRED_MODULES.includes(m)
        ? `${m} (the image needs it)`
        : wifi?.drivers.includes(m)
          ? `${m} (listed in wifi.drivers)`
          : wifi && (WIFI_MODULES as readonly string[]).includes(m)
            ? `${m} (Wi-Fi needs it)`
            : `${m} (listed in kernel.modules)`;
    const built = ctx.plan.kernel.source.kind === 'build';
    throw new StageError('modules', `kernel ${kver} (${describeKernelSource(ctx.plan.kernel.source)}) lacks required module(s): ${missingRequired.map(why).join(', ')}`, {
      logPath: logFile,
      code: 'E_MISSING_MODULE',
      hint: built
        ? "the compiled kernel has only what its fragments turn on: add their options to kernel.fragments (docs/kernel.md; Wi-Fi drivers' options: docs/wifi.md), or use Debian's kernel (kernel: {package: linux-image-amd64})"
        : 'choose a kernel that has them (built in or as modules), or drop them from kernel.modules or wifi.drivers',
    });
  }
  const dst = join(root, 'usr/lib/modules', kver);
  mkdirSync(dst, { recursive: true });
  const kept: string[] = [];
  const toDecompress: { xz: string[]; zst: string[] } = { xz: [], zst: [] };
  for (const f of [...files].sort()) {
    const rel = relative(src, f.replace(/^.*\/lib\/modules\/[^/]+\//, `${src}/`));
    const out = join(dst, rel);
    mkdirSync(dirname(out), { recursive: true });
    copyFileSync(f, out);
    if (out.endsWith('.xz')) toDecompress.xz.push(out);
    else if (out.endsWith('.zst')) toDecompress.zst.push(out);
    kept.push(rel.replace(/\.(xz|zst)$/, ''));
  }
  if (toDecompress.xz.length > 0) await run(decompressInPlaceArgv('xz', toDecompress.xz), { log: logFile });
  if (toDecompress.zst.length > 0) await run(decompressInPlaceArgv('zst', toDecompress.zst), { log: logFile });
  for (const meta of ['modules.order', 'modules.builtin', 'modules.builtin.modinfo']) {
    if (existsSync(join(src, meta))) copyFileSync(join(src, meta), join(dst, meta));
  }
  await run(depmodArgv(root, kver), { log: logFile });
  return { kept: kept.sort(), missingOptional };
}
