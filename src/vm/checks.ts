// The built-in checks `debian2docker test` runs in a booted guest, in order.
// Each one runs shell commands in the guest over the serial console and decides
// from their real output; none assumes a result.
import type { SerialConsole } from './console.js';
import { TEST_IMAGE_TAG, TEST_LABEL } from './testdisk.js';

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  /** How long it took (`test --json` reports it); absent for a result made after the fact (a crash). */
  seconds?: number;
}

/** What one check leaves for the next ones to read: the container run they share. */
interface Seen {
  run?: { status: number; output: string };
}

type Check = { name: string; run: (c: SerialConsole, seen: Seen) => Promise<{ ok: boolean; detail: string }> };

export const CHECKS: Check[] = [
  {
    name: 'docker ready',
    run: async (c) => {
      const r = await c.exec(`docker info --format 'server={{.ServerVersion}} driver={{.Driver}} cgroup={{.CgroupVersion}}'`, 60000);
      return { ok: r.status === 0 && /server=\d/.test(r.output), detail: r.output.trim() };
    },
  },
  {
    name: 'storage driver overlay2',
    run: async (c) => {
      const r = await c.exec(`docker info --format '{{.Driver}}'`);
      return { ok: r.status === 0 && r.output.trim() === 'overlay2', detail: r.output.trim() };
    },
  },
  {
    name: 'test disk mounted',
    run: async (c) => {
      const r = await c.exec(
        `n=0; while ! blkid -L ${TEST_LABEL} >/dev/null 2>&1 && [ $n -lt 30 ]; do sleep 1; n=$((n+1)); done; mkdir -p /mnt/d2d-test && mount -o ro "$(blkid -L ${TEST_LABEL})" /mnt/d2d-test && ls /mnt/d2d-test`,
        60000,
      );
      return { ok: r.status === 0 && /busybox\.tar/.test(r.output), detail: r.output.trim() };
    },
  },
  {
    name: 'image imported from a tarball',
    run: async (c) => {
      const r = await c.exec(`docker load -q -i /mnt/d2d-test/busybox.tar && docker image inspect --format '{{.Id}}' ${TEST_IMAGE_TAG} && cat /mnt/d2d-test/files/image-id`, 120000);
      const ids = r.output.match(/sha256:[0-9a-f]{64}/g) ?? [];
      // The Id docker reports must be the id the host computed for the tarball.
      const ok = r.status === 0 && ids.length >= 2 && ids[ids.length - 1] === ids[ids.length - 2];
      return { ok, detail: r.output.trim().split('\n').slice(-3).join(' | ') };
    },
  },
  {
    // One container answers this check and the next two: under TCG each `docker run` costs seconds (a
    // runc start, a veth pair, iptables), so it runs with the memory limit and shows its address too.
    name: 'container runs',
    run: async (c, seen) => {
      seen.run = await c.exec(`docker run --rm --memory 64m ${TEST_IMAGE_TAG} sh -c 'echo hello-from-container-$((6*7)) uid=$(id -u); ip -4 -o addr show eth0' 2>&1`, 180000);
      const r = seen.run;
      return { ok: r.status === 0 && /hello-from-container-42 uid=0/.test(r.output), detail: r.output.trim().split('\n').join(' | ') };
    },
  },
  {
    // Docker warns of what the engine cannot do (swap limits, cgroup controllers, bridge netfilter): on
    // this image it must have nothing to warn about, in `docker info` nor on the run above with a memory limit.
    name: 'the engine has nothing to warn about',
    run: async (c, seen) => {
      const r = await c.exec(`docker info 2>&1 | grep -i warning`);
      const warnings = `${r.output}\n${seen.run?.output ?? ''}`.split('\n').filter((l) => /warning/i.test(l));
      const ran = seen.run?.status === 0;
      return { ok: ran && warnings.length === 0, detail: warnings.length ? warnings.join(' | ') : ran ? 'no warning from docker info or docker run --memory' : 'no container ran (check "container runs")' };
    },
  },
  {
    name: 'container on the default bridge gets an address',
    run: async (c, seen) => {
      const r = await c.exec(`docker network inspect bridge --format 'subnet={{(index .IPAM.Config 0).Subnet}}'`);
      const subnet = /subnet=(\d+\.\d+\.\d+)\.\d+\/(\d+)/.exec(r.output);
      const addr = /inet (\d+\.\d+\.\d+)\.(\d+)\//.exec(seen.run?.output ?? '');
      const ok = r.status === 0 && subnet !== null && addr !== null && addr[1] === subnet[1];
      return { ok, detail: `${r.output.trim()} | ${addr ? addr[0] : 'the container showed no address'}` };
    },
  },
];

export async function runChecks(c: SerialConsole, onResult: (r: CheckResult) => void): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const seen: Seen = {};
  for (const check of CHECKS) {
    let r: CheckResult;
    const t0 = Date.now();
    try {
      const { ok, detail } = await check.run(c, seen);
      r = { name: check.name, ok, detail, seconds: (Date.now() - t0) / 1000 };
    } catch (e) {
      r = { name: check.name, ok: false, detail: (e as Error).message, seconds: (Date.now() - t0) / 1000 };
    }
    results.push(r);
    onResult(r);
    if (!r.ok && check.name === 'docker ready') break;
  }
  return results;
}

export async function runScenario(c: SerialConsole, timeoutMs: number): Promise<CheckResult> {
  const t0 = Date.now();
  try {
    const r = await c.exec(`(cd /mnt/d2d-test && sh ./scenario.sh) 2>&1`, timeoutMs);
    return { name: 'scenario', ok: r.status === 0, detail: `exit ${r.status}\n${r.output}`, seconds: (Date.now() - t0) / 1000 };
  } catch (e) {
    return { name: 'scenario', ok: false, detail: (e as Error).message, seconds: (Date.now() - t0) / 1000 };
  }
}
