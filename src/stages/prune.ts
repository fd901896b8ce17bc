// Stage "prune" (inside the hook, just before packing): remove the paths and
// packages listed in src/plan/prune.ts, recording what each one was and its size.
// A package is removed only if nothing that stays needs one of its files
// (read from the files themselves: ELF interpreter and libraries, #! lines).
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { PRUNE_RULES, type PrunePackage, type PruneRule } from '../plan/prune.js';
import { fileNeeds, type Needs } from '../formats/elf.js';
import { keepPath } from './pack.js';

/** Bytes of a file, or of everything under a folder. */
function treeBytes(p: string): number {
  const st = lstatSync(p);
  if (!st.isDirectory()) return st.size;
  return readdirSync(p).reduce((n, e) => n + treeBytes(join(p, e)), 0);
}

export interface Pruned {
  path: string;
  bytes: number;
  why: string;
}

export interface KeptPackage {
  name: string;
  because: string;
}

/** Where the image's dynamic linker looks for libraries (Debian amd64, merged /usr). */
const LIB_DIRS = ['usr/lib/x86_64-linux-gnu', 'usr/lib', 'usr/lib64'];
const PATH_DIRS = ['usr/local/sbin', 'usr/local/bin', 'usr/sbin', 'usr/bin'];

/**
 * Follow a path inside root (absolute symlink targets are relative to root), returning every path
 * visited, relative to root, the last being the real file; undefined if it does not exist.
 */
export function resolveInRoot(root: string, rel: string): string[] | undefined {
  const seen: string[] = [];
  let parts = posix.normalize(rel.replace(/^\/+/, '')).split('/');
  let done: string[] = [];
  for (let hops = 0; parts.length > 0 && hops < 64; ) {
    const cur = [...done, parts[0]!].join('/');
    parts = parts.slice(1);
    let st;
    try {
      st = lstatSync(join(root, cur));
    } catch {
      return undefined;
    }
    if (st.isSymbolicLink()) {
      hops++;
      seen.push(cur);
      const target = readlinkSync(join(root, cur));
      const base = target.startsWith('/') ? [] : done;
      parts = posix.normalize([...base, target.replace(/^\/+/, ''), ...parts].join('/')).split('/').filter((p) => p !== '' && p !== '.');
      done = [];
      // ".." at the start of a normalised path cannot leave root.
      while (parts[0] === '..') parts.shift();
      continue;
    }
    done = cur.split('/');
  }
  const real = done.join('/');
  seen.push(real);
  return seen;
}

/** Every path (relative to root) that file rel needs to run, symlinks on the way included. */
export function needsOf(root: string, rel: string): string[] {
  const size = lstatSync(join(root, rel)).size;
  return resolveNeeds(root, fileNeeds(join(root, rel), size));
}

/** The paths (relative to root) that satisfy what a file needs, symlinks on the way included. */
export function resolveNeeds(root: string, n: Needs): string[] {
  const found: string[] = [];
  for (const alternatives of needGroups(n)) {
    // The first alternative that exists satisfies the need (the dynamic linker's and PATH's order).
    for (const c of alternatives) {
      const r = resolveInRoot(root, c);
      if (r) {
        found.push(...r);
        break;
      }
    }
  }
  return found;
}

/** Each thing a file needs, as the paths it may be found at, in the order they are tried. */
function needGroups(n: Needs): string[][] {
  if (n.kind === 'elf') return [...(n.interp ? [[n.interp]] : []), ...n.needed.map((lib) => LIB_DIRS.map((d) => `${d}/${lib}`))];
  if (n.kind === 'script') {
    // "#!/usr/bin/env perl": the program is the first argument, found on PATH.
    const viaEnv = /\/env$/.test(n.interp) && n.args[0] && !n.args[0].startsWith('-');
    return [[n.interp], ...(viaEnv ? [PATH_DIRS.map((d) => `${d}/${n.args[0]}`)] : [])];
  }
  return [];
}

/**
 * Files (not folders) a package installed, from dpkg's list, relative to root. Their folders are resolved
 * (a list may say /bin/x where /bin links to /usr/bin), so paths compare with what needsOf returns.
 */
export function packageFiles(root: string, name: string): string[] {
  const info = join(root, 'var/lib/dpkg/info');
  const list = [`${name}.list`, `${name}:amd64.list`].map((f) => join(info, f)).find((f) => existsSync(f));
  if (!list) return [];
  const out = new Set<string>();
  for (const line of readFileSync(list, 'utf8').split('\n')) {
    const l = line.replace(/^\/+/, '');
    if (l === '' || l === '.') continue;
    const dir = posix.dirname(l) === '.' ? [''] : resolveInRoot(root, posix.dirname(l));
    if (!dir) continue; // excluded by dpkg's path-exclude, or removed already
    const real = [dir[dir.length - 1], posix.basename(l)].filter((x) => x !== '').join('/');
    try {
      if (!lstatSync(join(root, real)).isDirectory()) out.add(real);
    } catch {
      /* not there */
    }
  }
  return [...out];
}

/** Every file and symlink the image will hold (relative to root), except folders: what pack keeps. */
export function allFiles(root: string, dir = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const rel = dir === '' ? e.name : `${dir}/${e.name}`;
    // Not into /proc, /sys, /dev (mounted during the build), nor anything else pack leaves out.
    if (!keepPath(rel) || (e.isDirectory() && !keepPath(`${rel}/x`))) continue;
    if (e.isDirectory()) out.push(...allFiles(root, rel));
    else out.push(rel);
  }
  return out;
}

/**
 * Decide which of the candidate packages can go: start with all of them removed and keep any package one of
 * whose files is needed by a file that stays; repeat until nothing changes (a kept package's own needs count).
 */
export function choosePackages(root: string, candidates: readonly PrunePackage[], extra: readonly ExtraNeeds[] = []): { remove: Map<string, string[]>; kept: KeptPackage[] } {
  const owner = new Map<string, string>();
  const files = new Map<string, string[]>();
  for (const c of candidates) {
    const fs = packageFiles(root, c.name);
    if (fs.length === 0) continue; // not installed
    files.set(c.name, fs);
    for (const f of fs) owner.set(f, c.name);
  }
  const removed = new Set(files.keys());
  const kept: KeptPackage[] = [];
  const keep = (who: string, needs: string[], next: string[]): void => {
    for (const need of needs) {
      const pkg = owner.get(need);
      if (pkg && removed.has(pkg)) {
        removed.delete(pkg);
        kept.push({ name: pkg, because: `${who} needs /${need}` });
        next.push(...files.get(pkg)!);
      }
    }
  };
  let queue: string[] = [];
  // Files that are not in the root yet (the files layer, added after packing) count as staying.
  for (const e of extra) keep(`/${e.path} (files layer)`, resolveNeeds(root, e.needs), queue);
  queue.push(...allFiles(root).filter((f) => !removed.has(owner.get(f) ?? '')));
  while (queue.length > 0) {
    const next: string[] = [];
    for (const f of queue) {
      let st;
      try {
        st = lstatSync(join(root, f));
      } catch {
        continue;
      }
      if (!st.isFile()) continue;
      keep(`/${f}`, needsOf(root, f), next);
    }
    queue = next;
  }
  return { remove: new Map([...removed].map((p) => [p, files.get(p)!])), kept };
}

function removePath(root: string, rel: string, why: string): Pruned | undefined {
  let bytes: number;
  try {
    bytes = treeBytes(join(root, rel));
  } catch {
    return undefined; // not in this image (another engine version or package set)
  }
  rmSync(join(root, rel), { force: true, recursive: true });
  return { path: `/${rel}`, bytes, why };
}

/** What a file that is not in the root needs: it keeps the packages that satisfy it. */
export interface ExtraNeeds {
  path: string;
  needs: Needs;
}

export interface PruneResult {
  pruned: Pruned[];
  keptPackages: KeptPackage[];
  /** The files that went with whole packages (relative to root): what the stage cache checks a files layer against. */
  packageFiles: string[];
}

/** Where a file's needs may be found (relative to root; /bin, /lib are /usr's on a merged-/usr system). */
export function needCandidates(n: Needs): string[] {
  return needGroups(n)
    .flat()
    .map((p) => p.replace(/^\/+/, '').replace(/^(bin|sbin|lib|lib64)\//, 'usr/$1/'));
}

export function prune(root: string, rules: readonly PruneRule[] = PRUNE_RULES, packages: readonly PrunePackage[] = [], extra: readonly ExtraNeeds[] = []): PruneResult {
  const out: Pruned[] = [];
  for (const r of rules) {
    const p = removePath(root, r.path, r.why);
    if (p) out.push(p);
    if (p && r.linkTo !== undefined) symlinkSync(r.linkTo, join(root, r.path));
  }
  const { remove, kept } = choosePackages(root, packages, extra);
  const packageFiles: string[] = [];
  for (const pkg of packages) {
    const fs = remove.get(pkg.name);
    if (!fs) continue;
    packageFiles.push(...fs);
    let bytes = 0;
    for (const f of fs) {
      bytes += lstatSync(join(root, f)).size;
      rmSync(join(root, f), { force: true });
    }
    // Folders the package alone used are left empty: remove those.
    for (const d of [...new Set(fs.map((f) => dirname(f)))].sort((a, b) => b.length - a.length)) {
      try {
        if (readdirSync(join(root, d)).length === 0) rmSync(join(root, d), { recursive: true });
      } catch {
        /* gone already */
      }
    }
    out.push({ path: `package ${pkg.name} (${fs.length} files)`, bytes, why: pkg.why });
    for (const extra of pkg.alsoPaths ?? []) {
      const p = removePath(root, extra, `with package ${pkg.name}`);
      if (p) out.push(p);
    }
  }
  return { pruned: out, keptPackages: kept, packageFiles: packageFiles.sort() };
}
