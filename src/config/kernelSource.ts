// The kernel section's source keys (package+suite, deb, vmlinuz+modules_tree, build+fragments) are
// alternatives, not fields to merge: a file that names a kernel replaces the
// inherited source as a whole, so `kernel: {deb: [my.deb]}` over the default's
// `build: linux-source-6.12` is one source, not a conflict. A lone `suite`
// modifies an inherited package (`kernel: {suite: trixie-backports}`), and over
// an inherited build it means Debian's package from that suite.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { KERNEL_SOURCE_KEYS, type Config } from './schema.js';
import { isMap, type Json } from './merge.js';
import { bzImageRelease, looksLikeDeb, readHead } from '../formats/bzimage.js';
import { parseFragment } from '../formats/kconfig.js';

const NAMING_KEYS = ['package', 'deb', 'vmlinuz', 'modules_tree', 'build'];

/** Debian's kernel package: what desktop sessions and a lone kernel.suite get instead of the default build. */
export const DEBIAN_KERNEL_PACKAGE = 'linux-image-amd64';

/** `base` without its kernel source when `over` names a kernel of its own. */
export function replaceKernelSource(base: Json, over: Json): Json {
  if (!isMap(base) || !isMap(over) || !isMap(base.kernel) || !isMap(over.kernel)) return base;
  const named = NAMING_KEYS.some((k) => k in (over.kernel as Record<string, Json>));
  const suiteOverBuild = 'suite' in over.kernel && 'build' in base.kernel;
  if (!named && !suiteOverBuild) return base;
  return { ...base, kernel: withoutSource(base.kernel, named ? undefined : DEBIAN_KERNEL_PACKAGE) };
}

/** The kernel section without its source keys; with `pkg`, that package as its source. */
function withoutSource(kernel: Record<string, Json>, pkg?: string): Record<string, Json> {
  const k: Record<string, Json> = { ...kernel };
  for (const key of KERNEL_SOURCE_KEYS) delete k[key];
  if (pkg !== undefined) k.package = pkg;
  return k;
}

/**
 * Desktop sessions need Debian's kernel (DRM/KMS drivers and their firmware as modules: far more than the tailored
 * kernel's size goal allows), so a config with sessions that names no kernel of its own gets it. `defaultOwns` says
 * whether the kernel source in `merged` still comes from the embedded default.
 */
export function desktopKernel(merged: Json, defaultOwns: boolean): Json {
  if (!defaultOwns || !isMap(merged) || !isMap(merged.kernel) || !('build' in merged.kernel)) return merged;
  const sessions = isMap(merged.desktop) ? merged.desktop.sessions : undefined;
  if (!Array.isArray(sessions) || sessions.length === 0) return merged;
  return { ...merged, kernel: withoutSource(merged.kernel, DEBIAN_KERNEL_PACKAGE) };
}

/** Make the kernel's file paths absolute, relative to the config file that gives them. */
export function resolveKernelPaths(js: Json, abs: (p: unknown) => unknown): void {
  if (!isMap(js) || !isMap(js.kernel)) return;
  const k = js.kernel as Record<string, unknown>;
  if (Array.isArray(k.deb)) k.deb = k.deb.map(abs);
  if (Array.isArray(k.fragments)) k.fragments = k.fragments.map(abs);
  for (const key of ['vmlinuz', 'modules_tree']) if (key in k) k[key] = abs(k[key]);
}

/** Rules the schema cannot check: the kernel's files exist, are what they claim, and belong together. */
export function checkKernelFiles(k: Config['kernel']): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  const isFile = (p: string): boolean => existsSync(p) && statSync(p).isFile();
  (k.deb ?? []).forEach((f, i) => {
    if (!isFile(f)) out.push({ path: ['kernel', 'deb', i], message: `no such file: ${f}` });
    else if (!looksLikeDeb(readHead(f, 32))) out.push({ path: ['kernel', 'deb', i], message: `not a Debian package (no ar/debian-binary header): ${f}` });
  });
  (k.fragments ?? []).forEach((f, i) => {
    if (!isFile(f)) return void out.push({ path: ['kernel', 'fragments', i], message: `no such file: ${f}` });
    try {
      parseFragment(readFileSync(f, 'utf8'), f);
    } catch (e) {
      out.push({ path: ['kernel', 'fragments', i], message: (e as Error).message });
    }
  });
  if (k.vmlinuz !== undefined && k.modules_tree !== undefined) {
    const release = basename(k.modules_tree);
    let kernelRelease: string | undefined;
    if (!isFile(k.vmlinuz)) out.push({ path: ['kernel', 'vmlinuz'], message: `no such file: ${k.vmlinuz}` });
    else {
      kernelRelease = bzImageRelease(readHead(k.vmlinuz, 64 * 1024));
      if (kernelRelease === undefined) out.push({ path: ['kernel', 'vmlinuz'], message: `not an x86 kernel image with a version string (bzImage): ${k.vmlinuz}` });
    }
    if (!existsSync(k.modules_tree) || !statSync(k.modules_tree).isDirectory()) {
      out.push({ path: ['kernel', 'modules_tree'], message: `no such folder: ${k.modules_tree}` });
    } else if (!existsSync(`${k.modules_tree}/modules.order`) && !existsSync(`${k.modules_tree}/modules.builtin`) && !existsSync(`${k.modules_tree}/kernel`)) {
      out.push({ path: ['kernel', 'modules_tree'], message: `not a kernel modules folder (no modules.order, modules.builtin or kernel/): ${k.modules_tree}; give lib/modules/VERSION itself` });
    } else if (kernelRelease !== undefined && kernelRelease !== release) {
      out.push({ path: ['kernel', 'modules_tree'], message: `is for kernel ${release}, but kernel.vmlinuz is ${kernelRelease}: modules only load into the kernel they were built for` });
    }
  }
  return out;
}
