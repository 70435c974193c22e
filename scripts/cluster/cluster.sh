#!/usr/bin/env bash
# A throwaway Kubernetes on loopback for the end-to-end suite: a kwok control plane run as local
# processes (fake nodes; pod CPU/memory simulated from pod annotations and served by metrics-server),
# an image registry holding the images kube-prometheus-stack runs (scripts/images/monitoring-images.sh), and a
# Helm chart repository serving the vendored kube-prometheus-stack.
# Everything runs from the binaries scripts/toolchain/tools.sh built: nothing is downloaded, and the cluster
# has its own kubeconfig (~/.kube/config is never read or written).
#   scripts/cluster/cluster.sh up       start (or repair after a crash); idempotent
#   scripts/cluster/cluster.sh up --real  also a real node that runs pods (scripts/cluster/real-node.sh)
#   scripts/cluster/cluster.sh down     stop every process it started and remove the cluster's state
#   scripts/cluster/cluster.sh status   what is running
#   scripts/cluster/cluster.sh env      `export` lines for KUBECONFIG, REGISTRY (host:port) and CHART_REPOSITORY (URL)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
source scripts/cluster/addresses.env

state=${HITCOUNTER_CLUSTER_DIR:-$HITCOUNTER_CACHE/cluster}
name=hitcounter
nodes=2
kubeconfig=$state/kubeconfig
registry_dir=$state/registry
registry_pid=$state/registry.pid
private_registry_dir=$state/private-registry
private_registry_pid=$state/private-registry.pid
fake_node_annotation=kwok.x-k8s.io/node=fake
chart_source=$PWD/../shared/thirdparty/charts/kube-prometheus-stack
chart_previous_source=$PWD/../shared/thirdparty/charts/kube-prometheus-stack-87.21.0
chart_repo_dir=$state/chart-repository
chart_repo_pid=$state/chart-repository.pid
# kwokctl keeps its clusters here instead of ~/.kwok; it must never pick the docker runtime,
# which pulls images, even though a Docker engine runs on this machine.
export KWOK_WORKDIR=$state/kwok KWOK_RUNTIME=binary KWOK_KUBE_VERSION=$KUBE_VERSION
cluster_dir=$KWOK_WORKDIR/clusters/$name
# kwokctl runs `kubectl kustomize` from PATH whatever kubectlBinary says.
export PATH=$PWD/.tools/bin:$PATH

source scripts/cluster/cluster-lib.sh

# serve WHAT PIDFILE MATCH URL LOG COMMAND...: starts COMMAND in the background and waits until URL
# answers from it (its command line containing MATCH).
serve() {
  local what=$1 pidfile=$2 match=$3 url=$4 log=$5
  shift 5
  nohup "$@" >"$log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 50); do
    # Exited: give up. (Not `alive`: until the child has exec'd, its command line is still this script's.)
    kill -0 "$(cat "$pidfile")" 2>/dev/null || break
    # Alive as well as answering: another server already on the port must not pass for ours.
    curl -fsS "$url" >/dev/null 2>&1 && alive "$pidfile" "$match" && return 0
    sleep 0.2
  done
  echo "$what did not start; see $log" >&2
  tail -n 20 "$log" >&2
  exit 1
}

registry_up() {
  alive "$registry_pid" docker-registry && return 0
  mkdir -p "$registry_dir/storage"
  cat >"$registry_dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $registry_dir/storage
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
EOF
  serve registry "$registry_pid" docker-registry "http://$REGISTRY_ADDR/v2/" "$registry_dir/registry.log" \
    docker-registry serve "$registry_dir/config.yml"
}

# A second registry that answers 401 without a login, as a cloud's private registry does. Its password
# is made on first start and kept beside it (`cluster.sh env` names the file).
private_registry_up() {
  alive "$private_registry_pid" docker-registry && return 0
  mkdir -p "$private_registry_dir/storage"
  [ -s "$private_registry_dir/password" ] || head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$private_registry_dir/password"
  htpasswd -Bbn "$PRIVATE_REGISTRY_USER" "$(cat "$private_registry_dir/password")" >"$private_registry_dir/htpasswd"
  cat >"$private_registry_dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $private_registry_dir/storage
http:
  addr: $PRIVATE_REGISTRY_ADDR
auth:
  htpasswd:
    realm: hitcounter-private
    path: $private_registry_dir/htpasswd
EOF
  serve "private registry" "$private_registry_pid" docker-registry "http://$PRIVATE_REGISTRY_USER:$(cat "$private_registry_dir/password")@$PRIVATE_REGISTRY_ADDR/v2/" \
    "$private_registry_dir/registry.log" docker-registry serve "$private_registry_dir/config.yml"
}

# A chart repository as Helm defines one: index.yaml listing each chart version with its metadata,
# the URL of its package (relative to the repository) and the package's sha256 digest. The package
# is the chart directory as `helm package` lays it out (one top-level directory named after the
# chart, .helmignore'd files left out).
package_chart() {
  local source=$1 name version package
  [ -f "$source/Chart.yaml" ] || { echo "missing $source: the vendored chart (../shared/thirdparty)" >&2; exit 1; }
  name=$(sed -n 's/^name: *//p' "$source/Chart.yaml")
  version=$(sed -n 's/^version: *//p' "$source/Chart.yaml")
  package=$name-$version.tgz
  grep -v -e '^#' -e '^$' "$source/.helmignore" | sed 's#/$##' >"$state/chart.helmignore"
  tar -czf "$chart_repo_dir/$package" -C "$(dirname "$source")" --owner=0 --group=0 --mode=u+w \
    --exclude-from="$state/chart.helmignore" --transform "s#^$(basename "$source")#$name#" "$(basename "$source")"
  # The entry is the chart's own metadata plus urls, digest and created, as `helm repo index` writes it.
  sed -e '1s/^/  - /' -e '2,$s/^/    /' "$source/Chart.yaml"
  echo "    urls: [$package]"
  echo "    digest: $(sha256sum "$chart_repo_dir/$package" | cut -d' ' -f1)"
  echo "    created: \"$(date -u -r "$source/Chart.yaml" +%Y-%m-%dT%H:%M:%SZ)\""
}

# The pinned chart, and the last release of the previous major for upgrade tests, newest first.
package_charts() {
  rm -rf "$chart_repo_dir" && mkdir -p "$chart_repo_dir"
  {
    echo "apiVersion: v1"
    echo "entries:"
    echo "  kube-prometheus-stack:"
    package_chart "$chart_source"
    package_chart "$chart_previous_source"
    echo "generated: \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\""
  } >"$chart_repo_dir/index.yaml"
}

chart_repository_up() {
  alive "$chart_repo_pid" "busybox httpd" && return 0
  package_charts
  serve "chart repository" "$chart_repo_pid" "busybox httpd" "http://$CHART_REPOSITORY_ADDR/index.yaml" \
    "$state/chart-repository.log" busybox httpd -f -p "$CHART_REPOSITORY_ADDR" -h "$chart_repo_dir"
}

cluster_healthy() {
  [ -f "$kubeconfig" ] && kubectl_ get --raw /readyz --request-timeout=5s >/dev/null 2>&1
}

# kwokctl starts each component in the background and writes its pid under pids/.
component_pids() {
  awk 1 "$cluster_dir"/pids/*.pid 2>/dev/null || true
}

cluster_down() {
  # A real node holds credentials from this control plane's CA: it goes first.
  scripts/cluster/real-node.sh down
  if [ -d "$cluster_dir" ]; then
    "$(tool kwokctl)" delete cluster --name "$name" --kubeconfig "$kubeconfig" >/dev/null 2>&1 || true
  fi
  # Whatever a crashed kwokctl left behind, by the pids it recorded.
  local pid
  for pid in $(component_pids); do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$cluster_dir" "$kubeconfig"
}

# kwokctl's defaults download the kubectl and metrics-server manifest and bind every component
# to 0.0.0.0: this configuration names local files and keeps everything on loopback. The simulated
# node metrics and annotation-driven pod usage (kwok-metrics-usage.yaml) ride along in it.
# kwok-controller manages only the nodes annotated as its own fakes (add_nodes): by default it takes
# over every node, a real kubelet's included.
write_config() {
  cat >"$state/kwokctl.yaml" <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  bindAddress: 127.0.0.1
  kubeApiserverCertSANs: [${SERVICE_CIDR%.0/*}.1, $NODE_IP]
  kubectlBinary: $(tool kubectl)
  metricsServerManifests:
  - $(tool metrics-server-manifests)
componentsPatches:
# The apiserver reaches a kubelet as the admin (for logs and exec), at its InternalIP only: never by a
# node name resolved off the machine. Pods reach the apiserver at the real node's address (relayed to
# loopback by real-node.sh), through the kubernetes Service, whose IP its certificate must name.
- name: kube-apiserver
  extraArgs:
  - {key: advertise-address, value: $NODE_IP}
  - {key: service-cluster-ip-range, value: $SERVICE_CIDR}
  - {key: kubelet-client-certificate, value: $cluster_dir/pki/admin.crt}
  - {key: kubelet-client-key, value: $cluster_dir/pki/admin.key}
  - {key: kubelet-preferred-address-types, value: InternalIP}
- name: kube-controller-manager
  extraArgs:
  - {key: service-cluster-ip-range, value: $SERVICE_CIDR}
- name: kwok-controller
  extraArgs:
  - {key: manage-all-nodes, value: "false", override: true}
  - {key: manage-nodes-with-annotation-selector, value: $fake_node_annotation}
---
EOF
  cat "$(tool kwok-metrics-usage.yaml)" >>"$state/kwokctl.yaml"
}

# Fake nodes, as `kwokctl scale node` makes them but with InternalIP 127.0.0.1 (its template uses
# 192.0.2.x): metrics-server scrapes each node's InternalIP, and kwok answers for every node there.
add_nodes() {
  local i
  for i in $(seq "$nodes"); do
    cat <<EOF
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    ${fake_node_annotation%%=*}: ${fake_node_annotation#*=}
    node.alpha.kubernetes.io/ttl: "0"
    metrics.k8s.io/resource-metrics-path: /metrics/nodes/kwok-node-$i/metrics/resource
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/os: linux
    kubernetes.io/hostname: kwok-node-$i
    type: kwok
spec:
  podCIDR: 10.0.$i.0/24
  podCIDRs: [10.0.$i.0/24]
status:
  addresses:
  - {type: InternalIP, address: 127.0.0.1}
  - {type: Hostname, address: kwok-node-$i}
  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
  nodeInfo: {architecture: amd64, operatingSystem: linux}
---
EOF
  done | kubectl_ apply -f - >/dev/null
}

cluster_up() {
  write_config
  "$(tool kwokctl)" create cluster --name "$name" --kubeconfig "$kubeconfig" --wait 3m \
    --kube-authorization --kube-admission \
    --etcd-binary "$(tool etcd)" \
    --kube-apiserver-binary "$(tool kube-apiserver)" \
    --kube-controller-manager-binary "$(tool kube-controller-manager)" \
    --kube-scheduler-binary "$(tool kube-scheduler)" \
    --kwok-controller-binary "$(tool kwok)" \
    --enable metrics-server --metrics-server-binary "$(tool metrics-server)" \
    --config "$state/kwokctl.yaml"
  add_nodes
  kubectl_ wait --for=condition=Ready node --all --timeout=120s >/dev/null
}

# An HPA reads nothing until the metrics API answers (through the apiserver, from metrics-server).
# kwokctl starts every component at once and restarts none: on a busy machine metrics-server can
# start before the apiserver listens, fail to read its request-header CA and exit, and a crashed one
# stays down. `kwokctl start cluster` starts whichever component is not running, so, the apiserver
# answering by now, it runs until the metrics API does.
wait_for_metrics_api() {
  local deadline=$((SECONDS + 180))
  until kubectl_ get --raw /apis/metrics.k8s.io/v1beta1/nodes --request-timeout=10s >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "the metrics API (metrics-server) does not answer after 180 s; its log: $cluster_dir/logs/metrics-server.log" >&2
      return 1
    fi
    "$(tool kwokctl)" start cluster --name "$name" >/dev/null 2>&1 || true
    sleep 5
  done
}

up() {
  local real=${1:-}
  [ -z "$real" ] || [ "$real" = --real ] || { echo "usage: $0 up [--real]" >&2; exit 2; }
  mkdir -p "$state"
  if [ -x scripts/setup/dockerd.sh ]; then scripts/setup/dockerd.sh; fi
  registry_up
  private_registry_up
  chart_repository_up
  # The images kube-prometheus-stack runs, under its own repository paths (list: monitoring-images.sh list).
  scripts/images/monitoring-images.sh >/dev/null
  if cluster_healthy; then
    echo "cluster $name already up"
  else
    # A half-started or crashed cluster is replaced, never patched.
    cluster_down
    cluster_up
  fi
  wait_for_metrics_api
  [ -z "$real" ] || scripts/cluster/real-node.sh up
  status
}

down() {
  cluster_down
  stop_pid_file "$registry_pid" docker-registry
  stop_pid_file "$private_registry_pid" docker-registry
  stop_pid_file "$chart_repo_pid" "busybox httpd"
  rm -rf "$registry_dir" "$private_registry_dir" "$chart_repo_dir"
  echo "cluster $name down"
}

status() {
  local pid cmd
  echo "kubeconfig: $kubeconfig"
  if cluster_healthy; then
    echo "apiserver:  ready ($(kubectl_ version -o json 2>/dev/null | sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | tail -n 1))"
    kubectl_ get nodes --no-headers 2>/dev/null | sed 's/^/node:       /'
  else
    echo "apiserver:  not running"
  fi
  # A killed process whose parent is gone can linger as a zombie (empty cmdline): not running.
  for pid in $(component_pids); do
    cmd=$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | cut -c1-90) || true
    [ -n "$cmd" ] && echo "process:    $pid $cmd"
  done
  if alive "$registry_pid" docker-registry; then
    echo "registry:   $REGISTRY_ADDR (pid $(cat "$registry_pid"))"
  else
    echo "registry:   not running"
  fi
  if alive "$private_registry_pid" docker-registry; then
    echo "private:    $PRIVATE_REGISTRY_ADDR, user $PRIVATE_REGISTRY_USER (pid $(cat "$private_registry_pid"))"
  else
    echo "private:    not running"
  fi
  if alive "$chart_repo_pid" "busybox httpd"; then
    echo "charts:     http://$CHART_REPOSITORY_ADDR (pid $(cat "$chart_repo_pid"))"
  else
    echo "charts:     not running"
  fi
  scripts/cluster/real-node.sh status || true
}

case "${1:-}" in
  up) up "${2:-}" ;;
  down) down ;;
  status) status ;;
  env) printf 'export KUBECONFIG=%q\nexport REGISTRY=%q\nexport CHART_REPOSITORY=%q\nexport PRIVATE_REGISTRY=%q\nexport PRIVATE_REGISTRY_USER=%q\nexport PRIVATE_REGISTRY_PASSWORD_FILE=%q\n' \
    "$kubeconfig" "$REGISTRY_ADDR" "http://$CHART_REPOSITORY_ADDR" "$PRIVATE_REGISTRY_ADDR" "$PRIVATE_REGISTRY_USER" "$private_registry_dir/password" ;;
  *) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
esac
