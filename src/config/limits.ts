// Limits that keep a hostile or broken YAML file from exhausting memory or the stack: each is
// refused with a message naming the file, never an internal error. Real configs are far below
// every limit (the largest example is a few KiB, about 6 levels deep, with no aliases).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { LineCounter, Parser, isAlias, isCollection, isPair, type CST, type Document, type Node } from 'yaml';
import { ConfigError } from '../errors.js';

/**
 * 1 MiB. The whole normalised config is kept in the manifest and hashed, and YAML parsing costs
 * many times the text in memory; big contents belong in files (`source:`), not inline.
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Collections inside collections. The schema needs 5; docker.daemon may add a few of its own. */
export const MAX_DEPTH = 64;

/**
 * yaml's bound on alias expansion (maxAliasCount; its default, made explicit here): a "billion
 * laughs" file is a few lines of anchors that each repeat the one before nine times, and expands
 * to gigabytes. A config's few aliases (a shared env map) stay far below it.
 */
export const MAX_ALIAS_COUNT = 100;

const problem = (file: string, message: string, line?: number, column?: number): ConfigError =>
  new ConfigError([{ file, line, column, path: '', message }]);

export function tooBig(file: string, bytes: number): ConfigError {
  return problem(file, `the file has ${bytes} bytes: a configuration is at most ${MAX_CONFIG_BYTES} (1 MiB); put large contents in files (files: - source:)`);
}

/** Read a config file, refusing a huge one before it is read (so a multi-GiB file costs nothing). */
export function readConfigFile(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_CONFIG_BYTES) throw tooBig(file, size);
    // Read at most one byte more than the limit: a file that grows, or a pipe, is caught too.
    const buf = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let n = 0;
    for (let r; n < buf.length && (r = readSync(fd, buf, n, buf.length - n, null)) > 0; ) n += r;
    if (n > MAX_CONFIG_BYTES) throw tooBig(file, n);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

export function tooDeep(file: string, line?: number, column?: number): ConfigError {
  return problem(file, `YAML nested more than ${MAX_DEPTH} levels deep: refused (a configuration needs fewer than 10)`, line, column);
}

/**
 * Refuse nesting deeper than MAX_DEPTH, at the line where it gets too deep. This reads yaml's
 * concrete syntax tree, which its parser builds without recursion, before the document is composed
 * (composing recurses once per level and would run out of stack first); the walk is iterative too.
 */
export function checkDepth(file: string, text: string): void {
  const lines = new LineCounter();
  type Tok = CST.Token | null | undefined;
  const stack: { tok: Tok; depth: number }[] = [];
  for (const tok of new Parser(lines.addNewLine).parse(text)) stack.push({ tok, depth: 0 });
  while (stack.length > 0) {
    const { tok, depth } = stack.pop()!;
    if (!tok) continue;
    if (tok.type === 'document') {
      stack.push({ tok: tok.value, depth });
    } else if (tok.type === 'block-map' || tok.type === 'block-seq' || tok.type === 'flow-collection') {
      if (depth >= MAX_DEPTH) {
        const pos = lines.linePos(tok.offset);
        throw tooDeep(file, pos.line, pos.col);
      }
      for (const item of tok.items as { key?: Tok; value?: Tok }[]) stack.push({ tok: item.key, depth: depth + 1 }, { tok: item.value, depth: depth + 1 });
    }
  }
}

/** The document as plain data, with alias expansion bounded; a bomb is named at its first alias. */
export function toData(file: string, doc: Document, lines: LineCounter): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    if (!(e instanceof ReferenceError) || !/alias/i.test(e.message)) throw e;
    const alias = firstAlias(doc.contents);
    const pos = alias?.range ? lines.linePos(alias.range[0]) : undefined;
    throw problem(
      file,
      `YAML aliases expand to too much data (more than ${MAX_ALIAS_COUNT} copies${alias ? `, e.g. *${alias.source}` : ''}): refused, as a "billion laughs" file would exhaust memory`,
      pos?.line,
      pos?.col,
    );
  }
}

function firstAlias(root: unknown): (Node & { source: string }) | undefined {
  const stack: unknown[] = [root];
  let found: (Node & { source: string }) | undefined;
  while (stack.length > 0) {
    const node = stack.pop();
    if (isAlias(node)) {
      if (!found || (node.range?.[0] ?? Infinity) < (found.range?.[0] ?? Infinity)) found = node;
    } else if (isCollection(node)) {
      for (const item of node.items as unknown[]) stack.push(...(isPair(item) ? [item.key, item.value] : [item]));
    }
  }
  return found;
}
