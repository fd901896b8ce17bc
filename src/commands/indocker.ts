// `debian2docker build --in-docker`: the same build, run inside a container made
// from Debian packages, for hosts without Debian's tools (only `docker` is needed
// on the host, and mmdebstrap once to make the builder image, since no container
// registry is assumed to be reachable).
//
// The container sees the checkout (read-only), the config's files (read-only),
// the output folder and the apt cache (read-write), each at the SAME path as on
// the host, and runs the ordinary `debian2docker build` in it: so its messages,
// exit codes and artifacts are the native build's, with nothing to translate.
import { mokSigned } from '../stages/bootloader.js';
import { ensureMok, MOK_ENV, mokDir } from '../stages/mok.js';
import { publishedPaths } from '../pipeline/outputs.js';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { loadConfig } from '../config/load.js';
import { planFor } from './build.js';
import { aptCacheDir, kernelCacheDir } from '../paths.js';
import { rootless, diagnoseApt } from '../stages/rootfs.js';
import { run, start, which } from '../exec/run.js';
import { mmdebstrapImageArgv } from '../tools/mmdebstrap.js';
import {
  BUILDER_RECIPE,
  BUILDER_SUITE,
  BUILDER_VARIANT,
  binds,
  builderPackages,
  builderTag,
  dockerInfoArgv,
  folderOf,
  imageIdArgv,
  importArgv,
  killArgv,
  nodeVersionArgv,
  removeImageArgv,
  runArgv,
  type Bind,
} from '../tools/docker.js';
import { CommandError, D2DError, ExitCode, MissingToolError, StageError } from '../errors.js';
import { PACKAGE_ROOT } from '../paths.js';
import { VERSION } from '../version.js';
import { log } from '../log.js';

export interface InDockerOptions {
  config?: string;
  outDir: string;
  noCache?: boolean;
  keepWork?: boolean;
  rebuildBuilder?: boolean;
  rebuildKernel?: boolean;
  verbose?: boolean;
}

/** The docker client must reach the same engine the user's own `docker` reaches. */
const DOCKER_ENV = { DOCKER_HOST: process.env.DOCKER_HOST, DOCKER_CONTEXT: process.env.DOCKER_CONTEXT, DOCKER_CONFIG: process.env.DOCKER_CONFIG };

/** How this module runs commands: exec.ts in real use, a recording fake in the unit tests. */
export interface Runner {
  run: typeof run;
  which: typeof which;
}
const REAL: Runner = { run, which };
const docker = (r: Runner, argv: string[], opts: { log?: string; capture?: boolean; okStatus?: number[] } = {}): ReturnType<typeof run> => r.run(argv, { ...opts, env: DOCKER_ENV });

/** `docker` is installed and its engine answers. */
export async function dockerPreflight(r: Runner = REAL): Promise<string> {
  if ((await r.which('docker')) === undefined) throw new MissingToolError('docker', 'docker.io');
  try {
    return (await docker(r, dockerInfoArgv(), { capture: true })).stdout.trim();
  } catch (e) {
    if (!(e instanceof CommandError)) throw e;
    throw new D2DError('E_DOCKER_ENGINE', `the Docker engine is not reachable (docker info: ${e.tail.split('\n').pop() ?? 'failed'})`, {
      exitCode: ExitCode.missingTool,
      hint: 'is the docker service running? (service docker start)  Not root: are you in the docker group?',
    });
  }
}

async function imageId(r: Runner, tag: string): Promise<{ id: string; bytes: number } | undefined> {
  const res = await docker(r, imageIdArgv(tag), { capture: true, okStatus: [1] });
  if (res.status !== 0) return undefined;
  const [id, size] = res.stdout.trim().split(' ');
  return { id: id!, bytes: Number(size) };
}

/** major.minor.patch of ">=20.19" style engines against a `node --version`. */
export function satisfiesEngines(version: string, engines: string): boolean {
  const want = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(engines.trim());
  const have = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  if (!want || !have) return false;
  const w = [Number(want[1]), Number(want[2] ?? 0), Number(want[3] ?? 0)];
  const h = [Number(have[1]), Number(have[2]), Number(have[3])];
  for (let i = 0; i < 3; i++) if (h[i]! !== w[i]!) return h[i]! > w[i]!;
  return true;
}

/**
 * The builder image, made here from Debian packages (mmdebstrap -> tar -> docker import) the first
 * time, and reused while its inputs (package list, suite, tool version) are unchanged.
 */
export async function ensureBuilder(o: { rebuild?: boolean; cache?: string; logDir: string }, r: Runner = REAL): Promise<string> {
  const packages = builderPackages();
  const tag = builderTag({ suite: BUILDER_SUITE, variant: BUILDER_VARIANT, packages, toolVersion: VERSION, recipe: BUILDER_RECIPE });
  const old = await imageId(r, tag);
  if (old && !o.rebuild) {
    log.info(`builder image ${tag} (reused; --rebuild-builder makes it afresh)`);
    return tag;
  }
  if ((await r.which('mmdebstrap')) === undefined) {
    throw new D2DError('E_NO_BUILDER', `the builder image ${tag} is not there, and making it needs mmdebstrap on this host (no container registry is used)`, {
      exitCode: ExitCode.missingTool,
      hint: `apt-get install -y mmdebstrap  (only once: it builds the image from Debian packages; the builds then run in it). Or on a machine that has it: make the image there, then \`docker save ${tag} | docker load\` here.`,
    });
  }
  log.stageStart('builder image');
  const t0 = Date.now();
  // The log stays where the user can read it after a failure; the tar file (~0.5 GB) goes either way.
  mkdirSync(o.logDir, { recursive: true });
  const logFile = join(o.logDir, 'builder.log');
  writeFileSync(logFile, `builder image ${tag}: ${packages.join(' ')}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'd2d-builder-'));
  const tar = join(dir, 'builder.tar');
  try {
    const argv = mmdebstrapImageArgv({ suite: BUILDER_SUITE, mirror: '', components: ['main'], variant: BUILDER_VARIANT, packages, mode: rootless() ? 'unshare' : 'root', aptCacheDir: o.cache, output: tar });
    try {
      await r.run(argv, { log: logFile });
    } catch (e) {
      if (!(e instanceof CommandError)) throw e;
      throw diagnoseApt(readFileSync(logFile, 'utf8'), BUILDER_SUITE, { stage: 'builder image', logPath: logFile }) ?? new StageError('builder image', `mmdebstrap exited with status ${e.status}\n${e.tail}`, { logPath: logFile });
    }
    await docker(r, importArgv(tar, tag), { log: logFile });
    const engines = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    const node = (await docker(r, nodeVersionArgv(tag), { capture: true, log: logFile })).stdout.trim();
    if (!satisfiesEngines(node, engines)) {
      await docker(r, removeImageArgv(tag), { okStatus: [1] });
      throw new D2DError('E_BUILDER_NODE', `Node.js in ${BUILDER_SUITE} is ${node}; debian2docker needs ${engines}`, { hint: 'BUILDER_SUITE in src/tools/docker.ts must name a suite whose nodejs satisfies package.json engines' });
    }
    const made = await imageId(r, tag);
    // A rebuild leaves the old image untagged: remove it (it may still be in use; then it stays).
    if (old && made && old.id !== made.id) await docker(r, removeImageArgv(old.id), { okStatus: [1] });
    const s = (Date.now() - t0) / 1000;
    log.stageDone('builder image', s);
    log.info(`builder image ${tag}: ${((made?.bytes ?? 0) / 1e6).toFixed(0)} MB, node ${node}, made in ${s.toFixed(0)} s`);
    return tag;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What the container must see: the checkout, every file the config names, the output folder, the cache. */
export function wantedBinds(o: { packageRoot: string; sources: readonly string[]; referenced: readonly { path: string; isDir: boolean }[]; outDir: string; cacheDirs: readonly string[]; mok?: string }): Bind[] {
  return binds([
    ...(o.mok !== undefined ? [{ path: o.mok, writable: false }] : []),
    { path: o.packageRoot, writable: false },
    ...o.sources.map((f) => ({ path: folderOf(f, false), writable: false })),
    ...o.referenced.map((r) => ({ path: folderOf(r.path, r.isDir), writable: false })),
    { path: o.outDir, writable: true },
    ...o.cacheDirs.map((path) => ({ path, writable: true })),
  ]);
}

/** The arguments of the inner `debian2docker build` (absolute paths: the container sees them at the same place). */
export function innerArgs(o: { config?: string; outDir: string; noCache?: boolean; keepWork?: boolean; rebuildKernel?: boolean; verbose?: boolean }): string[] {
  return [...(o.verbose ? ['--verbose'] : []), 'build', ...(o.config !== undefined ? [o.config] : []), '-o', o.outDir, ...(o.noCache ? ['--no-cache'] : []), ...(o.keepWork ? ['--keep-work'] : []), ...(o.rebuildKernel ? ['--rebuild-kernel'] : [])];
}

export async function buildInDocker(opts: InDockerOptions): Promise<number> {
  const config = opts.config === undefined ? undefined : resolve(opts.config);
  const outDir = resolve(opts.outDir);
  // The config is checked here first: its errors name the host's files (exit 3) before any container
  // exists, and it tells which host files the container must see.
  const loaded = loadConfig(config);
  const { plan } = planFor({ config, outDir });
  const server = await dockerPreflight();
  log.info(`docker engine ${server}`);
  // aptCacheDir() is XDG_CACHE_HOME/debian2docker/apt: the container gets the same XDG_CACHE_HOME.
  const cacheBase = join(aptCacheDir(), '..', '..');
  const cache = opts.noCache ? undefined : aptCacheDir();
  if (cache) mkdirSync(cache, { recursive: true });
  // kernel.build: compiled kernels are kept between builds, in or out of a container (also with --no-cache).
  const kernels = plan.kernel.source.kind === 'build' ? kernelCacheDir() : undefined;
  if (kernels) mkdirSync(kernels, { recursive: true });
  const image = await ensureBuilder({ rebuild: opts.rebuildBuilder, cache, logDir: join(cacheBase, 'debian2docker') });
  // The machine-owner key (boot.secure-boot with a kernel Debian did not sign) is made here, on the host, and
  // lent to the container read-only: the key stays the host user's.
  const mok = mokSigned(plan) ? await ensureMok(mokDir()) : undefined;

  const c = loaded.config;
  const referenced = [
    ...c.files.flatMap((f) => (f.source !== undefined ? [{ path: f.source, isDir: statSync(f.source).isDirectory() }] : [])),
    ...Object.values(c.hooks).flatMap((l) => l.flatMap((h) => (typeof h === 'string' ? [] : [{ path: h.file, isDir: false }]))),
    ...c.images.flatMap((im) => ('tarball' in im ? [{ path: im.tarball, isDir: false }] : [])),
    ...(c.kernel.fragments ?? []).map((f) => ({ path: f, isDir: false })),
    ...c.wifi.networks.flatMap((n) => (n['passphrase-file'] !== undefined ? [{ path: n['passphrase-file'], isDir: false }] : [])),
  ];
  mkdirSync(outDir, { recursive: true });
  const mounts = wantedBinds({ packageRoot: PACKAGE_ROOT, sources: loaded.sources.filter((s) => !s.startsWith(PACKAGE_ROOT + '/')), referenced, outDir, cacheDirs: [cache, kernels].filter((d) => d !== undefined), mok: mok?.dir });
  const giveBack = [...publishedPaths(plan), join(outDir, '.d2d-work'), ...(cache ? [cache] : []), ...(kernels ? [kernels] : [])];
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const name = `d2d-build-${process.pid}-${randomBytes(3).toString('hex')}`;
  const env: Record<string, string> = { D2D_OWNER: `${uid}:${gid}`, D2D_CHOWN: JSON.stringify(giveBack) };
  // The container finds the mounted caches where the host has them: the kernel cache also with --no-cache.
  if (cache || kernels) env.XDG_CACHE_HOME = cacheBase;
  if (mok) env[MOK_ENV] = mok.dir;
  for (const k of ['SOURCE_DATE_EPOCH', 'http_proxy', 'https_proxy', 'no_proxy']) if (process.env[k] !== undefined) env[k] = process.env[k]!;
  const argv = runArgv({ image, name, binds: mounts, env, workdir: PACKAGE_ROOT, command: ['node', join(PACKAGE_ROOT, 'dist/src/indocker-entry.js'), ...innerArgs({ ...opts, config, outDir })] });

  log.info(`building in container ${name} (${image})`);
  const child = start(argv, { interactive: true, env: DOCKER_ENV });
  return await waitForContainer(child, name);
}

/**
 * Wait for `docker run` and return the build's exit status. Ctrl-C: the terminal's SIGINT reaches the
 * docker client, which passes it on (sig-proxy); a SIGINT sent to this process alone does not, so it
 * is passed on here too (the build ignores the duplicate: it is already exiting). A second Ctrl-C
 * kills the container outright. Either way this returns only once the container is gone, so no
 * half-written file appears after the command has ended.
 */
function waitForContainer(child: ChildProcess, name: string): Promise<number> {
  return new Promise((resolveExit, reject) => {
    let interrupts = 0;
    const onSignal = (): void => {
      interrupts++;
      log.warn(interrupts === 1 ? `interrupted: stopping the build in ${name}` : `killing ${name}`);
      void docker(REAL, killArgv(name, interrupts === 1 ? 'INT' : 'KILL'), { okStatus: [1] }).catch(() => undefined);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const done = (): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
    child.on('error', (e: NodeJS.ErrnoException) => {
      done();
      reject(e.code === 'ENOENT' ? new MissingToolError('docker', 'docker.io') : e);
    });
    child.on('close', (code) => {
      done();
      if (code === 125) {
        // Docker's own failure (the build never started); docker printed why, above.
        reject(new D2DError('E_DOCKER_RUN', `docker could not start the build container ${name} (its message is above)`, { exitCode: ExitCode.stage }));
        return;
      }
      // A build that finished before the signal got there is complete: its 0 stands.
      if (interrupts > 0 && code !== 0) resolveExit(ExitCode.interrupted);
      else resolveExit(code ?? ExitCode.failure);
    });
  });
}
