#!/bin/sh
# Compiles the tailored kernel inside its build root: a Debian root made by
# mmdebstrap with the toolchain and linux-source-X (src/stages/kernelBuild.ts).
# Two phases, so the build checks the configuration before minutes of compiling:
#   build.sh config DIR   unpack the source into DIR/linux and merge the fragments
#                         DIR/fragments/a-*.config (in the order of their names) over
#                         allnoconfig: every option not named in one is off; then
#                         DIR/fragments/b-*.config (trim.config, the user's) over
#                         that result with olddefconfig: only what they name changes
#   build.sh compile DIR  bzImage and modules, installed into DIR/out
set -eu
phase=$1
dir=$2
tarball=$(echo /usr/src/linux-source-*.tar.xz)
[ -f "$tarball" ] || {
	echo "build.sh: no kernel source tarball in /usr/src" >&2
	exit 1
}
# x86_64, not x86: allnoconfig would otherwise answer n to 64BIT and make an i386 kernel.
export ARCH=x86_64
# The same source and configuration give the same kernel: its build date is the source's.
KBUILD_BUILD_TIMESTAMP="@$(stat -c %Y "$tarball")"
export KBUILD_BUILD_TIMESTAMP KBUILD_BUILD_USER=d2d KBUILD_BUILD_HOST=debian2docker
case $phase in
config)
	mkdir -p "$dir/linux"
	tar -xf "$tarball" -C "$dir/linux" --strip-components=1
	cd "$dir/linux"
	KCONFIG_CONFIG=.config scripts/kconfig/merge_config.sh -n "$dir"/fragments/a-*.config
	make olddefconfig
	# -m: merge only; the options these fragments newly show get their defaults, not n.
	KCONFIG_CONFIG=.config scripts/kconfig/merge_config.sh -m .config "$dir"/fragments/b-*.config
	make olddefconfig
	;;
compile)
	cd "$dir/linux"
	make -j"$(nproc)" bzImage modules
	mkdir -p "$dir/out"
	make INSTALL_MOD_PATH="$dir/out" modules_install
	cp arch/x86/boot/bzImage "$dir/out/vmlinuz"
	cp .config "$dir/out/config"
	;;
*)
	echo "usage: build.sh config|compile DIR" >&2
	exit 2
	;;
esac
