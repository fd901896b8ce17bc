// `debian2docker run IMAGE`: boot an image in QEMU with the serial console in
// this terminal (and optionally a window). Ctrl-A X quits QEMU.
// -p HOST:GUEST forwards a guest port to 127.0.0.1; --docker-context NAME makes
// a Docker context on the host that reaches the guest's engine (src/vm/dockercontext.ts).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { preflight } from '../stages/preflight.js';
import { chooseAccel, withFirmwareVars } from '../vm/machine.js';
import { qemuArgv } from '../vm/qemu.js';
import { baseSpec, imageBoot, type VmCliOptions } from '../vm/options.js';
import { freePort, parsePublish, type Forward } from '../vm/publish.js';
import { checkContextName, fetchClientFiles, remoteApiPort, writeDockerContext } from '../vm/dockercontext.js';
import { SerialConsole } from '../vm/console.js';
import { D2DError, ExitCode } from '../errors.js';
import { cmdlineFor } from './test.js';
import { start } from '../exec/run.js';
import { log } from '../log.js';

export interface RunVmOptions extends VmCliOptions {
  display?: boolean;
  /** -p HOST:GUEST, repeatable. */
  publish?: string[];
  /** --docker-context NAME. */
  dockerContext?: string;
  /** Seconds to wait for the guest's engine before giving up on the context. */
  contextTimeout?: number;
}

/** The forward that carries the remote API: the one -p gave for its guest port, or a new one on a free port. */
async function apiForward(image: string, forwards: Forward[]): Promise<Forward> {
  const guestPort = remoteApiPort(image);
  if (guestPort === undefined) {
    throw new D2DError('E_USAGE', `${image} has no Docker remote API (docker.remote-api is off in its config), so no context can reach its engine`, {
      exitCode: ExitCode.usage,
      hint: 'enable it (docker: {remote-api: {enabled: true}}, as examples/server.yaml does) and build again',
    });
  }
  const given = forwards.find((f) => f.guestPort === guestPort);
  if (given) return given;
  const f = { hostPort: await freePort(), guestPort };
  forwards.push(f);
  return f;
}

/** Connect to the guest's root shell on its virtio console once QEMU has made the socket. */
async function agentConsole(path: string, qemuGone: Promise<unknown>): Promise<{ console: SerialConsole; close: () => void }> {
  let gone = false;
  void qemuGone.then(() => (gone = true));
  while (!existsSync(path)) {
    if (gone) throw new D2DError('E_VM', 'QEMU ended before the guest could be reached');
    await new Promise((r) => setTimeout(r, 100));
  }
  const sock = connect(path);
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  return { console: new SerialConsole(sock, sock), close: () => sock.end() };
}

/** Beside the running VM: fetch the client files and write the context. A failure is said; the VM stays. */
async function makeContext(name: string, image: string, agentPath: string, api: Forward, timeoutS: number, qemuGone: Promise<unknown>): Promise<void> {
  try {
    const agent = await agentConsole(agentPath, qemuGone);
    try {
      await agent.console.waitForShell(timeoutS * 1000);
      const files = await fetchClientFiles(agent.console, timeoutS * 1000);
      const how = await writeDockerContext(name, api.hostPort, files, `debian2docker run ${image}`);
      log.info(`docker context ${name} ${how}: the guest's engine on 127.0.0.1:${api.hostPort} (TLS, client certificate). Try: docker --context ${name} info`);
    } finally {
      agent.close();
    }
  } catch (e) {
    const err = e as D2DError;
    log.error(`docker context ${name} not made: ${err.message}${err.hint ? ` (${err.hint})` : ''}`);
  }
}

export async function runVm(image: string, o: RunVmOptions): Promise<number> {
  const forwards = parsePublish(o.publish ?? []);
  const context = o.dockerContext === undefined ? undefined : checkContextName(o.dockerContext);
  const api = context ? await apiForward(image, forwards) : undefined;
  await preflight(context ? ['vm', 'docker'] : ['vm']);
  const accel = await chooseAccel(o.accel ?? 'auto', image);
  const tmp = mkdtempSync(join(tmpdir(), 'd2d-run-'));
  try {
    const agent = context ? join(tmp, 'agent.sock') : undefined;
    const argv = qemuArgv({
      // Multi-threaded TCG by default: a person at the console wants the faster boot, and sees a crash.
      ...withFirmwareVars(baseSpec(o, accel, 'multi'), tmp),
      boot: imageBoot(image, o.bootFrom ?? 'cdrom', cmdlineFor(image)),
      disks: (o.disk ?? []).map((f) => ({ file: f })),
      serial: 'mon:stdio',
      display: o.display ? 'gtk' : 'none',
      network: { restrict: false, forwards },
      ...(agent ? { agent } : {}),
    });
    log.info(`QEMU (${accel}); Ctrl-A X quits, Ctrl-A C switches to the QEMU monitor`);
    for (const f of forwards) log.info(`guest port ${f.guestPort} on 127.0.0.1:${f.hostPort}`);
    const child = start(argv, { interactive: true });
    const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
    if (context && agent && api) void makeContext(context, image, agent, api, o.contextTimeout ?? 900, exited);
    return await exited;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
