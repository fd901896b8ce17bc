// Shared by the end-to-end tests: run the real CLI, and where builds go.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { kernelCacheDir, PACKAGE_ROOT } from '../../src/paths.js';
import { onTestFileExit } from '../support/scratch.js';

export { scratchDir } from '../support/scratch.js';
export { freePort } from '../../src/vm/publish.js';

export const CLI = join(PACKAGE_ROOT, 'bin/debian2docker.js');
export const E2E_DIR = join(PACKAGE_ROOT, '.cache/e2e');
export const SKIP = process.env.D2D_SKIP_E2E === '1' ? 'D2D_SKIP_E2E=1' : false;

/** Files at least this big are the images, initrds and disks a finished test file no longer needs. */
const BIG = 1 << 20;

function dropBigFiles(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) dropBigFiles(p);
    else if (e.isFile() && lstatSync(p).size >= BIG) rmSync(p, { force: true });
  }
}

/**
 * A test file's output folder under .cache/e2e. With D2D_E2E_TIDY=1 (CI) its big files go when the test file
 * ends; manifests, console logs and build logs stay for reading a failure. Without it everything stays, to
 * look at or boot again.
 */
export function e2eDir(name: string): string {
  const d = join(E2E_DIR, name);
  if (process.env.D2D_E2E_TIDY === '1') onTestFileExit(() => dropBigFiles(d));
  return d;
}

/** The files a user sees in an output folder: what a build published (its work and partial files are hidden). */
export function visible(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => !f.startsWith('.')) : [];
}

/** What a build left in its output folder's work folders (.d2d-work/NAME/*), as NAME/ENTRY. */
export function workLeft(out: string): string[] {
  const w = join(out, '.d2d-work');
  if (!existsSync(w)) return [];
  return readdirSync(w).flatMap((n) => readdirSync(join(w, n)).map((e) => `${n}/${e}`)).sort();
}

/** A failed build keeps only what explains the failure: its logs, its plan and its error reports. */
export function onlyLogsLeft(out: string): boolean {
  const left = workLeft(out);
  return left.some((e) => e.endsWith('/logs')) && left.every((e) => e.endsWith('/logs') || e.endsWith('.json'));
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI as a user would; stderr is also streamed with a prefix so long builds show progress. */
export function cli(
  args: string[],
  opts: { env?: Record<string, string>; onSpawn?: (pid: number) => void; onStderr?: (all: string) => void; quiet?: boolean; asUser?: string; groups?: string[] } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    // asUser: run as that (non-root) user, as a rootless build would be run.
    // groups: supplementary groups for that user (e.g. docker, for build --in-docker). runuser makes
    // the first -G the primary group unless -g names one, and newuidmap then refuses the rootless
    // mmdebstrap ("Target process ... is owned by a different user"): keep the user's own.
    const supp = (opts.groups ?? []).flatMap((g) => ['-G', g]);
    const primary = opts.asUser && supp.length ? ['-g', execFileSync('id', ['-gn', opts.asUser], { encoding: 'utf8' }).trim()] : [];
    const argv = opts.asUser ? ['runuser', '-u', opts.asUser, ...primary, ...supp, '--', process.execPath, CLI, ...args] : [process.execPath, CLI, ...args];
    const env = { ...process.env, ...opts.env, ...(opts.asUser ? { HOME: `/home/${opts.asUser}`, XDG_CACHE_HOME: '' } : {}) };
    if (opts.asUser) delete env.XDG_CACHE_HOME;
    if (opts.asUser) shareCompiledKernels(opts.asUser);
    const p = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    opts.onSpawn?.(p.pid!);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    p.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      opts.onStderr?.(stderr);
      if (!opts.quiet) process.stderr.write(b.toString().replace(/^/gm, '    | '));
    });
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/**
 * The rootless build user's kernel cache is its own (~USER/.cache/debian2docker/kernels), so its first build
 * would compile the default kernel a second time in the run: 12 more minutes of both cores. The kernels the
 * suite (root) compiled are copied into it, owned by the user, as a user may copy a cache entry from another
 * machine: same key, same kernel. What the user's build then proves is finding it there by key; a rootless
 * compile itself (mmdebstrap --mode=unshare) is not run by the suite.
 */
function shareCompiledKernels(user: string): void {
  const mine = kernelCacheDir();
  if (!existsSync(mine)) return;
  const theirs = join('/home', user, '.cache', 'debian2docker', 'kernels');
  for (const key of readdirSync(mine)) {
    if (key.startsWith('.') || !existsSync(join(mine, key, 'kernel.json')) || existsSync(join(theirs, key))) continue;
    mkdirSync(theirs, { recursive: true });
    cpSync(join(mine, key), join(theirs, key), { recursive: true, verbatimSymlinks: true });
  }
  if (existsSync(theirs)) execFileSync('chown', ['-R', `${user}:`, join('/home', user, '.cache')]);
}

/** The non-root user for the rootless build (CI creates it, with subordinate ids), if any. */
export const ROOTLESS_USER = process.getuid?.() === 0 ? process.env.D2D_ROOTLESS_USER : undefined;

/**
 * The SOURCE_DATE_EPOCH of the default build core.test makes; the reproducibility test builds the
 * default once more with it (without the package cache) and compares, instead of building twice.
 */
export const REPRO_SDE = '1764201600';
