#!/bin/sh
# A scenario that fails on purpose: the harness must report its status and output.
echo "guest says: no such thing"
exit 3
