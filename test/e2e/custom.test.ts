// End to end: the customised fixture (test/e2e/fixtures/custom.yaml: zstd, files, hooks, SSH, the
// TLS API), built rootless when CI names a build user, booted by network boot and checked from inside
// the guest and from the host (SSH, the boot2docker-data key, the remote API with its certificates).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { testImageReport } from '../../src/commands/test.js';
import { busyboxImage } from '../../src/formats/dockerArchive.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { SerialConsole } from '../../src/vm/console.js';
import { bootWithRetry, type BootedGuest } from '../../src/vm/crash.js';
import { CLI, cli, e2eDir, freePort, ROOTLESS_USER, SKIP } from './helpers.js';
import { assertPassed, httpsGet, type Manifest } from './checks.js';

/**
 * `debian2docker run IMAGE --docker-context NAME` as a person starts it: its standard output is the guest's
 * serial console (so the crash-aware boot watches it), its standard error says when the context is made.
 */
function startRun(image: string, context: string, env: Record<string, string>, log: string): BootedGuest & { said: (re: RegExp, timeoutMs: number) => Promise<string> } {
  const p = spawn(process.execPath, [CLI, 'run', image, '--docker-context', context, '--tcg-threads', 'single'], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  const serial = new SerialConsole(p.stdout, p.stdin, (s) => appendFileSync(log, s));
  let stderr = '';
  const waiters: (() => void)[] = [];
  p.stderr.on('data', (b: Buffer) => {
    stderr += b.toString();
    appendFileSync(log, b.toString().replace(/^(?=.)/gm, '[run] '));
    waiters.forEach((w) => w());
  });
  const exited = new Promise<number | null>((resolve) => p.on('exit', (code) => resolve(code)));
  return {
    console: serial,
    exited,
    kill: () => {
      try {
        process.kill(-p.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    },
    said: (re, timeoutMs) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`run never said ${re} in ${timeoutMs / 1000} s:\n${stderr}`)), timeoutMs);
        const check = (): void => {
          const m = re.exec(stderr);
          if (m) {
            clearTimeout(timer);
            resolve(m[0]);
          }
        };
        waiters.push(check);
        void exited.then(() => setTimeout(() => reject(new Error(`run ended before it said ${re}:\n${stderr}`)), 100));
        check();
      }),
  };
}

describe('customised image: zstd, files, hooks, SSH; built rootless when a build user is given', { skip: SKIP }, () => {
  const out = e2eDir('custom');

  test(`builds test/e2e/fixtures/custom.yaml${ROOTLESS_USER ? ` as ${ROOTLESS_USER} (mmdebstrap --mode=unshare)` : ''} and checks it in the guest (network boot)`, { timeout: 30 * 60000 }, async () => {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    // The SSH key is made now, so the config that uses it extends the fixture.
    const key = join(out, 'id_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'd2d-e2e', '-f', key]);
    const cfg = join(out, 'custom-ssh.yaml');
    writeFileSync(cfg, `extends: ${join(PACKAGE_ROOT, 'test/e2e/fixtures/custom.yaml')}\nssh:\n  enabled: true\n  authorized_keys:\n    - "${readFileSync(`${key}.pub`, 'utf8').trim()}"\n`);
    if (ROOTLESS_USER) execFileSync('chown', ['-R', ROOTLESS_USER, out]);
    const b = await cli(['build', cfg, '-o', out], { asUser: ROOTLESS_USER });
    assert.equal(b.status, 0, b.stderr);
    const m = JSON.parse(readFileSync(join(out, 'd2d-custom.manifest.json'), 'utf8')) as Manifest & { rootfs: { compression: string }; build: { rootless: boolean } };
    assert.equal(m.rootfs.compression, 'zstd');
    assert.equal(m.build.rootless, ROOTLESS_USER !== undefined);
    assert.ok(m.packages.some((p) => p.name === 'zstd'), 'zstd is in the image for stage 1');
    for (const s of ['rootfs/hooks-after-packages', 'rootfs/files', 'rootfs/hooks-before-pack']) assert.ok(s in m.stages, `stage ${s}`);
    // A boot2docker-data volume (ext4, as docker-machine drivers make it) whose userdata.tar holds another key.
    const b2dKey = join(out, 'b2d_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'd2d-b2d', '-f', b2dKey]);
    const b2dTree = join(out, 'b2d-tree');
    mkdirSync(join(b2dTree, 'var/lib/boot2docker'), { recursive: true });
    mkdirSync(join(out, 'userdata/.ssh'), { recursive: true });
    writeFileSync(join(out, 'userdata/.ssh/authorized_keys'), readFileSync(`${b2dKey}.pub`));
    execFileSync('tar', ['-cf', join(b2dTree, 'var/lib/boot2docker/userdata.tar'), '-C', join(out, 'userdata'), '.ssh']);
    const b2dImg = join(out, 'b2d.img');
    execFileSync('truncate', ['-s', '16M', b2dImg]);
    execFileSync('mkfs.ext4', ['-q', '-F', '-L', 'boot2docker-data', '-d', b2dTree, b2dImg]);
    const port = await freePort();
    const apiPort = await freePort();
    const ssh = ['-i', key, '-p', String(port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=20', 'root@127.0.0.1'];
    const r = await testImageReport(join(out, 'd2d-custom.kernel'), {
      scenario: join(PACKAGE_ROOT, 'test/e2e/scenarios/custom.sh'),
      consoleLog: join(out, 'console.log'),
      disk: [b2dImg],
      forwards: [
        { hostPort: port, guestPort: 22 },
        { hostPort: apiPort, guestPort: 2376 },
      ],
      hostChecks: [
        {
          name: 'ssh with the configured key reaches Docker',
          run: async () => {
            const outp = execFileSync('ssh', [...ssh, "docker info --format '{{.Driver}}'"], { encoding: 'utf8', timeout: 120000 }).trim();
            return { ok: outp === 'overlay2', detail: outp };
          },
        },
        {
          name: 'ssh refuses passwords and other keys',
          run: async () => {
            const other = join(out, 'other_key');
            execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
            // Options go before the destination: after it, ssh takes them for the remote command.
            const args = ['-i', other, '-o', 'IdentitiesOnly=yes', ...ssh.slice(2), 'true'];
            try {
              execFileSync('ssh', args, { encoding: 'utf8', timeout: 60000, stdio: 'pipe' });
              return { ok: false, detail: 'an unknown key logged in' };
            } catch (e) {
              const err = String((e as { stderr?: string }).stderr ?? e);
              return { ok: /Permission denied \(publickey\)/.test(err), detail: err.trim().split('\n').pop() ?? '' };
            }
          },
        },
        {
          name: 'boot2docker-data userdata.tar key logs in',
          run: async () => {
            const args = ['-i', b2dKey, '-o', 'IdentitiesOnly=yes', ...ssh.slice(2), 'grep boot2docker-data /var/log/d2d-boot.log'];
            const outp = execFileSync('ssh', args, { encoding: 'utf8', timeout: 120000 }).trim();
            return { ok: /1 SSH key\(s\) from var\/lib\/boot2docker\/userdata\.tar/.test(outp), detail: outp };
          },
        },
        {
          name: 'remote API: TLS with the client certificate fetched over SSH; refused without one',
          run: async () => {
            const dir = join(out, 'tls');
            mkdirSync(dir, { recursive: true });
            execFileSync('tar', ['-x', '-C', dir], { input: execFileSync('ssh', [...ssh, 'd2d-tls-client'], { timeout: 120000 }) });
            const [ca, cert, key] = ['ca.pem', 'cert.pem', 'key.pem'].map((f) => readFileSync(join(dir, f))) as [Buffer, Buffer, Buffer];
            const withCert = await httpsGet(apiPort, '/version', { ca, cert, key });
            const version = (JSON.parse(withCert) as { ApiVersion?: string }).ApiVersion;
            const without = await httpsGet(apiPort, '/version', { ca }).then(
              () => 'answered',
              (e: Error) => e.message,
            );
            return { ok: /^\d+\.\d+$/.test(version ?? '') && without !== 'answered' && !/ECONNREFUSED/.test(without), detail: `API ${version}; without a client certificate: ${without}` };
          },
        },
      ],
    });
    assertPassed(r, ['scenario', 'ssh with the configured key reaches Docker', 'ssh refuses passwords and other keys', 'boot2docker-data userdata.tar key logs in', 'remote API: TLS with the client certificate fetched over SSH; refused without one']);
  });

  test("run --docker-context: the host's own docker CLI (Debian's docker.io, another release than the guest's engine) loads an image into the guest and runs it", { timeout: 30 * 60000 }, async () => {
    const context = `d2d-e2e-${process.pid}`;
    const config = join(out, 'docker-config');
    rmSync(config, { recursive: true, force: true });
    mkdirSync(config, { recursive: true });
    const env = { DOCKER_CONFIG: config };
    const tarball = join(out, 'ctx-image.tar');
    writeFileSync(tarball, busyboxImage(readFileSync('/bin/busybox'), 'd2d-test/ctx:1', 0).tarball);
    const log = join(out, 'console-run.log');
    const docker = async (...args: string[]): Promise<string> => (await promisify(execFile)('docker', ['--context', context, ...args], { env: { ...process.env, ...env }, timeout: 300000, encoding: 'utf8' })).stdout.trim();
    await bootWithRetry(
      () => startRun(join(out, 'd2d-custom.kernel'), context, env, log),
      (r) => r,
      async (r) => {
        const said = await r.said(/docker context \S+ (created|updated)[^\n]*|docker context \S+ not made:[^\n]*/, 20 * 60000);
        assert.match(said, new RegExp(`^docker context ${context} created: the guest's engine on 127\\.0\\.0\\.1:\\d+ \\(TLS, client certificate\\)`));
        assert.match(await docker('load', '-i', tarball), /Loaded image: d2d-test\/ctx:1/);
        assert.equal(await docker('run', '--rm', '--network', 'none', 'd2d-test/ctx:1', 'echo', 'hello-through-the-context'), 'hello-through-the-context');
        assert.match(await docker('images', '--format', '{{.Repository}}:{{.Tag}}'), /^d2d-test\/ctx:1$/m);
        const [client, server] = (await docker('version', '--format', '{{.Client.Version}} {{.Server.Version}}')).split(' ');
        assert.notEqual(client, server, 'a different release on each side');
        // The context keeps its own copies of the TLS files: none is left in a temporary folder.
        assert.match(execFileSync('docker', ['context', 'inspect', context, '--format', '{{.Endpoints.docker.Host}}'], { env: { ...process.env, ...env }, encoding: 'utf8' }), /^tcp:\/\/127\.0\.0\.1:\d+$/m);
        // Ctrl-A X quits QEMU, as at a terminal; run ends with it.
        r.console.send('\x01x');
        assert.equal(await r.exited, 0);
      },
      { note: (why) => appendFileSync(log, `\n== ${why}\n`) },
    );
  });
});
