// Time zone, locale and keyboard: config checks, the packages they add, what the build looks up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { makePlan } from '../../src/plan/plan.js';
import { PRUNE_RULES, pruneRules } from '../../src/plan/prune.js';
import { findKeymaps, supportedLine } from '../../src/stages/locale.js';
import { scratchDir } from '../support/scratch.js';

const o = { outDir: '/o', configHash: 'h', sourceDateEpoch: 0 };

test('defaults need no package: UTC, C.UTF-8, us', () => {
  const p = makePlan(loadConfigText(undefined).config, o);
  assert.deepEqual(p.system, { timezone: 'UTC', locale: 'C.UTF-8', keyboard: 'us' });
  for (const pkg of ['tzdata', 'locales', 'kbd', 'console-data']) assert.ok(!p.packages.includes(pkg), pkg);
  // UTC and no remote API: the time zone rules and the openssl CLI go too; crun starts containers, so runc goes.
  assert.deepEqual(pruneRules(p).slice(PRUNE_RULES.length).map((r) => r.path), ['usr/share/zoneinfo', 'usr/bin/openssl', 'usr/sbin/runc', 'usr/lib/x86_64-linux-gnu/libcrun.a']);
});

test('a time zone, a locale and a keyboard add their packages and prune their sources', () => {
  const p = makePlan(loadConfigText('timezone: Europe/Berlin\nlocale: de_DE.UTF-8\nkeyboard: de\n', 'my.yaml').config, o);
  for (const pkg of ['tzdata', 'locales', 'kbd', 'console-data']) assert.ok(p.packages.includes(pkg), pkg);
  assert.deepEqual(pruneRules(p).slice(PRUNE_RULES.length).map((r) => r.path), ['usr/share/i18n', 'usr/share/keymaps', 'usr/bin/openssl', 'usr/sbin/runc', 'usr/lib/x86_64-linux-gnu/libcrun.a']);
});

test('bad time zone, locale and keyboard names: named at their line', () => {
  try {
    loadConfigText('hostname: x\ntimezone: "Europe Berlin"\nlocale: german\nkeyboard: "DE"\n', 'my.yaml');
    assert.fail('accepted');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.deepEqual(
      e.problems.map((p) => [p.path, p.line]),
      [
        ['timezone', 2],
        ['locale', 3],
        ['keyboard', 4],
      ],
    );
    assert.match(e.problems[1]!.message, /a locale such as en_US.UTF-8/);
  }
});

test('supportedLine finds the exact locale, not a prefix', () => {
  const s = 'de_DE.UTF-8 UTF-8\nde_DE ISO-8859-1\nde_DE@euro ISO-8859-15\n';
  assert.equal(supportedLine(s, 'de_DE.UTF-8'), 'de_DE.UTF-8 UTF-8');
  assert.equal(supportedLine(s, 'de_DE'), 'de_DE ISO-8859-1');
  assert.equal(supportedLine(s, 'de_AT.UTF-8'), undefined);
});

test('findKeymaps prefers the PC (i386) layouts and matches whole names', () => {
  const d = scratchDir('d2d-km-');
  for (const f of ['mac/all/mac-de.kmap.gz', 'i386/qwertz/de.kmap.gz', 'i386/qwertz/de-latin1.kmap.gz', 'atari/de.kmap.gz']) {
    mkdirSync(join(d, f, '..'), { recursive: true });
    writeFileSync(join(d, f), '');
  }
  assert.deepEqual(findKeymaps(d, 'de').map((p) => p.slice(d.length + 1)), ['i386/qwertz/de.kmap.gz', 'atari/de.kmap.gz']);
  assert.deepEqual(findKeymaps(d, 'xx'), []);
});
