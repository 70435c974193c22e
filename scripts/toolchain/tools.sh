#!/usr/bin/env bash
# Builds the offline end-to-end toolchain from the Go module proxy: the Pulumi CLI and its Node
# language host, the Kubernetes and Docker providers, the Docker Compose CLI plugin, a kwok control
# plane with metrics-server, the real node's kubelet, kube-proxy, pause, CoreDNS and kube-router, and what the
# kube-prometheus-stack chart runs: prometheus-operator and its config reloader, Prometheus, Alertmanager
# (with promtool and amtool), kube-state-metrics and kube-webhook-certgen (scripts/images/monitoring-images.sh
# puts each in an image). The modules the proxy refuses (the language host, the Docker provider,
# kube-state-metrics, certgen) are built from ../shared/thirdparty/src; their dependencies still come
# from the proxy.
# Each component lands in $HITCOUNTER_CACHE/tools/<component>-<version>/ (outside the clone, so CI
# on this machine reuses it) and is linked into .tools/bin; providers are installed as plugins into .tools/pulumi-home.
#   scripts/toolchain/tools.sh              build what is missing, link, install plugins
#   scripts/toolchain/tools.sh --status     list cached components and their build times
#   scripts/toolchain/tools.sh pulumi-home  print the PULUMI_HOME holding the plugins (builds nothing)
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
source scripts/env.sh

tools=$HITCOUNTER_CACHE/tools
# The machine's Go (1.26) is at /usr/local/go, which a non-login shell may not have on PATH.
export PATH=$PATH:/usr/local/go/bin
# Go's caches live beside the builds so a warm machine rebuilds nothing and downloads nothing.
export GOMODCACHE=$tools/gomod GOCACHE=$tools/gocache
# A module that wants a newer Go must fail here, not fetch a toolchain.
export GOTOOLCHAIN=local CGO_ENABLED=0
jobs=${TOOLS_JOBS:-2}
# A PULUMI_HOME per clone: the CLI only ever sees the plugins installed here from local files.
pulumi_home=$repo/.tools/pulumi-home
thirdparty=$repo/../shared/thirdparty

# Directory of MODULE@VERSION in the module cache, downloaded if needed.
module_dir() {
  (cd "$tools" && go mod download -json "$1") | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p' | grep .
}

# A writable copy of a source tree: the module cache is read-only.
copy_tree() {
  rm -rf "$2"
  mkdir -p "$(dirname "$2")"
  cp -a "$1" "$2"
  chmod -R u+w "$2"
}

# The module cache drops nested modules, so builds that need a module's relative `replace ../x`
# layout work on a copy.
copy_module() {
  local from
  from=$(module_dir "$1")
  copy_tree "$from" "$2"
}

# A vendored source tree; missing ../shared fails here, not halfway through a build.
copy_thirdparty() {
  [ -d "$thirdparty/$1" ] || { echo "missing $thirdparty/$1 (the vendored third-party sources)" >&2; return 1; }
  copy_tree "$thirdparty/$1" "$2"
}

build_pulumi() {
  local src=$1/src
  copy_module "github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION" "$src/pkg"
  copy_module "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION" "$src/sdk"
  # Automation API parses `pulumi version`, so the release version must be stamped in.
  (cd "$src/pkg" && go build -mod=mod -trimpath -tags osusergo,grpcnotrace \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
    -o "$1/bin/pulumi" ./cmd/pulumi)
  # Dynamic providers run through this bundled shim, which the CLI looks for next to itself.
  install -m 0755 "$src/sdk/nodejs/dist/pulumi-resource-pulumi-nodejs" "$1/bin/"
}

# A provider whose source is in $1/src/provider: DIR NAME VERSION MODULE. Its main.go embeds
# schema-embed.json, which upstream generates at build time and never commits.
build_provider() {
  local cmd=cmd/pulumi-resource-$2
  (cd "$1/src/provider/$cmd" && VERSION=$3 go run -mod=mod ./generate.go)
  (cd "$1/src/provider" && go build -mod=mod -trimpath -ldflags "-s -w -X $4/pkg/version.Version=$3" \
    -o "$1/bin/pulumi-resource-$2" "./$cmd")
}

# The module's replaces point into the pulumi monorepo; the served pkg and sdk releases of the CLI's
# version take their place.
build_pulumi_language_nodejs() {
  local src=$1/src
  copy_thirdparty src/pulumi-language-nodejs "$src"
  (cd "$src" &&
    go mod edit -dropreplace github.com/pulumi/pulumi/pkg/v3 -dropreplace github.com/pulumi/pulumi/sdk/v3 \
      -require "github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION" \
      -require "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION" &&
    go mod tidy &&
    go build -mod=mod -trimpath -tags osusergo,grpcnotrace \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
      -o "$1/bin/pulumi-language-nodejs" .)
}

build_pulumi_docker() {
  # provider/go.mod replaces the bridged Terraform provider with ../upstream, so both are copied.
  copy_thirdparty src/pulumi-docker "$1/src"
  build_provider "$1" docker "$PULUMI_DOCKER_VERSION" github.com/pulumi/pulumi-docker/provider/v4
}

build_docker_compose() {
  local src=$1/src
  copy_module "github.com/docker/compose/v2@$DOCKER_COMPOSE_VERSION" "$src"
  # Docker finds CLI plugins only under its config directory (or system ones), so the plugin gets a
  # config directory of its own: DOCKER_CONFIG=.tools/docker.
  mkdir -p "$1/docker/cli-plugins"
  (cd "$src" && go build -mod=mod -trimpath \
    -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$DOCKER_COMPOSE_VERSION" \
    -o "$1/docker/cli-plugins/docker-compose" ./cmd)
}

build_pulumi_kubernetes() {
  copy_module "github.com/pulumi/pulumi-kubernetes/provider/v4@$PULUMI_KUBERNETES_MODULE_VERSION" "$1/src/provider"
  copy_module "github.com/pulumi/pulumi-kubernetes/sdk/v4@v$PULUMI_KUBERNETES_VERSION" "$1/src/sdk"
  build_provider "$1" kubernetes "$PULUMI_KUBERNETES_VERSION" github.com/pulumi/pulumi-kubernetes/provider/v4
}

# Builds k8s.io/kubernetes commands ($2...) into $1/bin. k8s.io/kubernetes points every staging module
# at ./staging, which its module zip lacks; a wrapper module points them at their published twins.
build_kube_commands() {
  local dir=$1 src=$1/src gomod m minor ld="-s -w" pkg cmds=()
  shift
  for m in "$@"; do cmds+=("k8s.io/kubernetes/cmd/$m"); done
  gomod=$(module_dir "k8s.io/kubernetes@$KUBE_VERSION")/go.mod
  mkdir -p "$src"
  (cd "$src" && rm -f go.mod go.sum && go mod init local/kubebuild >/dev/null 2>&1
    sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/.*#\1#p' "$gomod" | while read -r m; do
      go mod edit -replace "$m=$m@$KUBE_STAGING_VERSION"
    done
    go get "k8s.io/kubernetes@$KUBE_VERSION")
  # Unstamped binaries report v0.0.0-master, which the Pulumi provider rejects as too old.
  minor=$(echo "$KUBE_VERSION" | cut -d. -f2)
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  (cd "$src" && go build -mod=mod -trimpath -ldflags "$ld" -o "$dir/bin/" "${cmds[@]}")
}

build_kubernetes() {
  build_kube_commands "$1" kube-apiserver kube-controller-manager kube-scheduler kubectl
}

# The real node (cluster.sh up --real): its kubelet and kube-proxy, and the pod sandbox's pause
# process, which Kubernetes ships as C source and builds static.
build_kube_node() {
  build_kube_commands "$1" kubelet kube-proxy
  mkdir -p "$1/share"
  gcc -Os -static -Wall -Werror -DVERSION="$KUBE_VERSION" \
    -o "$1/share/pause" "$(module_dir "k8s.io/kubernetes@$KUBE_VERSION")/build/pause/linux/pause.c"
}

# Cluster DNS for the real node's pods.
build_kube_router() {
  GOBIN=$1/bin go install -trimpath -ldflags "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER_VERSION" \
    "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@$KUBE_ROUTER_VERSION"
}

build_coredns() {
  GOBIN=$1/bin go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$COREDNS_VERSION"
}

# Prometheus and promtool: the module's go.mod has a replace, which only the main module may use.
# The web UI is built and embedded as the release does it (make assets assets-compress with
# BUILD_UI=mantine, then -tags builtinassets): web/ui is a pnpm workspace (the mantine-ui app and the
# PromQL editor modules it uses) whose pnpm-lock.yaml pins every package, all from the npm registry.
# The legacy react-app, served only under --enable-feature=old-ui, is left out. pnpm is the newest
# 11.x (upstream's CI takes any 11.x but 11.12.0); it, its store and its metadata cache live beside
# the builds, so a rebuild downloads no package again.
build_prometheus() {
  local ldflags="-s -w -X github.com/prometheus/common/version.Version=${PROMETHEUS_VERSION#v}"
  local pnpm_version=11.28.13 pnpm=$tools/pnpm
  copy_module "github.com/prometheus/prometheus@$PROMETHEUS_MODULE_VERSION" "$1/src"
  [ -x "$pnpm/$pnpm_version/node_modules/.bin/pnpm" ] ||
    npm install --prefix "$pnpm/$pnpm_version" --no-audit --no-fund --no-save "pnpm@$pnpm_version" >/dev/null
  (cd "$1/src/web/ui" && export PATH=$pnpm/$pnpm_version/node_modules/.bin:$PATH CI="" pnpm_config_update_notifier=false &&
    timeout 600 pnpm install --frozen-lockfile --prefer-offline --store-dir "$pnpm/store" --cache-dir "$pnpm/cache" \
      --reporter=append-only --loglevel=warn &&
    timeout 900 pnpm run build:mantine-ui)
  # Gzips web/ui/static and writes web/ui/embed.go, which lists the files to embed.
  (cd "$1/src" && bash scripts/compress_assets.sh)
  # The module ships a go.work naming folders the module zip leaves out.
  (cd "$1/src" && export GOWORK=off &&
    go build -trimpath -ldflags "$ldflags" -o "$1/bin/promtool" ./cmd/promtool &&
    go build -trimpath -tags builtinassets -ldflags "$ldflags" -o "$1/bin/prometheus" ./cmd/prometheus)
}

# Alertmanager embeds its web UI's built assets (ui/app/dist), which the release process makes with
# npm and the module leaves out: this build serves the API only, with a page that says so.
build_alertmanager() {
  local ldflags="-s -w -X github.com/prometheus/common/version.Version=${ALERTMANAGER_VERSION#v}"
  copy_module "github.com/prometheus/alertmanager@$ALERTMANAGER_VERSION" "$1/src"
  mkdir -p "$1/src/ui/app/dist"
  echo '<p>Alertmanager API only: this build has no web UI (scripts/toolchain/tools.sh).</p>' >"$1/src/ui/app/dist/index.html"
  (cd "$1/src" && go build -trimpath -ldflags "$ldflags" -o "$1/bin/amtool" ./cmd/amtool &&
    go build -trimpath -ldflags "$ldflags" -o "$1/bin/alertmanager" ./cmd/alertmanager)
}

# A main package from ../shared/thirdparty/src/NAME, whose module the proxy refuses (its
# dependencies are served), built as bin/NAME with its version stamped into VARIABLE.
build_thirdparty_main() { # <out dir> <name> <variable>=<version>
  copy_thirdparty "src/$2" "$1/src"
  (cd "$1/src" && go build -trimpath -ldflags "-s -w -X $3" -o "$1/bin/$2" .)
}

# The proxy refuses its module path (k8s.io/kube-state-metrics/v2).
build_kube_state_metrics() {
  build_thirdparty_main "$1" kube-state-metrics "github.com/prometheus/common/version.Version=${KUBE_STATE_METRICS_VERSION#v}"
}

# The operator and its config reloader, which the chart's Prometheus and Alertmanager pods run beside
# their server. The module replaces its two nested modules with ./pkg/..., which the module zip leaves
# out; their published twins of the same version take their place.
build_prometheus_operator() {
  local module=github.com/prometheus-operator/prometheus-operator m
  copy_module "$module@$PROMETHEUS_OPERATOR_VERSION" "$1/src"
  (cd "$1/src" &&
    for m in pkg/apis/monitoring pkg/client; do
      go mod edit -dropreplace "$module/$m" -require "$module/$m@$PROMETHEUS_OPERATOR_VERSION"
    done &&
    go build -mod=mod -trimpath -ldflags "-s -w -X github.com/prometheus/common/version.Version=${PROMETHEUS_OPERATOR_VERSION#v}" \
      -o "$1/bin/" ./cmd/operator ./cmd/prometheus-config-reloader)
}

# What the chart's admission-webhook hook Jobs run (create the certificate, patch it into the webhooks).
build_kube_webhook_certgen() {
  build_thirdparty_main "$1" kube-webhook-certgen "github.com/jkroepke/kube-webhook-certgen/core.Version=$KUBE_WEBHOOK_CERTGEN_VERSION"
}

build_etcd() {
  local src=$1/src
  # server/v3 replaces its siblings with ../paths; as a dependency those replaces are ignored
  # and the published api/client/pkg modules of the same version are used.
  mkdir -p "$src"
  (cd "$src" && rm -f go.mod go.sum && go mod init local/etcdbuild >/dev/null 2>&1 &&
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" &&
    go build -trimpath -ldflags "-s -w" -o "$1/bin/etcd" go.etcd.io/etcd/server/v3)
}

build_kwok() {
  local kwok
  # KubeVersion sets kwokctl's default, so the cluster asks for the version we built.
  GOBIN=$1/bin go install -trimpath -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v} \
    -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${KUBE_VERSION#v}" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION"
  # kwokctl downloads this file (a release asset) unless given one: simulated node metrics plus
  # per-pod usage read from the kwok.x-k8s.io/usage-* annotations.
  kwok=$(module_dir "sigs.k8s.io/kwok@$KWOK_VERSION")
  mkdir -p "$1/share"
  { cat "$kwok/kustomize/metrics/resource/metrics-resource.yaml"; echo '---'
    cat "$kwok/kustomize/metrics/usage/usage-from-annotation.yaml"; } > "$1/share/kwok-metrics-usage.yaml"
}

# Lints .github/workflows (npm run test:team); runs shellcheck on their run: scripts when on PATH.
build_actionlint() {
  GOBIN=$1/bin go install -trimpath -ldflags "-s -w -X github.com/rhysd/actionlint.version=$ACTIONLINT_VERSION" \
    "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
}

build_metrics_server() {
  local ms
  GOBIN=$1/bin go install -trimpath \
    -ldflags "-s -w -X k8s.io/client-go/pkg/version.gitVersion=$METRICS_SERVER_VERSION" \
    "sigs.k8s.io/metrics-server/cmd/metrics-server@$METRICS_SERVER_VERSION"
  # kwokctl downloads the release's components.yaml unless given one; it runs the binary itself
  # and needs only the RBAC, Service and APIService, so the Deployment is left out.
  # kwokctl builds a local manifest source with `kubectl kustomize`, so this is a kustomization.
  ms=$(module_dir "sigs.k8s.io/metrics-server@$METRICS_SERVER_VERSION")/manifests/base
  mkdir -p "$1/share/metrics-server-manifests"
  cp "$ms/rbac.yaml" "$ms/service.yaml" "$ms/apiservice.yaml" "$1/share/metrics-server-manifests/"
  printf '%s\n' 'apiVersion: kustomize.config.k8s.io/v1beta1' 'kind: Kustomization' \
    'labels:' '- pairs: {k8s-app: metrics-server}' 'resources: [rbac.yaml, service.yaml, apiservice.yaml]' \
    >"$1/share/metrics-server-manifests/kustomization.yaml"
}

# name version builder: builds once per version, logging to build.log and timing into .built.
# Two builds at a time, in this order: kube-node comes late enough to start after kubernetes has
# filled the shared Go build cache with the packages they have in common.
components=(
  "kubernetes $KUBE_VERSION build_kubernetes"
  "etcd $ETCD_VERSION build_etcd"
  "kwok $KWOK_VERSION build_kwok"
  "metrics-server $METRICS_SERVER_VERSION build_metrics_server"
  "pulumi $PULUMI_VERSION build_pulumi"
  "kube-node $KUBE_VERSION build_kube_node"
  "pulumi-kubernetes $PULUMI_KUBERNETES_VERSION build_pulumi_kubernetes"
  "pulumi-language-nodejs $PULUMI_VERSION build_pulumi_language_nodejs"
  "pulumi-docker $PULUMI_DOCKER_VERSION build_pulumi_docker"
  "docker-compose $DOCKER_COMPOSE_VERSION build_docker_compose"
  "coredns $COREDNS_VERSION build_coredns"
  "kube-router $KUBE_ROUTER_VERSION build_kube_router"
  "prometheus $PROMETHEUS_VERSION build_prometheus"
  "alertmanager $ALERTMANAGER_VERSION build_alertmanager"
  "kube-state-metrics $KUBE_STATE_METRICS_VERSION build_kube_state_metrics"
  "prometheus-operator $PROMETHEUS_OPERATOR_VERSION build_prometheus_operator"
  "kube-webhook-certgen $KUBE_WEBHOOK_CERTGEN_VERSION build_kube_webhook_certgen"
  "actionlint $ACTIONLINT_VERSION build_actionlint"
)

build_one() {
  local dir=$tools/$1-$2 start
  rm -rf "$dir"
  mkdir -p "$dir/bin"
  start=$SECONDS
  # The builder runs as its own job: inside an `if` condition, errexit would be off.
  "$3" "$dir" >"$dir/build.log" 2>&1 &
  if ! wait $!; then
    echo "!! $1 $2 failed; last lines of $dir/build.log:" >&2
    tail -n 30 "$dir/build.log" >&2
    return 1
  fi
  rm -rf "$dir/src"
  echo $((SECONDS - start)) >"$dir/.built"
  echo "== built $1 $2 in $((SECONDS - start))s"
}

install_plugin() {
  [ -x "$PULUMI_HOME/plugins/resource-$1-v$2/pulumi-resource-$1" ] && return 0
  .tools/bin/pulumi plugin install resource "$1" "$2" --file "$tools/pulumi-$1-$2/bin/pulumi-resource-$1"
}

# The whole run lives in functions, so bash has read all of this file before doing anything:
# editing it while a long build runs cannot change what that run executes.
build_all() {
  mkdir -p "$tools"
  # CI and developers share the cache on this machine: a second run waits instead of rebuilding
  # into the same directories.
  exec 9>"$tools/.lock"
  flock 9
  # Two cores are shared with the other tests running on this machine: builds yield to them.
  renice -n 10 -p $$ >/dev/null
  local c name version builder p f failed=0 pids=()
  for c in "${components[@]}"; do
    read -r name version builder <<<"$c"
    [ -f "$tools/$name-$version/.built" ] && continue
    echo "== building $name $version"
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
    build_one "$name" "$version" "$builder" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  [ "$failed" = 0 ] || { echo "!! toolchain build failed" >&2; exit 1; }
  flock -u 9

  # Links are rebuilt every run so a version bump never leaves an old binary on PATH.
  rm -rf .tools/bin .tools/docker
  mkdir -p .tools/bin .tools/docker
  ln -s "$tools/docker-compose-$DOCKER_COMPOSE_VERSION/docker/cli-plugins" .tools/docker/
  for c in "${components[@]}"; do
    read -r name version _ <<<"$c"
    for f in "$tools/$name-$version"/bin/* "$tools/$name-$version"/share/*; do
      # Providers reach the CLI only as installed plugins: on PATH they would be used whatever
      # their version, with a warning. The dynamic-provider shim is found next to the real CLI.
      case $(basename "$f") in pulumi-resource-*) continue ;; esac
      [ -e "$f" ] && ln -s "$f" .tools/bin/
    done
  done

  export PULUMI_HOME=$pulumi_home PULUMI_SKIP_UPDATE_CHECK=true
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
  install_plugin kubernetes "$PULUMI_KUBERNETES_VERSION"
  install_plugin docker "$PULUMI_DOCKER_VERSION"
  echo "== tools ready in .tools/bin ($(.tools/bin/pulumi version), kubernetes $KUBE_VERSION)"
}

case "${1:-}" in
  "") build_all ;;
  --status)
    for stamp in "$tools"/*/.built; do
      if [ -e "$stamp" ]; then echo "$(basename "$(dirname "$stamp")") built in $(cat "$stamp")s"; fi
    done ;;
  pulumi-home) echo "$pulumi_home" ;;
  *) echo "usage: $0 [--status|pulumi-home]" >&2; exit 2 ;;
esac
