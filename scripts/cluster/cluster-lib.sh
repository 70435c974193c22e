# shellcheck shell=bash
# Sourced by scripts/cluster/cluster.sh, scripts/cluster/real-node.sh and scripts/images/monitoring-images.sh (functions only).
# The caller sets `kubeconfig` (for kubectl_).

# A tool scripts/toolchain/tools.sh built, resolved into the version-keyed cache, so a cluster outlives the
# clone that started it.
tool() {
  local path
  path=$(readlink -f ".tools/bin/$1" 2>/dev/null) || path=
  if [ -z "$path" ] || [ ! -e "$path" ]; then echo "missing .tools/bin/$1: run scripts/toolchain/tools.sh" >&2; exit 1; fi
  echo "$path"
}

kubectl_() { "$(tool kubectl)" --kubeconfig "${kubeconfig:?cluster-lib.sh: the caller sets kubeconfig}" "$@"; }

# Runs a command with its output shown only when it fails, so a quiet step still explains a failure.
quietly() {
  local out status
  out=$("$@" 2>&1) && return 0
  status=$?
  echo "$out" >&2
  return "$status"
}

# True when the pid file names a live process whose command line contains $2: a pid reused
# by an unrelated process after a crash does not count.
alive() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -q -- "$2"
}

# stop_pid_file PIDFILE MATCH: stops the process the pid file names (if it is still ours: `alive`)
# with TERM, a second TERM after 2 s (the kubelet finishes its shutdown only then), KILL after 10 s.
stop_pid_file() {
  local pid i
  if alive "$1" "$2"; then
    pid=$(cat "$1")
    kill "$pid" 2>/dev/null || true
    for i in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      [ "$i" = 10 ] && kill "$pid" 2>/dev/null
      sleep 0.2
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}
