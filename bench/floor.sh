#!/usr/bin/env bash
# The floor: the engine work of grading the multi exercise, done with the docker CLI one command
# after another (as a student types them) and checking nothing. `grade multi` does the same work
# and more (the checks), but runs what is independent at the same time.
#
# Usage: bench/floor.sh SUBMISSION [BUILD_LOG]
#   SUBMISSION  a multi submission: Dockerfile, hello.c and scratch/{Dockerfile,sleep.c}
#   BUILD_LOG   where the builders' output is appended (default: discarded); bench/run.ts reads it
#               to learn which layers the builds created, so it can remove them afterwards
# With FLOOR_TIMES=FILE, the time each step of the exercise ends is appended to FILE
# ("<step> <epoch seconds>", from bash's clock: no process per mark).
#
# It mirrors, in grading's order, the actions of exercises/multi/*.yaml as runner/grading/actions.ts
# performs them, with the same limits as runner/engine/dockerode/{build,runs}.ts give them (the
# defaults: 512 MiB, no swap, 512 pids, 1 CPU, no network, no capabilities):
#   compile-hello  build `toolchain`: the first stage up to its first COPY (toolchainText), as its
#                  own Dockerfile; compile hello.c with gcc -Wall in it; run the program in it
#   large-small    build `small` (the Dockerfile); build `large` (no Dockerfile.large: --target
#                  build); run `small`
#   target-stage   build `my-build-stage` (--target build, all from the cache); run /app/bin/hello in it
#   scratch-sleep  build `sleep` (scratch/Dockerfile); start `sleeper` detached; build
#                  `sleep-tools` (its toolchain part); `docker top` it; list its root from a
#                  sleep-tools container in its pid namespace (ls -1a /proc/1/root); remove it
# Builds use the classic builder, as grading does, untagged and unlabelled (a label would be a
# layer of its own), with --network none as `grade --build-network none` (the stand-in needs none).
# Runs are `docker run --rm`: create, start, wait and remove, one CLI call each. Where grading
# copies the source in and the binary out with the archive API, the floor bind-mounts a work
# folder: the same containers, without a `docker cp` process per copy.
# The start action's settle ("still running a second later") is kept, overlapped with the
# sleep-tools build, top and the listing: the sleeper is removed no sooner than 1 s after it started.
# Not mirrored, being checks: the image inspections and sizes, the path-absent probe container of
# `small`, reading Dockerfiles, and the verdicts.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: bench/floor.sh SUBMISSION [BUILD_LOG]" >&2
  exit 2
fi
sub=$(cd "$1" && pwd)
log=${2:-/dev/null}
export DOCKER_BUILDKIT=0

work=$(mktemp -d /tmp/grade-bench-floor.XXXXXX)
token=$(basename "$work" | tr -dc 'a-zA-Z0-9' | tr 'A-Z' 'a-z')
sleeper="grade-bench-$token-sleeper"
cleanup() {
  docker rm -f "$sleeper" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

build_flags=(--rm --force-rm --network none --memory 512m --memory-swap 512m --cpu-period 100000 --cpu-quota 100000 --ulimit cpu=300:300)
limits=(--network none --memory 512m --memory-swap 512m --pids-limit 512 --cpus 1 --security-opt no-new-privileges --label grade-bench=floor)
run_flags=(--rm "${limits[@]}" --cap-drop ALL --log-driver none)

# Prints the id of the image built from $1 (a folder) with the remaining build arguments. The
# builder's output goes to the log; on failure, to stderr too.
build() {
  local context=$1
  shift
  if ! docker build "${build_flags[@]}" --iidfile "$work/iid" "$@" "$context" >"$work/build.out" 2>&1; then
    cat "$work/build.out" >>"$log"
    cat "$work/build.out" >&2
    return 1
  fi
  cat "$work/build.out" >>"$log"
  cat "$work/iid"
}

mark() {
  if [ -n "${FLOOR_TIMES:-}" ]; then echo "$1 $EPOCHREALTIME" >>"$FLOOR_TIMES"; fi
}
mark start

# The first stage up to its first COPY or ADD: what grading builds as a stage's toolchain.
toolchain_of() {
  awk '{ word = toupper($1) } word == "COPY" || word == "ADD" { exit } word == "FROM" && seen++ { exit } { print }' "$1"
}

# compile-hello
toolchain_of "$sub/Dockerfile" >"$work/toolchain.Dockerfile"
toolchain=$(build "$sub" -f "$work/toolchain.Dockerfile")
mkdir "$work/compile"
cp "$sub/hello.c" "$work/compile/"
docker run "${run_flags[@]}" -v "$work/compile:/grade/work" -w /grade/work "$toolchain" gcc -Wall hello.c -o hello >/dev/null
docker run "${run_flags[@]}" -v "$work/compile:/grade/work:ro" "$toolchain" /grade/work/hello >/dev/null
mark compile-hello

# large-small
small=$(build "$sub" -f "$sub/Dockerfile")
build "$sub" -f "$sub/Dockerfile" --target build >/dev/null
docker run "${run_flags[@]}" "$small" >/dev/null
mark large-small

# target-stage
stage=$(build "$sub" -f "$sub/Dockerfile" --target build)
docker run "${run_flags[@]}" "$stage" /app/bin/hello >/dev/null
mark target-stage

# scratch-sleep
sleep_image=$(build "$sub/scratch" -f "$sub/scratch/Dockerfile")
started=${EPOCHREALTIME/./}
docker run -d --name "$sleeper" "${limits[@]}" --cap-drop ALL --log-opt max-size=1m --log-opt max-file=1 "$sleep_image" >/dev/null
toolchain_of "$sub/scratch/Dockerfile" >"$work/sleep-tools.Dockerfile"
tools=$(build "$sub/scratch" -f "$work/sleep-tools.Dockerfile")
docker top "$sleeper" >/dev/null
docker run --rm "${limits[@]}" --log-driver none --pid "container:$sleeper" --entrypoint ls "$tools" -1a /proc/1/root >/dev/null
left=$((1000000 - (${EPOCHREALTIME/./} - started)))
if [ "$left" -gt 0 ]; then sleep "$(printf '0.%06d' "$left")"; fi
docker rm -f "$sleeper" >/dev/null
mark scratch-sleep
