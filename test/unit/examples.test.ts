// Every documented example config is valid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { PACKAGE_ROOT } from '../../src/paths.js';

const dir = join(PACKAGE_ROOT, 'examples');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

test('there are examples', () => assert.ok(files.length >= 2));
for (const f of files) {
  test(`examples/${f} is valid`, () => {
    const { config } = loadConfig(join(dir, f));
    assert.equal(config.name, f.replace(/\.yaml$/, '').replace('custom-files', 'custom'));
  });
}
