#!/usr/bin/env bash
# Builds the service image with the local Docker engine: scripts/build-service-image.sh [TAG]
# (default hit-counter-service:local). Without NODE_IMAGE set, it builds and uses the offline
# stand-in base image (scripts/base-images.sh), so nothing is pulled from a container registry.
# npm inside the build stage gets only the CA certificates that Node does not already ship with
# (here: the egress proxy's CA), read from NODE_EXTRA_CA_CERTS or the system bundle; a build
# argument cannot hold the whole bundle (Linux caps one argument at 128 KiB), and does not need to.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
tag=${1:-hit-counter-service:local}

scripts/dockerd.sh
if [ -z "${NODE_IMAGE:-}" ]; then
  NODE_IMAGE=$(scripts/base-images.sh | sed -n 's/^NODE_IMAGE=//p')
fi
bundle=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
extra_ca=""
if [ -r "$bundle" ]; then
  extra_ca=$(node -e '
    const tls = require("node:tls");
    const pem = require("node:fs").readFileSync(process.argv[1], "utf8");
    const known = new Set(tls.rootCertificates.map((c) => c.replace(/\s+/g, "")));
    const certs = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    process.stdout.write(certs.filter((c) => !known.has(c.replace(/\s+/g, ""))).join("\n"));
  ' "$bundle")
fi
docker build -t "$tag" --build-arg "NODE_IMAGE=$NODE_IMAGE" --build-arg "NPM_CA_PEM=$extra_ca" service
