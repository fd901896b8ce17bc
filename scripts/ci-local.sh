#!/bin/sh
# Runs the whole suite exactly as CI does, on this machine: a fresh clone of the
# committed HEAD in a new temporary folder, CI=true, standard input from
# /dev/null, an empty debian2docker cache (XDG_CACHE_HOME pointed at an empty
# folder; the rootless build user's cache emptied too), and no Docker engine
# running beforehand (.ci/run starts its own). Uncommitted changes are not in the
# clone: commit first. Run it before every submission.
#
#   scripts/ci-local.sh            # the log goes to the terminal and to FOLDER/ci.log
#   scripts/ci-local.sh --keep     # keep the clone and its caches afterwards (default: removed on success)
#
# Exit status: that of `bash .ci/run`. Needs root, as CI has (.ci/run calls apt-get).
set -eu
keep=0
for a in "$@"; do
	case "$a" in
	--keep) keep=1 ;;
	*)
		echo "ci-local.sh: unknown option '$a' (only --keep)" >&2
		exit 2
		;;
	esac
done
if [ "$(id -u)" -ne 0 ]; then
	echo "ci-local.sh: run as root, as CI does (.ci/run calls apt-get)" >&2
	exit 1
fi
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
	echo "ci-local.sh: note: uncommitted changes are not tested (the clone takes HEAD, $(git -C "$repo" rev-parse --short HEAD))" >&2
fi
# World-readable, as CI's checkout is: the rootless build test runs as another user.
work=$(mktemp -d /tmp/d2d-ci.XXXXXX)
chmod 0755 "$work"
git clone -q --no-local "$repo" "$work/main"
# CI has a read-only copy of shared/ beside the clone.
[ -d "$repo/../shared" ] && cp -r "$repo/../shared" "$work/shared" && chmod -R a-w "$work/shared"
mkdir -p "$work/cache"
# The rootless build user keeps its own cache under its home; CI on a new machine has none.
if [ -d /home/d2d-build/.cache/debian2docker ]; then
	echo "== emptying /home/d2d-build/.cache/debian2docker (the rootless test user's cache)"
	rm -rf /home/d2d-build/.cache/debian2docker
fi
# No engine left running from earlier work: CI's .ci/run starts its own.
if pgrep -x dockerd >/dev/null 2>&1; then
	echo "== stopping the running Docker engine (.ci/run starts its own)"
	pkill -x dockerd || true
	n=0
	while pgrep -x dockerd >/dev/null 2>&1 && [ $n -lt 60 ]; do
		sleep 1
		n=$((n + 1))
	done
	pkill -x containerd || true
fi
echo "== CI-parity run of $(git -C "$work/main" log -1 --format='%h %s') in $work"
start=$(date +%s)
# Where the processor time goes (bench/suite-cpu.ts), from this checkout's build when it has one:
# printed after the run, into FOLDER/cpu.txt. One process reading /proc every 2 s.
sampler=''
if [ -f "$repo/dist/bench/suite-cpu.js" ] && command -v node >/dev/null 2>&1; then
	node "$repo/dist/bench/suite-cpu.js" >"$work/cpu.txt" 2>&1 &
	sampler=$!
fi
# The run's own exit status, through the pipe into tee (POSIX sh has no PIPESTATUS).
(
	cd "$work/main" || exit 1
	env CI=true XDG_CACHE_HOME="$work/cache" bash .ci/run </dev/null 2>&1
	echo $? >"$work/rc"
) | tee "$work/ci.log"
rc=$(cat "$work/rc" 2>/dev/null || echo 1)
if [ -n "$sampler" ]; then
	kill -TERM "$sampler" 2>/dev/null || true
	wait "$sampler" 2>/dev/null || true
	cat "$work/cpu.txt"
fi
echo "== CI-parity run: $([ "$rc" -eq 0 ] && echo PASSED || echo FAILED) in $(($(date +%s) - start)) s; log: $work/ci.log"
if [ "$rc" -eq 0 ] && [ $keep -eq 0 ]; then
	cp "$work/ci.log" "/tmp/d2d-ci-last.log"
	[ -f "$work/cpu.txt" ] && cp "$work/cpu.txt" "/tmp/d2d-ci-last.cpu.txt"
	rm -rf "$work"
	echo "== the clone is removed; the log is kept at /tmp/d2d-ci-last.log"
fi
exit "$rc"
