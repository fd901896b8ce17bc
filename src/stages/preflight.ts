// Stage "preflight": every host tool a build (or a VM run) needs is there,
// before anything starts. One message lists all that are missing and the one
// apt-get line that installs them.
import { existsSync } from 'node:fs';
import { MissingToolError } from '../errors.js';
import { HOST_TOOLS, type HostTool } from '../exec/hosttools.js';
import { run, which } from '../exec/run.js';
import { D2DError, ExitCode } from '../errors.js';
import { aptVersionArgv } from '../tools/apt.js';

export interface ToolStatus extends HostTool {
  found: boolean;
}

/** Tools only some configs need: zstd (zstd compression, preloaded images), skopeo (registry images). */
export interface ConditionalTools {
  zstd?: boolean;
  skopeo?: boolean;
  /** sbsign and openssl: boot.secure-boot with a kernel Debian did not sign (stages/mok.ts). */
  sign?: boolean;
}

export async function checkTools(needed: readonly HostTool['needed'][], opts: ConditionalTools = {}): Promise<ToolStatus[]> {
  const res: ToolStatus[] = [];
  for (const t of HOST_TOOLS) {
    if (!needed.includes(t.needed)) continue;
    if (t.tool === 'zstd' && !opts.zstd) continue;
    if (t.tool === 'skopeo' && !opts.skopeo) continue;
    if ((t.tool === 'sbsign' || t.tool === 'openssl') && !opts.sign) continue;
    const found = t.file !== undefined ? existsSync(t.file) : (await which(t.tool)) !== undefined;
    res.push({ ...t, found });
  }
  return res;
}

export async function preflight(needed: readonly HostTool['needed'][], opts: ConditionalTools = {}): Promise<void> {
  const missing = (await checkTools(needed, opts)).filter((t) => !t.found);
  const [first, ...rest] = missing;
  if (first) throw new MissingToolError(first.tool, first.pkg, rest.map((t) => ({ tool: t.tool, pkg: t.pkg })));
}

/** "apt 2.6.1 (amd64)" -> [2, 6, 1]. */
export function aptVersion(out: string): number[] | undefined {
  const m = /^apt (\d+)\.(\d+)(?:\.(\d+))?/m.exec(out);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

/**
 * debian.snapshot relies on APT's snapshot support (APT >= 2.7, Debian 13): mmdebstrap runs the
 * host's apt. An older apt would ignore the option and silently install today's packages.
 */
export async function checkSnapshotSupport(): Promise<void> {
  const out = (await run(aptVersionArgv(), { capture: true })).stdout;
  const v = aptVersion(out);
  if (!v || v[0]! < 2 || (v[0] === 2 && v[1]! < 7)) {
    throw new D2DError('E_APT_TOO_OLD', `debian.snapshot needs APT 2.7 or newer on the build host; this one has ${v ? v.join('.') : 'an unknown version'}`, {
      exitCode: ExitCode.missingTool,
      hint: 'build on Debian 13 (trixie) or newer, or with `debian2docker build --in-docker` (its builder has trixie\'s APT)',
    });
  }
}
