#!/usr/bin/env bash
# Debian packages the tests need: a real redis-server, a Docker engine, a registry on loopback,
# debootstrap for the stand-in base images, Chromium for the report screenshot check, curl for
# the cluster script's registry health check, busybox for its httpd (the local chart repository),
# wrk for the benchmark (npm run bench:service); for the real node (cluster.sh up --real): containerd,
# runc, the CNI plugins, iptables and conntrack for kube-proxy, ipset for kube-router, socat for its apiserver relay, gcc and libc6-dev for the static pause binary;
# ca-certificates and tzdata, whose files scripts/images/monitoring-images.sh puts in the monitoring images;
# apache2-utils for htpasswd (the cluster script's registry that requires a login).
# Also the shell linter (package shellcheck) for npm run test:team.
set -euo pipefail
packages=(redis-server docker.io docker-registry debootstrap chromium iproute2 ca-certificates tzdata curl busybox wrk
  containerd runc containernetworking-plugins iptables ipset conntrack socat gcc libc6-dev apache2-utils shellcheck)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Debian packages start their own daemons where systemd runs; the tests start their own instances.
