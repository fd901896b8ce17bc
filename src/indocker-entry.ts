// Runs INSIDE the build container (`build --in-docker`), under Docker's --init.
// It runs the ordinary CLI (`debian2docker build ...`, its arguments are ours),
// passes Ctrl-C on to it, and when it ends gives what it wrote back to the
// calling user: the build must run as root in here (mmdebstrap's root mode), yet
// the artifacts, the work folder and the shared apt cache belong to whoever
// called. Its exit status is the build's, unchanged.
//
// Environment: D2D_OWNER=UID:GID, D2D_CHOWN=JSON list of paths to give back.
import { existsSync, lchownSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_ENTRY } from './paths.js';
import { start } from './exec/run.js';

/** chown -R without following symbolic links (a link in the image tree must not hand over its target). */
export function chownTree(path: string, uid: number, gid: number): number {
  let n = 0;
  const walk = (p: string): void => {
    const st = lstatSync(p);
    if (st.uid !== uid || st.gid !== gid) {
      lchownSync(p, uid, gid);
      n++;
    }
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
  };
  if (existsSync(path)) walk(path);
  return n;
}

function main(): void {
  const [uid, gid] = (process.env.D2D_OWNER ?? '0:0').split(':').map(Number) as [number, number];
  const paths = JSON.parse(process.env.D2D_CHOWN ?? '[]') as string[];
  const child = start([process.execPath, CLI_ENTRY, ...process.argv.slice(2)], {
    interactive: true,
    // The inner build finds the shared apt cache through this, at the same path as on the host.
    env: { XDG_CACHE_HOME: process.env.XDG_CACHE_HOME },
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
  child.on('close', (code, signal) => {
    if (uid !== 0) {
      for (const p of paths) {
        try {
          chownTree(p, uid, gid);
        } catch (e) {
          process.stderr.write(`warning: could not give ${p} back to ${uid}:${gid}: ${(e as Error).message}\n`);
        }
      }
    }
    const signals: Record<string, number> = { SIGINT: 2, SIGTERM: 15, SIGKILL: 9 };
    process.exit(code ?? 128 + (signals[signal ?? ''] ?? 1));
  });
}

// Imported by the unit tests for chownTree; runs only as the container's command.
if (process.argv[1]?.endsWith('indocker-entry.js')) main();
