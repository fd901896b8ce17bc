// persist.sh's stand-in settings (used only where no persist.conf was written) are the config's defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_CONFIG, TARGET_DIR } from '../../src/paths.js';

test("persist.sh's PBKDF_MEMORY and WAIT are default.yaml's persistence defaults", () => {
  const sh = readFileSync(join(TARGET_DIR, 'rootfs/usr/lib/d2d/persist.sh'), 'utf8');
  const persistence = (parse(readFileSync(DEFAULT_CONFIG, 'utf8')) as { persistence: Record<string, unknown> }).persistence;
  const value = (name: string): number => Number(new RegExp(`^${name}=(\\d+)$`, 'm').exec(sh)?.[1]);
  assert.equal(value('PBKDF_MEMORY'), persistence['pbkdf-memory']);
  assert.equal(value('WAIT'), persistence.wait);
});
