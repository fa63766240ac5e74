#!/usr/bin/env bash
# Starts the extra engines of the engine matrix beside the main dockerd (issue 11), each with its
# own socket, data root, exec root, pidfile and bridge, so the main engine is never touched:
#   docker26      dockerd 26.1 from Debian trixie's docker.io, overlay2
#   containerd26  the same dockerd 26 with the containerd image store
#   podman        Podman 4.3 from bookworm, serving the Docker API
#
#   .ci/engines.sh [start] [ENGINE...]   start (default: all), load the fixture images, print DOCKER_HOST
#   .ci/engines.sh stop [ENGINE...]      stop what this script started (by pidfile)
#   .ci/engines.sh status [ENGINE...]    each engine's version and DOCKER_HOST; exits 1 when one does not answer
#
# Idempotent: an engine already answering is left alone, downloads are cached. Needs root on
# Debian bookworm. Trixie is used for downloading two .debs only (its own apt lists, never the
# system's sources): the system is never upgraded.
set -euo pipefail

CACHE=${GRADE_ENGINES_CACHE:-/var/cache/grade-engines}
RUN=${GRADE_ENGINES_RUN:-/run/grade-engines}
DATA=${GRADE_ENGINES_DATA:-/var/lib/grade-engines}
# Images copied from the main engine into each extra one (the tests' offline base images).
IMAGES=${GRADE_ENGINES_IMAGES:-grade-fixture/toolchain grade-fixture/runtime}
MAIN_HOST=${GRADE_ENGINES_MAIN:-unix:///var/run/docker.sock}
ALL_ENGINES=(docker26 containerd26 podman)
ROOT26=$CACHE/docker26-root

say() { echo "engines: $*"; }
die() {
  echo "engines: $*" >&2
  exit 1
}

socket_of() { echo "$RUN/$1.sock"; }
pidfile_of() { echo "$RUN/$1.pid"; }
log_of() { echo "$RUN/$1.log"; }

answers() { curl -sf --max-time 2 --unix-socket "$(socket_of "$1")" http://d/_ping >/dev/null 2>&1; }

# The pid in the engine's pidfile when that process still runs.
live_pid() {
  local pidfile pid
  pidfile=$(pidfile_of "$1")
  [[ -s $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# Bridge name (at most 15 characters) and its address, one /24 per engine.
bridge_of() { case $1 in docker26) echo ge-docker26 ;; containerd26) echo ge-ctrd26 ;; esac }
bridge_addr_of() { case $1 in docker26) echo 10.214.26.1/24 ;; containerd26) echo 10.214.27.1/24 ;; esac }

ensure_bridge() {
  local name=$1 addr=$2
  if ! ip link show "$name" >/dev/null 2>&1; then
    if ip -4 -o addr show | grep -q " ${addr%.*/*}\."; then
      die "the subnet of $addr is already used on this machine; cannot make bridge $name"
    fi
    ip link add "$name" type bridge
    ip addr add "$addr" dev "$name"
  fi
  ip link set "$name" up
}

# --- dockerd 26 from trixie ------------------------------------------------------------------
fetch_docker26() {
  if [[ -x $ROOT26/usr/sbin/dockerd && -x $ROOT26/usr/bin/containerd ]]; then return; fi
  local apt=$CACHE/apt
  mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$CACHE/debs"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" >"$apt/trixie.list"
  # Every apt path that matters points into the cache: the system's lists and sources stay bookworm.
  local opts=(-o "Dir::Etc::SourceList=$apt/trixie.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$apt/lists"
    -o "Dir::Cache::Archives=$apt/archives" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o APT::Sandbox::User=root)
  if ! ls "$CACHE"/debs/docker.io_26.*.deb "$CACHE"/debs/containerd_1.7.*.deb >/dev/null 2>&1; then
    say "fetching docker.io and containerd from trixie into $CACHE/debs"
    apt-get -q "${opts[@]}" update >/dev/null
    (cd "$CACHE/debs" && apt-get -q "${opts[@]}" download docker.io containerd >/dev/null)
  fi
  rm -rf "$ROOT26.tmp"
  mkdir -p "$ROOT26.tmp"
  for deb in "$CACHE"/debs/docker.io_*.deb "$CACHE"/debs/containerd_*.deb; do dpkg -x "$deb" "$ROOT26.tmp"; done
  rm -rf "$ROOT26"
  mv "$ROOT26.tmp" "$ROOT26"
}

start_dockerd26() {
  local name=$1 snapshotter=$2
  fetch_docker26
  command -v runc >/dev/null || die "runc is missing: apt-get install runc (bookworm's; trixie's needs a newer glibc)"
  local bridge data exec config
  bridge=$(bridge_of "$name")
  data=$DATA/$name
  exec=$RUN/$name
  config=$DATA/$name.json
  ensure_bridge "$bridge" "$(bridge_addr_of "$name")"
  mkdir -p "$data" "$exec"
  # No "default-address-pools" here: a dockerd restarted on its old data root with address pools
  # set deletes the link named docker0 (the main engine's bridge), whatever its own --bridge is.
  cat >"$config" <<EOF
{"features": {"containerd-snapshotter": $snapshotter}}
EOF
  # PATH puts trixie's containerd, shims and docker-proxy first; runc stays bookworm's.
  PATH="$ROOT26/usr/bin:$ROOT26/usr/sbin:$PATH" setsid nohup "$ROOT26/usr/sbin/dockerd" \
    --config-file "$config" \
    --host "unix://$(socket_of "$name")" \
    --data-root "$data" \
    --exec-root "$exec" \
    --pidfile "$(pidfile_of "$name")" \
    --bridge "$bridge" \
    --iptables=false \
    --ip-masq=false \
    --cgroup-parent "/grade-$name" \
    </dev/null >"$(log_of "$name")" 2>&1 &
}

# --- Podman 4.3 from bookworm ----------------------------------------------------------------
start_podman() {
  if ! command -v podman >/dev/null; then
    say "installing bookworm's podman"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends podman runc >/dev/null
  fi
  local data=$DATA/podman exec=$RUN/podman conf=$DATA/podman/containers.conf
  mkdir -p "$data" "$exec"
  # Only this service reads this file (CONTAINERS_CONF). crun refuses hybrid cgroups: runc with
  # cgroupfs. Podman's default rlimits exceed the hard limits here and root lacks
  # CAP_SYS_RESOURCE, so runc fails with "error setting rlimits": pin them to what the service
  # itself holds (it lowers its own nproc to 32768 at start).
  local nofile nproc
  nofile=$(ulimit -Hn)
  nproc=$(ulimit -Hu)
  [[ $nofile == unlimited || $nofile -gt 1048576 ]] && nofile=1048576
  [[ $nproc == unlimited || $nproc -gt 32768 ]] && nproc=32768
  cat >"$conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$exec/events.log"
tmp_dir = "$exec/tmp"
static_dir = "$data/libpod"
volume_path = "$data/volumes"

[network]
network_backend = "cni"
network_config_dir = "$data/networks"
default_subnet = "10.214.28.0/24"
default_subnet_pools = [{"base" = "10.217.0.0/16", "size" = 24}]
EOF
  # Started from its exec root: conmon writes a container's `oom` marker into the service's working
  # folder, which would otherwise be wherever the script was run (a contributor's checkout).
  (cd "$exec" && CONTAINERS_CONF=$conf exec setsid nohup podman --root "$data/storage" --runroot "$exec/storage" --storage-driver overlay \
    system service --time=0 "unix://$(socket_of podman)" </dev/null >"$(log_of podman)" 2>&1) &
  echo $! >"$(pidfile_of podman)"
}

# --- commands --------------------------------------------------------------------------------
load_images() {
  local name=$1 host image
  host=unix://$(socket_of "$name")
  for image in $IMAGES; do
    if docker -H "$host" image inspect "$image" >/dev/null 2>&1; then continue; fi
    if ! docker -H "$MAIN_HOST" image inspect "$image" >/dev/null 2>&1; then
      say "$name: $image is not on the main engine; not loaded"
      continue
    fi
    say "$name: loading $image from the main engine"
    docker -H "$MAIN_HOST" save "$image" | docker -H "$host" load >/dev/null
  done
}

start_one() {
  local name=$1 started=$SECONDS
  if answers "$name"; then
    say "$name: already answering"
  else
    if pid=$(live_pid "$name"); then
      say "$name: pid $pid is starting; waiting"
    else
      rm -f "$(pidfile_of "$name")" "$(socket_of "$name")"
      case $name in
        docker26) start_dockerd26 docker26 false ;;
        containerd26) start_dockerd26 containerd26 true ;;
        podman) start_podman ;;
      esac
    fi
    local waited=0
    until answers "$name"; do
      if ((waited >= 60)); then
        echo "engines: $name did not answer within 60 s; last lines of $(log_of "$name"):" >&2
        tail -n 20 "$(log_of "$name")" >&2
        return 1
      fi
      sleep 1
      waited=$((waited + 1))
    done
    say "$name: up in $((SECONDS - started)) s (log: $(log_of "$name"))"
  fi
  load_images "$name"
  echo "DOCKER_HOST=unix://$(socket_of "$name")   # $name"
}

stop_one() {
  local name=$1 pid
  if ! pid=$(live_pid "$name"); then
    say "$name: not running (no live pid in $(pidfile_of "$name"))"
  else
    kill -TERM "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    if kill -0 "$pid" 2>/dev/null; then
      say "$name: pid $pid still running after 30 s; sending KILL"
      kill -KILL "$pid"
    fi
    say "$name: stopped (pid $pid)"
  fi
  rm -f "$(pidfile_of "$name")" "$(socket_of "$name")"
  # What the engine left mounted in its own roots (Podman keeps its overlay mount after exit).
  local target
  awk '{print $2}' /proc/mounts | grep -E "^($DATA|$RUN)/$name/" | sort -r | while read -r target; do umount -l "$target" || true; done
  local bridge
  bridge=$(bridge_of "$name")
  if [[ -n $bridge ]] && ip link show "$bridge" >/dev/null 2>&1; then ip link del "$bridge"; fi
}

status_one() {
  local name=$1 version
  if version=$(curl -sf --max-time 5 --unix-socket "$(socket_of "$name")" http://d/version); then
    # The first component is the engine itself ("Engine" or "Podman Engine"); the last ApiVersion
    # is the top-level one, the Docker API version the engine speaks.
    local engine release api
    engine=$(grep -o '"Components":\[{"Name":"[^"]*"' <<<"$version" | sed 's/.*"Name":"//; s/"$//')
    release=$(grep -o '"Version":"[^"]*"' <<<"$version" | head -1 | cut -d'"' -f4)
    api=$(grep -o '"ApiVersion":"[^"]*"' <<<"$version" | tail -1 | cut -d'"' -f4)
    echo "$name: ${engine:-engine} $release, API $api, DOCKER_HOST=unix://$(socket_of "$name")"
  else
    echo "$name: not answering on $(socket_of "$name")"
    return 1
  fi
}

[[ $(id -u) -eq 0 ]] || die "needs root (daemons, bridges, mounts)"
command=${1:-start}
case $command in start | stop | status) shift || true ;; *) command=start ;; esac
engines=("$@")
[[ ${#engines[@]} -gt 0 ]] || engines=("${ALL_ENGINES[@]}")
for name in "${engines[@]}"; do
  case $name in docker26 | containerd26 | podman) ;; *) die "unknown engine '$name'; known: ${ALL_ENGINES[*]}" ;; esac
done
for tool in curl ip; do command -v "$tool" >/dev/null || die "$tool is missing (apt-get install curl iproute2)"; done
if [[ $command == start ]] && ! command -v docker >/dev/null; then die "the docker CLI is missing (bookworm's docker.io has one); it loads the images"; fi
mkdir -p "$RUN" "$DATA" "$CACHE"

failed=0
for name in "${engines[@]}"; do
  "${command}_one" "$name" || failed=1
done
exit $failed
