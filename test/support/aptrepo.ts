// A real signed APT repository for the end-to-end tests: one small package,
// Packages and Release written here, InRelease signed by gpg with a key made
// for the test, served over HTTP on 127.0.0.1.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';

const sha = (b: Buffer, alg = 'sha256'): string => createHash(alg).update(b).digest('hex');

/** A gpg home with one new signing key; returns its armored public key. */
export function makeKey(home: string, name: string): string {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const gpg = (args: string[], input?: string): string => execFileSync('gpg', ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'ignore'] });
  gpg(['--quick-gen-key', `${name} <e2e@invalid>`, 'ed25519', 'sign', 'never']);
  return gpg(['--armor', '--export']);
}

/** A flat-free repository: dists/stable/main/binary-amd64 and pool/, with package NAME 1.0 (all) holding FILES. */
export function makeRepo(dir: string, gpgHome: string, pkg: { name: string; files: Record<string, string> }): void {
  const build = mkdtempSync(join(tmpdir(), 'd2d-deb-'));
  try {
    mkdirSync(join(build, 'DEBIAN'));
    writeFileSync(join(build, 'DEBIAN/control'), `Package: ${pkg.name}\nVersion: 1.0\nArchitecture: all\nMaintainer: d2d e2e <e2e@invalid>\nDescription: test package of the debian2docker end-to-end suite\n`);
    for (const [path, text] of Object.entries(pkg.files)) {
      mkdirSync(join(build, path, '..'), { recursive: true });
      writeFileSync(join(build, path), text);
    }
    const pool = join(dir, 'pool/main');
    mkdirSync(pool, { recursive: true });
    const deb = join(pool, `${pkg.name}_1.0_all.deb`);
    execFileSync('dpkg-deb', ['--root-owner-group', '--build', build, deb], { stdio: 'ignore' });
    const data = readFileSync(deb);
    const control = execFileSync('dpkg-deb', ['-f', deb], { encoding: 'utf8' }).trimEnd();
    const packages = `${control}\nFilename: pool/main/${pkg.name}_1.0_all.deb\nSize: ${data.length}\nMD5sum: ${sha(data, 'md5')}\nSHA256: ${sha(data)}\n\n`;
    const bin = join(dir, 'dists/stable/main/binary-amd64');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'Packages'), packages);
    const date = new Date(Date.now() - 3600_000).toUTCString().replace('GMT', 'UTC');
    const p = Buffer.from(packages);
    const release = `Origin: d2d-e2e\nLabel: d2d-e2e\nSuite: stable\nCodename: stable\nArchitectures: amd64 all\nComponents: main\nDate: ${date}\nSHA256:\n ${sha(p)} ${p.length} main/binary-amd64/Packages\n`;
    writeFileSync(join(dir, 'dists/stable/Release'), release);
    execFileSync('gpg', ['--homedir', gpgHome, '--batch', '--yes', '--pinentry-mode', 'loopback', '--passphrase', '', '--clearsign', '--output', join(dir, 'dists/stable/InRelease'), join(dir, 'dists/stable/Release')], { stdio: 'ignore' });
  } finally {
    rmSync(build, { recursive: true, force: true });
  }
}

/** Serve a folder over HTTP on 127.0.0.1:port (read-only, no listing). */
export function serveFolder(dir: string, port: number): Promise<Server> {
  const srv = createServer((req, res) => {
    const rel = normalize(decodeURIComponent((req.url ?? '/').split('?')[0]!)).replace(/^(\.\.[/\\])+/, '');
    const f = join(dir, rel);
    if (!f.startsWith(dir) || !existsSync(f) || !statSync(f).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': statSync(f).size });
    if (req.method === 'HEAD') res.end();
    else createReadStream(f).pipe(res);
  });
  return new Promise((resolve) => srv.listen(port, '127.0.0.1', () => resolve(srv)));
}

/** Stop the gpg agents a test's gpg homes started. */
export function stopGpg(home: string): void {
  try {
    execFileSync('gpgconf', ['--homedir', home, '--kill', 'all'], { stdio: 'ignore' });
  } catch {
    /* no agent running */
  }
}
