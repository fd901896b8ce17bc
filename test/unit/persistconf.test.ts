// persist.sh reads every setting from persist.conf and the build's identity file and carries no
// value of its own; the build renders each of them (src/render/settings.ts), from the plan, so each
// default lives once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TARGET_DIR } from '../../src/paths.js';
import { loadConfigText } from '../../src/config/load.js';
import { makePlan } from '../../src/plan/plan.js';
import { identityFiles, persistConf } from '../../src/render/settings.js';

test("persist.sh's settings are empty until persist.conf or the identity file gives them, and the rendered files give each", () => {
  const sh = readFileSync(join(TARGET_DIR, 'rootfs/usr/lib/d2d/persist.sh'), 'utf8');
  // The block of settings: NAME= lines between the PERSIST_CONF default and the sourcing of the file.
  const block = sh.slice(sh.indexOf(': "${PERSIST_CONF:='), sh.indexOf('if [ -f "$PERSIST_CONF" ]'));
  const settings = [...block.matchAll(/^([A-Z_]+)=(.*)$/gm)].map((m) => ({ name: m[1]!, value: m[2]! }));
  assert.ok(settings.length >= 7, `persist.sh's settings block: ${block}`);
  for (const s of settings) assert.equal(s.value, '', `persist.sh gives ${s.name} a value of its own`);
  const l = loadConfigText(undefined);
  const plan = makePlan(l.config, { outDir: '/o', configHash: l.hash, sourceDateEpoch: 1700000000 });
  const conf = persistConf(plan)! + identityFiles(plan).find((f) => f.path === 'etc/d2d/build')!.text;
  const given = new Set([...conf.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]!));
  assert.ok(given.has('BUILD') && given.has('VOLID') && given.has('PBKDF_MEMORY'), conf);
  assert.deepEqual(settings.map((s) => s.name).filter((n) => !given.has(n)), [], 'settings persist.conf does not give');
});
