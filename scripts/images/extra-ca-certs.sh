#!/usr/bin/env bash
# Prints the CA certificates of a bundle (default: the system's) that Node does not already ship
# with: behind a TLS-intercepting egress proxy, the proxy's CA. An image build gives these to npm
# in its build stage only; the whole bundle would not fit one build argument (128 KiB on Linux).
set -euo pipefail
source "$(dirname "$0")/../env.sh"
bundle=${1:-${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}}
[ -r "$bundle" ] || exit 0
node -e '
  const tls = require("node:tls");
  const pem = require("node:fs").readFileSync(process.argv[1], "utf8");
  const known = new Set(tls.rootCertificates.map((c) => c.replace(/\s+/g, "")));
  const certs = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  process.stdout.write(certs.filter((c) => !known.has(c.replace(/\s+/g, ""))).join("\n"));
' "$bundle"
