#!/bin/sh
# Installs virt-fw-vars (python3-virt-firmware), which the Secure Boot test uses to enrol a
# machine-owner key in a copy of OVMF's variable store, as MokManager would on a real machine.
# Debian 13 has it in main; Debian 12 in bookworm-backports (qemu-backports.sh adds that suite).
set -eu
if [ "$(id -u)" -ne 0 ]; then
	echo "virt-firmware.sh: run as root (it calls apt-get)" >&2
	exit 1
fi
command -v virt-fw-vars >/dev/null 2>&1 && exit 0
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends python3-virt-firmware 2>/dev/null ||
	apt-get install -y -q --no-install-recommends -t bookworm-backports python3-virt-firmware
command -v virt-fw-vars >/dev/null 2>&1 || {
	echo "virt-firmware.sh: python3-virt-firmware installed no virt-fw-vars" >&2
	exit 1
}
