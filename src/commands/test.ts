// `debian2docker test IMAGE`: boot headless, follow the serial console, wait
// until Docker answers, run the built-in checks (and a scenario script), power
// off cleanly. Exit 0 only if everything passed. TCG runs single-threaded unless
// --tcg-threads multi (see VmSpec.tcgThreads: multi-threaded TCG crashes Linux
// guests now and then). One retry of a boot whose guest kernel crashed anyway,
// whether before or after Docker was ready, logged as such; a failed check is
// never retried.
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { preflight } from '../stages/preflight.js';
import { Machine, chooseAccel } from '../vm/machine.js';
import { makeTestDisk } from '../vm/testdisk.js';
import { runChecks, runScenario, type CheckResult } from '../vm/checks.js';
import { baseSpec, imageBoot, type VmCliOptions } from '../vm/options.js';
import { log } from '../log.js';

export interface TestOptions extends VmCliOptions {
  scenario?: string;
  timeout?: string;
  consoleLog?: string;
  retries?: number;
  /** Extra files for the test disk's files/ folder (API only). */
  files?: Record<string, string>;
  /** Host ports (on 127.0.0.1) forwarded to guest ports (API only). */
  forwards?: { hostPort: number; guestPort: number }[];
  /** Checks run on the host while the guest is up, after the built-in ones (API only). */
  hostChecks?: { name: string; run: () => Promise<{ ok: boolean; detail: string }> }[];
}

export interface TestReport {
  ok: boolean;
  accel: string;
  readySeconds?: number;
  results: CheckResult[];
}

/** The kernel command line for network-boot style runs: the one the image's manifest recorded. */
export function cmdlineFor(image: string): string {
  const manifest = image.replace(/\.(kernel|iso|initrd)$/, '.manifest.json');
  if (existsSync(manifest)) {
    const m = JSON.parse(readFileSync(manifest, 'utf8')) as { config?: { normalised?: { boot?: { cmdline?: string } } } };
    if (m.config?.normalised?.boot?.cmdline) return m.config.normalised.boot.cmdline;
  }
  return 'console=tty0 console=ttyS0,115200 quiet';
}

/**
 * A guest kernel that died: worth one retry, as it need not be the image's fault. (Seen, only under
 * multi-threaded TCG: "Oops: int3" in __alloc_pages when the first container's memory cgroup flipped a
 * static key: the kernel patches its own code at run time, and another vCPU kept running the breakpoint
 * of the half-patched instruction. Single-threaded TCG, the test harness's default, does not do that:
 * see VmSpec.tcgThreads.)
 */
export const GUEST_CRASH = /Kernel panic|BUG: |Oops: |general protection fault/;
const BOOT_FAILURE = new RegExp(`${GUEST_CRASH.source}|d2d: FATAL`);

class GuestCrashed extends Error {}

/**
 * Settles only if the guest kernel dies (rejecting with the crash line), so it can be raced against each
 * step and a crash fails fast instead of waiting out timeouts. The watch itself fails when the VM stops (as
 * it does at a clean poweroff): that is no crash, so it then never settles, instead of beating the
 * shutdown to the race with an error.
 */
export function crashWatch(m: Machine): Promise<never> {
  const crashed = m.console.waitFor(GUEST_CRASH, 24 * 3600 * 1000).then(
    (x) => {
      throw new GuestCrashed(`the guest kernel crashed: ${x[0]}`);
    },
    () => new Promise<never>(() => undefined),
  );
  crashed.catch(() => undefined);
  return crashed;
}

async function bootOnce(image: string, o: TestOptions, disk: string, consoleLog: NodeJS.WritableStream | undefined, attempt: number): Promise<TestReport & { retry: boolean }> {
  const accel = await chooseAccel(o.accel ?? 'auto', image);
  const timeoutS = Number(o.timeout ?? 420);
  consoleLog?.write(`\n===== boot attempt ${attempt} (${accel}) =====\n`);
  const m = Machine.start(
    {
      // Single-threaded TCG: a verdict must not depend on QEMU's race (see VmSpec.tcgThreads).
      ...baseSpec(o, accel, 'single'),
      boot: imageBoot(image, o.bootFrom ?? 'cdrom', cmdlineFor(image)),
      disks: [{ file: disk, readonly: true }, ...(o.disk ?? []).map((f) => ({ file: f }))],
      serial: 'stdio',
      display: 'none',
      network: { restrict: true, forwards: o.forwards },
      noReboot: true,
    },
    { tee: (s) => consoleLog?.write(s), agentTee: (s) => consoleLog?.write(s.replace(/^/gm, '[agent] ')) },
  );
  const t0 = Date.now();
  const results: CheckResult[] = [];
  // Raced against every step after Docker is ready.
  const crashed = crashWatch(m);
  const unlessCrashed = <T>(p: Promise<T>): Promise<T> => Promise.race([p, crashed]);
  try {
    log.info(`booting ${image} (${o.firmware ?? 'bios'}, ${o.bootFrom ?? 'cdrom'}, ${accel}, ${o.memory ?? 1024} MiB)`);
    try {
      await Promise.race([
        m.console.waitFor(/d2d: docker: ready/, timeoutS * 1000),
        m.console.waitFor(BOOT_FAILURE, timeoutS * 1000).then((x) => {
          throw new Error(`boot failed: ${x[0]}`);
        }),
      ]);
    } catch (e) {
      const retry = !/d2d: FATAL/.test(m.console.transcript);
      log.error(`${(e as Error).message}\n--- last console lines ---\n${m.console.lastLines(30)}\n---`);
      return { ok: false, accel, results: [{ name: 'boot', ok: false, detail: (e as Error).message }], retry };
    }
    const readySeconds = (Date.now() - t0) / 1000;
    log.ok(`docker ready ${readySeconds.toFixed(1)} s after power-on`);
    const agent = await unlessCrashed(m.agent());
    await unlessCrashed(agent.waitForShell(60000));
    results.push(...(await unlessCrashed(runChecks(agent, report))));
    for (const hc of o.hostChecks ?? []) {
      const r = await hc.run().then(
        (x) => ({ name: hc.name, ...x }),
        (e: unknown) => ({ name: hc.name, ok: false, detail: (e as Error).message }),
      );
      report(r);
      results.push(r);
    }
    if (o.scenario) {
      const r = await unlessCrashed(runScenario(agent, 30 * 60000));
      report(r);
      results.push(r);
    }
    const from = m.console.length;
    const clean = await unlessCrashed(m.shutdown(120000));
    const said = m.console.transcript.slice(from).includes('shutdown: done');
    const r = { name: 'clean shutdown', ok: clean && said, detail: clean ? (said ? 'engine stopped, powered off' : 'powered off without the shutdown script') : 'guest did not power off' };
    report(r);
    results.push(r);
    return { ok: results.every((x) => x.ok), accel, readySeconds, results, retry: false };
  } catch (e) {
    log.error(`${(e as Error).message}\n--- last console lines ---\n${m.console.lastLines(30)}\n---`);
    results.push({ name: e instanceof GuestCrashed ? 'guest' : 'harness', ok: false, detail: (e as Error).message });
    return { ok: false, accel, results, retry: e instanceof GuestCrashed };
  } finally {
    // Wait until QEMU is gone: a retry binds the same forwarded host ports, which the killed
    // process holds until it has exited ("Could not set up host forwarding rule").
    m.kill();
    await m.exited;
  }
}

function report(r: CheckResult): void {
  if (r.ok) log.ok(`${r.name}: ${r.detail.split('\n')[0]}`);
  else log.error(`${r.name}: ${r.detail}`);
}

export async function testImageReport(image: string, o: TestOptions): Promise<TestReport> {
  await preflight(['vm', 'test']);
  const tmp = mkdtempSync(join(tmpdir(), 'd2d-test-'));
  const consoleLog = o.consoleLog ? createWriteStream(o.consoleLog) : undefined;
  try {
    const disk = join(tmp, 'test.iso');
    await makeTestDisk(disk, { scenario: o.scenario, files: o.files });
    const attempts = 1 + (o.retries ?? 1);
    let last: TestReport | undefined;
    for (let i = 1; i <= attempts; i++) {
      const r = await bootOnce(image, o, disk, consoleLog, i);
      last = r;
      if (r.ok || !r.retry || i === attempts) break;
      log.warn(`boot attempt ${i} failed: ${r.results[0]?.name === 'boot' ? 'never reached Docker' : 'the guest kernel crashed'}; retrying once (see the console log)`);
    }
    return last!;
  } finally {
    consoleLog?.end();
    rmSync(tmp, { recursive: true, force: true });
  }
}

export async function testImage(image: string, o: TestOptions): Promise<number> {
  const r = await testImageReport(image, o);
  const passed = r.results.filter((x) => x.ok).length;
  process.stderr.write(`${r.ok ? 'PASS' : 'FAIL'}: ${passed} of ${r.results.length} checks passed\n`);
  return r.ok ? 0 : 1;
}
