#!/usr/bin/env bash
# A real node for the local cluster (scripts/cluster/cluster.sh up --real): a kubelet and kube-proxy joined to
# the kwok control plane, running pods for real with a containerd instance of their own, Debian's runc
# and CNI bridge, kube-router's firewall enforcing NetworkPolicies, CoreDNS as the cluster's DNS, and
# images only from the loopback registry.
# Called by cluster.sh, which has the control plane up first; everything it changes on the host is
# listed under "Host changes" and undone by `down` (scripts/cluster/real-node-teardown.sh). Its
# configuration files are the templates in scripts/cluster/real-node/, filled in by `render`.
#   scripts/cluster/real-node.sh up | down | status
#   scripts/cluster/real-node.sh preflight   says what this machine lacks for a node (root, cgroup v1, packages)
#   scripts/cluster/real-node.sh leftovers   lists anything a real node left on the host; exits 1 if there is any
#
# Addresses (scripts/cluster/addresses.env): pods in POD_CIDR on the bridge hc-cni0 (host-local IPAM, no
# masquerade, no route off the machine), whose gateway NODE_IP is the node's address: the kubelet
# listens there, and a relay there forwards to the loopback apiserver for pods. Services in SERVICE_CIDR,
# cluster DNS at CLUSTER_DNS_IP, NodePorts on 127.0.0.1 only.
#
# Host changes (each undone by `down`): the sysctls the kubelet and kube-proxy set, saved first;
# iptables chains named KUBE-*, CNI-* and HITCOUNTER-*; ipsets named KUBE-*; the bridge; cgroups under kubepods; fixed paths
# the kubelet creates whatever its root dir (/var/lib/kubelet, /var/log/{pods,containers},
# /run/netns), removed when they did not exist before.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
source scripts/cluster/addresses.env

state=${HITCOUNTER_CLUSTER_DIR:-$HITCOUNTER_CACHE/cluster}
real=$state/real
kubeconfig=$state/kubeconfig
pki=$state/kwok/clusters/hitcounter/pki
node=hitcounter-node
bridge=hc-cni0
registry=$REGISTRY_ADDR
pause_image=$registry/pause:$KUBE_VERSION
coredns_image=$registry/coredns:$COREDNS_VERSION
kubelet_root=$real/kubelet
sock=$real/containerd/containerd.sock
# The kubelet sets the first three, kube-proxy the last (for NodePorts on 127.0.0.1).
sysctls=(vm.overcommit_memory kernel.panic kernel.panic_on_oops net.ipv4.conf.all.route_localnet)
fixed_paths=(/var/lib/kubelet /var/log/pods /var/log/containers /run/netns /run/containerd)
fake_taint=kwok.x-k8s.io/node=fake:NoSchedule
# Released volumes are not reused (Retain): the demo's Redis takes one, the failover suite's three more.
local_volume_count=8
# The node's configuration files, rendered by `render`.
templates=scripts/cluster/real-node

source scripts/cluster/cluster-lib.sh
# `down` and `leftovers`: taking the node apart, and the audit of what it could leave behind.
source scripts/cluster/real-node-teardown.sh

# The machine must be able to run a node at all; say what is missing instead of failing halfway.
preflight() {
  local missing=() b
  [ "$(id -u)" = 0 ] || { echo "the real node needs root (it runs containerd, a kubelet and iptables)" >&2; exit 1; }
  if [ ! -d /sys/fs/cgroup/memory ] || [ ! -d /sys/fs/cgroup/cpu ]; then
    echo "the real node needs cgroup v1 memory and cpu controllers at /sys/fs/cgroup (found: $(cd /sys/fs/cgroup && echo *))" >&2
    exit 1
  fi
  for b in containerd runc iptables ipset unshare nsenter openssl docker socat; do command -v "$b" >/dev/null || missing+=("$b"); done
  for b in bridge host-local loopback portmap; do [ -x "/usr/lib/cni/$b" ] || missing+=("/usr/lib/cni/$b"); done
  [ ${#missing[@]} = 0 ] || { echo "missing for the real node: ${missing[*]} (scripts/setup/install-system-deps.sh)" >&2; exit 1; }
  if ss -Hltn 'sport = :10250' | grep -q . && ! alive "$real/kubelet.pid" kubelet; then
    echo "port 10250 is taken by another kubelet or program: the real node cannot start" >&2; exit 1
  fi
}

start() {
  local name=$1
  shift
  nohup "$@" >"$real/$name.log" 2>&1 &
  echo $! >"$real/$name.pid"
}

# stop NAME MATCH: the node process NAME by its pid file (scripts/cluster/cluster-lib.sh).
stop() { stop_pid_file "$real/$1.pid" "$2"; }

wait_for() {
  local what=$1 log=$2
  shift 2
  for _ in $(seq 150); do "$@" >/dev/null 2>&1 && return 0; sleep 0.4; done
  echo "$what did not come up; last lines of $log:" >&2
  tail -n 30 "$log" >&2
  exit 1
}

# render TEMPLATE NAME=VALUE...: the file TEMPLATE of scripts/cluster/real-node/ with every @NAME@ in it
# replaced by VALUE. A placeholder left over fails, so a template and its caller cannot drift apart.
render() {
  local template=$templates/$1 text pair
  shift
  # The trailing "." keeps the file's last newline, which $(...) would strip.
  text=$(cat "$template" && echo .) || exit 1
  text=${text%.}
  # Quoted, the replacement is taken literally (an & in it is not the match).
  for pair in "$@"; do text=${text//"@${pair%%=*}@"/"${pair#*=}"}; done
  if [[ $text =~ @[A-Z_]+@ ]]; then echo "$template: ${BASH_REMATCH[0]} is not filled in" >&2; exit 1; fi
  printf '%s' "$text"
}

# The node's address: the bridge's gateway, made before the kubelet, which checks that its node IP is local.
make_bridge() {
  ip link show "$bridge" >/dev/null 2>&1 || ip link add "$bridge" type bridge
  ip addr show dev "$bridge" | grep -q "inet $NODE_IP/" || ip addr add "$NODE_IP/${POD_CIDR#*/}" dev "$bridge"
  ip link set "$bridge" up
}

# The apiserver listens on loopback only; pods reach it through the kubernetes Service, whose endpoint
# is NODE_IP at the apiserver's port (its advertise address): this relays that to loopback, TLS untouched.
start_apiserver_relay() {
  local port
  alive "$real/apiserver-relay.pid" socat && return 0
  port=$(apiserver_url | sed 's#.*:##')
  start apiserver-relay socat "TCP-LISTEN:$port,bind=$NODE_IP,reuseaddr,fork" "TCP:127.0.0.1:$port"
}

apiserver_url() { kubectl_ config view --minify -o jsonpath='{.clusters[0].cluster.server}'; }

# A client certificate from the cluster's CA: CN and O are the Kubernetes user and group.
issue_cert() {
  local name=$1 subject=$2 ext=${3:-}
  openssl req -new -newkey rsa:2048 -nodes -keyout "$real/pki/$name.key" -subj "$subject" -out "$real/pki/$name.csr" 2>/dev/null
  openssl x509 -req -in "$real/pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 30 \
    -out "$real/pki/$name.crt" ${ext:+-extfile <(printf '%s\n' "$ext")} 2>/dev/null
  rm -f "$real/pki/$name.csr"
}

# A kubeconfig for USER of the local cluster, its CA and the user's client certificate embedded.
write_kubeconfig() {
  local server ca cert key
  server=$(apiserver_url)
  ca=$(base64 -w0 "$pki/ca.crt")
  cert=$(base64 -w0 "$real/pki/$1.crt")
  key=$(base64 -w0 "$real/pki/$1.key")
  # A private key inside: readable by its owner only, as kubectl writes a kubeconfig.
  (umask 077 && render kubeconfig.yaml SERVER="$server" CA_DATA="$ca" USER="$1" CERT_DATA="$cert" KEY_DATA="$key" >"$real/$1.kubeconfig")
}

save_host_state() {
  [ -f "$state/real-host-state" ] && return 0
  local s p
  { for s in "${sysctls[@]}"; do echo "sysctl $s $(sysctl -n "$s")"; done
    for p in "${fixed_paths[@]}"; do [ -e "$p" ] || echo "created $p"; done; } >"$state/real-host-state"
}

write_containerd_config() {
  local host
  mkdir -p "$real/run"
  # Plain HTTP to the loopback registries, and nowhere else; the private one takes the login a pod's
  # imagePullSecrets hand to the kubelet.
  for host in "$registry" "$PRIVATE_REGISTRY_ADDR"; do
    mkdir -p "$real/containerd/certs.d/$host"
    render registry-hosts.toml HOST="$host" >"$real/containerd/certs.d/$host/hosts.toml"
  done
  render containerd.toml NODE_DIR="$real" SOCKET="$sock" PAUSE_IMAGE="$pause_image" >"$real/containerd/config.toml"
  mkdir -p "$real/cni"
  render cni.conflist BRIDGE="$bridge" POD_CIDR="$POD_CIDR" SERVICE_CIDR="$SERVICE_CIDR" NODE_DIR="$real" \
    >"$real/cni/10-hitcounter.conflist"
}

# containerd 1.6 puts every shim socket in /run/containerd/s, Docker's containerd's directory too: this
# instance runs in a mount namespace of its own where that path is a private directory. Mounts the
# kubelet makes under its root (volumes) reach it through the rshared bind mount made first.
start_containerd() {
  alive "$real/containerd.pid" "containerd --config" && return 0
  mkdir -p "$kubelet_root" /run/containerd
  mountpoint -q "$kubelet_root" || mount --bind "$kubelet_root" "$kubelet_root"
  mount --make-rshared "$kubelet_root"
  # shellcheck disable=SC2016 # $1 and $2 are the inner shell's arguments
  start containerd unshare --mount --propagation slave -- \
    sh -c 'mount --bind "$1" /run/containerd && exec containerd --config "$2"' sh "$real/run" "$real/containerd/config.toml"
  wait_for containerd "$real/containerd.log" ctr_ version
}

ctr_() { ctr --address "$sock" "$@"; }

# The pause process and CoreDNS, each a static binary alone in an image, pushed to the loopback registry.
push_images() {
  local dir
  dir=$(mktemp -d)
  cp "$(tool pause)" "$(tool coredns)" "$dir/"
  cp "$templates/pause.Dockerfile" "$dir/Dockerfile.pause"
  cp "$templates/coredns.Dockerfile" "$dir/Dockerfile.coredns"
  quietly docker build -q -f "$dir/Dockerfile.pause" -t "$pause_image" "$dir"
  quietly docker build -q -f "$dir/Dockerfile.coredns" -t "$coredns_image" "$dir"
  quietly docker push -q "$pause_image"
  quietly docker push -q "$coredns_image"
  rm -rf "$dir"
}

write_kubelet_config() {
  render kubelet.yaml NODE_IP="$NODE_IP" NODE_DIR="$real" CLIENT_CA_FILE="$pki/ca.crt" SOCKET="$sock" \
    CLUSTER_DNS_IP="$CLUSTER_DNS_IP" >"$real/kubelet.yaml"
}

start_kubelet() {
  alive "$real/kubelet.pid" "kubelet --config" && return 0
  [ -f "$real/pki/kubelet.crt" ] || {
    issue_cert kubelet "/O=system:nodes/CN=system:node:$node"
    issue_cert kubelet-serving "/CN=$node" "subjectAltName=IP:$NODE_IP"
    issue_cert kube-proxy "/CN=system:kube-proxy"
  }
  write_kubeconfig kubelet
  write_kubeconfig kube-proxy
  write_kubelet_config
  # --containerd: cAdvisor, inside the kubelet, asks containerd which container a cgroup belongs to
  # and labels its series with it (container, image); it looks at the default socket unless told.
  start kubelet "$(tool kubelet)" --config "$real/kubelet.yaml" --kubeconfig "$real/kubelet.kubeconfig" \
    --root-dir "$kubelet_root" --cert-dir "$real/pki" --hostname-override "$node" \
    --node-ip "$NODE_IP" --node-labels "hitcounter.dev/node=real" --containerd "$sock"
  wait_for "node $node Ready" "$real/kubelet.log" kubectl_ wait --for=condition=Ready "node/$node" --timeout=2s
}

start_kube_proxy() {
  alive "$real/kube-proxy.pid" "kube-proxy --config" && return 0
  render kube-proxy.yaml NODE_DIR="$real" NODE_NAME="$node" POD_CIDR="$POD_CIDR" >"$real/kube-proxy.yaml"
  start kube-proxy "$(tool kube-proxy)" --config "$real/kube-proxy.yaml"
  wait_for kube-proxy "$real/kube-proxy.log" curl -fsS http://127.0.0.1:10256/healthz
}

# NetworkPolicies, enforced: kube-router's firewall alone (its router, service proxy and CNI stay
# off), watching every namespace's pods and policies with the admin kubeconfig. It rejects what no
# policy admits, in chains named KUBE-ROUTER-*, KUBE-POD-FW-* and KUBE-NWPLCY-* ahead of ours in
# FORWARD, with ipsets named KUBE-SRC-* and KUBE-DST-*; its health and metrics ports stay closed.
start_network_policy() {
  alive "$real/kube-router.pid" "kube-router --run-firewall" && return 0
  start kube-router "$(tool kube-router)" --run-firewall=true --run-router=false --run-service-proxy=false \
    --enable-cni=false --enable-pod-egress=false --kubeconfig "$kubeconfig" --hostname-override "$node" \
    --service-cluster-ip-range "$SERVICE_CIDR" --health-port 0 --metrics-port 0
  wait_for kube-router "$real/kube-router.log" iptables -S KUBE-ROUTER-FORWARD
}

# Docker sets FORWARD's policy to DROP; pod-to-pod traffic on the bridge (bridge-nf passes it through
# iptables, and a Service hop routes it back out) is let through by a chain of ours. Pods have a route
# to Services only, and nothing is forwarded off the bridge.
allow_forwarding() {
  iptables -N HITCOUNTER-FORWARD 2>/dev/null || iptables -F HITCOUNTER-FORWARD
  iptables -A HITCOUNTER-FORWARD -i "$bridge" -o "$bridge" -j ACCEPT
  iptables -C FORWARD -j HITCOUNTER-FORWARD 2>/dev/null || iptables -I FORWARD -j HITCOUNTER-FORWARD
}

# Persistent volumes for the node: a StorageClass `local` with no provisioner and static local PVs,
# each a directory under the node's state, so a StatefulSet's claim binds one on this node.
local_volumes() {
  local i
  for i in $(seq "$local_volume_count"); do
    mkdir -p "$real/volumes/pv-$i"
    render local-volume.yaml NODE_NAME="$node" INDEX="$i" NODE_DIR="$real"
  done
  render storage-class.yaml
}

deploy_coredns() {
  render coredns.yaml IMAGE="$coredns_image" DNS_IP="$CLUSTER_DNS_IP" | kubectl_ apply -f - >/dev/null
  kubectl_ -n kube-system rollout status deployment/coredns --timeout=120s >/dev/null
}

up() {
  preflight
  # The machine can run a node; joining one needs the control plane's CA.
  [ -f "$pki/ca.key" ] || { echo "no control plane at $pki: scripts/cluster/cluster.sh up first" >&2; exit 1; }
  mkdir -p "$real/pki"
  save_host_state
  # Workloads go to the real node; the fake nodes keep only what tolerates them.
  kubectl_ taint node -l type=kwok "$fake_taint" --overwrite >/dev/null
  push_images
  make_bridge
  start_apiserver_relay
  write_containerd_config
  start_containerd
  allow_forwarding
  start_kubelet
  start_kube_proxy
  start_network_policy
  deploy_coredns
  local_volumes | kubectl_ apply -f - >/dev/null
  status
}

status() {
  local p
  if [ ! -d "$real" ]; then echo "real node:  none"; return 0; fi
  for p in apiserver-relay containerd kubelet kube-proxy kube-router; do
    if [ -f "$real/$p.pid" ] && kill -0 "$(cat "$real/$p.pid")" 2>/dev/null; then
      echo "real node:  $p running (pid $(cat "$real/$p.pid"))"
    else
      echo "real node:  $p not running"
    fi
  done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  leftovers) leftovers ;;
  status) status ;;
  preflight) preflight ;;
  *) echo "usage: $0 up|down|status|leftovers|preflight" >&2; exit 2 ;;
esac
