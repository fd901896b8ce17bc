// Benchmark: our default image beside the equivalent image from Debian's live-build, built and
// booted in the same run. Prints figures; asserts nothing.
//   node dist/bench/livebuild.js [--image out/debian2docker.iso] [--lb-iso live.iso] [--mirror URI] [-m MiB]
// Without --image / --lb-iso it builds each image cold first (ours without its package cache,
// live-build in a fresh directory, so its package cache starts empty too), one after the other.
// "Equivalent": Debian trixie amd64, docker.io, no recommends, no firmware, BIOS + UEFI boot
// loaders, the same kernel command line; live-build adds what a live system needs (live-boot,
// live-config, systemd-sysv). Both images are booted the same way (BIOS CD, then kernel + initrd)
// with the same memory and CPUs, under whatever accelerator the probe picks (TCG here).
// Must run as root: live-build chroots.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from '../src/index.js';
import { run } from '../src/exec/run.js';
import { parseAptSources } from '../src/tools/apt.js';
import { chooseAccel } from '../src/vm/machine.js';
import { bootTime } from './floor.js';
import { BOOT_FAILED, DOCKER_READY } from '../src/vm/sentinels.js';

const args = process.argv.slice(2);
const value = (...names: string[]): string | undefined => {
  for (const n of names) {
    const i = args.indexOf(n);
    if (i >= 0) return args[i + 1];
  }
  return undefined;
};
const MB = (b: number): string => (b / 1e6).toFixed(1);

/** The same boot menu wait for both images, in seconds: our default config's GRUB timeout. */
const MENU_TIMEOUT_S = 3;
/** Our default image's kernel command line (src/config/default.yaml); live-build gets the same plus its own. */
const CMDLINE = 'console=tty0 console=ttyS0,115200 quiet';
const LB_CMDLINE = `boot=live components ${CMDLINE}`;

/** The host's Debian archive and security URIs, from its own APT sources (the same archive serves trixie). */
function hostMirrors(): { archive: string; security?: string } {
  const files: { name: string; text: string }[] = [];
  if (existsSync('/etc/apt/sources.list')) files.push({ name: 'sources.list', text: readFileSync('/etc/apt/sources.list', 'utf8') });
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir)) for (const f of readdirSync(dir).filter((n) => /\.(list|sources)$/.test(n))) files.push({ name: f, text: readFileSync(join(dir, f), 'utf8') });
  const sources = parseAptSources(files);
  // The archive is the source carrying a plain suite (bookworm), not -security or -updates.
  const archive = sources.find((s) => s.suites.some((x) => !x.includes('-')))?.uris[0];
  const security = sources.find((s) => s.suites.some((x) => x.endsWith('-security')))?.uris[0];
  if (!archive) throw new Error('no Debian archive in the host APT sources: pass --mirror URI');
  return { archive, ...(security ? { security } : {}) };
}

/** Waits for docker.service, then for `docker info` to answer, and says so on the serial
 * console: the same test as our image's /usr/lib/d2d/docker-ready. */
const READY_UNIT = `[Unit]
Description=Say on the serial console when Docker answers (benchmark marker)
After=docker.service
Requires=docker.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/lb-docker-ready

[Install]
WantedBy=multi-user.target
`;

/** The script behind READY_UNIT (a file, so systemd's own $ and quote handling stays out of it). */
const READY_SCRIPT = `#!/bin/sh
until docker info >/dev/null 2>&1; do sleep 0.2; done
echo "lb: docker: ready ($(docker info --format '{{.Driver}}'), uptime $(cut -d' ' -f1 /proc/uptime) s)" > /dev/ttyS0
`;

/** A live-build config for the equivalent image, in `dir`, then `lb build`. Returns the ISO. */
async function buildLiveBuild(dir: string, mirrors: { archive: string; security?: string }, log: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const sec = mirrors.security ? ['--mirror-chroot-security', mirrors.security, '--mirror-binary-security', mirrors.security] : [];
  await run(
    [
      'lb', 'config',
      '--mode', 'debian', '--system', 'live', '--distribution', 'trixie', '--architecture', 'amd64', '--archive-areas', 'main',
      '--mirror-bootstrap', mirrors.archive, '--mirror-chroot', mirrors.archive, '--mirror-binary', mirrors.archive, ...sec,
      // Ours' default sources are trixie, trixie-updates and trixie-security (its manifest lists them).
      '--security', 'true', '--updates', 'true', '--backports', 'false',
      '--binary-images', 'iso-hybrid', '--bootloaders', 'syslinux,grub-efi', '--uefi-secure-boot', 'disable',
      '--debian-installer', 'none', '--apt-recommends', 'false', '--apt-indices', 'false', '--apt-source-archives', 'false',
      '--firmware-binary', 'false', '--firmware-chroot', 'false', '--memtest', 'none', '--win32-loader', 'false', '--loadlin', 'false',
      '--zsync', 'false', '--checksums', 'none', '--source', 'false',
      '--bootappend-live', LB_CMDLINE,
    ],
    { cwd: dir, log },
  );
  // docker-cli is only a Recommends of docker.io in trixie; ours installs both.
  writeFileSync(join(dir, 'config/package-lists/docker.list.chroot'), 'docker.io\ndocker-cli\n');
  const units = join(dir, 'config/includes.chroot/etc/systemd/system');
  mkdirSync(join(units, 'multi-user.target.wants'), { recursive: true });
  mkdirSync(join(units, 'docker.service.d'), { recursive: true });
  // The live root is itself an overlay, on which overlay2 cannot stack (Docker falls back to vfs);
  // ours runs overlay2 on its RAM root, so give live-build's Docker a tmpfs, as a live user would.
  writeFileSync(join(units, 'var-lib-docker.mount'), '[Unit]\nDescription=Docker data in RAM (overlay2 needs a non-overlay upper)\n\n[Mount]\nWhat=tmpfs\nWhere=/var/lib/docker\nType=tmpfs\nOptions=mode=0711\n');
  writeFileSync(join(units, 'docker.service.d/tmpfs.conf'), '[Unit]\nRequiresMountsFor=/var/lib/docker\n');
  writeFileSync(join(units, 'lb-docker-ready.service'), READY_UNIT);
  mkdirSync(join(dir, 'config/includes.chroot/usr/local/sbin'), { recursive: true });
  writeFileSync(join(dir, 'config/includes.chroot/usr/local/sbin/lb-docker-ready'), READY_SCRIPT, { mode: 0o755 });
  symlinkSync('../lb-docker-ready.service', join(units, 'multi-user.target.wants/lb-docker-ready.service'));
  // live-build's isolinux waits at its menu for ever ("timeout 0"); give it our GRUB's wait (tenths of a second).
  mkdirSync(join(dir, 'config/bootloaders/isolinux'), { recursive: true });
  writeFileSync(join(dir, 'config/bootloaders/isolinux/isolinux.cfg'), `include menu.cfg\ndefault vesamenu.c32\nprompt 0\ntimeout ${MENU_TIMEOUT_S * 10}\n`);
  await run(['lb', 'build'], { cwd: dir, log });
  const iso = readdirSync(dir).find((f) => f.endsWith('.iso'));
  if (!iso) throw new Error(`lb build made no ISO; see ${log}`);
  return join(dir, iso);
}

/** The kernel and initrd live-build put in /live on the ISO (names carry the kernel version or not, by version). */
function extractLiveKernel(iso: string, dir: string): { kernel: string; initrd: string } {
  const listing = execFileSync('xorriso', ['-indev', iso, '-ls', '/live/*'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const names = [...listing.matchAll(/'\/live\/([^']+)'/g)].map((m) => m[1]!);
  const kernel = names.find((n) => n.startsWith('vmlinuz'));
  const initrd = names.find((n) => n.startsWith('initrd'));
  if (!kernel || !initrd) throw new Error(`no kernel/initrd in /live of ${iso}: ${names.join(' ')}`);
  const out = { kernel: join(dir, 'lb.vmlinuz'), initrd: join(dir, 'lb.initrd') };
  execFileSync('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', `/live/${kernel}`, out.kernel, '-extract', `/live/${initrd}`, out.initrd], { stdio: 'ignore' });
  return out;
}

/** Power-on to a console pattern, in seconds, or undefined if it never came. Keeps the console in `consoleLog`. */
// live-boot drops to an (initramfs) shell when it finds no medium; that is a failure, not a wait.
const FAILED = new RegExp(`${BOOT_FAILED.source}|\\(initramfs\\)|Unable to find a medium`);

async function main(): Promise<void> {
  if (!existsSync('/usr/lib/live/build/config')) {
    console.error('live-build is not installed: apt-get install live-build');
    process.exit(1);
  }
  if (process.getuid?.() !== 0 && !value('--lb-iso')) {
    console.error('live-build needs root (it chroots): run this benchmark as root, or pass --lb-iso');
    process.exit(1);
  }
  const memoryMiB = Number(value('-m', '--memory') ?? 2048);
  const work = mkdtempSync(join(tmpdir(), 'd2d-bench-lb-'));
  const mirrorFlag = value('--mirror');
  const mirrors = mirrorFlag ? { archive: mirrorFlag } : hostMirrors();

  let lbIso = value('--lb-iso');
  let lbSeconds: number | undefined;
  if (!lbIso) {
    const log = join(work, 'lb-build.log');
    console.error(`building the live-build image (log: ${log}) ...`);
    const t0 = Date.now();
    const built = await buildLiveBuild(join(work, 'lb'), mirrors, log);
    lbSeconds = (Date.now() - t0) / 1000;
    lbIso = join(work, 'live-build.iso');
    copyFileSync(built, lbIso);
    // lb clean unmounts anything left in the chroot before removing it (a plain rm -r must not).
    await run(['lb', 'clean'], { cwd: join(work, 'lb'), log });
  }

  let iso = value('--image');
  let oursSeconds: number | undefined;
  if (!iso) {
    console.error('building our default image (no package cache) ...');
    const t0 = Date.now();
    const r = await build({ outDir: join(work, 'out'), noCache: true });
    oursSeconds = (Date.now() - t0) / 1000;
    iso = r.plan.artifacts.iso;
  }
  const kernel = iso.replace(/\.iso$/, '.kernel');
  const initrd = iso.replace(/\.iso$/, '.initrd');
  const lbk = extractLiveKernel(lbIso, work);

  const accel = await chooseAccel('auto', kernel);
  const base = { accel, tcgThreads: 'multi' as const, memoryMiB, cpus: 2, firmware: 'bios' as const, serial: 'stdio' as const, display: 'none' as const, network: { restrict: true }, noReboot: true };
  const limit = 900;
  console.error('booting (BIOS CD, then kernel + initrd; ours, then live-build) ...');
  const oursCd = await bootTime({ ...base, boot: { kind: 'cdrom', image: iso } }, DOCKER_READY, limit, { failed: FAILED, consoleLog: join(work, 'ours-cd.console') });
  const lbCd = await bootTime({ ...base, boot: { kind: 'cdrom', image: lbIso } }, /lb: docker: ready/, limit, { failed: FAILED, consoleLog: join(work, 'lb-cd.console') });
  const oursNet = await bootTime({ ...base, boot: { kind: 'kernel', kernel, initrd, append: CMDLINE } }, DOCKER_READY, limit, { failed: FAILED, consoleLog: join(work, 'ours-kernel.console') });
  // live-boot looks for its squashfs on a medium; a real network boot would fetch= it instead.
  const lbNet = await bootTime({ ...base, boot: { kind: 'kernel', kernel: lbk.kernel, initrd: lbk.initrd, append: LB_CMDLINE }, cdrom: lbIso }, /lb: docker: ready/, limit, { failed: FAILED, consoleLog: join(work, 'lb-kernel.console') });

  const num = (x: number | undefined, digits: number): string => (x === undefined ? 'n/a' : x.toFixed(digits));
  const ratio = (a?: number, b?: number): string => (a === undefined || b === undefined ? 'n/a' : (a / b).toFixed(2));
  const row = (label: string, ours: number | undefined, lb: number | undefined, digits: number): string =>
    `  ${label.padEnd(44)}${num(ours, digits).padStart(10)}${num(lb, digits).padStart(12)}${ratio(ours, lb).padStart(14)}`;
  const oursBytes = statSync(iso).size;
  const lbBytes = statSync(lbIso).size;

  console.log('debian2docker beside live-build (Debian trixie amd64 + docker.io)');
  console.log(`  accelerator ${accel}, -m ${memoryMiB}, 2 CPUs; boot menu timeout ${MENU_TIMEOUT_S} s on both (ours: GRUB; live-build: isolinux set to match, its default waits for ever)`);
  console.log(`  live-build: ${execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'live-build'], { encoding: 'utf8' })}; its build started from an empty package cache (fresh directory, no apt proxy)${lbSeconds === undefined ? ' (not built in this run: --lb-iso)' : ''}`);
  console.log(`  ours: cold build without our package cache${oursSeconds === undefined ? ' (not built in this run: --image)' : ''}`);
  console.log(`  ${''.padEnd(44)}${'ours'.padStart(10)}${'live-build'.padStart(12)}${'ours/lb'.padStart(14)}`);
  console.log(row('build time, s', oursSeconds, lbSeconds, 0));
  console.log(row('ISO, MB', oursBytes / 1e6, lbBytes / 1e6, 1));
  console.log(row('power-on -> docker ready, BIOS CD, s', oursCd, lbCd, 1));
  console.log(row('power-on -> docker ready, kernel+initrd, s', oursNet, lbNet, 1));
  console.log(`  (kernel+initrd: live-build's ISO attached as a CD for its squashfs; ours loads ${MB(statSync(initrd).size)} MB of initrd, live-build ${MB(statSync(lbk.initrd).size)} MB + the squashfs)`);
  console.log(`  consoles and ISOs kept in ${work}`);
}

await main();
