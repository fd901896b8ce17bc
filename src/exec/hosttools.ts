// Which Debian package provides each host tool we call. Used by run.ts to turn
// "command not found" into an actionable message, and by `doctor`.

export interface HostTool {
  tool: string;
  pkg: string;
  purpose: string;
  /** A file that must exist besides the executable (e.g. firmware, GRUB modules). */
  file?: string;
  needed: 'build' | 'vm' | 'test' | 'docker' | 'install';
}

export const HOST_TOOLS: readonly HostTool[] = [
  { tool: 'mmdebstrap', pkg: 'mmdebstrap', purpose: 'creates the Debian root filesystem', needed: 'build' },
  { tool: 'dpkg-deb', pkg: 'dpkg', purpose: 'unpacks the kernel package', needed: 'build' },
  { tool: 'modprobe', pkg: 'kmod', purpose: 'resolves kernel module dependencies', needed: 'build' },
  { tool: 'depmod', pkg: 'kmod', purpose: 'indexes the kept kernel modules', needed: 'build' },
  { tool: 'cpio', pkg: 'cpio', purpose: 'packs the initramfs', needed: 'build' },
  { tool: 'xz', pkg: 'xz-utils', purpose: 'compresses the initramfs', needed: 'build' },
  { tool: 'zstd', pkg: 'zstd', purpose: 'compresses the initramfs (compression: zstd) and preloaded images', needed: 'build' },
  { tool: 'skopeo', pkg: 'skopeo', purpose: 'fetches preloaded images from registries, converts OCI archives', needed: 'build' },
  { tool: 'grub-mkimage', pkg: 'grub-common', purpose: 'makes the GRUB boot images', needed: 'build' },
  { tool: 'grub-mkimage', pkg: 'grub-pc-bin', purpose: 'GRUB for BIOS', file: '/usr/lib/grub/i386-pc/boot_hybrid.img', needed: 'build' },
  { tool: 'grub-mkimage', pkg: 'grub-efi-amd64-bin', purpose: 'GRUB for UEFI', file: '/usr/lib/grub/x86_64-efi/linux.mod', needed: 'build' },
  { tool: 'mkfs.fat', pkg: 'dosfstools', purpose: 'makes the EFI system partition image', needed: 'build' },
  { tool: 'mcopy', pkg: 'mtools', purpose: 'fills the EFI system partition image', needed: 'build' },
  { tool: 'xorriso', pkg: 'xorriso', purpose: 'writes the hybrid ISO', needed: 'build' },
  { tool: 'sbsign', pkg: 'sbsigntool', purpose: 'signs the kernel with your machine-owner key (boot.secure-boot with a kernel Debian did not sign)', needed: 'build' },
  { tool: 'openssl', pkg: 'openssl', purpose: 'makes the machine-owner key (boot.secure-boot with a kernel Debian did not sign)', needed: 'build' },
  { tool: 'qemu-system-x86_64', pkg: 'qemu-system-x86', purpose: 'boots images (run, test)', needed: 'vm' },
  { tool: 'qemu-img', pkg: 'qemu-utils', purpose: 'creates disk images (tests, build --format qcow2)', needed: 'vm' },
  { tool: 'qemu-system-x86_64', pkg: 'ovmf', purpose: 'UEFI firmware for QEMU', file: '/usr/share/OVMF/OVMF_CODE_4M.fd', needed: 'vm' },
  { tool: 'xorriso', pkg: 'xorriso', purpose: 'reads the kernel and initrd out of the ISO (install)', needed: 'install' },
  { tool: 'sfdisk', pkg: 'fdisk', purpose: 'reads the target disk\'s partitions (install)', needed: 'install' },
  { tool: 'cryptsetup', pkg: 'cryptsetup-bin', purpose: 'the persistence scripts\' tests on loop devices', needed: 'test' },
  // Only `build --in-docker` needs it (then it is the only host tool the build needs); doctor does not count it.
  { tool: 'docker', pkg: 'docker.io', purpose: 'build --in-docker runs the build in a container', needed: 'docker' },
  { tool: 'busybox', pkg: 'busybox-static', purpose: 'the test container image', file: '/bin/busybox', needed: 'test' },
];

/** The package that provides a tool, for error messages. */
export function packageFor(tool: string): string | undefined {
  return HOST_TOOLS.find((t) => t.tool === tool && t.file === undefined)?.pkg ?? HOST_TOOLS.find((t) => t.tool === tool)?.pkg;
}
