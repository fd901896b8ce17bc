// QEMU command line, built from options by a pure function (tested against
// exact argv). The guest's network is QEMU user-mode networking; host port
// forwards are bound to 127.0.0.1 only.

export const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
export const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';
/**
 * Secure Boot: Debian's OVMF build that enforces it (it needs SMM, so that the OS cannot write the variable
 * store behind the firmware's back), and a variable store with Microsoft's keys enrolled and Secure Boot on,
 * as PCs ship: their UEFI CA signed shim.
 */
export const OVMF_CODE_SECBOOT = '/usr/share/OVMF/OVMF_CODE_4M.secboot.fd';
export const OVMF_VARS_MS = '/usr/share/OVMF/OVMF_VARS_4M.ms.fd';

export interface VmSpec {
  accel: 'kvm' | 'tcg';
  /**
   * TCG only: one host thread for all vCPUs ('single', the default) or one each ('multi', QEMU's own
   * default, faster when the guest keeps two CPUs busy). Multi-threaded TCG is not coherent for code
   * that one vCPU patches while another translates it: a Linux guest flipping a static key (the first
   * container's memory cgroup, cgroup BPF, netfilter hooks) now and then keeps running a stale int3
   * and dies with "Oops: int3". Measured here (QEMU 7.2, and 10.0 too): flipping one static key
   * (schedstats) with the other vCPU busy crashed the guest in 4 boots of 4 with 'multi', each within
   * 3000 flips, and in none of 3 with 'single' (3000, 8000 and 8000 flips); 'single' reached Docker
   * ready 1.4x later (43.6 s against 31.1 s, 2 boots each, default image by network boot).
   */
  tcgThreads?: 'single' | 'multi';
  memoryMiB: number;
  cpus: number;
  firmware: 'bios' | 'uefi';
  /** UEFI only: the firmware enforces Secure Boot, with Microsoft's keys enrolled (OVMF_CODE_SECBOOT). */
  secureBoot?: boolean;
  /** UEFI only: the variable store to start from (a copy is used) instead of OVMF's own, e.g. one with a machine-owner key enrolled. */
  varsFrom?: string;
  /** Writable copy of OVMF_VARS for this VM (UEFI only). */
  ovmfVars?: string;
  /** The bootable image and how it is attached; or a kernel for network-boot style. */
  boot:
    | { kind: 'cdrom' | 'usb' | 'disk'; image: string; writable?: boolean }
    | { kind: 'kernel'; kernel: string; initrd: string; append: string; /** more initrds (NAME.images), loaded after `initrd` as a boot loader would */ extraInitrds?: string[] }
    /** The NIC's own iPXE boots: DHCP and TFTP from the user-mode network (network.tftp), then what the script says. */
    | { kind: 'network' };
  /** An image attached as a (non-boot) CD-ROM, e.g. beside a kernel boot: a live-build system's
   * initrd finds its squashfs on the medium it was booted from, which a kernel boot lacks. */
  cdrom?: string;
  /** Extra disks, attached as virtio block devices, in order. */
  disks?: { file: string; readonly?: boolean; format?: 'raw' | 'qcow2'; /** the guest reads it in /sys/block/vdX/serial */ serial?: string; /** attach as a USB stick instead */ usb?: boolean }[];
  /** Serial console: 'stdio' (pipes or terminal), or 'mon:stdio' for an interactive run. */
  serial: 'stdio' | 'mon:stdio';
  /** QMP socket path (screendump, send-key, quit). */
  qmp?: string;
  /** Unix socket for a virtio console (/dev/hvc0 in the guest), where the image runs a root shell.
   * The harness types its commands there: unlike the emulated UART it has flow control, so no
   * character is lost while the guest is busy. */
  agent?: string;
  display: 'none' | 'gtk' | 'sdl';
  network: {
    restrict: boolean;
    forwards?: { hostPort: number; guestPort: number }[];
    /** The user-mode network's TFTP server: this folder, and the file its DHCP names to boot. */
    tftp?: { dir: string; bootfile: string };
    /** Guest connections to ADDR:PORT (an address of the user-mode network) go to 127.0.0.1:HOSTPORT: the only
     * way out of a restricted network, e.g. to `debian2docker serve` on the host. */
    guestForwards?: { guestAddr: string; guestPort: number; hostPort: number }[];
  };
  noReboot?: boolean;
  /** The processor model under TCG (TCG_CPU unless a benchmark compares models). */
  tcgCpu?: string;
}

/**
 * The processor a guest gets under TCG. Not `max`: every feature it offers the guest is one more to
 * emulate, and the guest's kernel and libraries pick the costliest (5-level page tables, AVX2 and SSE4.2
 * string functions). The baseline amd64 model boots the default image to Docker about 15% sooner
 * (`npm run bench:tcg-cpu`); Debian's amd64 needs nothing more.
 */
export const TCG_CPU = 'qemu64';

/** How QEMU reads an image file: qcow2 by its name (build --format qcow2), else raw (an ISO, a raw disk image). */
export const imageFormat = (file: string): 'raw' | 'qcow2' => (file.endsWith('.qcow2') ? 'qcow2' : 'raw');

export function qemuArgv(s: VmSpec): string[] {
  const accel = s.accel === 'kvm' ? 'kvm' : `tcg,thread=${s.tcgThreads ?? 'single'}`;
  if (s.secureBoot && s.firmware !== 'uefi') throw new Error('Secure Boot needs UEFI firmware');
  const a = ['qemu-system-x86_64', '-machine', s.secureBoot ? 'q35,smm=on' : 'q35', '-accel', accel, '-cpu', s.accel === 'kvm' ? 'host' : (s.tcgCpu ?? TCG_CPU)];
  a.push('-m', String(s.memoryMiB), '-smp', String(s.cpus), '-nodefaults', '-no-user-config', '-vga', 'std');
  if (s.firmware === 'uefi') {
    if (!s.ovmfVars) throw new Error('UEFI needs a writable OVMF_VARS copy');
    if (s.secureBoot) a.push('-global', 'driver=cfi.pflash01,property=secure,value=on');
    a.push('-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${s.secureBoot ? OVMF_CODE_SECBOOT : OVMF_CODE}`);
    a.push('-drive', `if=pflash,format=raw,unit=1,file=${s.ovmfVars}`);
  }
  const b = s.boot;
  if ((b.kind === 'usb') || (s.disks ?? []).some((d) => d.usb)) a.push('-device', 'qemu-xhci,id=xhci');
  if (b.kind === 'network') {
    if (!s.network.tftp) throw new Error('a network boot needs network.tftp (the chain script)');
  } else if (b.kind === 'kernel') {
    if (b.extraInitrds?.length) throw new Error('QEMU takes one -initrd: concatenate the extra initrds first (Machine.start does)');
    a.push('-kernel', b.kernel, '-initrd', b.initrd, '-append', b.append);
  } else {
    // The image is never modified by a test boot: read-only, or a throw-away overlay for disks.
    const ro = b.writable ? '' : b.kind === 'cdrom' ? ',readonly=on' : ',snapshot=on';
    const media = b.kind === 'cdrom' ? ',media=cdrom' : '';
    a.push('-drive', `if=none,id=boot,format=${imageFormat(b.image)},file=${b.image}${media}${ro}`);
    if (b.kind === 'cdrom') a.push('-device', 'ide-cd,drive=boot,bootindex=0');
    else if (b.kind === 'usb') a.push('-device', 'usb-storage,bus=xhci.0,drive=boot,removable=on,bootindex=0');
    else a.push('-device', 'virtio-blk-pci,drive=boot,bootindex=0');
  }
  if (s.cdrom) a.push('-drive', `if=none,id=cd,format=raw,file=${s.cdrom},media=cdrom,readonly=on`, '-device', 'ide-cd,drive=cd');
  (s.disks ?? []).forEach((d, i) => {
    a.push('-drive', `if=none,id=disk${i},format=${d.format ?? imageFormat(d.file)},file=${d.file}${d.readonly ? ',readonly=on' : ''}`);
    if (d.usb) a.push('-device', `usb-storage,bus=xhci.0,drive=disk${i},removable=on${d.serial ? `,serial=${d.serial}` : ''}`);
    else a.push('-device', `virtio-blk-pci,drive=disk${i}${d.serial ? `,serial=${d.serial}` : ''}`);
  });
  const fwd = (s.network.forwards ?? []).map((f) => `,hostfwd=tcp:127.0.0.1:${f.hostPort}-:${f.guestPort}`).join('');
  const gfwd = (s.network.guestForwards ?? []).map((f) => `,guestfwd=tcp:${f.guestAddr}:${f.guestPort}-tcp:127.0.0.1:${f.hostPort}`).join('');
  const tftp = s.network.tftp ? `,tftp=${s.network.tftp.dir},bootfile=${s.network.tftp.bootfile}` : '';
  a.push('-netdev', `user,id=net0${s.network.restrict ? ',restrict=on' : ''}${fwd}${gfwd}${tftp}`, '-device', `virtio-net-pci,netdev=net0${b.kind === 'network' ? ',bootindex=0' : ''}`);
  a.push('-device', 'virtio-rng-pci');
  if (s.serial === 'mon:stdio') a.push('-serial', 'mon:stdio');
  else a.push('-chardev', 'stdio,id=ser0,signal=off', '-serial', 'chardev:ser0');
  if (s.agent) {
    a.push('-device', 'virtio-serial-pci', '-chardev', `socket,id=agent,path=${s.agent},server=on,wait=off`, '-device', 'virtconsole,chardev=agent');
  }
  if (s.qmp) a.push('-qmp', `unix:${s.qmp},server=on,wait=off`);
  a.push('-display', s.display);
  if (s.noReboot) a.push('-no-reboot');
  return a;
}
