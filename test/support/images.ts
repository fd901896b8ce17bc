// Image fixtures shared by the images end-to-end test and bench/images.ts:
// small busybox images with a message, and a real registry on 127.0.0.1.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxImage } from '../../src/formats/dockerArchive.js';
import { BUSYBOX } from '../../src/vm/testdisk.js';

/** A docker-archive around the host's busybox with a /msg file saying where it came from. */
export function msgImage(tag: string, msg: string, extra: { path: string; data: string }[] = []): Buffer {
  const files = [{ path: 'msg', data: `${msg}\n` }, ...extra];
  const dirs = [...new Set(files.map((f) => f.path.split('/').slice(0, -1).join('/')).filter(Boolean))];
  const entries = [...dirs.map((d) => ({ path: d, type: 'dir' as const })), ...files.map((f) => ({ path: f.path, type: 'file' as const, data: Buffer.from(f.data) }))];
  return busyboxImage(readFileSync(BUSYBOX), tag, 0, entries).tarball;
}

export interface Registry {
  port: number;
  proc: ChildProcess;
  /** Push a docker-archive file as NAME:TAG; returns the full reference. */
  push(archive: string, nameTag: string): string;
  stop(): void;
}

/** Debian's docker-registry, listening on 127.0.0.1:port only, storage under dir. */
export async function startRegistry(dir: string, port: number): Promise<Registry> {
  mkdirSync(dir, { recursive: true });
  const cfg = join(dir, 'config.yml');
  writeFileSync(cfg, `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  const proc = spawn('docker-registry', ['serve', cfg], { stdio: 'ignore' });
  const t0 = Date.now();
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/v2/`)).ok) break;
    } catch {
      /* not up yet */
    }
    if (proc.exitCode !== null || Date.now() - t0 > 30000) {
      proc.kill();
      throw new Error(`the registry on 127.0.0.1:${port} did not come up`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    port,
    proc,
    push(archive, nameTag) {
      const ref = `127.0.0.1:${port}/${nameTag}`;
      execFileSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${ref}`]);
      return ref;
    },
    stop() {
      proc.kill();
    },
  };
}
