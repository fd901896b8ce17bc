# shellcheck shell=sh
# Part of persist.sh (which sources it, after its settings): Where this build lives: the medium it booted from (CD, stick) or the installed disk's EFI system partition.
# POSIX sh; see docs/persistence.md.

# mounted_stamp DIR: is DIR this build's boot medium (its GRUB stamp file)?
mounted_stamp() {
	[ -n "$BUILD" ] && [ -f "$1/boot/grub/d2d-$(printf '%.16s' "$BUILD").stamp" ]
}

# probe LABEL CHECK: the first device labelled LABEL whose file system, mounted
# read-only for a moment, passes `CHECK DIR`.
probe() {
	pr_m=/run/d2d/probe.$$
	mkdir -p "$pr_m"
	for pr_d in $(label_devices "$1" | sort -u); do
		mount -o ro "$pr_d" "$pr_m" 2>/dev/null || continue
		if "$2" "$pr_m"; then
			umount "$pr_m"
			rmdir "$pr_m"
			echo "$pr_d"
			return 0
		fi
		umount "$pr_m"
	done
	rmdir "$pr_m"
	return 1
}

# has_this_build DIR: is DIR an install's ESP holding this build (current or previous slot)?
has_this_build() {
	grep -qsx "BUILD=$BUILD" "$1/d2d/current/build" "$1/d2d/previous/build"
}

# boot_medium_dev: the device holding this build's ISO file system (CD, or a
# stick/disk the ISO was written to), or nothing.
boot_medium_dev() {
	[ -n "$VOLID" ] && probe "$VOLID" mounted_stamp
}

# installed_esp: the EFI system partition of a disk install that holds this
# build, or nothing.
installed_esp() {
	probe "$ESP_LABEL" has_this_build
}

# boot_disk: the whole disk this system booted from (USB stick or installed
# disk); fails for a CD or network boot.
boot_disk() {
	bd_d=$(installed_esp) || bd_d=$(boot_medium_dev) || return 1
	parent_disk "$bd_d"
}
