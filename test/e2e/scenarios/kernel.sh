#!/bin/sh
# Runs inside an image built with a non-default kernel (test/e2e/kernel.test.ts).
# files/expected-kernel holds the release the manifest recorded for that kernel.
set -u
fail() {
	echo "FAIL: $*"
	exit 1
}
ok() { echo "ok: $*"; }

expected=$(cat ./files/expected-kernel 2>/dev/null || echo "")
[ -n "$expected" ] || fail "no expected kernel release on the test disk"
[ "$(uname -r)" = "$expected" ] || fail "running kernel $(uname -r), expected $expected"
ok "running kernel $(uname -r)"

# The modules on the image are this kernel's: modprobe finds them, and they load.
[ -d "/lib/modules/$(uname -r)" ] || fail "no /lib/modules/$(uname -r)"
for m in overlay br_netfilter nf_tables veth; do
	grep -q "^$m " /proc/modules || [ -d "/sys/module/$m" ] || fail "module $m not loaded"
done
ok "Docker's modules are loaded from /lib/modules/$(uname -r)"
exit 0
