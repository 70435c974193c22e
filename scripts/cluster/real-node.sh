#!/usr/bin/env bash
# A real node for the local cluster (scripts/cluster/cluster.sh up --real): a kubelet and kube-proxy joined to
# the kwok control plane, running pods for real with a containerd instance of their own, Debian's runc
# and CNI bridge, kube-router's firewall enforcing NetworkPolicies, CoreDNS as the cluster's DNS, and
# images only from the loopback registry.
# Called by cluster.sh, which has the control plane up first; everything it changes on the host is
# listed under "Host changes" and undone by `down`.
#   scripts/cluster/real-node.sh up | down | status
#   scripts/cluster/real-node.sh preflight   says what this machine lacks for a node (root, cgroup v1, packages)
#   scripts/cluster/real-node.sh leftovers   lists anything a real node left on the host; exits 1 if there is any
#
# Addresses (scripts/versions.env): pods in POD_CIDR on the bridge hc-cni0 (host-local IPAM, no
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
local_volume_count=4

source scripts/cluster/cluster-lib.sh

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

write_kubeconfig() {
  "$(tool kubectl)" config set-cluster local --server "$(apiserver_url)" \
    --certificate-authority "$pki/ca.crt" --embed-certs --kubeconfig "$real/$1.kubeconfig" >/dev/null
  "$(tool kubectl)" config set-credentials "$1" --client-certificate "$real/pki/$1.crt" --client-key "$real/pki/$1.key" \
    --embed-certs --kubeconfig "$real/$1.kubeconfig" >/dev/null
  "$(tool kubectl)" config set-context local --cluster local --user "$1" --kubeconfig "$real/$1.kubeconfig" >/dev/null
  "$(tool kubectl)" config use-context local --kubeconfig "$real/$1.kubeconfig" >/dev/null
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
    printf 'server = "http://%s"\n\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n' "$host" "$host" \
      >"$real/containerd/certs.d/$host/hosts.toml"
  done
  cat >"$real/containerd/config.toml" <<EOF
version = 2
root = "$real/containerd/root"
state = "$real/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$real/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_image"
  # This VM withholds CAP_SYS_RESOURCE: runc may not lower a container's oom_score_adj below its own.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$real/cni"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$real/containerd/certs.d"
EOF
  mkdir -p "$real/cni"
  cat >"$real/cni/10-hitcounter.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "hitcounter",
  "plugins": [
    {
      "type": "bridge", "bridge": "$bridge", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR"}]], "dataDir": "$real/cni-ipam",
               "routes": [{"dst": "$SERVICE_CIDR"}]}
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
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
  printf 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' >"$dir/Dockerfile.pause"
  printf 'FROM scratch\nCOPY coredns /coredns\nUSER 65532:65532\nENTRYPOINT ["/coredns"]\n' >"$dir/Dockerfile.coredns"
  quietly docker build -q -f "$dir/Dockerfile.pause" -t "$pause_image" "$dir"
  quietly docker build -q -f "$dir/Dockerfile.coredns" -t "$coredns_image" "$dir"
  quietly docker push -q "$pause_image"
  quietly docker push -q "$coredns_image"
  rm -rf "$dir"
}

write_kubelet_config() {
  cat >"$real/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This machine kind has cgroup v1 and no systemd as PID 1.
failCgroupV1: false
cgroupDriver: cgroupfs
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: $real/pki/kubelet-serving.crt
tlsPrivateKeyFile: $real/pki/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $pki/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$sock
clusterDNS: [$CLUSTER_DNS_IP]
clusterDomain: cluster.local
# The host's resolvers are off the machine: pods resolve cluster names only.
resolvConf: ""
makeIPTablesUtilChains: false
podLogsDir: $real/pod-logs
volumePluginDir: $real/volume-plugins
# The disk is shared with everything else on the machine: no eviction for disk use.
evictionHard: {memory.available: 200Mi, nodefs.available: "1%", imagefs.available: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
EOF
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
  cat >"$real/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $real/kube-proxy.kubeconfig}
hostnameOverride: $node
mode: iptables
clusterCIDR: $POD_CIDR
# NodePorts answer on loopback only.
nodePortAddresses: [127.0.0.0/8]
iptables: {localhostNodePorts: true}
# Leave the machine's conntrack table size alone.
conntrack: {maxPerCore: 0, min: 0}
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
EOF
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

# The ipsets kube-router made; kube-proxy in iptables mode makes none.
our_ipsets() { ipset list -n 2>/dev/null | grep '^KUBE-' || true; }

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
    cat <<EOF
apiVersion: v1
kind: PersistentVolume
metadata:
  name: $node-pv-$i
  labels: {hitcounter.dev/local-volume: "true"}
spec:
  capacity: {storage: 2Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: local
  local: {path: $real/volumes/pv-$i}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: kubernetes.io/hostname, operator: In, values: [$node]}
---
EOF
  done
  cat <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: local}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Retain
EOF
}

deploy_coredns() {
  sed -e "s#@IMAGE@#$coredns_image#" -e "s#@DNS_IP@#$CLUSTER_DNS_IP#" scripts/cluster/real-node/coredns.yaml | kubectl_ apply -f - >/dev/null
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

# Every process in the node's pod cgroups, the shims, containerd, then the kubelet's mounts.
kill_pods() {
  local f
  for f in /sys/fs/cgroup/pids/kubepods /sys/fs/cgroup/memory/kubepods; do
    if [ -d "$f" ]; then find "$f" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done; fi
  done
  pkill -9 -f "containerd-shim-runc-v2 .*-address $sock" 2>/dev/null || true
}

remove_cgroups() {
  local c
  for c in /sys/fs/cgroup/*/kubepods; do
    [ -d "$c" ] || continue
    for _ in 1 2 3 4 5; do
      find "$c" -depth -type d -exec rmdir {} + 2>/dev/null || true
      [ -d "$c" ] || break
      sleep 0.5
    done
  done
}

# Our chains in TABLE, as iptables-save (or ip6tables-save: $1) names them.
our_chains() { "$1" -t "$2" 2>/dev/null | sed -n 's/^:\(\(KUBE-\|CNI-\|HITCOUNTER-\)[^ ]*\) .*/\1/p'; }

remove_iptables() {
  local save table chain rule
  if [ -x "$(readlink -f .tools/bin/kube-proxy 2>/dev/null)" ]; then "$(tool kube-proxy)" --cleanup >/dev/null 2>&1 || true; fi
  for save in iptables-save ip6tables-save; do
    for table in filter nat mangle raw; do
      # The rules in built-in chains that jump to ours, then our chains (flushed first: they refer to each other).
      # Each rule is deleted on its own through *-restore, which parses the quoting (comments) that
      # iptables-save writes, so no shell ever evaluates the host's rules.
      "$save" -t "$table" 2>/dev/null | sed -n 's/^-A \([A-Z]*\) \(.*-j \(KUBE-\|CNI-\|HITCOUNTER-\).*\)/-D \1 \2/p' |
        while read -r rule; do printf '*%s\n%s\nCOMMIT\n' "$table" "$rule" | "${save%-save}-restore" --noflush 2>/dev/null || true; done
      for chain in $(our_chains "$save" "$table"); do "${save%-save}" -t "$table" -F "$chain" 2>/dev/null || true; done
      for chain in $(our_chains "$save" "$table"); do "${save%-save}" -t "$table" -X "$chain" 2>/dev/null || true; done
    done
  done
}

restore_host() {
  local kind a b
  [ -f "$state/real-host-state" ] || return 0
  while read -r kind a b; do
    case $kind in
      sysctl) sysctl -qw "$a=$b" ;;
      created) rm -rf "$a" ;;
    esac
  done <"$state/real-host-state"
  # Kept for `leftovers` to check against; the next `up` saves the host's state afresh.
  mv "$state/real-host-state" "$state/real-host-state.restored"
}

down() {
  local v
  [ -d "$real" ] || return 0
  # The volumes' directories go with the node's state; their PersistentVolumes with it.
  kubectl_ delete pv -l hitcounter.dev/local-volume=true --wait=false >/dev/null 2>&1 || true
  stop apiserver-relay socat
  stop kube-proxy "kube-proxy --config"
  stop kube-router "kube-router --run-firewall"
  stop kubelet "kubelet --config"
  kill_pods
  stop containerd "containerd --config"
  # The pods' network namespaces died with containerd's mount namespace; their files remain.
  find /run/netns -maxdepth 1 -name 'cni-*' -exec umount {} \; -exec rm -f {} \; 2>/dev/null || true
  ip link delete "$bridge" 2>/dev/null || true
  grep -o " ${kubelet_root}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  remove_iptables
  # After the rules that match them.
  for v in $(our_ipsets); do ipset destroy "$v" 2>/dev/null || true; done
  remove_cgroups
  restore_host
  rm -rf "$real"
}

# What a real node could leave on the host, each printed; exits 1 if anything is left.
leftovers() {
  local found=0 s v kind a b
  report() { echo "left behind: $*"; found=1; }
  ip link show "$bridge" >/dev/null 2>&1 && report "interface $bridge"
  ip -o link show type veth 2>/dev/null | grep -q . && report "veth interfaces: $(ip -o link show type veth | awk -F': ' '{print $2}' | tr '\n' ' ')"
  v=$(iptables-save 2>/dev/null | grep -cE 'KUBE|CNI-|HITCOUNTER' || true)
  [ "$v" = 0 ] || report "$v iptables lines naming KUBE, CNI- or HITCOUNTER"
  v=$(ip6tables-save 2>/dev/null | grep -c KUBE || true)
  [ "$v" = 0 ] || report "$v ip6tables lines naming KUBE"
  v=$(our_ipsets | tr '\n' ' ')
  [ -z "$v" ] || report "ipsets: $v"
  # Under /run/netns only the pods' namespaces are ours: /run/netns itself is a mount wherever
  # `ip netns add` ran once, which is the host's business.
  grep -qE " ($real|/var/lib/kubelet|/run/netns/)" /proc/mounts && report "mounts: $(grep -oE " ($real|/var/lib/kubelet|/run/netns/)[^ ]*" /proc/mounts | tr '\n' ' ')"
  s="kubelet --config|kube-proxy --config|kube-router --run-firewall|containerd --config $real|containerd-shim-runc-v2 .*$real|socat TCP-LISTEN:.*bind=$NODE_IP"
  pgrep -f "$s" >/dev/null && report "processes: $(pgrep -af "$s" | cut -c1-80 | tr '\n' ';')"
  v=$(find /sys/fs/cgroup -mindepth 2 -maxdepth 2 -name kubepods -printf '%p ' 2>/dev/null)
  [ -z "$v" ] || report "cgroups: $v"
  [ -d "$real" ] && report "state $real"
  if [ -f "$state/real-host-state.restored" ]; then
    while read -r kind a b; do
      case $kind in
        sysctl) s=$(sysctl -n "$a"); [ "$s" = "$b" ] || report "sysctl $a=$s (was $b)" ;;
        created) [ -e "$a" ] && report "path $a" ;;
      esac
    done <"$state/real-host-state.restored"
  fi
  return $found
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
