# shellcheck shell=sh
# shellcheck disable=SC2034 # the names below are used by the scripts that source this
# Encrypted persistence and install to disk: the functions d2d-persist,
# d2d-install and the boot-time unlock (persist-boot) share. POSIX sh.
# Prints to stdout/stderr only (the build host runs some of it too: tests, and
# `debian2docker install` checks a passphrase with passphrase_problem).
# See docs/persistence.md.

# shellcheck source=target/rootfs/usr/lib/d2d/lib.sh
. "${D2D_LIB:-/usr/lib/d2d}/lib.sh"

PERSIST_LABEL=d2d-persist  # LUKS2 label and GPT partition name
PERSIST_MAPPER=d2d-persist # /dev/mapper/d2d-persist when unlocked
PERSIST_FS_LABEL=d2d-data  # the ext4 inside
PERSIST_MNT=/run/d2d/persist
# A LUKS2 subsystem tag meaning "made by d2d, no file system inside yet". The
# first unlock makes the ext4 and clears it. A volume that opens but holds no
# file system and lacks the tag is never formatted.
PERSIST_FRESH=d2d-fresh
RESET_MARKER=.d2d-reset-settings
ESP_LABEL=D2D-ESP
: "${PERSIST_CONF:=/etc/d2d/persist.conf}"
DATA=
SETTINGS=
PBKDF_MEMORY=65536
WAIT=10
VOLID=
BUILD=
NAME=
if [ -f "$PERSIST_CONF" ]; then
	# shellcheck source=/dev/null
	. "$PERSIST_CONF"
fi

die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

# passphrase_problem PASS: why PASS is too weak; prints nothing when it is fine.
passphrase_problem() {
	pp_len=$(printf '%s' "$1" | wc -m)
	if [ "$pp_len" -lt 12 ]; then
		echo "it has $pp_len characters; use at least 12 (a few random words work well)"
		return 0
	fi
	pp_distinct=$(printf '%s' "$1" | fold -w 1 | sort -u | wc -l)
	if [ "$pp_distinct" -lt 6 ]; then
		echo "it uses only $pp_distinct different characters"
		return 0
	fi
	case $(printf '%s' "$1" | tr '[:upper:]' '[:lower:]') in
	*password* | *passwort* | *123456* | *qwerty* | *letmein* | *debian2docker*)
		echo "it contains a well-known word or sequence"
		;;
	esac
}

# read_secret PROMPT: read one line from the terminal without echo.
# Echo goes off before the prompt shows: what is typed as soon as it shows is not echoed either.
read_secret() {
	stty -echo </dev/tty 2>/dev/null
	printf '%s' "$1" >/dev/tty
	rs_line=
	IFS= read -r rs_line </dev/tty || :
	stty echo </dev/tty 2>/dev/null
	printf '\n' >/dev/tty
	printf '%s' "$rs_line"
}

# new_passphrase [FILE]: a new passphrase, from FILE (scripts) or typed twice,
# strong enough. Prints it.
new_passphrase() {
	if [ -n "${1:-}" ]; then
		[ -r "$1" ] || die "cannot read the passphrase file $1"
		np_p=$(cat "$1")
		np_why=$(passphrase_problem "$np_p")
		[ -z "$np_why" ] || die "the passphrase in $1 is too weak: $np_why"
		printf '%s' "$np_p"
		return 0
	fi
	has_tty || die "no terminal to ask for a passphrase on: use --passphrase-file FILE"
	np_try=0
	while [ $np_try -lt 3 ]; do
		np_try=$((np_try + 1))
		np_p=$(read_secret "New passphrase: ")
		np_why=$(passphrase_problem "$np_p")
		if [ -n "$np_why" ]; then
			echo "Too weak: $np_why." >/dev/tty
			continue
		fi
		np_q=$(read_secret "Again: ")
		if [ "$np_p" != "$np_q" ]; then
			echo "The two passphrases differ." >/dev/tty
			continue
		fi
		printf '%s' "$np_p"
		return 0
	done
	die "no passphrase set"
}

# has_tty: is there a terminal to ask on? (/dev/tty exists even without one.)
has_tty() {
	(: </dev/tty) 2>/dev/null
}

# confirm WORD WHAT: unless YES=1, the user must type WORD to go on.
confirm() {
	[ "${YES:-0}" = 1 ] && return 0
	has_tty || die "$2 needs a typed confirmation, and there is no terminal: add --yes"
	printf 'This will %s.\nType %s to go on: ' "$2" "$1" >/dev/tty
	cf_a=
	IFS= read -r cf_a </dev/tty || :
	[ "$cf_a" = "$1" ] || die "not confirmed; nothing was changed"
}

# recovery_key: 40 random characters in groups of five (no 0/1/o/l to misread).
recovery_key() {
	tr -dc 'abcdefghijkmnpqrstuvwxyz23456789' </dev/urandom | head -c 40 | sed 's/...../&-/g; s/-$//'
}

# luks_create DEV PASSPHRASE [RECOVERY_KEY]: a new LUKS2 volume, argon2id with
# its memory cost pinned (PBKDF_MEMORY KiB) so a small machine can unlock it.
# Its file system is made at the first unlock (see PERSIST_FRESH).
luks_create() {
	lc_pbkdf="--pbkdf argon2id --pbkdf-memory $PBKDF_MEMORY --pbkdf-parallel 1"
	# shellcheck disable=SC2086 # lc_pbkdf: several options
	printf '%s' "$2" | cryptsetup luksFormat --batch-mode --type luks2 --label "$PERSIST_LABEL" \
		--subsystem "$PERSIST_FRESH" $lc_pbkdf --key-file - "$1" || return 1
	[ -n "${3:-}" ] || return 0
	lc_f=$(mktemp)
	printf '%s' "$3" >"$lc_f"
	# shellcheck disable=SC2086
	printf '%s' "$2" | cryptsetup luksAddKey --batch-mode $lc_pbkdf --key-file - "$1" "$lc_f"
	lc_rc=$?
	rm -f "$lc_f"
	return $lc_rc
}

# make_volume DEV PASSPHRASE RECOVERY: luks_create with a report, and with a
# recovery key (printed once) when RECOVERY=1. Dies when cryptsetup fails.
make_volume() {
	mv_rk=
	[ "$3" = 1 ] && mv_rk=$(recovery_key)
	echo "Making the encrypted volume on $1 (argon2id, $((PBKDF_MEMORY / 1024)) MiB to unlock)..."
	luks_create "$1" "$2" "$mv_rk" || die "cryptsetup could not make the volume on $1"
	if [ -n "$mv_rk" ]; then
		echo "Recovery key (a second key slot; write it down, it is shown only now):"
		echo "    $mv_rk"
	fi
}

# luks_erase DEV: destroy every key slot and both LUKS2 headers, so nothing
# (not the old passphrase, not the recovery key) can open the volume again.
luks_erase() {
	cryptsetup erase --batch-mode "$1" >/dev/null 2>&1 || :
	wipefs -a -f "$1" >/dev/null 2>&1 || :
	# The headers and key slots live in the first 16 MiB.
	dd if=/dev/zero of="$1" bs=1M count=16 conv=fsync status=none 2>/dev/null || :
	! cryptsetup isLuks "$1" 2>/dev/null
}

# find_volumes: the persistence volumes this machine has (LUKS, our label).
# (LUKS2 label, or the GPT partition name d2d-persist gives the partitions it makes.)
find_volumes() {
	{
		blkid -c /dev/null -o device -t LABEL="$PERSIST_LABEL"
		blkid -c /dev/null -o device -t PARTLABEL="$PERSIST_LABEL"
	} 2>/dev/null | sort -u | while read -r fv_d; do
		cryptsetup isLuks "$fv_d" 2>/dev/null && echo "$fv_d"
	done
}

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

# state_dir PATH: where the volume keeps PATH.
state_dir() {
	echo "$PERSIST_MNT/state$1"
}

# bind_path PATH: bind-mount PATH from the volume. The first time, the image's
# own PATH is copied there first (the factory state), then renamed into place,
# so a power cut halfway leaves no half copy that looks complete.
bind_path() {
	bp_s=$(state_dir "$1")
	if [ ! -d "$bp_s" ]; then
		mkdir -p "${bp_s%/*}"
		rm -rf "$bp_s.seed"
		if [ -d "$1" ]; then
			cp -a "$1" "$bp_s.seed" || return 1
		else
			mkdir -p "$bp_s.seed" "$1"
		fi
		sync
		mv "$bp_s.seed" "$bp_s"
	fi
	mount --bind "$bp_s" "$1"
}

# reset_settings: drop the persisted settings folders (the image's are used again).
reset_settings() {
	for rs_p in $SETTINGS; do
		rm -rf "$(state_dir "$rs_p")"
	done
	rm -f "$PERSIST_MNT/$RESET_MARKER"
	sync
}

# persist_active: is the volume unlocked and mounted?
persist_active() {
	[ -b "/dev/mapper/$PERSIST_MAPPER" ] && mountpoint -q "$PERSIST_MNT"
}
