#!/usr/bin/env bash
# Builds the service image with the local Docker engine:
#   scripts/images/build-service-image.sh [TAG [SERVICE_DIR]]   (default hit-counter-service:local, service/)
# Without NODE_IMAGE set, it builds and uses the offline stand-in base image (scripts/images/base-images.sh),
# so nothing is pulled from a container registry.
# npm inside the build stage gets only the CA certificates that Node does not already ship with
# (scripts/images/extra-ca-certs.sh: here, the egress proxy's CA).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
tag=${1:-hit-counter-service:local}
context=${2:-service}

scripts/setup/dockerd.sh
if [ -z "${NODE_IMAGE:-}" ]; then
  NODE_IMAGE=$(scripts/images/base-images.sh | sed -n 's/^NODE_IMAGE=//p')
fi
extra_ca=$(scripts/images/extra-ca-certs.sh)
docker build -t "$tag" --build-arg "NODE_IMAGE=$NODE_IMAGE" --build-arg "NPM_CA_PEM=$extra_ca" "$context"
