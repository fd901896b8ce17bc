// `debian2docker install IMAGE.iso --disk DISK|FILE.img`: a frugal install
// (docs/persistence.md). The image's own installer, d2d-install, does the work
// in a QEMU VM booted from the image with the disk attached. Why a VM: it is the
// same installer the live system runs (one implementation); a disk image file
// needs no root; and it works on hosts whose kernel lacks dm-crypt, FAT or loop
// devices (like this project's CI machines). The host decides everything before
// a byte is written: which disk, fresh install or upgrade, the typed
// confirmation, the passphrase.
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, ftruncateSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { D2DError, ExitCode } from '../errors.js';
import { preflight } from '../stages/preflight.js';
import { run, shellQuote } from '../exec/run.js';
import { TARGET_DIR } from '../paths.js';
import { chooseAccel, Machine } from '../vm/machine.js';
import { bootWithRetry, GuestCrashed } from '../vm/crash.js';
import { confirmTyped, newPassphrase } from '../tty.js';
import { log } from '../log.js';
import { during, lastGuestStep } from '../exec/progress.js';
import { partitionTableArgv } from '../tools/sfdisk.js';
import { extractArgv } from '../tools/xorriso.js';
import { parseSize } from '../sizes.js';

export interface InstallOptions {
  disk: string;
  /** Create the disk image file with this size (e.g. 8G) when it does not exist. */
  size?: string;
  encrypt?: boolean;
  passphraseFile?: string;
  recoveryKey?: boolean;
  espSize?: string;
  persistSize?: string;
  yes?: boolean;
  accel?: string;
  memory?: string;
  consoleLog?: string;
  /** Where the installer's own messages go (default: standard output); a build sends them to its log. */
  report?: (text: string) => void;
}

const usage = (message: string, hint?: string): D2DError => new D2DError('E_USAGE', message, { exitCode: ExitCode.usage, hint });

/** The GPT partition names on a disk or disk image ([] when it has no partition table). */
export async function partitionNames(disk: string): Promise<string[]> {
  // Exit 1: no partition table (a blank disk).
  const r = await run(partitionTableArgv(disk), { capture: true, okStatus: [1] });
  if (r.status !== 0 || !r.stdout.trim()) return [];
  const t = JSON.parse(r.stdout) as { partitiontable?: { partitions?: { name?: string }[] } };
  return (t.partitiontable?.partitions ?? []).map((p) => p.name ?? '');
}

/** Why the image's own rules find a passphrase too weak ('' when fine): persist.sh's passphrase_problem. */
export async function passphraseProblem(p: string): Promise<string> {
  const lib = join(TARGET_DIR, 'rootfs/usr/lib/d2d');
  const r = await run(['sh', '-c', '. "$D2D_LIB/persist.sh"; p=$(cat); passphrase_problem "$p"'], { input: p, capture: true, env: { PERSIST_CONF: '/dev/null', D2D_LIB: lib } });
  return r.stdout.trim();
}

export async function install(image: string, o: InstallOptions): Promise<number> {
  await preflight(['vm', 'install']);
  if (!image.endsWith('.iso') || !existsSync(image)) throw usage(`no such ISO image: ${image}`, 'install takes the NAME.iso a build made');
  const tmp = mkdtempSync(join(tmpdir(), 'd2d-install-'));
  try {
    // The ISO's kernel and initrd, booted directly so the command line can say d2d.persist=off
    // (the disk may already hold persistence; the installer does not need it open).
    const extracted = await run(
      extractArgv(image, [
        ['/boot/vmlinuz', join(tmp, 'vmlinuz')],
        ['/boot/initrd.img', join(tmp, 'initrd.img')],
        ['/d2d/install/build', join(tmp, 'build')],
      ]),
      { capture: true },
    ).then(
      () => true,
      () => false,
    );
    if (!extracted || !existsSync(join(tmp, 'build'))) {
      throw usage(`${image} has no installer (d2d/install)`, 'it was built with persistence.enabled: false, or is not a debian2docker image');
    }
    const build = readFileSync(join(tmp, 'build'), 'utf8');
    const name = /^NAME=(.*)$/m.exec(build)?.[1] ?? image;

    // The disk: a block device, an existing image file, or a new file of --size.
    if (!existsSync(o.disk)) {
      if (!o.size) throw usage(`${o.disk} does not exist`, 'give --size (e.g. --size 8G) to create a disk image file');
      const fd = openSync(o.disk, 'wx');
      ftruncateSync(fd, parseSize(o.size));
      closeSync(fd);
      log.info(`created ${o.disk} (${o.size}, sparse)`);
    } else if (o.size) {
      throw usage(`${o.disk} exists; --size only creates a new image file`);
    }
    const st = statSync(o.disk);
    if (!st.isFile() && !st.isBlockDevice()) throw usage(`${o.disk} is neither a disk nor a disk image file`);
    const names = await partitionNames(o.disk);
    const upgrade = names.includes('d2d-esp');
    const needPass = Boolean(o.encrypt) && !names.includes('d2d-persist');

    let pass: string | undefined;
    if (needPass) {
      if (o.passphraseFile) {
        pass = readFileSync(o.passphraseFile, 'utf8').replace(/\n+$/, '');
        const why = await passphraseProblem(pass);
        if (why) throw usage(`the passphrase in ${o.passphraseFile} is too weak: ${why}`);
      } else {
        pass = await newPassphrase(passphraseProblem, '--passphrase-file FILE');
      }
    }
    if (upgrade) log.info(`${o.disk} holds an install: upgrading it to ${name}; the installed build stays as the fallback entry, persistence as it is`);
    else if (!o.yes) await confirmTyped('ERASE', `erase everything on ${o.disk} (${Math.round((st.isFile() ? st.size : 0) / 2 ** 20) || 'block device'} MiB) and install ${name} there`);

    const accel = await chooseAccel(o.accel ?? 'auto', join(tmp, 'vmlinuz'));
    const consoleLog = o.consoleLog ? createWriteStream(o.consoleLog) : undefined;
    log.info(`booting ${name} in QEMU (${accel}) to run its installer`);
    // The installer VM goes through the harness's crash-aware boot: a guest kernel crash under TCG before the
    // installer has written anything gets one more boot; after that, the disk may be half written.
    let writing = false;
    const boot = (attempt: number): Machine => {
      consoleLog?.write(`\n===== installer boot ${attempt} =====\n`);
      return Machine.start(
        {
          accel,
          memoryMiB: Number(o.memory ?? 1024),
          cpus: 2,
          firmware: 'bios',
          boot: { kind: 'kernel', kernel: join(tmp, 'vmlinuz'), initrd: join(tmp, 'initrd.img'), append: 'console=ttyS0,115200 quiet d2d.persist=off' },
          disks: [
            { file: image, readonly: true },
            { file: o.disk!, serial: 'd2d-target' },
          ],
          serial: 'stdio',
          display: 'none',
          network: { restrict: true },
          noReboot: true,
        },
        { tee: (s) => consoleLog?.write(s) },
      );
    };
    const installIn = async (m: Machine): Promise<number> => {
      const emit = (line: string, final: boolean): void => log.progress(line, final);
      const shell = async (): Promise<Awaited<ReturnType<Machine['agent']>>> => {
        const a = await m.agent();
        await a.waitForShell(accel === 'kvm' ? 120000 : 600000);
        return a;
      };
      // Minutes under TCG: say what the guest is at ("installer VM: booting: sysinit: done (41 s)").
      const agent = await during('installer VM: booting', () => lastGuestStep(m.console.transcript), shell(), emit);
      const dev = await agent.exec(`for b in /sys/block/vd*; do [ "$(cat "$b/serial" 2>/dev/null)" = d2d-target ] && echo "/dev/\${b##*/}"; done`, 30000);
      const target = dev.output.trim().split('\n').pop() ?? '';
      if (!/^\/dev\/vd[a-z]+$/.test(target)) throw new D2DError('E_INSTALL', `the installer VM does not see ${o.disk}`, { hint: 'see --console-log' });
      const args = ['--disk', target, '--yes'];
      if (o.encrypt) args.push('--encrypt');
      if (pass !== undefined) {
        // Over the virtio console (a socket only this process holds), into the guest's RAM.
        await agent.exec(`(umask 077; printf '%s' ${shellQuote([pass])} >/run/d2d-install.pass)`, 30000);
        args.push('--passphrase-file', '/run/d2d-install.pass');
      }
      if (o.recoveryKey) args.push('--recovery-key');
      if (o.espSize) args.push('--esp-size', o.espSize);
      if (o.persistSize) args.push('--persist-size', o.persistSize);
      writing = true;
      const r = await during('installer VM: installing', () => '', agent.exec(`d2d-install ${shellQuote(args)} 2>&1; s=$?; rm -f /run/d2d-install.pass; sync; (exit $s)`, 30 * 60000), emit);
      (o.report ?? ((t: string) => process.stdout.write(t)))(r.output.replace(/\r/g, '') + '\n');
      await m.shutdown(120000);
      if (r.status !== 0) throw new D2DError('E_INSTALL', `the installer failed (exit ${r.status}); ${o.disk} may be half written`, { hint: 'its messages are above' });
      const done = `installed ${name} on ${o.disk}: boots with BIOS and UEFI${upgrade ? ' (previous build kept as the fallback entry)' : ''}`;
      if (o.report) log.info(done);
      else log.ok(done);
      return 0;
    };
    try {
      return await bootWithRetry(boot, (m) => m, installIn, { note: (why) => log.warn(`${why} (nothing was written yet)`), mayRetry: () => !writing });
    } catch (e) {
      if (e instanceof GuestCrashed) throw new D2DError('E_INSTALL', `${e.message.replace(/^the guest/, "the installer VM's")}${writing ? `; ${o.disk} may be half written` : ''}`, { hint: 'run the install again; see --console-log' });
      throw e;
    } finally {
      consoleLog?.end();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
