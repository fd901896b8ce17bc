#!/bin/sh
# Quick start, step 1: install what debian2docker needs, build the tool, and
# build the default image into ./out.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
npm ci --no-audit --no-fund
# The Docker engine the build --in-docker tests use (step 2, npm test).
./scripts/start-docker.sh
npm run build
node bin/debian2docker.js build -o out
