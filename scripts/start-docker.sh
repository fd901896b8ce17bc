#!/bin/sh
# Start Debian's Docker engine (docker.io) for the build --in-docker tests when
# it is not running. There is no systemd on a CI machine, and Debian's init
# script stops at `ulimit -n 1048576` where that limit is not allowed: run
# dockerd directly, with a log file, and wait until it answers. (dockerd sets
# the iptables FORWARD policy to DROP; QEMU's user-mode network does not route
# through the host, so the boot tests do not notice.)
set -eu
if docker info >/dev/null 2>&1; then
	exit 0
fi
# An engine that was killed (a session's end, an earlier run's cleanup) leaves
# its pid files behind. dockerd trusts them: a pid file whose number now belongs
# to some other process makes it refuse to start (docker.pid) or wait forever on
# a containerd that is not there (containerd.pid, "containerd is still running",
# then "timeout waiting for containerd to start"). With no dockerd running,
# nothing of the old engine is worth keeping: stop its containerd, drop the files.
stale_pidfile() { # FILE NAME: true when FILE names no running process called NAME
	[ -f "$1" ] || return 1
	pid=$(cat "$1" 2>/dev/null || true)
	[ -n "$pid" ] || return 0
	[ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" != "$2" ]
}
if ! pgrep -x dockerd >/dev/null 2>&1; then
	pkill -f -x 'containerd --config /var/run/docker/containerd/containerd.toml.*' 2>/dev/null || true
	for f in /var/run/docker/containerd/containerd.pid:containerd /var/run/docker.pid:dockerd; do
		if stale_pidfile "${f%%:*}" "${f##*:}"; then
			echo "== removing the stale pid file ${f%%:*} (left by an engine that was killed)"
			rm -f "${f%%:*}"
		fi
	done
fi
setsid dockerd >/var/log/d2d-dockerd.log 2>&1 </dev/null &
daemon=$!
n=0
while ! docker info >/dev/null 2>&1; do
	n=$((n + 1))
	# dockerd that has exited will not answer: say so now, not after the full wait.
	if ! kill -0 "$daemon" 2>/dev/null || [ $n -ge 120 ]; then
		echo "dockerd did not start; the end of /var/log/d2d-dockerd.log:" >&2
		tail -n 20 /var/log/d2d-dockerd.log >&2
		exit 1
	fi
	sleep 1
done
echo "== docker engine $(docker info --format '{{.ServerVersion}}')"
