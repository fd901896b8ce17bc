// `debian2docker serve BUILD`: network boot for a fleet. An HTTP server for one build's kernel,
// initrd and images initrd, and an iPXE script per machine (its MAC chooses its machine file in
// --machines); --tftp writes the chain script a machine's firmware fetches first (from a TFTP
// server, or QEMU's user-mode network: tftp=DIR,bootfile=boot.ipxe). docs/fleet.md.
import { createReadStream, existsSync, readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { basename, dirname, join } from 'node:path';
import { D2DError, ExitCode } from '../errors.js';
import { log } from '../log.js';
import { chainScript, cmdlineProblem, machineScript, normaliseMac, type BootFiles } from '../serve/ipxe.js';
import { loadMachines, machineCmdline, type Machine } from '../serve/machines.js';

const usage = (message: string, hint?: string): D2DError => new D2DError('E_USAGE', message, { exitCode: ExitCode.usage, hint });

export interface ServeOptions {
  /** HOST:PORT or PORT (default 127.0.0.1:8080); port 0 picks a free one. */
  listen?: string;
  /** A folder of machine files (MAC.yaml). */
  machines?: string;
  /** Write the chain script boot.ipxe into this folder. */
  tftp?: string;
  /** serve's URL as the machines reach it (default: the Host the request names; needed with --tftp on 0.0.0.0). */
  url?: string;
  /** More kernel command line for every machine. */
  cmdline?: string;
  /** Where each request's line goes (default: the log). */
  report?: (line: string) => void;
}

export interface Serving {
  server: Server;
  /** The URL serve listens on. */
  url: string;
  close(): Promise<void>;
}

interface Build {
  name: string;
  dir: string;
  files: BootFiles;
  cmdline: string;
}

/** The build: a NAME.manifest.json, or the output folder that has exactly one. */
export function readBuild(path: string): Build {
  if (!existsSync(path)) throw usage(`no such file or folder: ${path}`, 'give a build\'s NAME.manifest.json, or the output folder of `debian2docker build`');
  let manifest = path;
  if (statSync(path).isDirectory()) {
    const found = readdirSync(path).filter((f) => f.endsWith('.manifest.json'));
    if (found.length !== 1) {
      throw usage(`${path} has ${found.length === 0 ? 'no build manifest' : `${found.length} build manifests (${found.join(', ')})`}`, 'give the NAME.manifest.json of the build to serve');
    }
    manifest = join(path, found[0]!);
  }
  const m = JSON.parse(readFileSync(manifest, 'utf8')) as {
    name?: string;
    artifacts?: { kernel?: { file: string }; initrd?: { file: string } };
    images?: unknown[];
    config?: { normalised?: { boot?: { cmdline?: string } } };
  };
  const dir = dirname(manifest);
  const kernel = m.artifacts?.kernel?.file;
  const initrd = m.artifacts?.initrd?.file;
  if (!m.name || !kernel || !initrd) throw usage(`${manifest} is not a debian2docker build manifest (no name, kernel or initrd)`);
  const images = (m.images?.length ?? 0) > 0 ? `${m.name}.images` : null;
  for (const f of [kernel, initrd, ...(images ? [images] : [])]) {
    if (!existsSync(join(dir, f))) throw usage(`${join(dir, f)} is missing: the build named it`, 'serve the output folder as the build left it');
  }
  return { name: m.name, dir, files: { kernel, initrd, images }, cmdline: m.config?.normalised?.boot?.cmdline ?? '' };
}

export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:(.+):)?(\d{1,5})$/.exec(s.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw usage(`--listen ${s}: give PORT or HOST:PORT, e.g. 0.0.0.0:8080`);
  return { host: (m[1] ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1'), port };
}

export async function serve(buildPath: string, o: ServeOptions = {}): Promise<Serving> {
  const build = readBuild(buildPath);
  const extra = (o.cmdline ?? '').trim();
  const bad = cmdlineProblem(extra);
  if (bad) throw usage(`--cmdline: ${bad}`);
  if (o.url !== undefined && !/^https?:\/\/[^/\s]+$/.test(o.url)) throw usage(`--url ${o.url}: give http://HOST:PORT (no path)`);
  // Checked now, each problem at its file:line; read again for each machine that boots (edits apply).
  if (o.machines !== undefined) {
    if (!existsSync(o.machines) || !statSync(o.machines).isDirectory()) throw usage(`--machines ${o.machines}: no such folder`);
    loadMachines(o.machines);
  }
  const { host, port } = parseListen(o.listen ?? '127.0.0.1:8080');
  const report = o.report ?? ((l: string) => log.info(l));
  const machineOf = (mac: string): Machine | undefined => (o.machines === undefined ? undefined : loadMachines(o.machines).get(mac));

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      log.error(`serve: ${req.url}: ${(e as Error).message}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`${(e as Error).message}\n`);
    });
  });
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://x');
    const who = req.socket.remoteAddress ?? '?';
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (url.pathname === '/boot.ipxe') {
      const mac = normaliseMac(url.searchParams.get('mac') ?? '');
      if (!mac) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('boot.ipxe?mac=52-54-00-12-34-56: the MAC address of the interface that boots\n');
        return;
      }
      const machine = machineOf(mac);
      const base = o.url ?? `http://${req.headers.host ?? `${host}:${port}`}`;
      const cmdline = [build.cmdline, extra, machineCmdline(machine)].filter(Boolean).join(' ');
      report(`serve: ${mac} (${who}): boot script${machine ? '' : ', no machine file: the build\'s settings'}`);
      res.writeHead(200, { 'content-type': 'text/plain' }).end(machineScript({ base, name: build.name, mac, files: build.files, cmdline }));
      return;
    }
    const name = basename(url.pathname);
    const served = [build.files.kernel, build.files.initrd, ...(build.files.images ? [build.files.images] : [])];
    if (url.pathname !== `/${name}` || !served.includes(name)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`serve has ${['boot.ipxe', ...served].join(', ')}\n`);
      return;
    }
    const file = join(build.dir, name);
    const size = statSync(file).size;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const t0 = Date.now();
    await new Promise<void>((resolve, reject) => {
      const s = createReadStream(file);
      s.on('error', reject);
      res.on('close', () => resolve());
      s.pipe(res);
    });
    report(`serve: ${name} (${(size / 1e6).toFixed(1)} MB) to ${who}${res.writableFinished ? '' : ' (cut short)'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? usage(`--listen ${host}:${port}: the port is in use`, 'choose another with --listen') : e),
    );
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
  if (o.tftp !== undefined) {
    const base = o.url ?? (['0.0.0.0', '::'].includes(host) ? undefined : url);
    if (base === undefined) {
      server.close();
      throw usage(`--tftp: serve listens on every address (${host}): say which one the machines reach with --url http://HOST:${bound}`);
    }
    mkdirSync(o.tftp, { recursive: true });
    writeFileSync(join(o.tftp, 'boot.ipxe'), chainScript(base));
  }
  return {
    server,
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
