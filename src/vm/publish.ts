// `-p HOST:GUEST` for `run` and `test`: a guest's TCP port reachable on the host. Forwards are always
// bound to 127.0.0.1 (QEMU's user-mode network, hostfwd): another machine on the network never reaches
// a test or a play VM through them.
import { createServer } from 'node:net';
import { D2DError, ExitCode } from '../errors.js';

export interface Forward {
  hostPort: number;
  guestPort: number;
}

function port(v: string, what: string, spec: string): number {
  const n = /^[0-9]{1,5}$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= 65535)) throw new D2DError('E_USAGE', `-p ${spec}: the ${what} port must be a number from 1 to 65535, not '${v}'`, { exitCode: ExitCode.usage });
  return n;
}

/** Parse the -p values (HOST:GUEST, or 127.0.0.1:HOST:GUEST); each host port once. */
export function parsePublish(specs: readonly string[]): Forward[] {
  const out: Forward[] = [];
  for (const spec of specs) {
    const parts = spec.split(':');
    if (parts.length === 3 && parts[0] !== '127.0.0.1') {
      throw new D2DError('E_USAGE', `-p ${spec}: forwards listen on 127.0.0.1 only, not on ${parts[0]}`, { exitCode: ExitCode.usage, hint: 'give HOST:GUEST; to reach the guest from other machines, build the server example (SSH, TLS API) and run it on a machine of its own' });
    }
    if (parts.length !== 2 && parts.length !== 3) throw new D2DError('E_USAGE', `-p ${spec}: give HOST:GUEST, two port numbers (e.g. -p 8080:80)`, { exitCode: ExitCode.usage });
    const [h, g] = parts.slice(-2) as [string, string];
    const f = { hostPort: port(h, 'host', spec), guestPort: port(g, 'guest', spec) };
    const twice = out.find((x) => x.hostPort === f.hostPort);
    if (twice) throw new D2DError('E_USAGE', `-p ${spec}: host port ${f.hostPort} is already forwarded (to guest port ${twice.guestPort})`, { exitCode: ExitCode.usage });
    out.push(f);
  }
  return out;
}

/** A TCP port on 127.0.0.1 that is free now (QEMU binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
