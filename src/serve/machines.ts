// `debian2docker serve --machines DIR`: one small YAML file per machine, named by its MAC address
// (52-54-00-12-34-56.yaml), for what differs from machine to machine. Checked when serve starts,
// each problem at its file:line, so a typo does not surface as a machine that boots wrong.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { keyPosition, locate, parseSource } from '../config/source.js';
import { toData } from '../config/limits.js';
import { cmdlineProblem, normaliseMac } from './ipxe.js';

export const MachineSchema = z.strictObject({
  hostname: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a valid host name (a-z, 0-9, dashes)')
    .optional()
    .describe("the machine's host name (d2d.hostname= on its kernel command line)"),
  cmdline: z
    .string()
    .superRefine((s, ctx) => {
      const p = cmdlineProblem(s);
      if (p) ctx.addIssue({ code: 'custom', message: p });
    })
    .optional()
    .describe("more kernel command line for this machine, after the build's and serve's --cmdline"),
});

export type Machine = z.infer<typeof MachineSchema>;

/** The machine files of a folder, by normalised MAC; every problem of every file in one ConfigError. */
export function loadMachines(dir: string): Map<string, Machine> {
  const out = new Map<string, Machine>();
  const problems: ConfigProblem[] = [];
  for (const f of readdirSync(dir).filter((x) => /\.ya?ml$/.test(x)).sort()) {
    const file = join(dir, f);
    const mac = normaliseMac(f.replace(/\.ya?ml$/, ''));
    if (!mac) {
      problems.push({ file, line: undefined, column: undefined, path: '', message: 'a machine file is named by the MAC address of the interface it boots from, e.g. 52-54-00-12-34-56.yaml' });
      continue;
    }
    if (out.has(mac)) {
      problems.push({ file, line: undefined, column: undefined, path: '', message: `a second file for ${mac}` });
      continue;
    }
    let src;
    try {
      src = parseSource(file, readFileSync(file, 'utf8'));
    } catch (e) {
      if (e instanceof ConfigError) problems.push(...e.problems);
      else throw e;
      continue;
    }
    const r = MachineSchema.safeParse(toData(file, src.doc, src.lines) ?? {});
    if (r.success) {
      out.set(mac, r.data);
      continue;
    }
    for (const issue of r.error.issues) {
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
      for (const k of keys) {
        const path = k === undefined ? issue.path : [...issue.path, k];
        const pos = path.length > 0 ? keyPosition(src, path.slice(0, -1), String(path[path.length - 1])) : locate(src, []);
        problems.push({ file, line: pos?.line, column: pos?.column, path: path.map(String).join('.'), message: k === undefined ? issue.message : `unknown key '${k}' (a machine file has hostname and cmdline)` });
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}

/** The command line words a machine file adds. */
export function machineCmdline(m: Machine | undefined): string {
  if (!m) return '';
  return [...(m.hostname ? [`d2d.hostname=${m.hostname}`] : []), ...(m.cmdline ? [m.cmdline.trim()] : [])].join(' ');
}
