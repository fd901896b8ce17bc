#!/bin/sh
# On Debian 12 (bookworm), install QEMU from bookworm-backports (10.0) instead of
# bookworm's 7.2. Under TCG the VM harness runs single-threaded (multi-threaded
# TCG crashes Linux guests now and then: src/vm/qemu.ts), and there QEMU 10.0
# brings the default image to Docker ready in 0.79x the time 7.2 takes (34.5 s
# against 43.6 s, network boot, 2 boots each). Debian 13 already has 10.0; other
# systems are left alone. The backports suite is added from the mirror the
# machine's own APT sources use for bookworm, with Debian's archive key; APT
# takes nothing else from it unless asked (backports have priority 100). If it
# cannot be reached, bookworm's QEMU stays: slower, not wrong.
set -eu
if [ "$(id -u)" -ne 0 ]; then
	echo "qemu-backports.sh: run as root (it calls apt-get)" >&2
	exit 1
fi
# shellcheck source=/dev/null
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ "$codename" = bookworm ] || exit 0

# The first URI that serves bookworm, from deb822 .sources files or one-line .list files.
mirror_uri() {
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk '
			function flush() { if (deb && bookworm && uri != "") { print uri; found = 1; exit } deb = 0; bookworm = 0; uri = "" }
			/^[[:space:]]*$/ { flush(); next }
			/^Types:/ { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
			/^URIs:/ { uri = $2 }
			/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") bookworm = 1 }
			/^Enabled:[[:space:]]*no/ { deb = 0 }
			END { if (!found) flush() }
		' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk '$1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i + 1) == "bookworm") { print $i; exit } }' "$f"
	done
}
uri=$(mirror_uri | head -n 1)
if [ -z "$uri" ]; then
	echo "qemu-backports.sh: no APT source for bookworm found; keeping bookworm's QEMU" >&2
	exit 0
fi
list=/etc/apt/sources.list.d/debian2docker-bookworm-backports.sources
printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" >"$list"
export DEBIAN_FRONTEND=noninteractive
if apt-get update -q && apt-get install -y -q --no-install-recommends -t bookworm-backports qemu-system-x86 qemu-utils; then
	echo "== $(qemu-system-x86_64 --version | head -n 1)"
else
	echo "qemu-backports.sh: bookworm-backports could not be used; keeping bookworm's QEMU (the VM tests run slower)" >&2
	rm -f "$list"
	apt-get update -q || true
fi
