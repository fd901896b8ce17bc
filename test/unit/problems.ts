// Shared by the config unit tests: the problems a config text is rejected with.
import assert from 'node:assert/strict';
import { loadConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

export function problems(text: string, file = 'my.yaml'): { line: number | undefined; path: string; message: string }[] {
  try {
    loadConfigText(text, file);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    return e.problems.map((p) => ({ line: p.line, path: p.path, message: p.message }));
  }
  assert.fail('config was accepted');
}
