// Every argv builder against the exact expected arguments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mmdebstrapArgv } from '../../src/tools/mmdebstrap.js';
import { xorrisoArgv, isoDate } from '../../src/tools/xorriso.js';
import { parseSize } from '../../src/sizes.js';
import { grubMkimageArgv, grubCfg, earlyConfig, BIOS_MODULES, EFI_MODULES } from '../../src/tools/grub.js';
import { qemuArgv } from '../../src/vm/qemu.js';
import { baseSpec } from '../../src/vm/options.js';
import { D2DError, ExitCode } from '../../src/errors.js';
import { compressArgv } from '../../src/tools/compress.js';
import { showDependsArgv } from '../../src/tools/kmod.js';
import { espSizeKiB } from '../../src/stages/bootloader.js';
import { fatSerial, mcopyArgv, mkfsFatArgv, mmdArgv } from '../../src/tools/fat.js';
import { cpioCreateArgv } from '../../src/tools/cpio.js';

test('mmdebstrap: default mirror, hook, excludes, never disables signature checks', () => {
  const argv = mmdebstrapArgv({ suite: 'trixie', mirror: '', components: ['main'], variant: 'minbase', packages: ['a', 'b'], customizeHook: ['/usr/bin/node', '/x/inside.js', '/w'], mode: 'root' });
  assert.deepEqual(argv, [
    'mmdebstrap',
    '--mode=root',
    '--variant=minbase',
    '--architectures=amd64',
    '--components=main',
    '--include=a,b',
    '--aptopt=Acquire::Retries "3"',
    '--dpkgopt=path-exclude=/usr/share/doc/*',
    '--dpkgopt=path-exclude=/usr/share/man/*',
    '--dpkgopt=path-exclude=/usr/share/info/*',
    '--dpkgopt=path-exclude=/usr/share/locale/*',
    '--dpkgopt=path-exclude=/usr/share/lintian/*',
    '--dpkgopt=path-exclude=/usr/share/linda/*',
    '--customize-hook=/usr/bin/node /x/inside.js /w "$1"',
    'trixie',
    '/dev/null',
  ]);
  assert.ok(!argv.some((a) => /AllowInsecure|no-check|Trusted/i.test(a)));
});

test('mmdebstrap rootless: explicit mirror and components; our output synced out, apt cache hooks around ours', () => {
  const argv = mmdebstrapArgv({ suite: 'bookworm', mirror: 'http://mirror.invalid/debian', components: ['main', 'contrib'], variant: 'minbase', packages: ['a'], customizeHook: ['h'], aptCacheDir: '/c', mode: 'unshare', syncOut: { from: '/.d2d-work', to: '/w' } });
  assert.equal(argv[1], '--mode=unshare');
  assert.equal(argv[argv.length - 1], 'deb http://mirror.invalid/debian bookworm main contrib');
  assert.equal(argv[argv.length - 2], '/dev/null');
  const hooks = argv.filter((a) => a.startsWith('--customize-hook='));
  assert.deepEqual(hooks, ['--customize-hook=h "$1"', '--customize-hook=sync-out /.d2d-work /w', '--customize-hook=sync-out /var/cache/apt/archives /c']);
  assert.ok(argv.includes('--setup-hook=sync-in /c /var/cache/apt/archives/'));
  assert.ok(argv.includes('--skip=download/empty'));
});

test('xorriso: hybrid BIOS+UEFI, reproducible date', () => {
  assert.equal(isoDate(1700000000), '2023111422132000');
  assert.deepEqual(xorrisoArgv({ output: 'o.iso', root: 'r', volid: 'V', biosImage: 'boot/grub/bios.img', efiImage: 'boot/grub/efi.img', sourceDateEpoch: 1700000000 }), [
    'xorriso', '-as', 'mkisofs', '-o', 'o.iso', '-iso-level', '3', '-full-iso9660-filenames', '-R', '-J', '-joliet-long', '-V', 'V',
    '--modification-date=2023111422132000',
    '-b', 'boot/grub/bios.img', '-no-emul-boot', '-boot-load-size', '4', '-boot-info-table', '--grub2-boot-info',
    '--grub2-mbr', '/usr/lib/grub/i386-pc/boot_hybrid.img',
    '--efi-boot', 'boot/grub/efi.img', '-efi-boot-part', '--efi-boot-image',
    '--protective-msdos-label', 'r',
  ]);
});

test('grub-mkimage for BIOS and EFI', () => {
  assert.deepEqual(grubMkimageArgv({ target: 'bios', output: 'b.img', earlyConfig: 'e.cfg' }), ['grub-mkimage', '-O', 'i386-pc-eltorito', '-o', 'b.img', '-p', '/boot/grub', '-c', 'e.cfg', ...BIOS_MODULES]);
  assert.deepEqual(grubMkimageArgv({ target: 'efi', output: 'x.efi', earlyConfig: 'e.cfg' }), ['grub-mkimage', '-O', 'x86_64-efi', '-o', 'x.efi', '-p', '/boot/grub', '-c', 'e.cfg', ...EFI_MODULES]);
  assert.ok(BIOS_MODULES.includes('biosdisk') && !EFI_MODULES.includes('biosdisk'));
  assert.ok(EFI_MODULES.includes('efi_gop'));
});

test('grub-mkimage for a BIOS disk install: no embedded config; it reads the ESP (first GPT partition) of its boot drive', () => {
  assert.deepEqual(grubMkimageArgv({ target: 'bios-disk', output: 'core.img' }), ['grub-mkimage', '-O', 'i386-pc', '-o', 'core.img', '-p', '(,gpt1)/boot/grub', ...BIOS_MODULES]);
  for (const m of ['part_gpt', 'fat', 'configfile', 'test']) assert.ok(BIOS_MODULES.includes(m) && EFI_MODULES.includes(m), m);
});

test('install: sizes for --size', () => {
  assert.equal(parseSize('8G'), 8 * 2 ** 30);
  assert.equal(parseSize('512M'), 512 * 2 ** 20);
  assert.equal(parseSize('2048'), 2048 * 2 ** 20);
  assert.equal(parseSize('1GiB'), 2 ** 30);
  assert.throws(() => parseSize('lots'), /--size must be a size such as 8G/);
});

test('grub.cfg: serial + console, timeout, one entry per boot entry', () => {
  const cfg = grubCfg({ timeout: 5, kernel: '/boot/vmlinuz', initrd: '/boot/initrd.img', entries: [{ id: 'default', title: "d2d's", cmdline: 'quiet' }, { id: 'v', title: 'V', cmdline: '' }] });
  assert.equal(
    cfg,
    [
      '# Generated by debian2docker. The same menu serves BIOS and UEFI.',
      'serial --unit=0 --speed=115200',
      'terminal_input console serial',
      'terminal_output console serial',
      'set timeout=5',
      'set default=0',
      '',
      `menuentry 'd2d'\\''s' --id 'default' {`,
      '  linux /boot/vmlinuz quiet',
      '  initrd /boot/initrd.img',
      '}',
      `menuentry 'V' --id 'v' {`,
      '  linux /boot/vmlinuz',
      '  initrd /boot/initrd.img',
      '}',
      '',
    ].join('\n'),
  );
  assert.equal(
    earlyConfig('/boot/grub/x.stamp'),
    'if [ -f $prefix/grub.cfg ]; then configfile $prefix/grub.cfg; fi\nsearch --no-floppy --set=root --file /boot/grub/x.stamp\nset prefix=($root)/boot/grub\nconfigfile $prefix/grub.cfg\n',
  );
});

test('compression argv', () => {
  assert.deepEqual(compressArgv('xz', 9, 'f'), ['xz', '-T1', '--x86', '--lzma2=preset=9e,dict=128MiB', '--check=crc32', '--keep', '--force', 'f']);
  assert.deepEqual(compressArgv('xz', 1, 'f'), ['xz', '-T1', '--x86', '--lzma2=preset=1', '--check=crc32', '--keep', '--force', 'f']);
  assert.deepEqual(compressArgv('zstd', 19, 'f'), ['zstd', '-q', '-T0', '-19', '--keep', '--force', 'f']);
});

test('modprobe --show-depends argv ignores host config', () => {
  assert.deepEqual(showDependsArgv('/k', '6.1', 'overlay', '/empty'), ['modprobe', '-C', '/empty', '-d', '/k', '-S', '6.1', '--show-depends', 'overlay']);
});

test('mkfs.fat: serial from SOURCE_DATE_EPOCH, size: the EFI binary + 128 KiB, rounded to 64 KiB', () => {
  assert.equal(fatSerial(1700000000), '6553F100');
  assert.equal(espSizeKiB(3 * 1024 * 1024), 3200);
  assert.equal(espSizeKiB(675840), 832); // GRUB's EFI binary as the default image has it
  assert.deepEqual(mkfsFatArgv('e.img', 4096, 1700000000), ['mkfs.fat', '--invariant', '-C', '-n', 'D2D-EFI', '-i', '6553F100', 'e.img', '4096']);
});

test('qemu: BIOS CD-ROM under TCG, headless, user networking restricted', () => {
  assert.deepEqual(
    qemuArgv({ accel: 'tcg', memoryMiB: 1024, cpus: 2, firmware: 'bios', boot: { kind: 'cdrom', image: 'a.iso' }, disks: [{ file: 't.iso', readonly: true }], serial: 'stdio', display: 'none', network: { restrict: true }, noReboot: true }),
    [
      'qemu-system-x86_64', '-machine', 'q35', '-accel', 'tcg,thread=single', '-cpu', 'qemu64', '-m', '1024', '-smp', '2', '-nodefaults', '-no-user-config', '-vga', 'std',
      '-drive', 'if=none,id=boot,format=raw,file=a.iso,media=cdrom,readonly=on', '-device', 'ide-cd,drive=boot,bootindex=0',
      '-drive', 'if=none,id=disk0,format=raw,file=t.iso,readonly=on', '-device', 'virtio-blk-pci,drive=disk0',
      '-netdev', 'user,id=net0,restrict=on', '-device', 'virtio-net-pci,netdev=net0', '-device', 'virtio-rng-pci',
      '-chardev', 'stdio,id=ser0,signal=off', '-serial', 'chardev:ser0', '-display', 'none', '-no-reboot',
    ],
  );
});

test('qemu: UEFI USB stick, forwards bound to 127.0.0.1, KVM uses host CPU', () => {
  const a = qemuArgv({ accel: 'kvm', memoryMiB: 512, cpus: 1, firmware: 'uefi', ovmfVars: '/t/vars.fd', boot: { kind: 'usb', image: 'a.iso' }, serial: 'mon:stdio', qmp: '/t/qmp', display: 'none', network: { restrict: false, forwards: [{ hostPort: 2222, guestPort: 22 }] } });
  assert.deepEqual(a.slice(0, 6), ['qemu-system-x86_64', '-machine', 'q35', '-accel', 'kvm', '-cpu']);
  assert.equal(a[6], 'host');
  assert.ok(a.includes('if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd'));
  assert.ok(a.includes('if=pflash,format=raw,unit=1,file=/t/vars.fd'));
  assert.ok(a.includes('if=none,id=boot,format=raw,file=a.iso,snapshot=on'));
  assert.ok(a.includes('usb-storage,bus=xhci.0,drive=boot,removable=on,bootindex=0'));
  assert.ok(a.includes('user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22'));
  assert.ok(a.includes('unix:/t/qmp,server=on,wait=off'));
  assert.throws(() => qemuArgv({ accel: 'tcg', memoryMiB: 512, cpus: 1, firmware: 'uefi', boot: { kind: 'usb', image: 'a' }, serial: 'stdio', display: 'none', network: { restrict: true } }), /OVMF_VARS/);
});

test('qemu: Secure Boot: SMM, the secure flash, and the firmware build that enforces it', () => {
  const a = qemuArgv({ accel: 'tcg', memoryMiB: 1024, cpus: 2, firmware: 'uefi', secureBoot: true, ovmfVars: '/t/vars.fd', boot: { kind: 'cdrom', image: 'a.iso' }, serial: 'stdio', display: 'none', network: { restrict: true } });
  assert.deepEqual(a.slice(0, 3), ['qemu-system-x86_64', '-machine', 'q35,smm=on']);
  const g = a.indexOf('-global');
  assert.equal(a[g + 1], 'driver=cfi.pflash01,property=secure,value=on');
  assert.ok(a.includes('if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd'));
  assert.throws(() => qemuArgv({ accel: 'tcg', memoryMiB: 1024, cpus: 2, firmware: 'bios', secureBoot: true, boot: { kind: 'cdrom', image: 'a.iso' }, serial: 'stdio', display: 'none', network: { restrict: true } }), /needs UEFI/);
});

test('qemu: TCG runs its vCPUs in one host thread unless multi is asked for; KVM takes no thread mode', () => {
  const spec = { memoryMiB: 512, cpus: 2, firmware: 'bios' as const, boot: { kind: 'cdrom' as const, image: 'a.iso' }, serial: 'stdio' as const, display: 'none' as const, network: { restrict: true } };
  const accelOf = (a: string[]): string | undefined => a[a.indexOf('-accel') + 1];
  assert.equal(accelOf(qemuArgv({ ...spec, accel: 'tcg' })), 'tcg,thread=single');
  assert.equal(accelOf(qemuArgv({ ...spec, accel: 'tcg', tcgThreads: 'multi' })), 'tcg,thread=multi');
  assert.equal(accelOf(qemuArgv({ ...spec, accel: 'kvm', tcgThreads: 'multi' })), 'kvm');
});

test('qemu: extra disks with a serial number, or as a USB stick on the xHCI controller', () => {
  const a = qemuArgv({ accel: 'tcg', memoryMiB: 768, cpus: 2, firmware: 'bios', boot: { kind: 'cdrom', image: 'x.iso' }, disks: [{ file: 't.img', serial: 'd2d-target' }, { file: 'u.img', usb: true }], serial: 'stdio', display: 'none', network: { restrict: true } });
  assert.ok(a.includes('virtio-blk-pci,drive=disk0,serial=d2d-target'));
  assert.ok(a.includes('usb-storage,bus=xhci.0,drive=disk1,removable=on'));
  assert.equal(a.filter((x) => x === 'qemu-xhci,id=xhci').length, 1);
});

test('qemu: network boot with kernel and initrd', () => {
  const a = qemuArgv({ accel: 'tcg', memoryMiB: 768, cpus: 2, firmware: 'bios', boot: { kind: 'kernel', kernel: 'k', initrd: 'i', append: 'console=ttyS0' }, serial: 'stdio', display: 'none', network: { restrict: true } });
  const i = a.indexOf('-kernel');
  assert.deepEqual(a.slice(i, i + 6), ['-kernel', 'k', '-initrd', 'i', '-append', 'console=ttyS0']);
});

test('qemu: a CD-ROM beside a kernel boot, read-only and not a boot device', () => {
  const a = qemuArgv({ accel: 'tcg', memoryMiB: 768, cpus: 2, firmware: 'bios', boot: { kind: 'kernel', kernel: 'k', initrd: 'i', append: 'boot=live' }, cdrom: 'live.iso', serial: 'stdio', display: 'none', network: { restrict: true } });
  assert.ok(a.includes('if=none,id=cd,format=raw,file=live.iso,media=cdrom,readonly=on'));
  assert.ok(a.includes('ide-cd,drive=cd'));
  assert.ok(a.includes('-kernel'));
});

test('vm options: --tcg-threads overrides the command\'s default; anything else is a usage error', () => {
  assert.equal(baseSpec({}, 'tcg', 'single').tcgThreads, 'single');
  assert.equal(baseSpec({}, 'tcg', 'multi').tcgThreads, 'multi');
  assert.equal(baseSpec({ tcgThreads: 'single' }, 'tcg', 'multi').tcgThreads, 'single');
  assert.throws(() => baseSpec({ tcgThreads: 'many' }, 'tcg', 'single'), (e: D2DError) => e.exitCode === ExitCode.usage && /--tcg-threads must be single or multi/.test(e.message));
});

test('cpio: newc, reproducible; the initrd owned by root whoever builds it', () => {
  assert.deepEqual(cpioCreateArgv('/w/rootfs.cpio'), ['cpio', '--quiet', '-o', '-H', 'newc', '--reproducible', '-O', '/w/rootfs.cpio']);
  assert.deepEqual(cpioCreateArgv('/w/stage1.cpio', { rootOwned: true }), ['cpio', '--quiet', '-o', '-H', 'newc', '--reproducible', '-R', '0:0', '-O', '/w/stage1.cpio']);
});

test('mtools: folders, then the EFI binary copied with its own (SOURCE_DATE_EPOCH) mtime', () => {
  assert.deepEqual(mmdArgv('/w/efi.img', ['::/EFI', '::/EFI/BOOT']), ['mmd', '-i', '/w/efi.img', '::/EFI', '::/EFI/BOOT']);
  assert.deepEqual(mcopyArgv('/w/efi.img', '/w/BOOTX64.EFI', '::/EFI/BOOT/BOOTX64.EFI'), ['mcopy', '-m', '-i', '/w/efi.img', '/w/BOOTX64.EFI', '::/EFI/BOOT/BOOTX64.EFI']);
});

test('qemu network boot: the NIC boots first; TFTP folder and boot file, and a guest forward out of the restricted network', () => {
  const a = qemuArgv({
    accel: 'tcg',
    memoryMiB: 1024,
    cpus: 2,
    firmware: 'bios',
    boot: { kind: 'network' },
    serial: 'stdio',
    display: 'none',
    network: { restrict: true, tftp: { dir: '/t/tftp', bootfile: 'boot.ipxe' }, guestForwards: [{ guestAddr: '10.0.2.100', guestPort: 80, hostPort: 4321 }] },
  });
  assert.ok(!a.includes('-kernel') && !a.some((x) => x.startsWith('if=none,id=boot')));
  assert.equal(a[a.indexOf('-netdev') + 1], 'user,id=net0,restrict=on,guestfwd=tcp:10.0.2.100:80-tcp:127.0.0.1:4321,tftp=/t/tftp,bootfile=boot.ipxe');
  assert.equal(a[a.indexOf('-netdev') + 3], 'virtio-net-pci,netdev=net0,bootindex=0');
  assert.throws(() => qemuArgv({ accel: 'tcg', memoryMiB: 1, cpus: 1, firmware: 'bios', boot: { kind: 'network' }, serial: 'stdio', display: 'none', network: { restrict: true } }), /network\.tftp/);
});
