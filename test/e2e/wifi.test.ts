// End to end: Wi-Fi (issue 18 item 4, docs/wifi.md). One image: Debian's kernel (cfg80211 and
// mac80211 are modules there: no second kernel compile for the suite), mac80211_hwsim kept for the
// test's two simulated radios, hostapd added for the test's access point, and one network in the
// config whose passphrase comes from a file. The guest runs test/e2e/scenarios/wifi.sh: the image's
// client joins the access point at hotplug with the config's network, a container reaches the
// access point's side, and `d2d-wifi join` moves it to a WPA3 network.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testImageReport } from '../../src/commands/test.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { cli, e2eDir, SKIP } from './helpers.js';

const SCENARIO = join(PACKAGE_ROOT, 'test/e2e/scenarios/wifi.sh');
const PASS = { 'd2d-test': 'correct horse battery', 'd2d-wpa3': 'staple 4 the win, SAE' };

interface WifiManifest {
  packages: { name: string }[];
  kernel: { modules: string[] };
  firmware: { files: { path: string; package: string; for: string[] }[] };
  config: { normalised: { wifi: { networks: { ssid: string; 'passphrase-file'?: string }[] } } };
}

describe('Wi-Fi: a config network, d2d-wifi join, WPA2 and WPA3, on mac80211_hwsim radios', { skip: SKIP }, () => {
  const out = e2eDir('wifi');

  test('builds with wpa_supplicant, the ciphers and the regulatory database; the guest joins, a container reaches the access point', { timeout: 40 * 60000 }, async () => {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'home.psk'), `${PASS['d2d-test']}\n`, { mode: 0o600 });
    writeFileSync(
      join(out, 'wifi.yaml'),
      [
        'name: d2d-wifi',
        'kernel:',
        '  package: linux-image-amd64',
        '  modules: [mac80211_hwsim]   # the test radios',
        'packages: [hostapd]           # the test access point',
        'wifi:',
        '  country: DE',
        '  networks:',
        '    - {ssid: d2d-test, passphrase-file: home.psk}',
        'initramfs:',
        '  compression: zstd',
        '  level: 3',
        '',
      ].join('\n'),
    );
    const r = await cli(['build', join(out, 'wifi.yaml'), '-o', out]);
    assert.equal(r.status, 0, `build failed:\n${r.stderr}`);
    const m = JSON.parse(readFileSync(join(out, 'd2d-wifi.manifest.json'), 'utf8')) as WifiManifest;
    for (const p of ['wpasupplicant', 'iw']) assert.ok(m.packages.some((x) => x.name === p), `package ${p}`);
    // (ctr is built into Debian's kernel: no file to find.)
    for (const mod of ['cfg80211', 'mac80211', 'ccm', 'gcm', 'cmac', 'mac80211_hwsim']) {
      assert.ok(m.kernel.modules.some((f) => f.endsWith(`/${mod}.ko`)), `module ${mod}: ${m.kernel.modules.filter((f) => /80211|crypto/.test(f)).join(' ')}`);
    }
    for (const f of ['regulatory.db', 'regulatory.db.p7s']) {
      const e = m.firmware.files.find((x) => x.path === f);
      assert.ok(e, `firmware ${f}: ${m.firmware.files.map((x) => x.path).join(' ')}`);
      assert.equal(e.package, 'wireless-regdb');
    }
    // The manifest names the passphrase file, never a passphrase.
    assert.equal(m.config.normalised.wifi.networks[0]?.['passphrase-file'], join(out, 'home.psk'));
    assert.ok(!readFileSync(join(out, 'd2d-wifi.manifest.json'), 'utf8').includes(PASS['d2d-test']), 'the manifest holds no passphrase');

    const rep = await testImageReport(join(out, 'd2d-wifi.kernel'), {
      scenario: SCENARIO,
      files: { 'passphrase-d2d-test': PASS['d2d-test'], 'passphrase-d2d-wpa3': PASS['d2d-wpa3'] },
      consoleLog: join(out, 'console.log'),
    });
    for (const x of rep.results) assert.ok(x.ok, `check '${x.name}' failed: ${x.detail}`);
    const scenario = rep.results.find((x) => x.name === 'scenario');
    assert.ok(scenario, 'the scenario ran');
    for (const line of [/ok: wlan0 joined d2d-test and has 192\.168\.77\.\d+\/24/, /ok: a container fetched the access point's page over Wi-Fi/, /ok: d2d-wifi join d2d-wpa3: WPA3-SAE/]) {
      assert.match(scenario.detail, line);
    }
    assert.ok(rep.ok);
  });
});
