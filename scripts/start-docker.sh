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
setsid dockerd >/var/log/d2d-dockerd.log 2>&1 </dev/null &
n=0
while ! docker info >/dev/null 2>&1; do
	n=$((n + 1))
	if [ $n -ge 60 ]; then
		echo "dockerd did not start; the end of /var/log/d2d-dockerd.log:" >&2
		tail -n 20 /var/log/d2d-dockerd.log >&2
		exit 1
	fi
	sleep 1
done
echo "== docker engine $(docker info --format '{{.ServerVersion}}')"
