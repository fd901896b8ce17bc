// Run by the kernel build's hook (src/stages/kernelBuild.ts) between configuring and compiling:
// `node kernel-verify.js DIR`. Kconfig drops an option whose dependencies are unmet without a
// word, so every line of every fragment (DIR/fragments.json names them in merge order) must hold
// in DIR/linux/.config; otherwise this prints the options that did not survive, with the
// fragment's file:line, after ERROR_MARKER, and the hook fails before minutes of compiling.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDotConfig, parseFragment, unmetRequests } from './formats/kconfig.js';
import { ERROR_MARKER, type InsideError } from './insideProtocol.js';
import { ExitCode } from './errors.js';

/** DIR/fragments.json: the copied fragment files in merge order, each with the name to show for it. */
export interface FragmentIndex {
  file: string; // file name in DIR/fragments
  name: string; // where it came from: target/kernel/NAME.config, or the user's path
  user: boolean;
}

function main(): void {
  const [dir] = process.argv.slice(2);
  if (!dir) throw new Error('usage: kernel-verify.js DIR');
  const index = JSON.parse(readFileSync(join(dir, 'fragments.json'), 'utf8')) as FragmentIndex[];
  const requests = index.flatMap((f) => parseFragment(readFileSync(join(dir, 'fragments', f.file), 'utf8'), f.name));
  const unmet = unmetRequests(requests, parseDotConfig(readFileSync(join(dir, 'linux/.config'), 'utf8')));
  if (unmet.length === 0) {
    process.stdout.write(`kernel configuration: all ${requests.length} requested options hold\n`);
    return;
  }
  const user = new Set(index.filter((f) => f.user).map((f) => f.name));
  const byUser = unmet.some((m) => user.has(m.file));
  const lines = unmet.map((m) => `${m.file}:${m.line}: CONFIG_${m.symbol}=${m.value} requested, the configuration has ${m.got === 'n' ? 'it off' : `=${m.got}`}`);
  const report: InsideError = {
    code: 'E_KERNEL_CONFIG',
    stage: 'kernel-build',
    message: `the kernel configuration lost ${unmet.length} requested option(s) (unmet dependencies):\n  ${lines.join('\n  ')}`,
    hint: byUser
      ? "an option needs others on first: see its 'depends on' in the kernel's Kconfig (or `make menuconfig`'s help) and add them to your fragment"
      : "debian2docker's own fragments (target/kernel) do not fit this kernel source: report it, or choose another kernel.build",
    exitCode: byUser ? ExitCode.config : ExitCode.stage,
  };
  process.stderr.write(`${ERROR_MARKER}${JSON.stringify(report)}\n`);
  process.exit(1);
}

main();
