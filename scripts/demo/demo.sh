#!/usr/bin/env bash
# The demo on this machine, with no cloud account and no existing cluster: the local cluster
# with a real node, `pulumi up` of the `local` stack (state in .demo/, a local folder) with
# kube-prometheus-stack (minus Grafana, whose image cannot be built here), the stress test with live
# progress and its report, then the app's, Prometheus's and Alertmanager's URLs, left running.
#   npm run demo              set up (or reuse) everything and run the stress test
#   npm run demo -- --down    destroy the stack and remove the cluster
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
source scripts/cluster/addresses.env
scripts/setup/install-node.sh

stack=local
namespace=hitcounter-local

source scripts/cluster/local-stack.sh
state_dir=$PWD/.demo/state

# What the real node needs, checked before anything is built or started.
preflight() {
  scripts/cluster/real-node.sh preflight
  local port owner
  for port in "${REGISTRY_ADDR##*:}" "${CHART_REPOSITORY_ADDR##*:}" 10250; do
    # A free port prints nothing, and grep's status must not end the script.
    owner=$(ss -Hltnp "sport = :$port" | { grep -o 'users:(("[^"]*"' || true; } | cut -d'"' -f2 | head -n 1)
    case $owner in
      "" | docker-registry | busybox | kubelet) ;;
      *) local_stack_fail "port $port is taken by $owner: stop the other cluster or registry first" ;;
    esac
  done
}

up() {
  preflight
  echo "== toolchain (built once into $HITCOUNTER_CACHE; about 30 min the first time)"
  scripts/toolchain/tools.sh
  echo "== local cluster with a real node"
  scripts/cluster/cluster.sh up --real
  local_stack_env
  echo "== pulumi up (stack $stack, state in $state_dir)"
  local_stack_configure
  local_stack_monitoring
  pulumi_ config set scaleDownStabilizationSeconds 60
  pulumi_ up --yes
  local url report
  url=$(local_stack_url)
  report=reports/demo-$(date -u +%Y%m%dT%H%M%SZ)
  echo "== npm run stress against $url"
  npm run --silent stress -- --url "$url" --kubeconfig "$KUBECONFIG" --namespace "$namespace" --hpa hit-counter --out "$report"
  # The stress summary above ends with the report's path.
  echo
  echo "app:          $url (left running; \`npm run demo -- --down\` removes it all)"
  # The pods' addresses on the node's bridge, which this host routes to. Alertmanager is built without
  # its web UI (its built assets are not in the Go module): its API answers.
  # The stack's release is <namespace>-kps, in <namespace>-monitoring (components/config.ts).
  echo "prometheus:   http://$(pod_ip "$namespace-monitoring" "prometheus-$namespace-kps-prometheus-0"):9090/ (try the query http_requests_total)"
  echo "alertmanager: http://$(pod_ip "$namespace-monitoring" "alertmanager-$namespace-kps-alertmanager-0"):9093/api/v2/alerts (API only)"
  echo "kubectl:      KUBECONFIG=$KUBECONFIG kubectl -n $namespace get hpa,pods"
}

pod_ip() {
  kubectl -n "$1" get pod "$2" -o jsonpath='{.status.podIP}'
}

down() {
  local_stack_env
  local_stack_remove
  scripts/cluster/cluster.sh down
  rm -rf .demo
}

case "${1:-}" in
  "") up ;;
  --down) down ;;
  *) echo "usage: npm run demo [-- --down]" >&2; exit 2 ;;
esac
