// Sizes as people type them on the command line: install --size, build --disk-size.
import { D2DError, ExitCode } from './errors.js';

/** "8G", "512M", "1GiB", "2048" (MiB) -> bytes; `option` names the flag in the error. */
export function parseSize(s: string, option = '--size'): number {
  const m = /^(\d+)([KMGT]?)(i?B)?$/i.exec(s.trim());
  if (!m) throw new D2DError('E_USAGE', `${option} must be a size such as 8G or 512M, got '${s}'`, { exitCode: ExitCode.usage });
  const unit = { '': 2 ** 20, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  return Number(m[1]) * unit;
}
