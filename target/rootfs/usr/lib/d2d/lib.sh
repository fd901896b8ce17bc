# shellcheck shell=sh
# Functions shared by the init scripts of the image. POSIX sh.

# Print a line on the console and in the boot log.
say() {
	echo "d2d: $*" >/dev/console 2>/dev/null || echo "d2d: $*"
	mark "$*"
}

# Write a line to the boot log only, stamped with the guest's uptime, so the log
# is also a boot profile (bench/boot-profile.ts). `read` is a builtin: no fork.
mark() {
	up=
	read -r up _ 2>/dev/null </proc/uptime || :
	echo "[${up:-?}] $*" >>/var/log/d2d-boot.log 2>/dev/null || :
}

# Kernel command line value of KEY (d2d.debug=1 -> 1), or empty.
cmdline_get() {
	read -r line </proc/cmdline
	for w in $line; do
		case $w in
		"$1"=*) echo "${w#*=}" ;;
		"$1") echo 1 ;;
		esac
	done
}

mount_basics() {
	mkdir -p /proc /sys /dev /run /tmp
	mountpoint -q /proc || mount -t proc -o nosuid,nodev,noexec proc /proc
	mountpoint -q /sys || mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
	mountpoint -q /dev || mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev
	mkdir -p /dev/pts /dev/shm /run /tmp
	mountpoint -q /dev/pts || mount -t devpts -o nosuid,noexec,gid=5,mode=620,ptmxmode=000 devpts /dev/pts
	mountpoint -q /dev/shm || mount -t tmpfs -o nosuid,nodev,mode=1777 shm /dev/shm
	mountpoint -q /run || mount -t tmpfs -o nosuid,nodev,mode=0755 run /run
	mountpoint -q /sys/fs/cgroup || mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup
	[ -d /sys/firmware/efi/efivars ] && ! mountpoint -q /sys/firmware/efi/efivars &&
		mount -t efivarfs -o nosuid,nodev,noexec efivarfs /sys/firmware/efi/efivars 2>/dev/null
	ln -sf /proc/self/fd /dev/fd
	ln -sf /proc/self/fd/0 /dev/stdin
	ln -sf /proc/self/fd/1 /dev/stdout
	ln -sf /proc/self/fd/2 /dev/stderr
	mkdir -p /run/lock /var/log
	chmod 1777 /tmp
}

# Move the calling process (and all it will start) into a cgroup of its own, /sys/fs/cgroup/NAME,
# as a service manager would. The root cgroup has no memory.swap.max (cgroup v2 keeps the memory
# controller's files off the root): an engine left there finds no swap accounting for its own group
# and warns "No swap limit support" in `docker info` and on every `docker run --memory`.
own_cgroup() {
	top=/sys/fs/cgroup
	[ -f "$top/cgroup.subtree_control" ] || return 0
	# Give children the controllers the kernel has (one at a time: one that cannot be enabled stays off).
	for c in cpu io memory pids; do
		grep -qw "$c" "$top/cgroup.controllers" && echo "+$c" >"$top/cgroup.subtree_control" 2>/dev/null
	done
	mkdir -p "$top/$1" && echo $$ >"$top/$1/cgroup.procs"
}

# Load the driver of every device the kernel knows about. Several passes,
# because a bus driver (virtio-pci, xhci) reveals new devices when it loads.
coldplug() {
	n=0
	while [ $n -lt 3 ]; do
		find /sys/devices -name modalias -type f -exec cat {} + 2>/dev/null | sort -u |
			xargs -r modprobe -q -a -b 2>/dev/null
		n=$((n + 1))
	done
}

# The first wired Ethernet interface (not loopback, wireless, bridge or virtual).
first_wired_nic() {
	for d in /sys/class/net/*; do
		i=${d##*/}
		[ -e "$d/device" ] || continue
		[ -d "$d/wireless" ] && continue
		[ "$(cat "$d/type" 2>/dev/null)" = 1 ] || continue
		echo "$i"
		return 0
	done
	return 1
}

# label_devices LABEL: the devices with a file system labelled LABEL, including
# whole disks that also carry a partition table: a hybrid ISO written to a USB
# stick, which blkid's normal scan leaves out.
label_devices() {
	blkid -c /dev/null -o device -t LABEL="$1" 2>/dev/null
	for ld_b in /sys/class/block/*; do
		[ -e "$ld_b/partition" ] && continue
		case ${ld_b##*/} in loop* | ram* | dm-* | zram*) continue ;; esac
		[ "$(blkid -p -o value -s LABEL "/dev/${ld_b##*/}" 2>/dev/null)" = "$1" ] && echo "/dev/${ld_b##*/}"
	done
}
