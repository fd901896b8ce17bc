// A lock between processes on one machine, and between a host and the builder containers that share
// its cache folders: a folder made with mkdir (atomic) holding an `owner` file, "HOST PID PIDNS". The
// process id namespace tells a builder container's process from the host's even when the container
// shares the host's name (host networking), so a container's pid is never looked up on the host.
import { mkdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export interface LockOptions {
  /** Called once, with the holder ("HOST, pid N"), when the lock is held by someone else. */
  onWait?: (owner: string) => void;
  /** How often a waiter looks again (ms). */
  pollMs?: number;
  /** A lock from another host (a container) whose process cannot be checked counts as stale after this long (ms). */
  foreignMs?: number;
}

/**
 * Run `fn` holding the lock folder `lock`. A lock whose process is gone (a build killed hard) is taken over;
 * one from another host after `foreignMs`; one still without its owner file (being made) after a few polls.
 */
export async function withLock<T>(lock: string, o: LockOptions, fn: () => Promise<T>): Promise<T> {
  const pollMs = o.pollMs ?? 2000;
  const foreignMs = o.foreignMs ?? 3 * 3600_000;
  let told = false;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'owner'), `${hostname()} ${process.pid} ${pidNamespace()}`);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const [host = '', pid = '', ns = ''] = (readText(join(lock, 'owner')) ?? '').trim().split(' ');
    const age = Date.now() - (mtime(lock) ?? Date.now());
    const local = host === hostname() && (ns === '' || ns === pidNamespace());
    const stale = host === '' ? age > pollMs * 5 : local ? !alive(Number(pid)) : age > foreignMs;
    if (stale) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (!told) o.onWait?.(host === '' ? 'starting' : `${host}, pid ${pid}`);
    told = true;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function pidNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readText(f: string): string | undefined {
  try {
    return readFileSync(f, 'utf8');
  } catch {
    return undefined;
  }
}

function mtime(f: string): number | undefined {
  try {
    return statSync(f).mtimeMs;
  } catch {
    return undefined;
  }
}
