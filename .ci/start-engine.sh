#!/usr/bin/env bash
# Makes sure a Docker engine answers on this machine: installs Debian's docker.io when dockerd
# is missing and starts dockerd in the background when nothing answers on its socket.
set -euo pipefail

engine_answers() { curl -sf --max-time 2 --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null 2>&1; }

if engine_answers; then
  echo "engine: already answering on /var/run/docker.sock"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "engine: installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q docker.io >/dev/null
fi

log=${DOCKERD_LOG:-/tmp/grade-dockerd.log}
echo "engine: starting dockerd (log: $log)"
nohup dockerd >"$log" 2>&1 &

for _ in $(seq 1 60); do
  if engine_answers; then
    echo "engine: up"
    exit 0
  fi
  sleep 1
done
echo "engine: dockerd did not answer within 60 s; last lines of $log:" >&2
tail -n 20 "$log" >&2
exit 1
