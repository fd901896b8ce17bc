#!/bin/sh
# Runs inside an image whose kernel debian2docker compiled from Debian's source
# (kernel.build). files/expected-kernel: the release the manifest recorded;
# files/check-config.sh: moby's check-config.sh from the host's docker.io.
set -u
F=./files
fail() {
	echo "FAIL: $*"
	exit 1
}
ok() { echo "ok: $*"; }

[ "$(uname -r)" = "$(cat $F/expected-kernel)" ] || fail "running kernel $(uname -r), expected $(cat $F/expected-kernel)"
case $(uname -r) in *-d2d) ;; *) fail "not the tailored kernel: $(uname -r)" ;; esac
ok "running the compiled kernel $(uname -r)"

# Built in, not loaded: no module files, and Docker's drivers listed in modules.builtin.
[ -z "$(find "/lib/modules/$(uname -r)" -name '*.ko*' 2>/dev/null)" ] || fail "module files in the image: $(find "/lib/modules/$(uname -r)" -name '*.ko*' | head -n 3)"
for m in overlay br_netfilter nf_tables veth vxlan ip_vs xfrm_user dm-crypt; do
	grep -q "/$m\.ko\$" "/lib/modules/$(uname -r)/modules.builtin" || fail "$m is not built in"
done
ok "Docker's and Swarm's drivers are built in; no module files"

# moby's own list against the running kernel's configuration (/proc/config.gz).
[ -r /proc/config.gz ] || fail "no /proc/config.gz"
out=$(bash $F/check-config.sh 2>&1 | sed 's/\x1b\[[0-9;]*m//g')
necessary=$(printf '%s\n' "$out" | sed -n '/^Generally Necessary:/,/^Optional Features:/p' | grep -- '- CONFIG_')
[ "$(printf '%s\n' "$necessary" | wc -l)" -gt 20 ] || fail "check-config.sh printed no list: $(printf '%s\n' "$out" | head -n 5)"
bad=$(printf '%s\n' "$necessary" | grep -v ': enabled$')
[ -z "$bad" ] || fail "check-config.sh, generally necessary: $bad"
for c in VXLAN BRIDGE_VLAN_FILTERING CRYPTO_GCM XFRM_USER INET_ESP IP_VS IP_VS_NFCT IP_VS_RR; do
	printf '%s\n' "$out" | grep -q -- "- CONFIG_$c: enabled\$" || fail "check-config.sh: CONFIG_$c: $(printf '%s\n' "$out" | grep -- "CONFIG_$c:")"
done
ok "check-config.sh: every generally necessary option, and Swarm's, built in ($(printf '%s\n' "$necessary" | wc -l) checked)"

# The engine runs on it: a container, and dockerd said nothing about missing modules.
out=$(docker run --rm d2d-test/busybox:1 echo up 2>&1) || fail "container: $out"
[ "$out" = up ] || fail "container said: $out"
if grep -q 'Could not load necessary modules' /var/log/docker.log; then fail "dockerd: $(grep -m 1 'Could not load' /var/log/docker.log)"; fi
ok "a container runs"
exit 0
