# shellcheck shell=sh
# Part of persist.sh (which sources it, after its settings): What the volume keeps: the persisted folders bound into place, and settings reset to the factory's.
# POSIX sh; see docs/persistence.md.

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
