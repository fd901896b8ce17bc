// Shared by the three persistence test files (docs/persistence.md): the small build they boot, the
// passphrase, and the unlock at the boot prompt. Three files rather than one so the suite's runner can
// spread their fourteen boots over its slots; each file builds the same config (the second and third
// usually take the root file system from the stage cache).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TEST_LABEL } from '../../src/vm/testdisk.js';
import { cli, e2eDir } from './helpers.js';
import type { Session } from '../support/vmsession.js';

export const PASS = 'correct horse battery staple';

/** The output folder of one persistence test file, its console log and its two builds' ISOs. */
export function persistDir(name: string): { out: string; log: string; old: string; new: string } {
  const out = e2eDir(name);
  return { out, log: join(out, 'console.log'), old: join(out, 'd2d-persist.iso'), new: join(out, 'd2d-persist-new.iso') };
}

/** A test file's start: its output folder emptied (kept with D2D_E2E_REUSE=1, but for the console log). */
export function freshDir(out: string): void {
  if (process.env.D2D_E2E_REUSE !== '1') rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  rmSync(join(out, 'console.log'), { force: true });
}

/**
 * The root stage these files' images share (the stage cache builds it once for the three of them), and so
 * does the in-Docker file's native build (test/e2e/indocker.test.ts): the same root stage inputs and the
 * same SOURCE_DATE_EPOCH, so whichever of them builds first, the others take its root from the cache. One
 * mmdebstrap for four builds; the name, the boot menu and the files are not root stage inputs.
 * Small argon2id memory: unlocking under TCG is slow, and the point here is the flow.
 */
export const SHARED_ROOT = {
  yaml: 'initramfs:\n  compression: zstd\n  level: 3\npersistence:\n  pbkdf-memory: 32768\n  wait: 10\n',
  sourceDateEpoch: '1700000000',
};

const CONFIG = (name: string, generation: number): string =>
  [
    `name: ${name}`,
    SHARED_ROOT.yaml.trimEnd(),
    'boot:\n  timeout: 4',
    `files:\n  - {path: /etc/d2d-generation, content: "${generation}\\n"}`,
    '',
  ].join('\n');

/**
 * Build d2d-persist (generation 1) or d2d-persist-new (generation 2, the "newer build" an install is upgraded to) into out;
 * `extra`: more build options (--format).
 */
export async function buildPersist(out: string, name: 'd2d-persist' | 'd2d-persist-new', extra: string[] = []): Promise<void> {
  // Working on these tests: D2D_E2E_REUSE=1 keeps the images of the last run.
  if (process.env.D2D_E2E_REUSE === '1' && existsSync(join(out, `${name}.iso`))) return;
  const dir = join(out, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.yaml'), CONFIG(name, name === 'd2d-persist' ? 1 : 2));
  const r = await cli(['build', join(dir, 'config.yaml'), '-o', out, ...extra], { env: { SOURCE_DATE_EPOCH: SHARED_ROOT.sourceDateEpoch } });
  assert.equal(r.status, 0, `build of ${name} failed:\n${r.stderr}`);
}

/**
 * Unlock at the boot prompt: the wrong passphrases first, then `pass`; waits until persistence
 * is active and returns the boot's console text up to there (the unlock's messages).
 */
export async function unlock(s: Session, wrong: string[] = [], pass = PASS): Promise<string> {
  const from = s.m.console.length;
  for (const [i, w] of wrong.entries()) {
    await s.answer(/Passphrase for \/dev\/\S+ \(empty: boot without persistence\): /, w);
    await s.waitFor(new RegExp(`persistence: wrong passphrase \\(${i + 1}\\)`), 180000);
  }
  await s.answer(/Passphrase for \/dev\/\S+ \(empty: boot without persistence\): /, pass);
  await s.waitFor(/d2d: persistence: active on \/dev\/\S+/, 300000);
  return s.m.console.transcript.slice(from);
}

// (Subshells: an `exit` must not end the guest's shell the harness types into.)
export const waitDocker = '(n=0; until docker info >/dev/null 2>&1; do n=$((n+1)); [ $n -lt 300 ] || exit 1; sleep 1; done)';
export const mountTestDisk = `mkdir -p /mnt/t; mountpoint -q /mnt/t || mount -o ro "$(blkid -L ${TEST_LABEL})" /mnt/t`;
