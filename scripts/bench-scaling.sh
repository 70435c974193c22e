#!/usr/bin/env bash
# The scaling curve on this machine: aggregate ok req/s and p99 latency of the dev stack's pod size
# (100m request, 200m limit) with 1, 2, 4 and 8 Ready pods on the local cluster's real node, load from
# `npm run stress` on the same machine. Prints the median (and range) of RUNS runs per size, and the
# ratio to 1 pod. Needs `npm run cluster:up -- --real`; deploys and removes a stack of its own.
#   npm run bench:scaling [-- SIZES]     default SIZES "1 2 4 8"; RUNS=3 SECONDS_PER_RUN=20 CONNECTIONS=64
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup/install-node.sh
source scripts/cluster/local-stack.sh

stack=scaling
namespace=hitcounter-scaling
state_dir=$HITCOUNTER_CACHE/bench-scaling-state
sizes=${1:-1 2 4 8}
runs=${RUNS:-3}
seconds=${SECONDS_PER_RUN:-20}
connections=${CONNECTIONS:-64}

local_stack_env
local_stack_require_real_node
out=$(mktemp -d)
trap 'local_stack_remove; rm -rf "$out"' EXIT
local_stack_configure >/dev/null
# Fixed replicas: both HPA targets 0 remove the HPA.
pulumi_ config set cpuTargetUtilization 0
pulumi_ config set memoryTargetUtilization 0

printf '%-5s  %-22s  %-20s  %s\n' pods "ok req/s median (range)" "p99 ms median (range)" "vs 1 pod"
base=
for n in $sizes; do
  pulumi_ config set minReplicas "$n"
  pulumi_ up --yes >"$out/up-$n.log"
  kubectl -n "$namespace" rollout status deployment/hit-counter --timeout=300s >/dev/null
  url=$(local_stack_url)
  for r in $(seq "$runs"); do
    # A short warm-up in its own stage; the figures are the `load` stage's.
    npm run --silent stress -- --url "$url" --stages "warm:3s:8,load:${seconds}s:$connections" --reconnect 10s \
      --out "$out/$n-$r" >/dev/null 2>&1
  done
  # Medians and ranges over the runs, from each run's series.json.
  # shellcheck disable=SC2016 # a JavaScript template literal, not a shell expansion
  read -r ok okr p99 p99r < <(node -e '
    const [dir, n, runs] = process.argv.slice(1);
    const stages = Array.from({ length: +runs }, (_, i) => require(`${dir}/${n}-${i + 1}/series.json`).result.stages.find((s) => s.stage === "load"));
    const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
    const ok = stages.map((s) => s.okPerSecond), p99 = stages.map((s) => s.p99);
    console.log(Math.round(median(ok)), `${Math.round(Math.min(...ok))}-${Math.round(Math.max(...ok))}`, median(p99), `${Math.min(...p99)}-${Math.max(...p99)}`);
  ' "$out" "$n" "$runs")
  base=${base:-$ok}
  printf '%-5s  %-22s  %-20s  %s\n' "$n" "$ok ($okr)" "$p99 ($p99r)" "$(node -e "console.log((${ok}/${base}).toFixed(2) + 'x')")"
done
