// Stage "layer": the config's `files`, as the last few entries of the root file
// system's archive. The root stage packs everything else and stops just before
// the sentinel that stage 1 checks; this stage writes the files' entries, then
// that sentinel and the trailer, as one more compressed stream, and appends it.
// Stage 1 decodes each stream into its own piece of that one archive and
// unpacks the pieces in order (src/stages/initrd.ts). Changing a file then costs this stage only: the root stage comes
// from the stage cache (src/pipeline/stagecache.ts), and a cached build and a
// full one write the same bytes because both assemble the payload this way.
//
// Not when the config has before-pack hooks: they may read or change the files,
// so the files are put into the root before them, as part of the root stage.
// The build's identity (its config hash, name and volume label: identityFiles in
// src/render/settings.ts) is always written here, first: the root stage's key
// leaves those out, so one cached root serves every config that differs in them.
import { appendFileSync, copyFileSync, lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpioEntries, S_IFDIR, S_IFLNK, S_IFREG, type CpioEntry } from '../formats/cpio.js';
import { dataNeeds } from '../formats/elf.js';
import { StageError } from '../errors.js';
import { run } from '../exec/run.js';
import { compressArgv, XZ_REST_DICT } from '../tools/compress.js';
import type { Context } from '../context.js';
import type { BuildPlan } from '../plan/plan.js';
import type { ExtraNeeds } from './prune.js';
import { identityFiles } from '../render/settings.js';

/** Whether the files go into the layer (true) or into the root before the before-pack hooks (false). */
export function filesInLayer(plan: Pick<BuildPlan, 'hooks'>): boolean {
  return plan.hooks['before-pack'].length === 0;
}

interface LayerItem {
  name: string;
  mode: number;
  data: Buffer;
  index: number; // which files[] entry it comes from (-1: the build's identity)
}

/** A host file or folder tree as entries named under `name`, in byte order (the folder first). */
function hostTree(src: string, name: string, index: number): LayerItem[] {
  const st = lstatSync(src);
  if (st.isSymbolicLink()) return [{ name, mode: S_IFLNK | 0o777, data: Buffer.from(readlinkSync(src)), index }];
  if (st.isDirectory()) {
    const kids = readdirSync(src).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    return [{ name, mode: S_IFDIR | (st.mode & 0o7777), data: Buffer.alloc(0), index }, ...kids.flatMap((k) => hostTree(join(src, k), `${name}/${k}`, index))];
  }
  if (st.isFile()) return [{ name, mode: S_IFREG | (st.mode & 0o7777), data: readFileSync(src), index }];
  return []; // sockets, devices, fifos: not copied
}

/** Every entry the config's files make, in config order; a later entry for the same path wins at unpack. */
export function layerItems(files: BuildPlan['files']): LayerItem[] {
  return files.flatMap((f, index) => {
    const name = f.path.replace(/^\/+/, '').replace(/\/+$/, '');
    // A symlinked source is followed (its target's contents go in), as a copy would; links inside a folder stay links.
    const items = f.content !== undefined ? [{ name, mode: S_IFREG | 0o644, data: Buffer.from(f.content), index }] : hostTree(realpathSync(f.source!), name, index);
    if (f.mode !== undefined && items[0]) items[0].mode = (items[0].mode & 0o170000) | parseInt(f.mode, 8);
    return items;
  });
}

/** What the layer's programs and scripts need: the prune stage keeps the packages that provide it. */
export function layerNeeds(files: BuildPlan['files']): ExtraNeeds[] {
  return layerItems(files)
    .filter((it) => (it.mode & 0o170000) === S_IFREG)
    .map((it) => ({ path: it.name, needs: dataNeeds(it.data) }))
    .filter((e) => e.needs.kind !== 'none');
}

/** name -> id from the image's passwd or group file. */
function idTable(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && f[0]) m.set(f[0], Number(f[2]));
  }
  return m;
}

type LayerPlan = Pick<BuildPlan, 'files' | 'sourceDateEpoch' | 'name' | 'configHash' | 'iso' | 'debian'>;

/**
 * The layer's entries: the build's identity, then the config's files when they are layered (`files`
 * false: they went into the root before its before-pack hooks). Missing parent folders come first,
 * owners are looked up in the image's own passwd/group.
 */
export function layerEntries(plan: LayerPlan, base: { paths: Set<string>; passwd: string; group: string }, files = true): CpioEntry[] {
  const users = idTable(base.passwd);
  const groups = idTable(base.group);
  const made = new Set<string>();
  const out: CpioEntry[] = [];
  const mtime = plan.sourceDateEpoch;
  const identity = identityFiles(plan).map((f) => ({ name: f.path, mode: S_IFREG | f.mode, data: Buffer.from(f.text), index: -1 }));
  for (const it of [...identity, ...(files ? layerItems(plan.files) : [])]) {
    const f = it.index >= 0 ? plan.files[it.index] : undefined;
    const parts = it.name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (base.paths.has(dir) || made.has(dir)) continue;
      made.add(dir);
      out.push({ name: dir, mode: S_IFDIR | 0o755, uid: 0, gid: 0, mtime, data: Buffer.alloc(0) });
    }
    made.add(it.name);
    let uid = 0;
    let gid = 0;
    if (f?.owner !== undefined) {
      const [u, g] = f.owner.split(':');
      const user = users.get(u!);
      const group = g !== undefined ? groups.get(g) : undefined;
      if (user === undefined || (g !== undefined && group === undefined)) {
        throw new StageError('files', `files[${it.index}]: cannot set owner '${f.owner}' on ${f.path}: no ${user === undefined ? `user '${u}'` : `group '${g}'`} in the image`, {
          hint: 'add the user or group in an after-packages hook, or install the package that creates it',
        });
      }
      uid = user;
      gid = group ?? 0;
    }
    out.push({ name: it.name, mode: it.mode, uid, gid, mtime, data: it.data });
  }
  return out;
}

/**
 * Write the layer stream and append it to the root stage's payload. Returns the number of entries and
 * bytes the layer added to the (uncompressed) archive, and its regular files' sizes for the manifest.
 */
export async function buildLayer(ctx: Context, basePayload: string, entryCount: number, logFile: string): Promise<{ payload: string; entries: number; bytes: number; sizes: { path: string; bytes: number }[]; stream: number }> {
  const dir = ctx.ws.dir;
  const entries = layerEntries(
    ctx.plan,
    {
      paths: new Set(readFileSync(ctx.ws.rootList, 'utf8').split('\n').filter((l) => l !== '')),
      passwd: readFileSync(ctx.ws.rootPasswd, 'utf8'),
      group: readFileSync(ctx.ws.rootGroup, 'utf8'),
    },
    filesInLayer(ctx.plan),
  );
  // Inode numbers go on from the root stage's (GNU cpio --reproducible numbers entries from 1).
  const body = cpioEntries(entries, entryCount + 1);
  const cpio = ctx.ws.layerCpio;
  writeFileSync(cpio, body);
  appendFileSync(cpio, readFileSync(ctx.ws.rootTail));
  const { compression, level } = ctx.plan.initramfs;
  await run(compression === 'xz' ? compressArgv('xz', level, cpio, XZ_REST_DICT) : compressArgv('zstd', level, cpio), { log: logFile });
  const ext = compression === 'xz' ? 'xz' : 'zst';
  const payload = join(dir, `rootfs.cpio.${ext}`);
  copyFileSync(basePayload, payload);
  appendFileSync(payload, readFileSync(`${cpio}.${ext}`));
  rmSync(cpio, { force: true });
  rmSync(`${cpio}.${ext}`, { force: true });
  // The manifest's sizes are the config's files'. The identity files the layer also carries (they name the
  // build: its config hash) are the tool's, not the config's, and are left out.
  const identity = new Set(identityFiles(ctx.plan).map((f) => f.path));
  const sizes = entries.filter((e) => (e.mode & 0o170000) === S_IFREG && !identity.has(e.name)).map((e) => ({ path: `/${e.name}`, bytes: e.data.length }));
  return { payload, entries: entries.length, bytes: body.length, sizes, stream: statSync(payload).size - statSync(basePayload).size };
}
