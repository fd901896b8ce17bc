// Inside step "firmware": the firmware files the kernel's drivers name, and the ones the config
// names (firmware.files), picked one by one out of Debian's firmware packages (firmware.packages,
// from non-free-firmware: fetched by apt in the image's root, signatures verified, never installed).
// Names come from modules.builtin.modinfo for built-in drivers (all of the compiled kernel's) and
// from `modinfo` for the modules the image keeps.
//
// They go into stage 1's archive, not the root's payload: a built-in driver may ask for its firmware
// while it probes (r8152, a USB NIC, does), before stage 1 has unpacked the root; the loader
// waits for the kernel's own initramfs only. Stage 1 copies them into the root's /usr/lib/firmware
// before switching to it, for drivers that ask later (r8169, tg3 and bnx2 ask when the link is
// brought up). The kernel reads them uncompressed: the tailored kernel has no FW_LOADER_COMPRESS,
// and in stage 1's xz archive a compressed copy would save nothing.
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import type { Context } from '../context.js';
import { CommandError, ExitCode, StageError } from '../errors.js';
import { run } from '../exec/run.js';
import { builtinFirmware, modinfoFirmwareArgv } from '../tools/kmod.js';
import { fetchPackages, withUnpacked } from './aptfetch.js';
import { walk } from '../fsutil.js';

export interface FirmwareReport {
  /** Each file carried: its path under /lib/firmware, the package it came from, its size, who named it. */
  files: { path: string; package: string; version: string; bytes: number; for: string[] }[];
  /** Files a driver names that none of firmware.packages has (that hardware then runs without, or fails). */
  missing: { path: string; for: string[] }[];
  bytes: number;
}

/** Who names which firmware: file (or pattern) -> drivers, plus 'firmware.files' for the config's own. */
export async function namedFirmware(ctx: Context, root: string, kver: string, keptModules: string[], logFile: string): Promise<Map<string, string[]>> {
  const named = new Map<string, string[]>();
  const add = (file: string, by: string): void => {
    const l = named.get(file) ?? [];
    if (!l.includes(by)) l.push(by);
    named.set(file, l);
  };
  const fw = ctx.plan.firmware;
  if (fw.drivers) {
    const builtin = join(ctx.ws.kernelDir, 'lib/modules', kver, 'modules.builtin.modinfo');
    if (existsSync(builtin)) for (const [driver, file] of builtinFirmware(readFileSync(builtin, 'latin1'))) add(file, driver);
    for (const rel of keptModules) {
      const out = (await run(modinfoFirmwareArgv(join(root, 'usr/lib/modules', kver, rel)), { log: logFile, capture: true })).stdout;
      const driver = posix.basename(rel).replace(/\.ko$/, '');
      for (const file of out.split('\n').map((s) => s.trim()).filter(Boolean)) add(file, driver);
    }
  }
  for (const f of fw.files) add(f, 'firmware.files');
  return named;
}

/** Byte order, the same on every machine (not the locale's). */
const byBytes = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Names a driver asks for that a package ships under another name, to be carried under the asked one. The
 * regulatory database: wireless-regdb ships Debian's signed build and upstream's side by side and makes
 * the plain names alternatives links in its postinst, which a package picked from never runs; Debian's
 * kernels trust Debian's signature.
 */
export const FIRMWARE_ALIASES: Readonly<Record<string, string>> = {
  'regulatory.db': 'regulatory.db-debian',
  'regulatory.db.p7s': 'regulatory.db.p7s-debian',
};

/** `*` matches within one name; everything else is literal. */
const matcher = (pattern: string): RegExp => new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);

/** The firmware files of one unpacked package, by path under lib/firmware. */
export function firmwareIndex(tree: string): Map<string, string> {
  const index = new Map<string, string>();
  for (const base of ['usr/lib/firmware', 'lib/firmware'].map((b) => join(tree, b))) {
    if (!existsSync(base)) continue;
    for (const rel of walk(base)) if (!index.has(rel) && !lstatSync(join(base, rel)).isDirectory()) index.set(rel, join(base, rel));
  }
  return index;
}

/** A symbolic link inside an unpacked package, followed inside it (an absolute target is the package's, not the host's). */
function resolveIn(tree: string, path: string): string | undefined {
  let p = path;
  for (let hops = 0; hops < 16; hops++) {
    if (!existsSync(p) && !isLink(p)) return undefined;
    if (!isLink(p)) return statSync(p).isFile() ? p : undefined;
    const t = readlinkSync(p);
    p = t.startsWith('/') ? join(tree, t) : join(dirname(p), t);
  }
  return undefined;
}
const isLink = (p: string): boolean => {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
};

/** One unpacked firmware package. */
export interface FirmwareTree {
  name: string;
  version: string;
  tree: string;
  index: Map<string, string>;
}

/**
 * Copy the named files (exact paths, or patterns with `*`) out of the packages into `dir`, the first
 * package in the list that has a file winning; what no package has is reported as missing.
 */
export function pickFirmware(trees: FirmwareTree[], named: Map<string, string[]>, dir: string): FirmwareReport {
  const carried = new Map<string, FirmwareReport['files'][number]>();
  const missing: FirmwareReport['missing'] = [];
  for (const [pattern, by] of [...named.entries()].sort(([a], [b]) => byBytes(a, b))) {
    const re = pattern.includes('*') ? matcher(pattern) : undefined;
    let found = false;
    for (const t of trees) {
      const alias = FIRMWARE_ALIASES[pattern];
      const hits: [string, string][] = re
        ? [...t.index.keys()].filter((k) => re.test(k)).sort().map((k) => [k, k])
        : t.index.has(pattern)
          ? [[pattern, pattern]]
          : alias !== undefined && t.index.has(alias)
            ? [[pattern, alias]]
            : [];
      for (const [rel, shipped] of hits) {
        const src = resolveIn(t.tree, t.index.get(shipped)!);
        if (!src) continue;
        found = true;
        const have = carried.get(rel);
        if (have) {
          for (const d of by) if (!have.for.includes(d)) have.for.push(d);
          continue;
        }
        const dst = join(dir, rel);
        mkdirSync(dirname(dst), { recursive: true });
        cpSync(src, dst);
        carried.set(rel, { path: rel, package: t.name, version: t.version, bytes: statSync(dst).size, for: [...by] });
      }
      if (found) break;
    }
    if (!found) missing.push({ path: pattern, for: by });
  }
  const files = [...carried.values()].sort((a, b) => byBytes(a.path, b.path));
  return { files, missing, bytes: files.reduce((n, f) => n + f.bytes, 0) };
}

/** Fetch firmware.packages, copy the named files into the work folder's firmware/ (by path under lib/firmware). */
export async function collectFirmware(ctx: Context, root: string, named: Map<string, string[]>, logFile: string): Promise<FirmwareReport> {
  const dir = ctx.ws.firmware;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const fw = ctx.plan.firmware;
  const report: FirmwareReport = { files: [], missing: [], bytes: 0 };
  if (named.size === 0) return report;
  const wanted = new Set(fw.packages);
  const fetched = await fetchPackages(root, fw.packages, (name) => wanted.has(name), {
    stage: 'firmware',
    logFile,
    unknown: (e) =>
      new StageError('firmware', `firmware.packages: apt cannot find ${fw.packages.join(', ')} in ${ctx.plan.debian.suite}${e instanceof CommandError ? `\n${e.tail}` : ''}`, {
        logPath: logFile,
        code: 'E_UNKNOWN_PACKAGE',
        exitCode: ExitCode.config,
        hint: "Debian's firmware packages are in the non-free-firmware component: keep it in debian.components, fix the name in firmware.packages, or turn firmware off (firmware.drivers: false, no firmware.files)",
        cause: e,
      }),
  });
  const picked = await withUnpacked(fetched, dir, logFile, (unpacked) => {
    // In firmware.packages' order: a file two packages have comes from the first.
    const trees: FirmwareTree[] = unpacked.map((t) => ({ ...t, index: firmwareIndex(t.tree) }));
    trees.sort((a, b) => fw.packages.indexOf(a.name) - fw.packages.indexOf(b.name));
    return pickFirmware(trees, named, dir);
  });
  const bad = picked.missing.find((m) => m.for.includes('firmware.files'));
  if (bad) {
    throw new StageError('firmware', `firmware.files: '${bad.path}' is in none of firmware.packages (${fw.packages.join(', ')})`, {
      logPath: logFile,
      code: 'E_FIRMWARE',
      exitCode: ExitCode.config,
      hint: 'add the Debian package that has it to firmware.packages (`apt-file search NAME` on a Debian machine finds it), or check the path under /lib/firmware',
    });
  }
  Object.assign(report, picked);
  return report;
}
