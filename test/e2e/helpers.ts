// Shared by the end-to-end tests: run the real CLI, and where builds go.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { PACKAGE_ROOT } from '../../src/paths.js';

export const CLI = join(PACKAGE_ROOT, 'bin/debian2docker.js');
export const E2E_DIR = join(PACKAGE_ROOT, '.cache/e2e');
export const SKIP = process.env.D2D_SKIP_E2E === '1' ? 'D2D_SKIP_E2E=1' : false;

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI as a user would; stderr is also streamed with a prefix so long builds show progress. */
export function cli(args: string[], opts: { env?: Record<string, string>; onSpawn?: (pid: number) => void; quiet?: boolean; asUser?: string; groups?: string[] } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    // asUser: run as that (non-root) user, as a rootless build would be run.
    // groups: supplementary groups for that user (e.g. docker, for build --in-docker).
    const argv = opts.asUser ? ['runuser', '-u', opts.asUser, ...(opts.groups ?? []).flatMap((g) => ['-G', g]), '--', process.execPath, CLI, ...args] : [process.execPath, CLI, ...args];
    const env = { ...process.env, ...opts.env, ...(opts.asUser ? { HOME: `/home/${opts.asUser}`, XDG_CACHE_HOME: '' } : {}) };
    if (opts.asUser) delete env.XDG_CACHE_HOME;
    const p = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    opts.onSpawn?.(p.pid!);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    p.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (!opts.quiet) process.stderr.write(b.toString().replace(/^/gm, '    | '));
    });
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** The non-root user for the rootless build (CI creates it, with subordinate ids), if any. */
export const ROOTLESS_USER = process.getuid?.() === 0 ? process.env.D2D_ROOTLESS_USER : undefined;

/** A TCP port on 127.0.0.1 that is free right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/**
 * The SOURCE_DATE_EPOCH of the default build core.test makes; the reproducibility test builds the
 * default once more with it (without the package cache) and compares, instead of building twice.
 */
export const REPRO_SDE = '1764201600';
