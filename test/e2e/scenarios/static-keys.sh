#!/bin/sh
# The harness's guest survives the kernel patching its own code while the other vCPU runs: flip
# one static key (schedstats) 2000 times while two loops start programs on both CPUs. Under multi-threaded
# TCG this kills the guest ("Oops: int3") within seconds; the harness runs TCG single-threaded
# (src/vm/qemu.ts, tcgThreads). Each flip patches the scheduler's code with int3 breakpoints.
set -eu
key=/proc/sys/kernel/sched_schedstats
[ -w "$key" ] || { echo "no $key in this kernel"; exit 3; }
busy() { while :; do /bin/true; done; }
busy &
a=$!
busy &
b=$!
i=0
while [ "$i" -lt 1000 ]; do
	echo 1 >"$key"
	echo 0 >"$key"
	i=$((i + 1))
done
kill "$a" "$b"
echo "static key flipped $((i * 2)) times"
