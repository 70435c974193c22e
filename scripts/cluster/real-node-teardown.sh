# shellcheck shell=bash
# Sourced by scripts/cluster/real-node.sh: taking the real node down (`real-node.sh down`), and the
# audit of what a node could leave on the host (`real-node.sh leftovers`). Functions only, on the
# node's settings, which real-node.sh sets before it sources this file:
: "${state:?real-node-teardown.sh: real-node.sh sets state}" "${real:?}" "${bridge:?}" "${sock:?}" "${kubelet_root:?}"

# The ipsets kube-router made; kube-proxy in iptables mode makes none.
our_ipsets() { ipset list -n 2>/dev/null | grep '^KUBE-' || true; }

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
