// A config file's YAML with its positions: parsed once (within the size and depth
// limits), then asked where a key path is, so every problem names file:line.
import { LineCounter, parseDocument, isMap as yamlIsMap, isSeq as yamlIsSeq, type Document } from 'yaml';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { MAX_CONFIG_BYTES, checkDepth, tooBig, tooDeep } from './limits.js';

/** One YAML file of a config, parsed with the positions of its nodes. */
export interface Source {
  file: string;
  doc: Document;
  lines: LineCounter;
}

export function parseSource(file: string, text: string): Source {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_CONFIG_BYTES) throw tooBig(file, bytes);
  const lines = new LineCounter();
  checkDepth(file, text);
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  } catch (e) {
    // The parser recurses per nesting level; its own guard usually catches this (below), not always.
    if (e instanceof RangeError) throw tooDeep(file);
    throw e;
  }
  const overflow = doc.errors.find((e) => /Maximum call stack size exceeded/.test(e.message));
  if (overflow) throw tooDeep(file, overflow.linePos?.[0].line, overflow.linePos?.[0].col);
  const problems: ConfigProblem[] = doc.errors.map((e) => {
    const pos = e.linePos?.[0];
    return { file, line: pos?.line, column: pos?.col, path: '', message: `YAML: ${e.message.split('\n')[0]}` };
  });
  if (problems.length > 0) throw new ConfigError(problems);
  const root = doc.contents;
  if (root !== null && !yamlIsMap(root)) {
    throw new ConfigError([{ file, line: 1, column: 1, path: '', message: 'the configuration must be a mapping of keys to values' }]);
  }
  return { file, doc, lines };
}

/** Line of the deepest node that exists along a key path, in a source. */
export function locate(src: Source, path: readonly PropertyKey[]): { line: number; column: number } | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? src.doc.contents : src.doc.getIn(path.slice(0, n) as unknown[], true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) {
      // For a key path prefer the key's own position: find the pair in the parent map.
      const pos = src.lines.linePos(range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  return undefined;
}

export function hasPath(src: Source, path: readonly PropertyKey[]): boolean {
  return path.length > 0 && src.doc.hasIn(path as unknown[]);
}

/** The source a merged value at `path` came from: the last one that sets it (or `fallback`, else the last source). */
export function ownerOf(sources: Source[], path: readonly PropertyKey[], fallback?: Source): Source {
  return [...sources].reverse().find((s) => hasPath(s, path)) ?? fallback ?? sources[sources.length - 1]!;
}

export function keyPosition(src: Source, path: readonly PropertyKey[], key: string): { line: number; column: number } | undefined {
  const parent = path.length === 0 ? src.doc.contents : src.doc.getIn(path as unknown[], true);
  if (parent && yamlIsSeq(parent) && /^\d+$/.test(key)) {
    const item = parent.items[Number(key)] as { range?: [number, number, number] } | undefined;
    if (item?.range) {
      const pos = src.lines.linePos(item.range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  if (parent && yamlIsMap(parent)) {
    for (const item of parent.items) {
      const k = item.key as { value?: unknown; range?: [number, number, number] } | null;
      if (k && String(k.value) === key && k.range) {
        const pos = src.lines.linePos(k.range[0]);
        return { line: pos.line, column: pos.col };
      }
    }
  }
  return locate(src, path);
}
