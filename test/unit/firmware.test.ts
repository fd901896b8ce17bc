// Firmware (src/stages/firmware.ts): the names built-in drivers declare, the plan's defaults and
// switches, and picking files out of unpacked packages (links followed inside the package).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { builtinFirmware } from '../../src/tools/kmod.js';
import { firmwareIndex, pickFirmware, type FirmwareTree } from '../../src/stages/firmware.js';
import { firmwarePlan, makePlan } from '../../src/plan/plan.js';
import { loadConfigText } from '../../src/config/load.js';
import { firmwareLine } from '../../src/pipeline/steps.js';
import { scratchDir } from '../support/scratch.js';

test('modules.builtin.modinfo: MODULE.firmware=FILE entries, other keys and modules ignored', () => {
  const text = ['r8169.file=drivers/net/ethernet/realtek/r8169', 'r8169.firmware=rtl_nic/rtl8168h-2.fw', 'r8169.license=GPL', 'tg3.firmware=tigon/tg3_tso5.bin', 'ext4.description=x firmware=no', ''].join('\0');
  assert.deepEqual(builtinFirmware(text), [
    ['r8169', 'rtl_nic/rtl8168h-2.fw'],
    ['tg3', 'tigon/tg3_tso5.bin'],
  ]);
});

test('firmware plan: by default the drivers\' files from three non-free-firmware packages; off means nothing fetched', () => {
  const d = firmwarePlan(loadConfigText(undefined).config);
  assert.deepEqual(d, { drivers: true, files: [], packages: ['firmware-realtek', 'firmware-misc-nonfree', 'firmware-bnx2'] });
  assert.ok(loadConfigText(undefined).config.debian.components.includes('non-free-firmware'));
  // Lists append: a config naming its components gets the default's once each.
  const p = makePlan(loadConfigText('debian:\n  components: [main, contrib]\n').config, { outDir: '/o', configHash: 'h', sourceDateEpoch: 1 });
  assert.deepEqual(p.debian.components, ['main', 'non-free-firmware', 'contrib']);
  assert.deepEqual(firmwarePlan(loadConfigText('firmware:\n  drivers: false\n').config).packages, []);
  const extra = firmwarePlan(loadConfigText('firmware:\n  drivers: false\n  files: ["iwlwifi-so-a0-*.ucode"]\n  packages: [firmware-iwlwifi]\n').config);
  assert.deepEqual(extra, { drivers: false, files: ['iwlwifi-so-a0-*.ucode'], packages: ['firmware-realtek', 'firmware-misc-nonfree', 'firmware-bnx2', 'firmware-iwlwifi'] });
  assert.throws(() => loadConfigText('firmware:\n  files: ["../etc/shadow"]\n'), /no \.\. in a firmware path|a path under \/lib\/firmware/);
});

test('picking: exact names and * patterns, first package wins, links followed inside the package, the rest missing', () => {
  const base = scratchDir('d2d-fw-');
  const pkg = (name: string, files: Record<string, string>, links: Record<string, string> = {}): FirmwareTree => {
    const tree = join(base, name);
    for (const [p, c] of Object.entries(files)) {
      mkdirSync(join(tree, 'usr/lib/firmware', p, '..'), { recursive: true });
      writeFileSync(join(tree, 'usr/lib/firmware', p), c);
    }
    for (const [p, t] of Object.entries(links)) {
      mkdirSync(join(tree, 'usr/lib/firmware', p, '..'), { recursive: true });
      symlinkSync(t, join(tree, 'usr/lib/firmware', p));
    }
    return { name, version: '1', tree, index: firmwareIndex(tree) };
  };
  const realtek = pkg('firmware-realtek', { 'rtl_nic/rtl8168h-2.fw': 'AAAA', 'rtl_nic/rtl8153a-2.fw': 'BB' }, { 'rtl_nic/old.fw': '/usr/lib/firmware/rtl_nic/rtl8168h-2.fw' });
  const misc = pkg('firmware-misc-nonfree', { 'rtl_nic/rtl8168h-2.fw': 'other', 'tigon/tg3.bin': 'CCC', 'tigon/tg3_tso.bin': 'D', 'x/y.bin': 'E' });
  const out = join(base, 'out');
  mkdirSync(out);
  const named = new Map<string, string[]>([
    ['rtl_nic/rtl8168h-2.fw', ['r8169']],
    ['rtl_nic/old.fw', ['r8169']],
    ['tigon/tg3*.bin', ['firmware.files']],
    ['tigon/tg3.bin', ['tg3']],
    ['bnx2/bnx2-mips-09-6.2.1b.fw', ['bnx2']],
  ]);
  const r = pickFirmware([realtek, misc], named, out);
  assert.deepEqual(r.files.map((f) => [f.path, f.package, f.bytes, f.for.sort()]), [
    ['rtl_nic/old.fw', 'firmware-realtek', 4, ['r8169']],
    ['rtl_nic/rtl8168h-2.fw', 'firmware-realtek', 4, ['r8169']],
    ['tigon/tg3.bin', 'firmware-misc-nonfree', 3, ['firmware.files', 'tg3']],
    ['tigon/tg3_tso.bin', 'firmware-misc-nonfree', 1, ['firmware.files']],
  ]);
  assert.equal(readFileSync(join(out, 'rtl_nic/old.fw'), 'utf8'), 'AAAA', 'the absolute link resolved inside the package');
  assert.ok(!existsSync(join(out, 'x/y.bin')) && !existsSync(join(out, 'rtl_nic/rtl8153a-2.fw')), 'nothing unnamed');
  assert.deepEqual(r.missing, [{ path: 'bnx2/bnx2-mips-09-6.2.1b.fw', for: ['bnx2'] }]);
  assert.equal(r.bytes, 12);
  assert.equal(firmwareLine(r), 'firmware: 4 files (0 KiB) for r8169, firmware.files, tg3; 1 named by bnx2 in none of firmware.packages');
});
