// Wi-Fi (config wifi:, docs/wifi.md): what an image with it carries, decided from the config.
// The client is wpa_supplicant (no D-Bus needed), DHCP is busybox udhcpc as on the wired side, and
// the networks are wpa_supplicant network blocks: one file each, the build's in /etc/d2d/wifi,
// the ones `d2d-wifi join` adds in /var/lib/d2d/wifi (a persistence settings folder).
import { readFileSync, statSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { WIFI_PASSPHRASE } from '../config/schema.js';

/** wpa_supplicant and wpa_cli; iw, to look at radios and the regulatory domain. */
export const WIFI_PACKAGES = ['wpasupplicant', 'iw'] as const;

/**
 * cfg80211 and mac80211, and the ciphers mac80211 asks the crypto API for by name when a key is installed
 * (CCMP is ccm(aes), GCMP gcm(aes), PMF's BIP cmac(aes)): no module alias leads to them, so
 * `modprobe --show-depends mac80211` does not, and without them association fails with
 * "key addition failed". Built in (kernel.build's wifi fragment), they are in modules.builtin.
 */
export const WIFI_MODULES = ['cfg80211', 'mac80211', 'ccm', 'gcm', 'cmac', 'ctr'] as const;

/**
 * The regulatory database: cfg80211 loads it through the firmware loader, once, when it starts, and checks
 * its signature (wireless-regdb's -debian files are signed with the key Debian's kernel source carries).
 */
export const REGDB_FILES = ['regulatory.db', 'regulatory.db.p7s'] as const;
export const REGDB_PACKAGE = 'wireless-regdb';

/** Where the networks `d2d-wifi join` adds are kept: a persistence settings folder when Wi-Fi is on. */
export const JOINED_NETWORKS_DIR = '/var/lib/d2d/wifi';

/** The Debian package that holds a Wi-Fi driver's firmware, by module name prefix (non-free-firmware). */
const DRIVER_FIRMWARE: [RegExp, string][] = [
  [/^iwl/, 'firmware-iwlwifi'],
  [/^(ath|wil6210|carl9170)/, 'firmware-atheros'],
  [/^(rtw|rtl|r8188|r8712)/, 'firmware-realtek'],
  [/^mt7/, 'firmware-mediatek'],
  [/^(brcm|b43)/, 'firmware-brcm80211'],
  [/^(rt2|rt61|rt73)/, 'firmware-misc-nonfree'],
];

export function driverFirmwarePackages(drivers: readonly string[]): string[] {
  return [...new Set(drivers.flatMap((d) => DRIVER_FIRMWARE.filter(([re]) => re.test(d)).map(([, p]) => p)))];
}

export interface WifiNetworkPlan {
  ssid: string;
  hidden: boolean;
  /** How the passphrase reaches the image: none (an open network), the config's own, or a file read when the root is made. */
  secret: { kind: 'open' } | { kind: 'inline'; passphrase: string } | { kind: 'file'; file: string };
}

export interface WifiPlan {
  country: string;
  networks: WifiNetworkPlan[];
  drivers: string[];
}

export function wifiEnabled(c: Config): boolean {
  return c.wifi.enabled || c.wifi.networks.length > 0 || c.wifi.drivers.length > 0;
}

export function planWifi(c: Config): WifiPlan | null {
  if (!wifiEnabled(c)) return null;
  return {
    country: c.wifi.country,
    networks: c.wifi.networks.map((n) => ({
      ssid: n.ssid,
      hidden: n.hidden ?? false,
      secret: n['passphrase-file'] !== undefined ? { kind: 'file', file: n['passphrase-file'] } : n.passphrase !== undefined ? { kind: 'inline', passphrase: n.passphrase } : { kind: 'open' },
    })),
    drivers: [...new Set(c.wifi.drivers)],
  };
}

/** The passphrase in a passphrase file: its first line. */
export function readPassphraseFile(file: string): string {
  return readFileSync(file, 'utf8').split(/\r?\n/)[0] ?? '';
}

/** What is wrong with a passphrase file, or undefined. */
export function passphraseFileProblem(file: string): string | undefined {
  let st;
  try {
    st = statSync(file);
  } catch {
    return `no such file: ${file}`;
  }
  if (!st.isFile()) return `not a file: ${file}`;
  if (!WIFI_PASSPHRASE.test(readPassphraseFile(file))) return `${file}: its first line must be a WPA passphrase, 8 to 63 printable ASCII characters`;
  return undefined;
}

const hex = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

/** The file name of a network's block: its SSID in hex (any byte may be in an SSID), as d2d-wifi names them. */
export const networkFile = (ssid: string): string => `${hex(ssid)}.conf`;

/**
 * A wpa_supplicant network block. The SSID is written in hex (no quoting problem); a passphrase serves
 * WPA2-PSK and WPA3-SAE alike (SAE takes the password itself, which is why it is kept rather than the
 * PSK wpa_passphrase would derive); PMF is used when the access point offers it. target/.../d2d-wifi
 * writes the same block for `d2d-wifi join`.
 */
export function networkBlock(ssid: string, passphrase: string | null, hidden: boolean): string {
  return [
    `# ssid: ${ssid.replace(/[\n\r]/g, ' ')}`,
    'network={',
    `\tssid=${hex(ssid)}`,
    ...(hidden ? ['\tscan_ssid=1'] : []),
    ...(passphrase === null ? ['\tkey_mgmt=NONE'] : [`\tpsk="${passphrase}"`, '\tkey_mgmt=WPA-PSK WPA-PSK-SHA256 SAE', '\tieee80211w=1']),
    '}',
    '',
  ].join('\n');
}

/** The passphrase a network's block gets, or null for an open network. */
export function networkPassphrase(n: WifiNetworkPlan, read: (file: string) => string = readPassphraseFile): string | null {
  return n.secret.kind === 'open' ? null : n.secret.kind === 'inline' ? n.secret.passphrase : read(n.secret.file);
}

const HIDDEN = '(secret: not shown)';

/** A copy with every `passphrase` value hidden: for what is printed or published (`plan`, the manifest's config). */
export function redactSecrets<T>(v: T): T {
  if (Array.isArray(v)) return v.map(redactSecrets) as T;
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === 'passphrase' && typeof x === 'string' ? HIDDEN : redactSecrets(x)])) as T;
  }
  return v;
}
