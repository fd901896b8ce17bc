// `debian2docker test IMAGE`: boot headless, follow the serial console, wait
// until Docker answers, run the built-in checks (and a scenario script), power
// off cleanly. Exit 0 only if everything passed. TCG runs single-threaded unless
// --tcg-threads multi (see VmSpec.tcgThreads: multi-threaded TCG crashes Linux
// guests now and then). One retry of a boot whose guest kernel crashed anyway,
// whether before or after Docker was ready, logged as such (src/vm/crash.ts, the
// boot every test and bench goes through); a failed check is never retried.
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { preflight } from '../stages/preflight.js';
import { Machine, chooseAccel } from '../vm/machine.js';
import { bootWithRetry, crashIn, crashWatch, GuestCrashed } from '../vm/crash.js';
import { makeTestDisk } from '../vm/testdisk.js';
import { runChecks, runScenario, type CheckResult } from '../vm/checks.js';
import { baseSpec, imageBoot, type VmCliOptions } from '../vm/options.js';
import { log } from '../log.js';
import { BOOT_FAILED, DOCKER_READY } from '../vm/sentinels.js';

export interface TestOptions extends VmCliOptions {
  scenario?: string;
  timeout?: string;
  consoleLog?: string;
  retries?: number;
  /** Extra files for the test disk's files/ folder (API only). */
  files?: Record<string, string>;
  /** Host ports (on 127.0.0.1) forwarded to guest ports (API only). */
  forwards?: { hostPort: number; guestPort: number }[];
  /**
   * Boot from the network as a machine of a fleet does (API only): the NIC's iPXE gets `tftpDir`'s
   * boot.ipxe from the user-mode network's TFTP, whose chain script reaches `debian2docker serve` on
   * 127.0.0.1:servePort as http://10.0.2.100 (PXE_SERVE_ADDR). `image` then only names the build.
   */
  pxe?: { tftpDir: string; servePort: number };
  /** Checks run on the host while the guest is up, after the built-in ones (API only). */
  hostChecks?: { name: string; run: () => Promise<{ ok: boolean; detail: string }> }[];
}

export interface TestReport {
  ok: boolean;
  accel: string;
  readySeconds?: number;
  results: CheckResult[];
}

/** Where a PXE-booted test guest finds `debian2docker serve` (forwarded to the host's 127.0.0.1): http://PXE_SERVE_ADDR. */
export const PXE_SERVE_ADDR = '10.0.2.100';

/** The kernel command line for network-boot style runs: the one the image's manifest recorded. */
export function cmdlineFor(image: string): string {
  // Only for a build's own outputs: a disk image (an install) has no manifest beside it, and is no JSON.
  const manifest = /\.(kernel|iso|initrd)$/.test(image) ? image.replace(/\.(kernel|iso|initrd)$/, '.manifest.json') : undefined;
  if (manifest !== undefined && existsSync(manifest)) {
    const m = JSON.parse(readFileSync(manifest, 'utf8')) as { config?: { normalised?: { boot?: { cmdline?: string } } } };
    if (m.config?.normalised?.boot?.cmdline) return m.config.normalised.boot.cmdline;
  }
  return 'console=tty0 console=ttyS0,115200 quiet';
}

function startMachine(image: string, o: TestOptions, disk: string, accel: 'kvm' | 'tcg', consoleLog: NodeJS.WritableStream | undefined, attempt: number): Machine {
  consoleLog?.write(`\n===== boot attempt ${attempt} (${accel}) =====\n`);
  return Machine.start(
    {
      // Single-threaded TCG: a verdict must not depend on QEMU's race (see VmSpec.tcgThreads).
      ...baseSpec(o, accel, 'single'),
      boot: o.pxe ? { kind: 'network' } : imageBoot(image, o.bootFrom ?? 'cdrom', cmdlineFor(image)),
      disks: [{ file: disk, readonly: true }, ...(o.disk ?? []).map((f) => ({ file: f }))],
      serial: 'stdio',
      display: 'none',
      network: {
        restrict: true,
        forwards: o.forwards,
        ...(o.pxe
          ? { tftp: { dir: o.pxe.tftpDir, bootfile: 'boot.ipxe' }, guestForwards: [{ guestAddr: PXE_SERVE_ADDR, guestPort: 80, hostPort: o.pxe.servePort }] }
          : {}),
      },
      noReboot: true,
    },
    // The default entry is what is tested: no need to wait out the menu's countdown.
    { tee: (s) => consoleLog?.write(s), agentTee: (s) => consoleLog?.write(s.replace(/^/gm, '[agent] ')), bootMenu: 'enter' },
  );
}

/**
 * One boot and its checks, as a report. A guest kernel crash is thrown (GuestCrashed) for bootWithRetry to
 * boot once more; the report so far is left in `partial`, for when no retry is left.
 */
async function bootOnce(m: Machine, image: string, o: TestOptions, accel: 'kvm' | 'tcg', partial: { report?: TestReport }): Promise<TestReport> {
  const timeoutS = Number(o.timeout ?? 420);
  const t0 = Date.now();
  const results: CheckResult[] = [];
  // Raced against every step after Docker is ready.
  const crashed = crashWatch(m);
  const unlessCrashed = <T>(p: Promise<T>): Promise<T> => Promise.race([p, crashed]);
  const failed = (r: TestReport, e: unknown): TestReport => {
    log.error(`${(e as Error).message}\n--- last console lines ---\n${m.console.lastLines(30)}\n---`);
    partial.report = r;
    // A dead guest kernel is not the image's verdict: bootWithRetry boots once more if it may.
    const crash = crashIn(m.console.transcript);
    if (crash) throw new GuestCrashed(crash);
    return r;
  };
  try {
    log.info(`booting ${image} (${o.firmware ?? 'bios'}, ${o.bootFrom ?? 'cdrom'}, ${accel}, ${o.memory ?? 1024} MiB)`);
    try {
      await Promise.race([
        m.console.waitFor(DOCKER_READY, timeoutS * 1000),
        m.console.waitFor(BOOT_FAILED, timeoutS * 1000).then((x) => {
          throw new Error(`boot failed: ${x[0]}`);
        }),
      ]);
    } catch (e) {
      return failed({ ok: false, accel, results: [{ name: 'boot', ok: false, detail: (e as Error).message, seconds: (Date.now() - t0) / 1000 }] }, e);
    }
    const readySeconds = (Date.now() - t0) / 1000;
    log.ok(`docker ready ${readySeconds.toFixed(1)} s after power-on`);
    const agent = await unlessCrashed(m.agent());
    await unlessCrashed(agent.waitForShell(60000));
    results.push(...(await unlessCrashed(runChecks(agent, report))));
    for (const hc of o.hostChecks ?? []) {
      const t = Date.now();
      const r = await hc.run().then(
        (x) => ({ name: hc.name, ...x, seconds: (Date.now() - t) / 1000 }),
        (e: unknown) => ({ name: hc.name, ok: false, detail: (e as Error).message, seconds: (Date.now() - t) / 1000 }),
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
    const t = Date.now();
    const clean = await unlessCrashed(m.shutdown(120000));
    const said = m.console.transcript.slice(from).includes('shutdown: done');
    const r = { name: 'clean shutdown', ok: clean && said, detail: clean ? (said ? 'engine stopped, powered off' : 'powered off without the shutdown script') : 'guest did not power off', seconds: (Date.now() - t) / 1000 };
    report(r);
    results.push(r);
    return { ok: results.every((x) => x.ok), accel, readySeconds, results };
  } catch (e) {
    if (e instanceof GuestCrashed) partial.report = { ok: false, accel, results: [...results, { name: 'guest', ok: false, detail: e.message }] };
    if (e instanceof GuestCrashed) throw e;
    return failed({ ok: false, accel, results: [...results, { name: 'harness', ok: false, detail: (e as Error).message }] }, e);
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
    const accel = await chooseAccel(o.accel ?? 'auto', image);
    const partial: { report?: TestReport } = {};
    try {
      return await bootWithRetry(
        (attempt) => {
          partial.report = undefined;
          return startMachine(image, o, disk, accel, consoleLog, attempt);
        },
        (m) => m,
        (m) => bootOnce(m, image, o, accel, partial),
        { retries: o.retries ?? 1, note: (why) => log.warn(`${why} (see the console log)`) },
      );
    } catch (e) {
      // A crash on the last boot allowed: the report says so, with the checks that ran before it.
      if (e instanceof GuestCrashed) return partial.report ?? { ok: false, accel, results: [{ name: 'guest', ok: false, detail: e.message }] };
      throw e;
    }
  } finally {
    consoleLog?.end();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The verdict line that ends `test` (on stderr, with or without --json). */
export function verdictLine(r: TestReport): string {
  const passed = r.results.filter((x) => x.ok).length;
  return `${r.ok ? 'PASS' : 'FAIL'}: ${passed} of ${r.results.length} checks passed`;
}
