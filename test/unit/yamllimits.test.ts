// YAML that would exhaust memory or the stack is refused with a message naming the file (and
// the line, where there is one), never an internal error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, loadConfigText } from '../../src/config/load.js';
import { ConfigError, formatProblem } from '../../src/errors.js';
import { MAX_CONFIG_BYTES } from '../../src/config/limits.js';
import { scratchDir } from '../support/scratch.js';

function refused(load: () => unknown): ConfigError {
  try {
    load();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e instanceof Error ? e.stack : String(e)}`);
    assert.equal(e.problems.length, 1, e.message);
    assert.ok(!e.message.includes('\n'), 'one line');
    return e;
  }
  assert.fail('config was accepted');
}

test('a billion-laughs file is refused at its first alias', () => {
  const lines = ['name: bomb', 'a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let i = 1; i < 10; i++) lines.push(`a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]`);
  const file = join(scratchDir('d2d-yaml-'), 'laughs.yaml');
  writeFileSync(file, lines.join('\n') + '\n');
  const e = refused(() => loadConfig(file));
  assert.equal(e.problems[0]!.line, 3);
  assert.match(formatProblem(e.problems[0]!), /laughs\.yaml:3:\d+: \(top level\): YAML aliases expand to too much data \(more than 100 copies, e\.g\. \*a0\): refused, as a "billion laughs" file would exhaust memory$/);
});

test('a few aliases, as a config may use them, are fine', () => {
  const text = 'images:\n  - {tag: "me/hello:1", debian: {packages: [hello]}}\nservices:\n  - {name: web, image: "me/hello:1", env: &env {MODE: prod}}\n  - {name: api, image: "me/hello:1", env: *env}\n';
  const { config } = loadConfigText(text, 'my.yaml');
  assert.deepEqual(config.services[1]!.env, { MODE: 'prod' });
});

test('10000 nested flow sequences are refused at the level that is too deep, not with a stack overflow', () => {
  const file = join(scratchDir('d2d-yaml-'), 'deep.yaml');
  writeFileSync(file, `name: deep\nx: ${'['.repeat(10000)}${']'.repeat(10000)}\n`);
  const e = refused(() => loadConfig(file));
  const p = e.problems[0]!;
  assert.equal(p.line, 2);
  assert.equal(p.column, 4 + 63, 'the 64th sequence (the root mapping is level 0)');
  assert.match(p.message, /^YAML nested more than 64 levels deep: refused \(a configuration needs fewer than 10\)$/);
});

test('deep block nesting is refused at its line', () => {
  const text = `name: deep\n${Array.from({ length: 70 }, (_, i) => `${' '.repeat(i)}k${i}:\n`).join('')}${' '.repeat(70)}k: 1\n`;
  const e = refused(() => loadConfigText(text, 'my.yaml'));
  assert.equal(e.problems[0]!.line, 66, 'k63 opens the 64th nested mapping on line 66');
  assert.match(e.message, /^my\.yaml:66:\d+: \(top level\): YAML nested more than 64 levels deep/);
});

test('a file over 1 MiB is refused before it is parsed, naming the file and its size', () => {
  const file = join(scratchDir('d2d-yaml-'), 'big.yaml');
  writeFileSync(file, `name: big\n${`# ${'x'.repeat(98)}\n`.repeat(11000)}`);
  const e = refused(() => loadConfig(file));
  assert.equal(e.problems[0]!.line, undefined);
  assert.equal(e.message, `${file}: (top level): the file has 1111010 bytes: a configuration is at most ${MAX_CONFIG_BYTES} (1 MiB); put large contents in files (files: - source:)`);
  // The same limit for text given directly, and for a file reached through extends.
  assert.match(refused(() => loadConfigText(`name: big\n#${'é'.repeat(MAX_CONFIG_BYTES / 2)}\n`, 'my.yaml')).message, /^my\.yaml: \(top level\): the file has \d+ bytes/);
  const child = join(scratchDir('d2d-yaml-'), 'child.yaml');
  writeFileSync(child, `extends: ${file}\n`);
  assert.equal(refused(() => loadConfig(child)).problems[0]!.file, file);
});
