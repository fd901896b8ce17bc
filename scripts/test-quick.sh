#!/bin/sh
# The quick loop (npm run test:quick): after the unit tests, build the default
# image into .cache/quick (the stage cache makes a rebuild after a code change
# take seconds) and boot it once in QEMU with `debian2docker test`, which checks
# from inside the guest that Docker is ready and runs a container. Minutes, not
# the whole suite's half hour; run the whole suite (npm test, or
# scripts/ci-local.sh as CI would) before submitting.
set -eu
cd "$(dirname "$0")/.."
out=.cache/quick
node bin/debian2docker.js build -o "$out"
node bin/debian2docker.js test "$out/debian2docker.iso"
