#!/bin/sh
# A scenario that fails on purpose: the harness must report its status and output.
echo "guest says: no such thing"
# The harness asserts on this line too: how stage 1 unpacked the root on this (512 MiB) machine.
grep 'stage 1: root file system unpacked' /var/log/d2d-boot.log
exit 3
