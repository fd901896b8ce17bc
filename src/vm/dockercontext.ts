// `run --docker-context NAME`: a Docker context on the host that reaches the guest's engine through its
// TLS remote API (docker.remote-api in the image's config), with the client certificate the guest made
// at its first boot. The files are read over the guest's virtio console (the root shell only the VM's
// owner reaches, VmSpec.agent), never over the network, and handed to `docker context create`, which
// keeps its own copies in the user's Docker configuration.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { D2DError, ExitCode } from '../errors.js';
import { run } from '../exec/run.js';
import type { SerialConsole } from './console.js';

/** Docker's own rule for context names. */
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$/;

export function checkContextName(name: string): string {
  if (!NAME.test(name) || name === 'default') {
    throw new D2DError('E_USAGE', `--docker-context ${name}: a context name is letters, digits and _.+- (starting with a letter or digit), and not "default"`, { exitCode: ExitCode.usage });
  }
  return name;
}

export interface ClientFiles {
  ca: string;
  cert: string;
  key: string;
}

/** The PEM blocks of the guest's answer, in the order ca, cert, key. */
export function parseClientFiles(text: string): ClientFiles {
  const pick = (tag: string): string => {
    const m = new RegExp(`==${tag}==\\n([\\s\\S]*?)==end==`).exec(text);
    if (!m || !/-----BEGIN [A-Z ]+-----[\s\S]+-----END [A-Z ]+-----/.test(m[1]!)) throw new Error(`the guest sent no ${tag}.pem`);
    return m[1]!.trim() + '\n';
  };
  return { ca: pick('ca'), cert: pick('cert'), key: pick('key') };
}

/**
 * Wait (in the guest, for the event, not a guessed time) until the engine answers and the client
 * certificate exists, then read ca.pem, cert.pem and key.pem. Fails with a message that says what the
 * image lacks when it has no remote API.
 */
export async function fetchClientFiles(agent: SerialConsole, timeoutMs: number): Promise<ClientFiles> {
  const dir = '/var/lib/d2d/tls/client';
  const wait = `(n=0; until docker info >/dev/null 2>&1; do n=$((n+1)); [ $n -lt ${Math.ceil(timeoutMs / 1000)} ] || exit 1; sleep 1; done)`;
  const ready = await agent.exec(wait, timeoutMs + 30000);
  if (ready.status !== 0) throw new D2DError('E_VM', 'the guest\'s Docker engine did not start', { hint: 'look at the guest console; `d2d-log` in the guest shows the boot log' });
  const have = await agent.exec(`test -f /etc/d2d/remote-api && test -s ${dir}/cert.pem`, 30000);
  if (have.status !== 0) {
    throw new D2DError('E_VM', 'this image has no Docker remote API, so no context can reach its engine', { hint: 'enable it in the config (docker: {remote-api: {enabled: true}}, as examples/server.yaml does) and build again' });
  }
  const r = await agent.exec(`for f in ca cert key; do echo "==$f=="; cat ${dir}/$f.pem; echo "==end=="; done`, 60000);
  return parseClientFiles(r.output);
}

/** The remote API's guest port as the image's manifest (beside it) records it; undefined when it is off. */
export function remoteApiPort(image: string): number | undefined {
  const manifest = image.replace(/\.(iso|kernel)$/, '.manifest.json');
  if (!existsSync(manifest)) return 2376; // an image without its manifest: the default port, checked in the guest
  const m = JSON.parse(readFileSync(manifest, 'utf8')) as { config?: { normalised?: { docker?: { 'remote-api'?: { enabled?: boolean; port?: number } } } } };
  const api = m.config?.normalised?.docker?.['remote-api'];
  return api?.enabled ? (api.port ?? 2376) : undefined;
}

/** The argv that creates (or updates) the context: the TLS files are read from `dir` by the docker CLI. */
export function contextArgv(verb: 'create' | 'update', name: string, port: number, dir: string, description: string): string[] {
  return ['docker', 'context', verb, name, '--description', description, '--docker', `host=tcp://127.0.0.1:${port},ca=${join(dir, 'ca.pem')},cert=${join(dir, 'cert.pem')},key=${join(dir, 'key.pem')}`];
}

/** Create or update context `name` on the host for the engine forwarded to 127.0.0.1:port. */
export async function writeDockerContext(name: string, port: number, files: ClientFiles, description: string): Promise<'created' | 'updated'> {
  const env = { DOCKER_CONFIG: process.env.DOCKER_CONFIG };
  const exists = (await run(['docker', 'context', 'inspect', name], { env, capture: true, okStatus: [1] })).status === 0;
  const dir = mkdtempSync(join(tmpdir(), 'd2d-context-'));
  try {
    chmodSync(dir, 0o700);
    for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, `${f}.pem`), text, { mode: 0o600 });
    await run(contextArgv(exists ? 'update' : 'create', name, port, dir, description), { env, capture: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return exists ? 'updated' : 'created';
}
