// The tailored kernel (kernel.build): what it is made of. Its configuration is
// target/kernel/*.config merged over allnoconfig, in this order; then, over that
// result, target/kernel/trim.config and the user's kernel.fragments with
// olddefconfig; target/kernel/build.sh compiles it inside a Debian root that has
// these packages.

/** The built-in fragments merged over allnoconfig, in merge order: a later one wins over an earlier one. */
export const KERNEL_FRAGMENTS = ['base', 'security', 'virt', 'hardware', 'net-drivers', 'fs', 'memory', 'docker', 'swarm', 'crypto'] as const;

/**
 * Merged after those, with olddefconfig (only what they name changes): the trims that need CONFIG_EXPERT, which
 * over allnoconfig would also switch off everything else EXPERT hides (the block layer among it).
 */
export const KERNEL_TRIM_FRAGMENT = 'trim';

/** The toolchain in the build root, besides the source package itself. */
export const KERNEL_BUILD_PACKAGES = ['build-essential', 'bc', 'bison', 'flex', 'libelf-dev', 'libssl-dev', 'cpio', 'kmod', 'xz-utils'] as const;

/**
 * Bumped when the way the kernel is built changes in a way target/kernel does not show (the argv, the
 * cache layout): part of the kernel cache's key, so an old entry is not taken for a new one.
 */
export const KERNEL_BUILD_FORMAT = 2;

/**
 * The ceiling the core test enforces on the tailored bzImage: issue 17's 5 MB. Measured (6.12.118, xz, host
 * gcc 12 for the steps): 6,370,304 bytes at -O2; 5,555,200 with -Os (CC_OPTIMIZE_FOR_SIZE); 4,936,704 without
 * KALLSYMS too (trim.config); in the build root (gcc 14), with SLUB_DEBUG and squashfs/EROFS off too, 4,944,896;
 * with zram (memory.config), 4,965,376.
 * docs/kernel.md has the table.
 */
export const TAILORED_KERNEL_BUDGET_BYTES = 5_000_000;

/** Where the build runs inside its root, and what it leaves there (build.sh's DIR). */
export const KERNEL_BUILD_DIR = '/tmp/d2d-kernel';
