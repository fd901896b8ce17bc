// The one crash-aware boot, shared by `debian2docker test`, the end-to-end tests' sessions and the
// benchmarks: a guest kernel that dies under TCG gets one more boot, logged, everywhere.
//
// Why a crash is worth a retry: it need not be the image's fault. Seen only under multi-threaded TCG
// ("Oops: int3" in __alloc_pages when the first container's memory cgroup flipped a static key: the
// kernel patches its own code at run time while another vCPU runs the half-patched instruction), and
// once in 25 boots elsewhere. Single-threaded TCG, the harness's default, makes it rare; this is the
// safety net. A failed check is never retried: only a dead guest kernel is.
import type { SerialConsole } from './console.js';

/** What the crash-aware boot needs of a running guest: a Machine, or a `debian2docker run` process whose
 *  output is the guest's serial console. */
export interface BootedGuest {
  readonly console: SerialConsole;
  readonly exited: Promise<unknown>;
  kill(): void;
}

/** What a dying guest kernel prints on the serial console. */
export const GUEST_CRASH = /Kernel panic|BUG: |Oops: |general protection fault/;

export class GuestCrashed extends Error {
  constructor(readonly line: string) {
    super(`the guest kernel crashed: ${line}`);
  }
}

/**
 * Settles only if the guest kernel dies (rejecting with GuestCrashed), so it can be raced against each step
 * and a crash fails fast instead of waiting out timeouts. The watch itself fails when the VM stops (as it
 * does at a clean poweroff): that is no crash, so it then never settles, instead of beating the shutdown to
 * the race with an error.
 */
export function crashWatch(m: BootedGuest): Promise<never> {
  const crashed = m.console.waitFor(GUEST_CRASH, 24 * 3600 * 1000).then(
    (x) => {
      throw new GuestCrashed(x[0]);
    },
    () => new Promise<never>(() => undefined),
  );
  crashed.catch(() => undefined);
  return crashed;
}

/** The crash line in a console transcript, if the guest kernel died. */
export function crashIn(transcript: string): string | undefined {
  return GUEST_CRASH.exec(transcript)?.[0];
}

export interface BootRetryOptions {
  /** More boots after a crash (default 1). */
  retries?: number;
  /** Told why a boot is tried again (a console log, stderr). */
  note?: (why: string) => void;
  /** Undo what the crashed boot wrote (disk images it shares with the next boot), before that boot. */
  beforeRetry?: () => void | Promise<void>;
  /** Whether a crashed boot may be tried again at all (false once it wrote what cannot be undone). */
  mayRetry?: () => boolean;
}

/**
 * Boot with `start`, run `run` on it raced against the guest kernel dying, and always pull the plug and wait
 * until QEMU has exited at the end (the next boot binds the same forwarded ports and locks the same disks).
 * If the guest kernel crashed, during `run` or as the reason `run` failed, boot once more (after
 * `beforeRetry`); any other failure is the result.
 */
export async function bootWithRetry<S, T>(start: (attempt: number) => S, machine: (s: S) => BootedGuest, run: (s: S, attempt: number) => Promise<T>, o: BootRetryOptions = {}): Promise<T> {
  const attempts = 1 + (o.retries ?? 1);
  for (let attempt = 1; ; attempt++) {
    const s = start(attempt);
    const work = run(s, attempt);
    work.catch(() => undefined);
    try {
      return await Promise.race([work, crashWatch(machine(s))]);
    } catch (e) {
      const crash = crashIn(machine(s).console.transcript);
      if (!crash || attempt >= attempts || o.mayRetry?.() === false) throw e;
      o.note?.(`the guest kernel crashed (${crash}); booting once more`);
    } finally {
      const m = machine(s);
      m.kill();
      await m.exited;
    }
    await o.beforeRetry?.();
  }
}
