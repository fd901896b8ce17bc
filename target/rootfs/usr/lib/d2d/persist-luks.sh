# shellcheck shell=sh
# Part of persist.sh (which sources it, after its settings): The encrypted volume: making it (LUKS2, argon2id with pinned memory), erasing it, finding the volumes this machine has.
# POSIX sh; see docs/persistence.md.

# luks_create DEV PASSPHRASE [RECOVERY_KEY]: a new LUKS2 volume, argon2id with
# its memory cost pinned (PBKDF_MEMORY KiB) so a small machine can unlock it.
# Its file system is made at the first unlock (see PERSIST_FRESH).
luks_create() {
	[ -n "$PBKDF_MEMORY" ] || die "no PBKDF_MEMORY: $PERSIST_CONF is missing or incomplete"
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
