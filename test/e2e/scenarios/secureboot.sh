#!/bin/sh
# Runs inside an image built with boot.secure-boot and Debian's signed kernel, booted by firmware that
# enforces Secure Boot (test/e2e/secureboot.test.ts): Secure Boot is on, the kernel locked itself down,
# and Docker's modules, which lockdown lets load only when signed, are loaded.
set -u
fail() {
	echo "FAIL: $*"
	exit 1
}
ok() { echo "ok: $*"; }

v=/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c
[ -r "$v" ] || fail "no SecureBoot variable (not booted by UEFI? efivarfs: $(grep efivarfs /proc/self/mounts))"
# 4 bytes of attributes, then the value.
sb=$(od -An -t u1 -j 4 -N 1 "$v" | tr -d ' ')
[ "$sb" = 1 ] || fail "SecureBoot is '$sb', expected 1"
ok "Secure Boot is on"

mountpoint -q /sys/kernel/security || mount -t securityfs securityfs /sys/kernel/security || fail "cannot mount securityfs"
lock=$(cat /sys/kernel/security/lockdown 2>/dev/null) || fail "no /sys/kernel/security/lockdown"
case $lock in
*"[integrity]"* | *"[confidentiality]"*) ok "kernel lockdown: $lock" ;;
*) fail "kernel lockdown is off: $lock" ;;
esac

for m in overlay br_netfilter nf_tables veth; do
	grep -q "^$m " /proc/modules || fail "module $m not loaded under lockdown: $(dmesg | grep -i -m 3 'module\|lockdown')"
	[ -n "$(cat "/sys/module/$m/taint" 2>/dev/null)" ] && fail "module $m tainted the kernel ($(cat "/sys/module/$m/taint")): loaded unsigned?"
done
ok "Docker's modules are loaded, signed (no taint)"
exit 0
