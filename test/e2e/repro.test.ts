// Reproducible builds (issue 7): the default config built twice with the same
// SOURCE_DATE_EPOCH — the second time without the package cache — gives the
// same ISO, kernel and initrd, byte for byte, and the same manifest apart from
// the stage durations it records (the one field that is about the build, not
// the image).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cli, E2E_DIR, REPRO_SDE, SKIP } from './helpers.js';

const SDE = REPRO_SDE;
/** core.test's default build, made with the same SOURCE_DATE_EPOCH (when it ran first, as in npm test). */
const CORE = join(E2E_DIR, 'core');
const NAME = 'debian2docker';

function manifestWithoutDurations(dir: string): string {
  const m = JSON.parse(readFileSync(join(dir, `${NAME}.manifest.json`), 'utf8')) as Record<string, unknown>;
  delete m.stages;
  return JSON.stringify(m, null, 1);
}

describe('reproducible build', { skip: SKIP }, () => {
  test('two builds of the default config, the second without cache, are bit-identical', { timeout: 40 * 60000 }, async () => {
    const coreManifest = join(CORE, `${NAME}.manifest.json`);
    const reuse = existsSync(coreManifest) && String((JSON.parse(readFileSync(coreManifest, 'utf8')) as { sourceDateEpoch?: number }).sourceDateEpoch) === SDE;
    const dirs = [reuse ? CORE : join(E2E_DIR, 'repro-1'), join(E2E_DIR, 'repro-2')];
    for (const [i, d] of dirs.entries()) {
      if (i === 0 && reuse) continue;
      rmSync(d, { recursive: true, force: true });
      const r = await cli(['build', '-o', d, ...(i === 1 ? ['--no-cache'] : [])], { env: { SOURCE_DATE_EPOCH: SDE } });
      assert.equal(r.status, 0, r.stderr);
    }
    const [a, b] = dirs.map((d) => JSON.parse(readFileSync(join(d, `${NAME}.manifest.json`), 'utf8')) as { artifacts: Record<string, { sha256: string }> });
    for (const kind of ['iso', 'kernel', 'initrd']) assert.equal(b!.artifacts[kind]!.sha256, a!.artifacts[kind]!.sha256, `${kind} differs between the two builds`);
    assert.equal(manifestWithoutDurations(dirs[1]!), manifestWithoutDurations(dirs[0]!));
  });
});
