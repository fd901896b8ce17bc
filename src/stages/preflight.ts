// Stage "preflight": every host tool a build (or a VM run) needs is there,
// before anything starts. One message lists all that are missing and the one
// apt-get line that installs them.
import { existsSync } from 'node:fs';
import { MissingToolError } from '../errors.js';
import { HOST_TOOLS, type HostTool } from '../tools/hosttools.js';
import { which } from '../tools/exec.js';

export interface ToolStatus extends HostTool {
  found: boolean;
}

/** Tools only some configs need: zstd (zstd compression, preloaded images), skopeo (registry images). */
export interface ConditionalTools {
  zstd?: boolean;
  skopeo?: boolean;
}

export async function checkTools(needed: readonly HostTool['needed'][], opts: ConditionalTools = {}): Promise<ToolStatus[]> {
  const res: ToolStatus[] = [];
  for (const t of HOST_TOOLS) {
    if (!needed.includes(t.needed)) continue;
    if (t.tool === 'zstd' && !opts.zstd) continue;
    if (t.tool === 'skopeo' && !opts.skopeo) continue;
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
