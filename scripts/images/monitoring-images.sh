#!/usr/bin/env bash
# The images kube-prometheus-stack (../shared/thirdparty/charts/kube-prometheus-stack) runs, built from
# the binaries scripts/toolchain/tools.sh made and pushed to the loopback registry under the chart's own repository
# paths and tags: a release with the chart value `global.imageRegistry: $REGISTRY_ADDR` pulls them all
# from there. Each is laid out like its upstream image (entrypoint, numeric user, working and data
# directories, default arguments), on one shared FROM-scratch base holding what upstream's busybox and
# distroless bases give a static Go binary: Mozilla's CA certificates (Debian's ca-certificates, without
# the host's local additions), zoneinfo (tzdata), /etc/passwd and /etc/group (root, nobody 65534,
# nonroot 65532), nsswitch.conf and /tmp. No shell: like the distroless images, not like busybox.
# Not built: node-exporter (the program turns it off), Grafana and its sidecars (not buildable here),
# and what the chart leaves off by default (the admission-webhook Deployment, Thanos). The CRD upgrade
# Job's busybox is Debian's, with its libraries; its kubectl is the toolchain's.
# The chart asks for certgen 1.8.7; ours is KUBE_WEBHOOK_CERTGEN_VERSION, tagged as the chart spells
# tags (no "v"): a release sets prometheusOperator.admissionWebhooks.patch.image.tag to it.
# Called by `scripts/cluster/cluster.sh up` once dockerd and the registry answer. A warm run takes seconds: an
# image whose inputs (base, Dockerfile, binaries) are unchanged is not rebuilt, and a tag the registry
# already holds with the same digest is not pushed.
#   scripts/images/monitoring-images.sh [push]   build and push; prints NAME REFERENCE per image
#   scripts/images/monitoring-images.sh list     print NAME REFERENCE per image (builds nothing)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
source scripts/cluster/addresses.env
source scripts/cluster/cluster-lib.sh

base_image=hitcounter-local/monitoring-base:latest

# NAME REPOSITORY:TAG, as the chart's templates render them under a global registry.
images=(
  "prometheus-operator prometheus-operator/prometheus-operator:$PROMETHEUS_OPERATOR_VERSION"
  "prometheus-config-reloader prometheus-operator/prometheus-config-reloader:$PROMETHEUS_OPERATOR_VERSION"
  "prometheus prometheus/prometheus:$PROMETHEUS_VERSION-distroless"
  "alertmanager prometheus/alertmanager:$ALERTMANAGER_VERSION"
  "kube-state-metrics kube-state-metrics/kube-state-metrics:$KUBE_STATE_METRICS_VERSION"
  "kube-webhook-certgen jkroepke/kube-webhook-certgen:${KUBE_WEBHOOK_CERTGEN_VERSION#v}"
  "busybox busybox:$BUSYBOX_VERSION"
  "kubectl kubectl:$KUBE_VERSION"
)

list() {
  local entry
  for entry in "${images[@]}"; do echo "${entry%% *} $REGISTRY_ADDR/${entry#* }"; done
}

# The base's root filesystem into DIR/rootfs, owned by root as COPY makes it.
stage_base() {
  local rootfs=$1/rootfs
  if [ ! -d /usr/share/ca-certificates/mozilla ] || [ ! -d /usr/share/zoneinfo ]; then
    echo "missing Debian's ca-certificates or tzdata: run scripts/setup/install-system-deps.sh" >&2
    exit 1
  fi
  mkdir -p "$rootfs/etc/ssl/certs" "$rootfs/usr/share" "$rootfs/tmp"
  chmod 1777 "$rootfs/tmp"
  # Sorted, so the bundle (and the cached layer) only changes with the package.
  find /usr/share/ca-certificates/mozilla -name '*.crt' | LC_ALL=C sort | xargs cat >"$rootfs/etc/ssl/certs/ca-certificates.crt"
  # right/ (leap-second zones) is what nobody asks Go's time package for.
  cp -a /usr/share/zoneinfo "$rootfs/usr/share/"
  rm -rf "$rootfs/usr/share/zoneinfo/right"
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
    'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$rootfs/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'nonroot:x:65532:' >"$rootfs/etc/group"
  echo 'hosts: files dns' >"$rootfs/etc/nsswitch.conf"
  mkdir -p "$1/empty"
  cat >"$1/Dockerfile" <<'EOF'
FROM scratch
COPY rootfs/ /
COPY --chown=65532:65532 empty/ /home/nonroot/
EOF
}

# The build context of image NAME in DIR but its binaries: the Dockerfile, which mirrors the upstream
# image's, and its configuration files.
stage() {
  local name=$1 dir=$2 version=$3
  mkdir -p "$dir/empty"
  {
    echo "FROM $base_image"
    echo "LABEL org.opencontainers.image.version=\"$version\" org.opencontainers.image.description=\"built by hitcounter scripts/images/monitoring-images.sh from scripts/toolchain/tools.sh\""
    case $name in
      prometheus-operator)
        echo 'COPY operator /bin/operator'
        echo 'USER 65534:65534'
        echo 'ENTRYPOINT ["/bin/operator"]' ;;
      prometheus-config-reloader)
        # The operator sets this path as the container's command.
        echo 'COPY prometheus-config-reloader /bin/prometheus-config-reloader'
        echo 'USER 65534:65534'
        echo 'ENTRYPOINT ["/bin/prometheus-config-reloader"]' ;;
      prometheus)
        # As upstream's Dockerfile.distroless; the operator passes arguments only, with the data
        # volume at /prometheus and the configuration under /etc/prometheus.
        printf '%s\n' 'global: {scrape_interval: 15s}' 'scrape_configs:' \
          '- {job_name: prometheus, static_configs: [{targets: ["localhost:9090"]}]}' >"$dir/prometheus.yml"
        echo 'COPY prometheus promtool /bin/'
        echo 'COPY prometheus.yml /etc/prometheus/prometheus.yml'
        echo 'COPY --chown=65532:65532 empty/ /prometheus/'
        echo 'LABEL io.prometheus.image.variant="distroless"'
        echo 'USER 65532:65532'
        echo 'WORKDIR /prometheus'
        echo 'EXPOSE 9090'
        echo 'ENTRYPOINT ["/bin/prometheus"]'
        echo 'CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]' ;;
      alertmanager)
        # As upstream's Dockerfile; the operator passes arguments only (storage at /alertmanager).
        mkdir -p "$dir/etc"
        printf '%s\n' 'route: {receiver: default}' 'receivers: [{name: default}]' >"$dir/etc/alertmanager.yml"
        echo 'COPY alertmanager amtool /bin/'
        echo 'COPY --chown=65534:65534 etc/ /etc/alertmanager/'
        echo 'COPY --chown=65534:65534 empty/ /alertmanager/'
        echo 'USER 65534:65534'
        echo 'WORKDIR /alertmanager'
        echo 'EXPOSE 9093'
        echo 'ENTRYPOINT ["/bin/alertmanager"]'
        echo 'CMD ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"]' ;;
      kube-state-metrics)
        # As upstream's Dockerfile; the subchart passes arguments only.
        echo 'COPY kube-state-metrics /kube-state-metrics'
        echo 'USER 65534:65534'
        echo 'EXPOSE 8080 8081'
        echo 'ENTRYPOINT ["/kube-state-metrics", "--port=8080", "--telemetry-port=8081"]' ;;
      kube-webhook-certgen)
        # Upstream's is FROM scratch with no USER; the chart's Jobs run it as a non-root user.
        echo 'COPY kube-webhook-certgen /kube-webhook-certgen'
        echo 'USER 65534:65534'
        echo 'ENTRYPOINT ["/kube-webhook-certgen"]' ;;
      busybox)
        # The CRD upgrade Job's init container runs `sh -c "bzcat ..."`: Debian's busybox (dynamically
        # linked) with its libraries where the loader looks for them.
        echo 'COPY busybox /bin/busybox'
        local lib
        for lib in $(busybox_libraries); do echo "COPY $(basename "$lib") $(dirname "$lib")/"; done
        echo 'RUN ["/bin/busybox", "--install", "-s", "/bin"]'
        echo 'ENV PATH=/bin'
        echo 'USER 65534:65534'
        echo 'CMD ["sh"]' ;;
      kubectl)
        # The Job runs `kubectl apply --server-side`; kubectl keeps its discovery cache under $HOME.
        echo 'COPY kubectl /bin/kubectl'
        echo 'ENV PATH=/bin HOME=/tmp'
        echo 'USER 65532:65532'
        echo 'ENTRYPOINT ["/bin/kubectl"]' ;;
    esac
  } >"$dir/Dockerfile"
}

# The shared libraries the host's busybox loads, by their real paths.
busybox_libraries() {
  ldd /usr/bin/busybox | grep -o '/[^ ]*' | sort -u
}

# The toolchain's binaries image NAME holds, by path; a missing one fails naming scripts/toolchain/tools.sh.
# busybox is the host's (Debian's package).
binaries() {
  local bin
  case $1 in
    prometheus) set -- prometheus promtool ;;
    alertmanager) set -- alertmanager amtool ;;
    prometheus-operator) set -- operator ;;
    busybox)
      [ -x /usr/bin/busybox ] || { echo "missing /usr/bin/busybox: run scripts/setup/install-system-deps.sh" >&2; exit 1; }
      echo /usr/bin/busybox
      busybox_libraries
      return ;;
  esac
  for bin in "$@"; do tool "$bin"; done
}

# What an image is made of: the base, the context staged in DIR, and the binaries BIN... by path, size
# and time (the toolchain keeps each version in a directory of its own).
inputs() {
  docker image inspect -f '{{.Id}}' "$base_image"
  tar -C "$1" -c --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner . | sha256sum
  shift
  stat -L -c '%n %s %Y' "$@"
}

# docker build -t REF DIR [ARG...], quiet unless it fails (the legacy builder warns on every run).
build() {
  local ref=$1 dir=$2 out
  shift 2
  out=$(docker build -q -t "$ref" "$@" "$dir" 2>&1) || { echo "docker build of $ref failed:" >&2; echo "$out" >&2; exit 1; }
}

# The manifest digest the registry holds for REPOSITORY:TAG (empty when it has none).
registry_digest() {
  local repository=${1%:*} tag=${1##*:}
  curl -fsSI "http://$REGISTRY_ADDR/v2/$repository/manifests/$tag" \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    -H 'Accept: application/vnd.oci.image.index.v1+json' 2>/dev/null |
    tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: *//p'
}

# The digest the local image REF last had when pushed to this registry (empty when never pushed).
pushed_digest() {
  docker image inspect -f '{{range .RepoDigests}}{{println .}}{{end}}' "$1" 2>/dev/null |
    sed -n "s#^${1%:*}@##p" | head -n 1
}

push() {
  local entry name path ref version bins sum digest
  curl -fsS "http://$REGISTRY_ADDR/v2/" >/dev/null 2>&1 ||
    { echo "no registry at $REGISTRY_ADDR: run scripts/cluster/cluster.sh up" >&2; exit 1; }
  # Every binary first: a missing one fails before anything is built.
  for entry in "${images[@]}"; do binaries "${entry%% *}" >/dev/null; done
  work=$(mktemp -d) # global: the EXIT trap runs outside this function
  trap 'rm -rf "$work"' EXIT
  stage_base "$work/base"
  build "$base_image" "$work/base"
  for entry in "${images[@]}"; do
    name=${entry%% *} path=${entry#* }
    ref=$REGISTRY_ADDR/$path
    version=${path##*:}
    stage "$name" "$work/$name" "$version"
    # A warm run neither copies nor sends the binaries: the image of the same inputs is there.
    bins=$(binaries "$name")
    # shellcheck disable=SC2086 # one path a line, without spaces (the toolchain cache's layout)
    sum=$(inputs "$work/$name" $bins | sha256sum | cut -d' ' -f1)
    if [ "$(docker image inspect -f '{{index .Config.Labels "hitcounter.inputs"}}' "$ref" 2>/dev/null)" != "$sum" ]; then
      # shellcheck disable=SC2086
      cp -pL $bins "$work/$name/"
      build "$ref" "$work/$name" --label "hitcounter.inputs=$sum"
    fi
    digest=$(pushed_digest "$ref")
    if [ -z "$digest" ] || [ "$(registry_digest "$path")" != "$digest" ]; then
      docker push -q "$ref" >/dev/null
      echo "pushed $ref" >&2
    fi
    echo "$name $ref"
  done
}

case "${1:-push}" in
  push) push ;;
  list) list ;;
  *) echo "usage: $0 [push|list]" >&2; exit 2 ;;
esac
