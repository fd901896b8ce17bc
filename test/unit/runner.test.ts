// The order npm test starts its files in (test/runner.ts): the slow end-to-end files first, longest
// first, repro after core; every other test file after them; nothing that is not a test file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIRST, orderFiles } from '../support/order.js';

test('slow files first in their order, then the rest by path; repro after core', () => {
  const root = '/x/dist/test';
  const files = ['unit/b.test.js', 'e2e/repro.test.js', 'unit/a.test.js', 'e2e/core.test.js', 'e2e/new.test.js', 'e2e/persistence.test.js'].map((f) => `${root}/${f}`);
  assert.deepEqual(
    orderFiles(files, root).map((f) => f.slice(root.length + 1)),
    ['e2e/persistence.test.js', 'e2e/core.test.js', 'e2e/repro.test.js', 'e2e/new.test.js', 'unit/a.test.js', 'unit/b.test.js'],
  );
  assert.ok(FIRST.indexOf('e2e/repro') > FIRST.indexOf('e2e/core'), 'repro reuses core\'s build');
});
