# shellcheck shell=sh
# shellcheck disable=SC2034 # the names below are used by the scripts that source this
# Encrypted persistence and install to disk: the settings and functions d2d-persist,
# d2d-install and the boot-time unlock (persist-boot) share. POSIX sh. The settings
# come from persist.conf, which the build writes from the config (src/render/settings.ts);
# an image without persistence has none, and its scripts say so and stop. The
# functions are in one file per job: persist-ask.sh (passphrases, confirmations),
# persist-luks.sh (the volume), persist-disk.sh (partitions), persist-medium.sh
# (where this build lives), persist-state.sh (what the volume keeps).
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
: "${D2D_BUILD_ID:=/etc/d2d/build}"
# The settings, all from persist.conf (src/render/settings.ts): no value is repeated here.
DATA=
SETTINGS=
PBKDF_MEMORY=
WAIT=
# Which build this is (its medium's label, its config's hash, its name): from the build's
# identity file, which the files layer writes (identityFiles in src/render/settings.ts).
VOLID=
BUILD=
NAME=
if [ -f "$D2D_BUILD_ID" ]; then
	# shellcheck source=/dev/null
	. "$D2D_BUILD_ID"
fi
if [ -f "$PERSIST_CONF" ]; then
	# shellcheck source=/dev/null
	. "$PERSIST_CONF"
fi

die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

# The functions, by job.
# shellcheck source=target/rootfs/usr/lib/d2d/persist-ask.sh
. "${D2D_LIB:-/usr/lib/d2d}/persist-ask.sh"
# shellcheck source=target/rootfs/usr/lib/d2d/persist-luks.sh
. "${D2D_LIB:-/usr/lib/d2d}/persist-luks.sh"
# shellcheck source=target/rootfs/usr/lib/d2d/persist-disk.sh
. "${D2D_LIB:-/usr/lib/d2d}/persist-disk.sh"
# shellcheck source=target/rootfs/usr/lib/d2d/persist-medium.sh
. "${D2D_LIB:-/usr/lib/d2d}/persist-medium.sh"
# shellcheck source=target/rootfs/usr/lib/d2d/persist-state.sh
. "${D2D_LIB:-/usr/lib/d2d}/persist-state.sh"
