// CI installs its host packages itself; the README's setup script installs the same ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { HOST_TOOLS } from '../../src/exec/hosttools.js';

/** The packages of the first `apt-get install` line (with its continuation lines) in a script. */
function aptPackages(file: string): string[] {
  const text = readFileSync(join(PACKAGE_ROOT, file), 'utf8').replace(/\\\n/g, ' ');
  const line = text.split('\n').find((l) => /^\s*apt-get install /.test(l));
  assert.ok(line, `${file} has no apt-get install line`);
  return line.split(/\s+/).filter((w) => w !== '' && !w.startsWith('-') && w !== 'apt-get' && w !== 'install').sort();
}

test('.ci/run and scripts/install-deps.sh install the same packages, covering every host tool', () => {
  const ci = aptPackages('.ci/run');
  assert.deepEqual(ci, aptPackages('scripts/install-deps.sh'));
  for (const t of HOST_TOOLS) if (t.pkg !== 'dpkg') assert.ok(ci.includes(t.pkg), `${t.pkg} (for ${t.tool})`);
});

test('.ci/run and scripts/install-deps.sh both take QEMU from bookworm-backports on Debian 12', () => {
  for (const f of ['.ci/run', 'scripts/install-deps.sh']) assert.match(readFileSync(join(PACKAGE_ROOT, f), 'utf8'), /^[^#\n]*qemu-backports\.sh/m, f);
});
