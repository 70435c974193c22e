#!/usr/bin/env bash
# Starts Debian's dockerd (package docker.io) unless a Docker engine already answers, and waits until
# it does. Idempotent: scripts and tests call it before every docker command.
# Log: $DOCKERD_LOG (default /var/log/hitcounter-dockerd.log); pid: /var/run/hitcounter-dockerd.pid.
set -euo pipefail
log=${DOCKERD_LOG:-/var/log/hitcounter-dockerd.log}
pidfile=/var/run/hitcounter-dockerd.pid

if docker info >/dev/null 2>&1; then
  exit 0
fi
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "dockerd (pid $(cat "$pidfile")) is starting" >&2
else
  command -v dockerd >/dev/null || { echo "dockerd not found: install Debian's docker.io" >&2; exit 1; }
  # setsid: the daemon outlives the shell (and test run) that started it.
  setsid dockerd >>"$log" 2>&1 </dev/null &
  echo $! >"$pidfile"
fi
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    exit 0
  fi
  sleep 0.5
done
echo "dockerd did not answer within 30 s; see $log" >&2
tail -n 20 "$log" >&2
exit 1
