#!/bin/sh
# Runs inside the booted default image (from the test disk). Every check
# prints what it saw; the first failure exits non-zero.
set -u
fail() {
	echo "FAIL: $*"
	exit 1
}
ok() { echo "ok: $*"; }
# A module is there when loaded, or built into the kernel (a tailored kernel has no module files).
have_module() { grep -q "^$1 " /proc/modules || grep -q "/$1\.ko\$" "/lib/modules/$(uname -r)/modules.builtin" 2>/dev/null; }

expected_kernel=$(cat ./files/expected-kernel 2>/dev/null || echo "")
[ -n "$expected_kernel" ] || fail "no expected kernel version on the test disk"
[ "$(uname -r)" = "$expected_kernel" ] || fail "kernel $(uname -r), expected $expected_kernel"
ok "kernel $(uname -r)"

[ "$(hostname)" = debian2docker ] || fail "hostname is $(hostname)"
ok "hostname $(hostname)"

[ "$(readlink /proc/1/exe)" = /usr/bin/busybox ] || fail "PID 1 is $(readlink /proc/1/exe)"
ok "PID 1 is busybox init"

# busybox, xzdec, libc and ld.so are not in the payload: stage 1 copies its own
# into the root (d2d/shared). They must arrive with their modes and owner.
for f in /usr/bin/busybox /usr/bin/xzdec /usr/lib/x86_64-linux-gnu/libc.so.6 /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2; do
	m=$(stat -c '%a %u:%g' "$f" 2>/dev/null) || fail "$f is missing"
	[ "$m" = "755 0:0" ] || fail "$f: mode and owner $m, expected 755 0:0"
done
xzdec -V >/dev/null 2>&1 || fail "xzdec (copied from stage 1) does not run"
ok "stage 1's busybox, xzdec, libc and ld.so are in the root (755 0:0)"

# Stage 1 (1024 MiB here) has the memory to decode the payload's streams side by side.
unpacked=$(grep 'stage 1: root file system unpacked' /var/log/d2d-boot.log)
case $unpacked in
*"from a file, 3 streams side by side"*) ok "$unpacked" ;;
*) fail "stage 1 did not decode the streams side by side: ${unpacked:-no line in the boot log}" ;;
esac

# / must be a real tmpfs (runc's pivot_root refuses the kernel's rootfs).
fstype=$(awk '$2 == "/" {print $3}' /proc/mounts | tail -n 1)
[ "$fstype" = tmpfs ] || fail "root file system is $fstype"
ok "root is $fstype"

grep -q '^root:\*:' /etc/shadow || fail "root has a password"
ok "root password locked"

# No plain-TCP Docker API.
if ss -ltn 2>/dev/null | grep -Eq ':(2375|2376)\b'; then fail "Docker listens on TCP"; fi
[ -S /run/docker.sock ] || fail "no Docker socket"
ok "Docker only on its unix socket"

# The default kernel is the tailored one (kernel.build): Docker's and Swarm's drivers built in, no
# module files, and moby's check-config.sh (files/check-config.sh: the host docker.io's copy) finds,
# in the running kernel's configuration (/proc/config.gz), every option it calls generally necessary.
case $(uname -r) in *-d2d) ;; *) fail "not the tailored kernel: $(uname -r)" ;; esac
[ -z "$(find "/lib/modules/$(uname -r)" -name '*.ko*' 2>/dev/null)" ] || fail "module files in the image: $(find "/lib/modules/$(uname -r)" -name '*.ko*' | head -n 3)"
for m in overlay br_netfilter nf_tables veth vxlan ip_vs xfrm_user dm-crypt; do
	grep -q "/$m\.ko\$" "/lib/modules/$(uname -r)/modules.builtin" || fail "$m is not built in"
done
ok "Docker's and Swarm's drivers are built in; no module files"
# Stage 1 set up swap compressed in RAM (zram, twice the RAM), which lets 256 MiB hold the root.
zram=$(awk '$1 == "/dev/zram0" {print $3}' /proc/swaps)
[ "${zram:-0}" -gt 1048576 ] || fail "no zram swap of twice the RAM: $(cat /proc/swaps)"
ok "zram swap: $zram KiB"
[ -r /proc/config.gz ] || fail "no /proc/config.gz"
out=$(bash ./files/check-config.sh 2>&1 | sed 's/\x1b\[[0-9;]*m//g')
necessary=$(printf '%s\n' "$out" | sed -n '/^Generally Necessary:/,/^Optional Features:/p' | grep -- '- CONFIG_')
[ "$(printf '%s\n' "$necessary" | wc -l)" -gt 20 ] || fail "check-config.sh printed no list: $(printf '%s\n' "$out" | head -n 5)"
bad=$(printf '%s\n' "$necessary" | grep -v ': enabled$')
[ -z "$bad" ] || fail "check-config.sh, generally necessary: $bad"
for c in VXLAN BRIDGE_VLAN_FILTERING CRYPTO_GCM XFRM_USER INET_ESP IP_VS IP_VS_NFCT IP_VS_RR; do
	printf '%s\n' "$out" | grep -q -- "- CONFIG_$c: enabled\$" || fail "check-config.sh: CONFIG_$c: $(printf '%s\n' "$out" | grep -- "CONFIG_$c:")"
done
ok "check-config.sh: every generally necessary option, and Swarm's, built in ($(printf '%s\n' "$necessary" | wc -l) checked)"

[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || fail "cgroup v2 not mounted"
ok "cgroup v2"

ip -4 addr show eth0 | grep -q 'inet 10\.0\.2\.' || fail "eth0 has no DHCP address: $(ip -4 -o addr)"
ok "eth0 got its address by DHCP"

for f in /usr/bin/ctr /usr/bin/containerd-shim-runc-v1 /usr/bin/containerd-shim; do
	[ ! -e "$f" ] || fail "$f should have been pruned"
done
[ -x /usr/bin/containerd-shim-runc-v2 ] || fail "the runc v2 shim is missing"
ok "pruned: ctr and the v1 shims; the v2 shim is there"

# crun starts the containers (docker.runtime: crun), through the same v2 shim; runc's program is pruned.
rt=$(docker info --format '{{.DefaultRuntime}}') || fail "docker info"
[ "$rt" = crun ] || fail "Docker's default runtime is $rt, expected crun"
crun --version >/dev/null || fail "crun does not run"
# dockerd wants a program named runc: a link to crun stands in for runc's (pruned) program.
[ "$(readlink /usr/sbin/runc)" = ../bin/crun ] || fail "/usr/sbin/runc is not the link to crun: $(ls -l /usr/sbin/runc 2>&1)"
ok "Docker's default runtime: crun ($(crun --version | head -n 1)); runc's program pruned, a link to crun in its place"

# A container with a writable layer and a volume; overlay2 on the tmpfs root.
docker volume create d2d-vol >/dev/null || fail "volume create"
out=$(docker run --rm -v d2d-vol:/data d2d-test/busybox:1 sh -c 'echo persisted > /data/f && cat /data/f') || fail "container with a volume"
[ "$out" = persisted ] || fail "volume content: $out"
ok "container wrote to a volume"
# Swarm mode: dockerd loaded the IPSEC modules for encrypted overlays at its start (it warns
# when it cannot), an attachable encrypted overlay takes a container (VXLAN), and a service's
# published port answers through the routing mesh (the ingress overlay and IPVS).
if grep -q 'Could not load necessary modules for IPSEC' /var/log/docker.log; then fail "dockerd: $(grep -m 1 IPSEC /var/log/docker.log)"; fi
have_module xfrm_user || fail "xfrm_user not loaded"
# The address, not the interface: eth0 also has IPv6 addresses (SLAAC and link-local), and
# dockerd refuses an interface with more than one.
addr=$(ip -4 -o addr show eth0 | awk '{ split($4, a, "/"); print a[1]; exit }')
out=$(docker swarm init --advertise-addr "$addr" 2>&1) || fail "docker swarm init: $out"
out=$(docker network create -d overlay --attachable --opt encrypted d2d-ov 2>&1) || fail "overlay network: $out"
out=$(docker run --rm --network d2d-ov d2d-test/busybox:1 ip -o link show eth0 2>&1) || fail "container on the overlay: $out"
# --no-resolve-image: the image is local, no registry is asked; without --detach the CLI returns when the task runs.
out=$(docker service create --quiet --no-resolve-image --name d2d-web --publish 8080:8080 d2d-test/busybox:1 httpd -f -p 8080 -h /etc 2>&1) || fail "service with a published port: $out"
id=$(docker ps -q --filter label=com.docker.swarm.service.name=d2d-web)
[ -n "$id" ] || fail "the service's task is not running: $(docker service ps --no-trunc d2d-web 2>&1)"
got=$(busybox wget -q -T 30 -O - http://127.0.0.1:8080/hostname 2>&1)
[ "$got" = "$id" ] || fail "the routing mesh answered '$got', expected the task's hostname $id"
for m in vxlan ip_vs; do
	have_module "$m" || fail "$m not loaded: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
done
ok "swarm: encrypted overlay, and a service's published port answers through the routing mesh (vxlan, ip_vs, xfrm_user loaded)"

# d2d-hw: the devices that found no driver, at boot on the console and on demand. Under QEMU's q35
# with the tailored kernel: the standard VGA (no bochs driver: the EFI/VESA framebuffer serves it)
# is one; every virtio device has its driver, so none may be listed.
hw=$(d2d-hw) || fail "d2d-hw failed: $hw"
echo "$hw" | grep -q '^pci [0-9a-f:.]* 1234:1111 display$' || fail "d2d-hw does not list the VGA, which has no driver: $hw"
if echo "$hw" | grep -q ' 1af4:'; then fail "d2d-hw lists a virtio device, which has a driver: $hw"; fi
all=$(d2d-hw --all)
echo "$all" | grep -q '^pci [0-9a-f:.]* 1af4:1000 Ethernet: virtio-pci$' || fail "d2d-hw --all does not show the NIC's driver: $all"
grep -q '] no driver: pci [0-9a-f:.]* 1234:1111 display$' /var/log/d2d-boot.log || fail "the boot log does not name the VGA without a driver"
ok "d2d-hw: $(echo "$hw" | tr '\n' ';')"

# The drivers' firmware (src/stages/firmware.ts) rides in stage 1's archive and is copied into the
# root: r8169's (asked for when a link comes up) and r8152's (asked for while it probes), in the
# sizes the manifest recorded (files/firmware: "path size" lines).
[ -s ./files/firmware ] || fail "no firmware list was passed in"
while read -r fw want; do
	size=$(wc -c <"/lib/firmware/$fw" 2>/dev/null) || fail "firmware $fw is not in /lib/firmware"
	[ "$size" -eq "$want" ] || fail "firmware $fw is $size bytes, the manifest says $want"
done <./files/firmware
ok "firmware: $(find /lib/firmware/ -type f | wc -l) files in /lib/firmware"

# The power button's listener runs (the button itself is pressed in the persistence tests).
# (busybox's applet: its process is named busybox, so look at the command lines.)
running=$(for p in /proc/[0-9]*; do tr '\0' ' ' <"$p/cmdline" 2>/dev/null && echo; done)
echo "$running" | grep -q '^busybox acpid ' || fail "acpid is not running: $(cat /var/log/acpid.log 2>/dev/null)"
ok "acpid listens for the power button"

# The boot log is a profile: stage 1, init, sysinit and Docker ready, with rising uptimes.
log=/var/log/d2d-boot.log
for what in "stage 1: root file system unpacked" "init:" "sysinit: done" "docker: ready"; do
	grep -q "] $what" "$log" || fail "boot log lacks '$what': $(cat "$log")"
done
sorted=$(sed -n 's/^\[\([0-9.]*\)\].*/\1/p' "$log" | sort -n -c 2>&1) || fail "boot log uptimes not rising: $sorted"
ok "boot profile: $(tr '\n' ' ' <"$log")"
exit 0
