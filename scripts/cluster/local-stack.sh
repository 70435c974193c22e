# shellcheck shell=bash
# Sourced by scripts/demo/demo.sh (functions only): a Pulumi stack of this
# project on the local cluster (scripts/cluster/cluster.sh up --real), with its state in a local folder.
# The caller sets `stack`, `namespace` and `state_dir`.

local_stack_fail() { echo "$(basename "$0"): $*" >&2; exit 1; }

# The offline toolchain's language host is found on PATH, which the CLI warns about on every command.
# shellcheck disable=SC2016 # the CLI's message names $PATH literally
pulumi_() { pulumi --stack "${stack:?local-stack.sh: the caller sets stack}" --non-interactive "$@" 2> >(grep -v 'using pulumi-language-nodejs from \$PATH' >&2); }

# The CLI and plugins scripts/toolchain/tools.sh built, a file backend, the local cluster's kubeconfig.
local_stack_env() {
  : "${stack:?local-stack.sh: the caller sets stack}" "${namespace:?local-stack.sh: the caller sets namespace}"
  mkdir -p "${state_dir:?local-stack.sh: the caller sets state_dir}"
  PULUMI_HOME=$(scripts/toolchain/tools.sh pulumi-home)
  export PULUMI_HOME PULUMI_BACKEND_URL="file://$state_dir" PULUMI_SKIP_UPDATE_CHECK=true
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE:-local-demo}
  export PATH=$PWD/.tools/bin:$PATH
  eval "$(scripts/cluster/cluster.sh env)"
}

local_stack_require_real_node() {
  kubectl get node hitcounter-node >/dev/null 2>&1 || local_stack_fail "no real node in the local cluster: run \`npm run cluster:up -- --real\` first"
}

# The settings for this machine: the local cluster's kubeconfig context, the loopback registry, the offline base image (and the CA npm needs
# behind an egress proxy), Redis from Debian by digest, a NodePort on 127.0.0.1, monitoring off
# (local_stack_monitoring turns it on).
local_stack_configure() {
  local images redis ca
  images=$(scripts/images/base-images.sh)
  redis=$(sed -n 's/^REDIS_IMAGE=//p' <<<"$images")
  docker tag "$redis" "$REGISTRY/redis:bookworm"
  docker push -q "$REGISTRY/redis:bookworm" >/dev/null
  pulumi stack select --create "$stack" --non-interactive >/dev/null
  pulumi_ config set kubeContext "$(kubectl config current-context)"
  pulumi_ config set namespace "$namespace"
  pulumi_ config set registryServer "$REGISTRY"
  pulumi_ config set serviceType NodePort
  pulumi_ config set monitoringEnabled false
  pulumi_ config set redisImage "$(docker image inspect --format '{{join .RepoDigests "\n"}}' "$REGISTRY/redis:bookworm" | grep -m1 "^$REGISTRY/")"
  pulumi_ config set --path 'imageBuildArgs[0]' "$(grep '^NODE_IMAGE=' <<<"$images")"
  ca=$(scripts/images/extra-ca-certs.sh)
  if [ -n "$ca" ]; then pulumi_ config set --path 'imageBuildArgs[1]' "NPM_CA_PEM=$ca"; fi
}

# kube-prometheus-stack from the loopback chart repository, its images from the loopback registry
# (scripts/images/monitoring-images.sh pushed them there, under the chart's own paths), and what this cluster
# needs: no Grafana (its image cannot be built offline); no control-plane scrapes (kube-controller-manager,
# the scheduler, etcd and kube-proxy run as host processes, as hidden as on a managed control plane);
# the certgen built here (the chart asks for 1.8.7); only the real node's kubelet scraped (the kwok nodes
# are fakes).
local_stack_monitoring() {
  pulumi_ config set monitoringEnabled true
  pulumi_ config set chartRepository "$CHART_REPOSITORY"
  pulumi_ config set monitoringImageRegistry "$REGISTRY"
  pulumi_ config set grafanaEnabled false
  pulumi_ config set monitoringControlPlane false
  pulumi_ config set --path monitoringChartValues.prometheusOperator.admissionWebhooks.patch.image.tag "${KUBE_WEBHOOK_CERTGEN_VERSION#v}"
  pulumi_ config set --path monitoringChartValues.prometheusOperator.kubeletService.selector 'type!=kwok'
}

# http://127.0.0.1:<nodePort>/ of the stack's Service: kube-proxy serves NodePorts on loopback only.
local_stack_url() {
  echo "http://127.0.0.1:$(kubectl -n "$namespace" get service hit-counter -o jsonpath='{.spec.ports[0].nodePort}')/"
}

local_stack_remove() {
  if [ ! -d "$state_dir" ] || [ ! -x .tools/bin/pulumi ]; then return 0; fi
  pulumi_ destroy --yes >/dev/null || true
  pulumi_ stack rm --yes || true
  rm -rf "$state_dir" "Pulumi.$stack.yaml"
}
