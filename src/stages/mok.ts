// The machine-owner key (MOK): boot.secure-boot with a kernel Debian did not sign (the compiled kernel, a
// local one) signs it with a key of the user's own, which shim trusts once it is enrolled with MokManager
// (docs/secure-boot.md). The key is made on first use and kept outside the repository and the image:
// DEBIAN2DOCKER_MOK_DIR, else $XDG_CONFIG_HOME/debian2docker/mok (~/.config/debian2docker/mok). Only the
// certificate goes onto the medium (EFI/BOOT/mok.der, for MokManager); the private key never does.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { run } from '../exec/run.js';
import { D2DError, ExitCode } from '../errors.js';
import { log } from '../log.js';
import { mokDerArgv, mokFingerprintArgv, mokKeyArgv, sbsignArgv } from '../tools/sbsign.js';

export const MOK_ENV = 'DEBIAN2DOCKER_MOK_DIR';

export interface Mok {
  dir: string;
  key: string;
  cert: string;
  der: string;
}

export function mokDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env[MOK_ENV]) return resolve(env[MOK_ENV]!);
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'debian2docker', 'mok');
}

function files(dir: string): Mok {
  return { dir, key: join(dir, 'mok.key'), cert: join(dir, 'mok.crt'), der: join(dir, 'mok.der') };
}

/** The key in `dir`, made there if the folder does not exist yet; a folder with some of the files only is an error. */
export async function ensureMok(dir: string, logFile?: string): Promise<Mok> {
  const m = files(dir);
  const have = [m.key, m.cert, m.der].filter(existsSync);
  if (have.length === 3) return m;
  if (existsSync(dir)) {
    throw new D2DError('E_MOK', `the machine-owner key folder ${dir} lacks ${[m.key, m.cert, m.der].filter((f) => !have.includes(f)).join(', ')}`, {
      exitCode: ExitCode.config,
      hint: `restore the files from your backup; or, to make a new key (every machine must then enrol the new one), move ${dir} away`,
    });
  }
  // Made in a folder beside, then renamed: never a half-made key.
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = mkdtempSync(join(dirname(dir), '.mok-'));
  try {
    chmodSync(tmp, 0o700);
    const t = files(tmp);
    const subject = `/CN=debian2docker machine-owner key (${hostname()}, ${new Date().toISOString().slice(0, 10)})`;
    await run(mokKeyArgv(t.key, t.cert, subject), logFile ? { log: logFile } : { capture: true });
    chmodSync(t.key, 0o600);
    await run(mokDerArgv(t.cert, t.der), logFile ? { log: logFile } : { capture: true });
    renameSync(tmp, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  log.info(`made a machine-owner key for Secure Boot in ${dir}: keep it (a backup too); enrol ${m.der} once on each machine (docs/secure-boot.md)`);
  return m;
}

/** "AB:CD:..." of the certificate. */
export async function mokFingerprint(m: Mok): Promise<string> {
  const out = (await run(mokFingerprintArgv(m.cert), { capture: true })).stdout;
  return out.replace(/^.*=/, '').trim();
}

export async function signKernel(m: Mok, input: string, output: string, logFile: string): Promise<void> {
  await run(sbsignArgv(m.key, m.cert, input, output), { log: logFile });
}
