#!/bin/sh
# Installs the Debian packages debian2docker needs on a build host, plus the
# VM harness (QEMU, OVMF) and the test container's busybox. Debian 12 or newer.
set -eu
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps.sh: run as root (it calls apt-get)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
	mmdebstrap debian-archive-keyring uidmap kmod cpio xz-utils zstd \
	grub-common grub-pc-bin grub-efi-amd64-bin dosfstools mtools xorriso skopeo \
	qemu-system-x86 qemu-utils ovmf busybox-static \
	shellcheck ca-certificates openssh-client docker-registry docker.io \
	fdisk cryptsetup-bin sbsigntool openssl
# Debian 12: QEMU 10.0 from bookworm-backports (the VM tests boot faster with it).
"$(dirname "$0")/qemu-backports.sh"
# virt-fw-vars (the Secure Boot test enrols a machine-owner key in OVMF's variable store with it).
"$(dirname "$0")/virt-firmware.sh" || echo "install-deps.sh: no virt-fw-vars: only the test suite's Secure Boot machine-owner-key test needs it" >&2
# Node.js >= 20.19: Debian 13 ships it; on Debian 12 use the machine's Node 20.
if ! command -v node >/dev/null 2>&1; then
	apt-get install -y -q --no-install-recommends nodejs npm
fi
node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("Node.js >= 20.19 is needed, this is "+process.version); process.exit(1) }'
