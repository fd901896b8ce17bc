# shellcheck shell=sh
# Part of persist.sh (which sources it, after its settings): Partitions: the disk a partition is on, the free space after the last partition and the ISO image, appending the persistence partition.
# POSIX sh; see docs/persistence.md.

# parent_disk DEV: the whole disk a partition belongs to (DEV itself for a disk).
parent_disk() {
	pd_n=${1##*/}
	if [ -f "/sys/class/block/$pd_n/partition" ]; then
		pd_p=$(readlink -f "/sys/class/block/$pd_n/..")
		echo "/dev/${pd_p##*/}"
	else
		echo "$1"
	fi
}

# part_dev DISK N: the device of DISK's partition N (sdb3, vda3, nvme0n1p3, loop0p3).
part_dev() {
	case $1 in
	*[0-9]) echo "${1}p$2" ;;
	*) echo "$1$2" ;;
	esac
}

# reread DISK: make the kernel see DISK's new partition table (partx also
# works where a re-read is refused, and on loop devices).
reread() {
	blockdev --rereadpt "$1" 2>/dev/null
	partx -u "$1" 2>/dev/null
	partx -a "$1" 2>/dev/null || :
}

# wait_dev DEV: wait up to 10 s for a device node to appear.
wait_dev() {
	wd_n=0
	while [ ! -b "$1" ] && [ $wd_n -lt 50 ]; do
		sleep 0.2
		wd_n=$((wd_n + 1))
	done
	[ -b "$1" ]
}

# last_partition DISK: the number of DISK's last partition (by start sector).
last_partition() {
	sfdisk -d "$1" 2>/dev/null | sed -n 's/^[^:]*[^0-9]\([0-9][0-9]*\) *: *start= *\([0-9]*\).*/\2 \1/p' | sort -n | tail -n 1 | cut -d' ' -f2
}

# partition_named DISK NAME: the device of DISK's GPT partition called NAME, if any.
partition_named() {
	sfdisk -d "$1" 2>/dev/null | sed -n "s/^\\([^ :]*\\) *:.*name=\"$2\".*/\\1/p" | head -n 1
}

# first_free DISK: the first 1 MiB-aligned sector (of 512 bytes) after DISK's
# last partition and after the ISO 9660 volume a hybrid image starts with.
# xorriso's last GPT partition ends up to 64 sectors before the volume does, so
# sfdisk's own choice (the next 1 MiB boundary after the last partition) can fall
# inside the image's last sectors, depending on its size.
first_free() {
	ff_end=$(sfdisk -d "$1" 2>/dev/null | sed -n 's/.*start= *\([0-9]*\), *size= *\([0-9]*\).*/\1 \2/p' |
		awk 'BEGIN { e = 0 } { if ($1 + $2 > e) e = $1 + $2 } END { print e }')
	# The primary volume descriptor (sector 16 of 2048 bytes): "CD001" at byte 1,
	# the volume's size in 2048-byte blocks, little-endian, at byte 80.
	if [ "$(dd if="$1" bs=2048 skip=16 count=1 2>/dev/null | dd bs=1 skip=1 count=5 2>/dev/null)" = CD001 ]; then
		ff_iso=$(dd if="$1" bs=2048 skip=16 count=1 2>/dev/null | od -An -t u4 -j 80 -N 4 | tr -d ' ')
		[ $((ff_iso * 4)) -gt "$ff_end" ] && ff_end=$((ff_iso * 4))
	fi
	# An empty table: the first MiB holds the tables themselves.
	[ "$ff_end" -ge 2048 ] || ff_end=2048
	echo $(((ff_end + 2047) / 2048 * 2048))
}

# append_partition DISK SIZE: a new partition named d2d-persist in the free
# space after DISK's last partition (and after the ISO image on it); existing
# partitions are not touched. SIZE is sfdisk's (e.g. 4G), empty for all the
# free space. Prints the new device.
append_partition() {
	# A hybrid ISO written to a stick keeps its backup GPT at the image's end:
	# move it to the disk's end so the space after the image becomes usable.
	if sfdisk -l "$1" 2>/dev/null | grep -q 'Disklabel type: gpt'; then
		sfdisk -q --no-reread --no-tell-kernel --relocate gpt-bak-std "$1" >/dev/null 2>&1 ||
			die "cannot move the backup GPT of $1 to its end"
		ap_type=0FC63DAF-8483-4772-8E79-3D69D8477DE4
		ap_line="start=$(first_free "$1"), ${2:+size=$2, }type=$ap_type, name=$PERSIST_LABEL"
	else
		ap_line="start=$(first_free "$1"), ${2:+size=$2, }type=83"
	fi
	ap_before=$(last_partition "$1")
	# --no-reread: the stick's other partitions are in use (we booted from it).
	echo "$ap_line" | sfdisk -q --append --no-reread --no-tell-kernel "$1" >/dev/null ||
		die "cannot add a partition to $1 (no free space after its last partition?)"
	ap_n=$(last_partition "$1")
	if [ -z "$ap_n" ] || [ "$ap_n" = "$ap_before" ]; then
		die "sfdisk did not add a partition to $1"
	fi
	partx -a --nr "$ap_n" "$1" 2>/dev/null || blockdev --rereadpt "$1" 2>/dev/null || :
	ap_dev=$(part_dev "$1" "$ap_n")
	wait_dev "$ap_dev" || die "the new partition $ap_dev did not appear"
	echo "$ap_dev"
}
