// Kconfig fragments and .config files: what a fragment asks for, and whether the
// kernel's final .config kept it. Kconfig drops a symbol whose dependencies are
// unmet without a word (merge_config.sh in 6.12 only warns), so the kernel build
// compares every requested line with the result and fails naming the option.

/** One `CONFIG_X=value` or `# CONFIG_X is not set` line of a fragment. */
export interface KconfigRequest {
  symbol: string; // without the CONFIG_ prefix
  value: string; // 'y', 'm', 'n' (is not set), a number or a string without its quotes
  file: string;
  line: number;
}

// A value is a tristate, a number or a quoted string: nothing after it (a comment there would be part of the value).
const SET = /^CONFIG_([A-Za-z0-9_]+)=(y|m|n|-?\d+|0x[0-9a-fA-F]+|"(?:[^"\\]|\\.)*")$/;
const UNSET = /^# CONFIG_([A-Za-z0-9_]+) is not set$/;

function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1).replace(/\\"/g, '"').replace(/\\\\/g, '\\') : v;
}

/**
 * The requests of a fragment. Other comments and blank lines are skipped; anything else is
 * an error naming file:line (a value followed by a comment, a typo in CONFIG_), since
 * merge_config.sh would pass it on and Kconfig would quietly ignore it.
 */
export function parseFragment(text: string, file: string): KconfigRequest[] {
  const out: KconfigRequest[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const set = SET.exec(line);
    if (set) {
      out.push({ symbol: set[1]!, value: unquote(set[2]!), file, line: i + 1 });
      return;
    }
    const unset = UNSET.exec(line);
    if (unset) {
      out.push({ symbol: unset[1]!, value: 'n', file, line: i + 1 });
      return;
    }
    if (line.startsWith('#') && !/^#\s*CONFIG_/.test(line)) return;
    throw new Error(`${file}:${i + 1}: not a Kconfig line: '${line}' (expected CONFIG_NAME=value, '# CONFIG_NAME is not set' or a comment on its own line)`);
  });
  return out;
}

/** A .config as symbol -> value ('n' for "is not set"; absent symbols are not in the map). */
export function parseDotConfig(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const set = SET.exec(line);
    if (set) m.set(set[1]!, unquote(set[2]!));
    else {
      const unset = UNSET.exec(line);
      if (unset) m.set(unset[1]!, 'n');
    }
  }
  return m;
}

export interface KconfigMismatch extends KconfigRequest {
  got: string; // the final value, 'n' when off or absent
}

/** The requests the final .config does not honour. A later request for the same symbol overrides an earlier one. */
export function unmetRequests(requests: readonly KconfigRequest[], dotConfig: Map<string, string>): KconfigMismatch[] {
  const last = new Map<string, KconfigRequest>();
  for (const r of requests) last.set(r.symbol, r);
  const out: KconfigMismatch[] = [];
  for (const r of last.values()) {
    const got = dotConfig.get(r.symbol) ?? 'n';
    if (got !== r.value) out.push({ ...r, got });
  }
  return out.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

/** The symbols built as modules: a tailored kernel has none unless the config asks. */
export function modularSymbols(dotConfig: Map<string, string>): string[] {
  return [...dotConfig].filter(([, v]) => v === 'm').map(([k]) => k).sort();
}
