// Wi-Fi (src/plan/wifi.ts, docs/wifi.md): what the config turns on, the files it writes into the
// image, the mistakes it refuses at their line, and what is never printed or published.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { makePlan } from '../../src/plan/plan.js';
import { driverFirmwarePackages, networkBlock, networkFile, redactSecrets } from '../../src/plan/wifi.js';
import { renderSettings } from '../../src/render/settings.js';
import { fragmentFiles } from '../../src/stages/kernelBuild.js';
import { FIRMWARE_ALIASES, pickFirmware, firmwareIndex } from '../../src/stages/firmware.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { scratchDir } from '../support/scratch.js';
import { mkdirSync } from 'node:fs';

const plan = (yaml: string, file?: string) => makePlan(loadConfigText(yaml, file).config, { outDir: '/o', configHash: 'h', sourceDateEpoch: 1 });

test('off by default: no packages, modules, regulatory database, kernel fragment or persisted folder', () => {
  const p = plan('name: x\n');
  assert.equal(p.wifi, null);
  assert.ok(!p.packages.includes('wpasupplicant'));
  assert.ok(!p.kernel.modules.required.includes('cfg80211'));
  assert.ok(!p.firmware.packages.includes('wireless-regdb'));
  assert.ok(!p.persistence!.settings.includes('/var/lib/d2d/wifi'));
  assert.deepEqual(p.kernel.source.kind === 'build' && p.kernel.source.features, []);
});

test('on: the client, the core modules and ciphers, drivers and their firmware packages, the joined networks persisted', () => {
  const p = plan('wifi:\n  enabled: true\n  drivers: [iwlmvm, rtw89_8852be]\n');
  assert.ok(p.wifi);
  for (const pkg of ['wpasupplicant', 'iw']) assert.ok(p.packages.includes(pkg), pkg);
  for (const m of ['cfg80211', 'mac80211', 'ccm', 'gcm', 'cmac', 'ctr', 'iwlmvm', 'rtw89_8852be']) assert.ok(p.kernel.modules.required.includes(m), m);
  assert.deepEqual(p.firmware.files, ['regulatory.db', 'regulatory.db.p7s']);
  assert.deepEqual(p.firmware.packages, ['firmware-realtek', 'firmware-misc-nonfree', 'firmware-bnx2', 'wireless-regdb', 'firmware-iwlwifi']);
  assert.ok(p.persistence!.settings.includes('/var/lib/d2d/wifi'));
  // The tailored kernel gets the Wi-Fi core fragment, merged over allnoconfig with the others.
  assert.equal(p.kernel.source.kind, 'build');
  if (p.kernel.source.kind !== 'build') return;
  assert.deepEqual(p.kernel.source.features, ['wifi']);
  const wifi = fragmentFiles(p.kernel.source).find((f) => f.name === 'target/kernel/wifi.config');
  assert.ok(wifi && !wifi.over && !wifi.user);
  assert.match(readFileSync(join(PACKAGE_ROOT, 'target/kernel/wifi.config'), 'utf8'), /^CONFIG_CFG80211=y$/m);
  // A network alone turns Wi-Fi on too.
  assert.ok(plan('wifi:\n  networks: [{ssid: cafe}]\n').wifi);
  assert.deepEqual(driverFirmwarePackages(['ath10k_pci', 'mt7921e', 'brcmfmac', 'e1000']), ['firmware-atheros', 'firmware-mediatek', 'firmware-brcm80211']);
});

test('network blocks: SSID in hex, the passphrase for WPA2 and WPA3 alike, open and hidden networks; files 0600 in a 0700 folder', () => {
  assert.equal(networkFile('d2d-test'), '6432642d74657374.conf');
  assert.equal(
    networkBlock('d2d-test', 'correct horse battery', false),
    '# ssid: d2d-test\nnetwork={\n\tssid=6432642d74657374\n\tpsk="correct horse battery"\n\tkey_mgmt=WPA-PSK WPA-PSK-SHA256 SAE\n\tieee80211w=1\n}\n',
  );
  assert.equal(networkBlock('café', null, true), '# ssid: café\nnetwork={\n\tssid=636166c3a9\n\tscan_ssid=1\n\tkey_mgmt=NONE\n}\n');
  const dir = scratchDir('d2d-wifi-');
  const psk = join(dir, 'home.psk');
  writeFileSync(psk, 'from the file 1\nsecond line ignored\n');
  const p = plan('wifi:\n  country: DE\n  networks:\n    - {ssid: home, passphrase-file: home.psk}\n    - {ssid: lab, passphrase: "inline secret", hidden: true}\n', join(dir, 'c.yaml'));
  const files = renderSettings(p, '');
  assert.equal(files.find((f) => f.path === 'etc/d2d/wifi.conf')?.text, 'COUNTRY=DE\n');
  const home = files.find((f) => f.path === `etc/d2d/wifi/${networkFile('home')}`);
  assert.ok(home);
  assert.equal(home.mode, 0o600);
  assert.equal(home.dirMode, 0o700);
  assert.match(home.text, /psk="from the file 1"/);
  assert.match(files.find((f) => f.path === `etc/d2d/wifi/${networkFile('lab')}`)!.text, /scan_ssid=1\n\tpsk="inline secret"/);
  // The stage cache's key reads the passphrase file, so a new passphrase makes a new root.
  assert.ok(p.wifi?.networks[0]?.secret.kind === 'file' && p.wifi.networks[0].secret.file === psk);
});

test('never printed or published: `plan` and the manifest hide passphrases', () => {
  const p = plan('wifi:\n  networks: [{ssid: lab, passphrase: "inline secret"}]\n');
  const shown = JSON.stringify(redactSecrets(p));
  assert.ok(!shown.includes('inline secret'));
  assert.match(shown, /"passphrase":"\(secret: not shown\)"/);
  assert.ok(!JSON.stringify(redactSecrets(loadConfigText('wifi:\n  networks: [{ssid: lab, passphrase: "inline secret"}]\n').config)).includes('inline secret'));
});

test('mistakes refused at their line', () => {
  const bad = (yaml: string, path: string, message: RegExp, file?: string): void => {
    assert.throws(
      () => loadConfigText(yaml, file),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        const pr = e.problems.find((x) => x.path === path);
        assert.ok(pr, `${path}: ${JSON.stringify(e.problems)}`);
        assert.match(pr.message, message);
        assert.equal(pr.line, 3);
        return true;
      },
    );
  };
  bad('wifi:\n  networks:\n    - {ssid: x, passphrase: short}\n', 'wifi.networks.0.passphrase', /8 to 63 printable ASCII/);
  bad('wifi:\n  networks:\n    - {ssid: x, passphrase: "long enough", passphrase-file: f}\n', 'wifi.networks.0', /not both/);
  bad('wifi:\n  networks:\n    - {ssid: "123456789012345678901234567890123"}\n', 'wifi.networks.0.ssid', /at most 32 bytes/);
  bad('wifi:\n  networks:\n    - {ssid: x, passphrase-file: nope.psk}\n', 'wifi.networks.0.passphrase-file', /no such file: .*nope\.psk/);
  const dir = scratchDir('d2d-wifi-');
  writeFileSync(join(dir, 'short.psk'), 'short\n');
  bad('wifi:\n  networks:\n    - {ssid: x, passphrase-file: short.psk}\n', 'wifi.networks.0.passphrase-file', /its first line must be a WPA passphrase/, join(dir, 'c.yaml'));
  assert.throws(() => loadConfigText('wifi:\n  country: de\n'), /two-letter country code/);
});

test('the regulatory database is carried under the name cfg80211 asks for, from the file wireless-regdb ships', () => {
  assert.equal(FIRMWARE_ALIASES['regulatory.db'], 'regulatory.db-debian');
  const base = scratchDir('d2d-fw-');
  const tree = join(base, 'wireless-regdb');
  mkdirSync(join(tree, 'lib/firmware'), { recursive: true });
  for (const f of ['regulatory.db-debian', 'regulatory.db-upstream', 'regulatory.db.p7s-debian', 'regulatory.db.p7s-upstream']) writeFileSync(join(tree, 'lib/firmware', f), f);
  const out = join(base, 'out');
  const r = pickFirmware([{ name: 'wireless-regdb', version: '1', tree, index: firmwareIndex(tree) }], new Map([['regulatory.db', ['cfg80211']], ['regulatory.db.p7s', ['cfg80211']]]), out);
  assert.deepEqual(r.missing, []);
  assert.deepEqual(r.files.map((f) => f.path), ['regulatory.db', 'regulatory.db.p7s']);
  assert.equal(readFileSync(join(out, 'regulatory.db'), 'utf8'), 'regulatory.db-debian');
  assert.equal(readFileSync(join(out, 'regulatory.db.p7s'), 'utf8'), 'regulatory.db.p7s-debian');
});
