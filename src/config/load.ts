// Loading a config: parse YAML keeping positions -> merge over the embedded
// default -> strict schema. Every problem is reported with key path and file:line.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { DEFAULT_CONFIG } from '../paths.js';
import { ConfigSchema, type Config } from './schema.js';
import { merge, type Json } from './merge.js';
import { suggest } from './suggest.js';
import { declaredTags, imageUsers } from './images.js';
import { checkKernelFiles, desktopKernel, replaceKernelSource, resolveKernelPaths } from './kernelSource.js';
import { crossRules } from './rules.js';
import { readConfigFile, toData } from './limits.js';
import { keyPosition, locate, ownerOf, parseSource, type Source } from './source.js';
import { passphraseFileProblem } from '../plan/wifi.js';

export interface LoadedConfig {
  config: Config;
  /** sha256 of the normalised config (canonical JSON). */
  hash: string;
  /** The files the config came from, default first. */
  sources: string[];
}

function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let schema: z.ZodType = ConfigSchema;
  for (const p of path) {
    const def = (schema as unknown as { def?: { type?: string; shape?: Record<string, z.ZodType>; in?: z.ZodType } }).def;
    if (def?.type === 'pipe' && def.in) schema = def.in;
    const shape = (schema as unknown as { shape?: Record<string, z.ZodType> }).shape;
    const next = shape?.[String(p)];
    if (!next) return [];
    schema = next;
  }
  const shape = (schema as unknown as { shape?: Record<string, z.ZodType> }).shape;
  return shape ? Object.keys(shape) : [];
}

function toProblems(err: z.ZodError, sources: Source[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of err.issues) {
    // The value at fault comes from the last source that sets it (user over default).
    const src = ownerOf(sources, issue.path);
    const dotted = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const owner = ownerOf(sources, [...issue.path, key], src);
        const near = suggest(key, knownKeysAt(issue.path));
        const pos = keyPosition(owner, issue.path, key);
        problems.push({
          file: owner.file,
          line: pos?.line,
          column: pos?.column,
          path: dotted === '' ? key : `${dotted}.${key}`,
          message: `unknown key '${key}'${near ? ` (did you mean '${near}'?)` : ''}`,
        });
      }
      continue;
    }
    const pos = issue.path.length > 0 ? keyPosition(src, issue.path.slice(0, -1), String(issue.path[issue.path.length - 1])) : locate(src, []);
    let message = issue.message;
    if (issue.code === 'invalid_type' && /received undefined/.test(message)) message = 'is required';
    problems.push({ file: src.file, line: pos?.line, column: pos?.column, path: dotted, message });
  }
  return problems;
}

export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Paths in a config file are relative to that file: make them absolute before merging. */
function resolvePaths(js: Json, file: string): Json {
  const base = dirname(resolve(file));
  const abs = (p: unknown): unknown => (typeof p === 'string' && !isAbsolute(p) ? resolve(base, p) : p);
  const o = js as { files?: { source?: unknown }[]; hooks?: Record<string, unknown[]>; images?: { tarball?: unknown }[] };
  if (Array.isArray(o?.files)) for (const f of o.files) if (f && typeof f === 'object' && 'source' in f) f.source = abs(f.source);
  if (Array.isArray(o?.images)) for (const im of o.images) if (im && typeof im === 'object' && 'tarball' in im) im.tarball = abs(im.tarball);
  const deb = (js as { debian?: { sources?: { key?: unknown }[] } })?.debian;
  if (Array.isArray(deb?.sources)) for (const src of deb.sources) if (src && typeof src === 'object' && 'key' in src) src.key = abs(src.key);
  if (o?.hooks && typeof o.hooks === 'object') {
    for (const list of Object.values(o.hooks)) {
      if (Array.isArray(list)) for (const h of list) if (h && typeof h === 'object' && 'file' in h) (h as { file: unknown }).file = abs((h as { file: unknown }).file);
    }
  }
  const wifi = (js as { wifi?: { networks?: Record<string, unknown>[] } })?.wifi;
  if (Array.isArray(wifi?.networks)) for (const n of wifi.networks) if (n && typeof n === 'object' && 'passphrase-file' in n) n['passphrase-file'] = abs(n['passphrase-file']);
  resolveKernelPaths(js, abs);
  return js;
}

/** Rules the schema cannot check: referenced host files exist; entries that clash with each other on the machine. */
function checkFiles(config: Config, sources: Source[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const at = (path: (string | number)[], message: string): void => {
    const src = ownerOf(sources, path);
    const pos = keyPosition(src, path.slice(0, -1), String(path[path.length - 1]));
    problems.push({ file: src.file, line: pos?.line, column: pos?.column, path: path.join('.'), message });
  };
  config.files.forEach((f, i) => {
    if (f.source !== undefined && !existsSync(f.source)) at(['files', i, 'source'], `no such file or folder: ${f.source}`);
  });
  for (const [point, list] of Object.entries(config.hooks)) {
    list.forEach((h, i) => {
      if (typeof h !== 'string' && !existsSync(h.file)) at(['hooks', point, i, 'file'], `no such script: ${h.file}`);
    });
  }
  config.debian.sources.forEach((src, i) => {
    if (!existsSync(src.key)) at(['debian', 'sources', i, 'key'], `no such key file: ${src.key}`);
    else if (!/-----BEGIN PGP PUBLIC KEY BLOCK-----/.test(readFileSync(src.key, 'latin1'))) {
      at(['debian', 'sources', i, 'key'], `${src.key} is not an ASCII-armored OpenPGP public key (gpg --armor --export KEYID > key.asc)`);
    }
  });
  config.images.forEach((im, i) => {
    if ('tarball' in im && !existsSync(im.tarball)) at(['images', i, 'tarball'], `no such file: ${im.tarball}`);
  });
  // A service runs a preloaded image. Tags inside tarballs are only known at build time (checked then).
  const known = declaredTags(config.images);
  if (!config.images.some((im) => 'tarball' in im)) {
    for (const u of imageUsers(config.services, config.desktop.sessions)) {
      if (!known.includes(u.image)) at(u.path, `'${u.image}' is not a preloaded image${known.length ? ` (images: ${known.join(', ')})` : ' (images: is empty)'}`);
    }
  }
  config.wifi.networks.forEach((n, i) => {
    const f = n['passphrase-file'];
    if (f === undefined) return;
    const problem = passphraseFileProblem(f);
    if (problem) at(['wifi', 'networks', i, 'passphrase-file'], problem);
  });
  for (const p of checkKernelFiles(config.kernel)) at(p.path, p.message);
  for (const p of crossRules(config)) at(p.path, p.message);
  return problems;
}

/** The chain of files a config extends, root-most first, ending with `src` itself. */
function extendsChain(src: Source, seen: string[]): Source[] {
  const ext = src.doc.get('extends');
  if (ext === undefined || ext === null || ext === 'default') return [src];
  const problem = (message: string): ConfigError => {
    const pos = keyPosition(src, [], 'extends');
    return new ConfigError([{ file: src.file, line: pos?.line, column: pos?.column, path: 'extends', message }]);
  };
  if (typeof ext !== 'string') throw problem("must be a file name or 'default'");
  const parent = resolve(dirname(resolve(src.file)), ext);
  if (seen.includes(parent)) throw problem(`extends itself: ${[...seen, parent].join(' -> ')}`);
  let text: string;
  try {
    text = readConfigFile(parent);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw problem(`no such file: ${parent}`);
  }
  return [...extendsChain(parseSource(parent, text), [...seen, parent]), src];
}

/** Load from text (used by tests and by loadConfig). `file` names the source in messages. */
export function loadConfigText(text: string | undefined, file = '<config>'): LoadedConfig {
  const base = parseSource(DEFAULT_CONFIG, readFileSync(DEFAULT_CONFIG, 'utf8'));
  const sources: Source[] = [base];
  if (text !== undefined) sources.push(...extendsChain(parseSource(file, text), [resolve(file)]));
  let merged: Json = {};
  for (const s of sources) {
    const js = (toData(s.file, s.doc, s.lines) ?? {}) as Record<string, Json>;
    delete js.extends; // consumed here; not part of the merged config
    merged = merge(replaceKernelSource(merged, js), resolvePaths(js, s.file));
  }
  merged = desktopKernel(merged, ownerOf(sources, ['kernel', 'build']) === base);
  const result = ConfigSchema.safeParse(merged);
  if (!result.success) throw new ConfigError(toProblems(result.error, sources));
  const config = result.data;
  const fileProblems = checkFiles(config, sources);
  if (fileProblems.length > 0) throw new ConfigError(fileProblems);
  const hash = createHash('sha256').update(canonicalJson(config)).digest('hex');
  return { config, hash, sources: sources.map((s) => s.file) };
}

/** Load a config file, or the embedded default when no file is given. */
export function loadConfig(file: string | undefined): LoadedConfig {
  if (file === undefined) return loadConfigText(undefined);
  let text: string;
  try {
    text = readConfigFile(file);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError([{ file, line: undefined, column: undefined, path: '', message: code === 'ENOENT' ? 'no such file' : `cannot read: ${code}` }]);
  }
  return loadConfigText(text, file);
}
