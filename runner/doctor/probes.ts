// The tiny programs `grade doctor` runs on the engine, and what their outcomes mean. Pure: the
// scripts are plain `sh` (busybox or a full userland alike), and each verdict is read from a
// RunOutcome, so every reading is tested without an engine.
import type { EngineSetup, Limits, RunOutcome } from '../engine/engine.js';
import { formatSize, quoteOutput } from '../text/format.js';
import type { DoctorCheck } from './report.js';

const MiB = 1024 * 1024;
const GB = 1000 ** 3;

/**
 * A memory limit above this is probed at PROBE_MEMORY instead: whether the kernel enforces a
 * limit does not depend on its size, and proving a 16 GiB limit would take 16 GiB of the host.
 */
const LARGEST_MEMORY_PROBED = 1024 * MiB;
const PROBE_MEMORY = 256 * MiB;
/** How far past the limit the memory probe reaches. */
const MEMORY_OVERSHOOT = 64 * MiB;
/** Likewise for processes: a pids limit above this is probed at PROBE_PIDS. */
const LARGEST_PIDS_PROBED = 1024;
const PROBE_PIDS = 256;
/** Processes the pids probe tries beyond the limit. */
const PIDS_OVERSHOOT = 8;

/** Below this much free space on the engine's disk a grading is likely to fail; below the warning figure, several will. */
export const DISK_FAIL_BYTES = 1 * GB;
export const DISK_WARN_BYTES = 5 * GB;

/** The line the probe image carries, and the one its RUN step adds: the run must print both. */
export const PROBE_FILE = '/grade-doctor-probe';
export const PROBE_COPIED = 'grade doctor probe';
export const PROBE_BUILT = 'built offline';

/** Runs `$1` from the image's userland, or busybox's applet of that name when the image has only busybox. */
const TOOL = 'tool() { if command -v "$1" >/dev/null 2>&1; then "$@"; else busybox "$@"; fi; }';

/**
 * The probe image's Dockerfile: labelled like a grading's images (so `grade clean` finds one a
 * killed doctor left), a file copied in, and, on a base with a shell, a RUN step with no network.
 * FROM scratch when no local image has a shell: the classic builder is still checked.
 */
export function probeDockerfile(base: string | undefined, labels: Record<string, string>): string {
  const label = Object.entries(labels)
    .map(([key, value]) => `${JSON.stringify(key)}=${JSON.stringify(value)}`)
    .join(' ');
  return [
    `FROM ${base ?? 'scratch'}`,
    `LABEL ${label}`,
    `COPY probe.txt ${PROBE_FILE}`,
    ...(base ? [`RUN echo ${PROBE_BUILT} >> ${PROBE_FILE}`] : []),
    '',
  ].join('\n');
}

/** Prints the probe file with shell builtins alone. */
export const PRINT_PROBE = ['sh', '-c', `while read -r line; do echo "$line"; done < ${PROBE_FILE}`];

export function judgeProbeRun(base: string, run: RunOutcome): DoctorCheck {
  const printed = run.stdout.text.trim().split('\n');
  if (run.exitCode === 0 && printed[0] === PROBE_COPIED && printed[1] === PROBE_BUILT) {
    return { id: 'build-run', status: 'ok', found: `built an image FROM ${base} with no network, and ran it under grading's limits` };
  }
  return {
    id: 'build-run',
    status: 'fail',
    found: `an image built FROM ${base} did not run as expected: ${describeRun(run)}`,
    fix: "Run `docker run --rm --network none --memory 512m --pids-limit 512 --cap-drop ALL <image> true` with any local image: its error is the engine's own word on what stops containers from running (a runtime, seccomp or AppArmor problem).",
  };
}

/** The memory the probe is run with: grading's, unless that is too large to prove cheaply. */
export function probedMemory(limits: Limits): number {
  return limits.memoryBytes <= LARGEST_MEMORY_PROBED ? limits.memoryBytes : PROBE_MEMORY;
}

/** A probe: the command, and the limits its container runs under. */
export interface Probe {
  cmd: string[];
  limits: Limits;
}

/** One read of `limit + 64 MiB` from /dev/zero into one buffer: past the limit, the kernel must kill it. */
export function memoryProbe(limits: Limits): Probe {
  const memoryBytes = probedMemory(limits);
  const dd = `dd if=/dev/zero of=/dev/null bs=${memoryBytes + MEMORY_OVERSHOOT} count=1`;
  return { cmd: ['sh', '-c', `if command -v dd >/dev/null 2>&1; then exec ${dd}; fi; exec busybox ${dd}`], limits: { ...limits, memoryBytes } };
}

/** " (cgroup v1, cgroupfs; probed at 256MiB, not grading's 2GiB)": the kernel's side, and a probe that differs from grading. */
function aside(setup: EngineSetup | undefined, probed: string | undefined): string {
  const cgroup = setup?.cgroupVersion ? `cgroup v${setup.cgroupVersion}${setup.cgroupDriver ? `, ${setup.cgroupDriver}` : ''}` : undefined;
  const parts = [cgroup, probed].filter(Boolean);
  return parts.length ? ` (${parts.join('; ')})` : '';
}

/** Why a probe told nothing: the image lacks the program, or it ran out of time. */
function notChecked(run: RunOutcome, program: string): string | undefined {
  if (run.timedOut) return `the probe did not finish in time (${describeRun(run)})`;
  if (run.startError || run.exitCode === 127 || /not found/i.test(run.stderr.text)) return `the probe image has no ${program} (${describeRun(run)})`;
  return undefined;
}

export function judgeMemory(run: RunOutcome, limits: Limits, setup: EngineSetup | undefined): DoctorCheck {
  const limit = probedMemory(limits);
  const shown = formatMiB(limit);
  const context = aside(setup, limit !== limits.memoryBytes ? `probed at ${shown}, not grading's ${formatMiB(limits.memoryBytes)}` : undefined);
  // Past the run timeout the run is killed too (137): that says nothing of the memory limit.
  const skipped = notChecked(run, 'dd');
  if (skipped) return { id: 'memory-limit', status: 'warn', found: `not checked: ${skipped}`, fix: PROBE_IMAGE_FIX };
  if (run.oomKilled || run.exitCode === 137) {
    const how = run.oomKilled ? 'was OOM-killed' : 'was killed (exit status 137)';
    return { id: 'memory-limit', status: 'ok', found: `a program past its ${shown} memory limit ${how}${context}` };
  }
  if (run.exitCode === 0) {
    return {
      id: 'memory-limit',
      status: 'fail',
      found: `a program used ${formatMiB(limit + MEMORY_OVERSHOOT)} under a ${shown} memory limit and was not stopped${context}${limitWarnings(setup, /memory|swap/i)}`,
      fix: memoryFix(setup),
    };
  }
  return {
    id: 'memory-limit',
    status: 'warn',
    found: `could not tell whether the memory limit holds: ${describeRun(run)}`,
    fix: 'Run `docker run --rm --memory 512m --memory-swap 512m busybox dd if=/dev/zero of=/dev/null bs=600000000 count=1`: it must end with exit status 137 (killed).',
  };
}

function memoryFix(setup: EngineSetup | undefined): string {
  if (setup?.memoryLimit === false) {
    return "The engine's kernel has no memory cgroup: enable it (on cgroup v1, `cgroup_enable=memory swapaccount=1` on the kernel command line), or run Docker on a host with cgroup v2; then restart Docker.";
  }
  if (setup?.swapLimit === false) {
    return 'The kernel cannot limit swap, so a container swaps instead of stopping: add `swapaccount=1` to the kernel command line (cgroup v1) or use cgroup v2, then restart Docker.';
  }
  return "Containers are not held to their memory limit here: check `docker info` for warnings, and that Docker is not rootless on cgroup v1 (rootless needs cgroup v2 with systemd's delegation).";
}

/** The pids limit the probe is run with: grading's, unless that is too large to prove cheaply. */
export function probedPids(limits: Limits): number {
  return limits.pids <= LARGEST_PIDS_PROBED ? limits.pids : PROBE_PIDS;
}

/**
 * Starts `limit + 8` sleeping processes; it says `forked N` only when every fork worked (a shell
 * that carries on after a failed fork leaves `$!` unchanged, and is caught by that).
 */
export function pidsProbe(limits: Limits): Probe {
  const pids = probedPids(limits);
  const count = pids + PIDS_OVERSHOOT;
  const cmd = [
    'sh',
    '-c',
    [
      'if command -v sleep >/dev/null 2>&1; then s=sleep; else s="busybox sleep"; fi',
      '$s 0 || exit 127',
      'i=0; last=',
      `while [ $i -lt ${count} ]; do`,
      '  $s 30 &',
      '  if [ "$!" = "$last" ]; then echo "fork failed after $i processes" >&2; exit 3; fi',
      '  last=$!; i=$((i+1))',
      'done',
      'echo "forked $i"',
    ].join('\n'),
  ];
  return { cmd, limits: { ...limits, pids } };
}

export function judgePids(run: RunOutcome, limits: Limits, setup: EngineSetup | undefined): DoctorCheck {
  const limit = probedPids(limits);
  const context = aside(setup, limit !== limits.pids ? `probed at ${limit}, not grading's ${limits.pids}` : undefined);
  if (/^forked \d+/m.test(run.stdout.text)) {
    return {
      id: 'pids-limit',
      status: 'fail',
      found: `${limit + PIDS_OVERSHOOT} processes started under a pids limit of ${limit}${context}${limitWarnings(setup, /pids/i)}`,
      fix:
        setup?.pidsLimit === false
          ? "The engine's kernel has no pids cgroup: use a kernel with CONFIG_CGROUP_PIDS (every current distribution's), or cgroup v2; then restart Docker."
          : 'Containers are not held to their pids limit here: check `docker info` for warnings, and that Docker is not rootless on cgroup v1.',
    };
  }
  if (/fork|resource temporarily unavailable/i.test(run.stderr.text)) {
    return { id: 'pids-limit', status: 'ok', found: `a program could not fork past its pids limit of ${limit}${context}` };
  }
  const skipped = notChecked(run, 'sleep');
  if (skipped) return { id: 'pids-limit', status: 'warn', found: `not checked: ${skipped}`, fix: PROBE_IMAGE_FIX };
  return {
    id: 'pids-limit',
    status: 'warn',
    found: `could not tell whether the pids limit holds: ${describeRun(run)}`,
    fix: "Run `docker run --rm --pids-limit 16 busybox sh -c 'for i in $(seq 32); do sleep 5 & done; wait'`: it must say it cannot fork.",
  };
}

/** `df` of the container's root: on the engine's machine, the filesystem of its data root, where images and layers go. */
export function diskProbe(limits: Limits): Probe {
  return { cmd: ['sh', '-c', `${TOOL}; tool df -kP /`], limits };
}

/** Free and total bytes from `df -kP` output, or undefined when it is not that. */
export function parseDf(text: string): { freeBytes: number; totalBytes: number } | undefined {
  const line = text
    .trim()
    .split('\n')
    .filter((each) => /\d/.test(each))
    .at(-1);
  const fields = line?.trim().split(/\s+/) ?? [];
  // From the end: a filesystem's name may hold spaces. ... blocks used available capacity mountpoint.
  const [blocks, , available] = fields.slice(-5, -2).map(Number);
  if (fields.length < 6 || !Number.isFinite(blocks) || !Number.isFinite(available)) return undefined;
  return { freeBytes: available! * 1024, totalBytes: blocks! * 1024 };
}

export function judgeDisk(run: RunOutcome, setup: EngineSetup | undefined): DoctorCheck {
  const space = run.exitCode === 0 ? parseDf(run.stdout.text) : undefined;
  if (!space) {
    const skipped = notChecked(run, 'df') ?? `df said something else: ${describeRun(run)}`;
    return { id: 'disk', status: 'warn', found: `not checked: ${skipped}`, fix: PROBE_IMAGE_FIX };
  }
  const where = setup?.rootDir ? ` (the filesystem of ${setup.rootDir})` : '';
  const found = `${formatSize(space.freeBytes)} free of ${formatSize(space.totalBytes)} on the engine's disk${where}`;
  const fix =
    'Free space on the engine: `grade clean --cache` removes the images gradings built, `docker system df` shows what else uses it, and `docker image prune` / `docker builder prune` remove what nothing uses.';
  if (space.freeBytes < DISK_FAIL_BYTES)
    return { id: 'disk', status: 'fail', found: `${found}: under ${formatSize(DISK_FAIL_BYTES)}, builds will run out of space`, fix };
  if (space.freeBytes < DISK_WARN_BYTES)
    return { id: 'disk', status: 'warn', found: `${found}: under ${formatSize(DISK_WARN_BYTES)}, a few gradings may fill it`, fix };
  return { id: 'disk', status: 'ok', found };
}

/** When no probe image can be had: what to do. */
export const PROBE_IMAGE_FIX =
  'The probes run in a small local image with /bin/sh: `docker pull busybox` once (online), or `docker load -i busybox.tar` from an archive `docker save busybox -o busybox.tar` made elsewhere; then run grade doctor again.';

function limitWarnings(setup: EngineSetup | undefined, about: RegExp): string {
  const said = (setup?.warnings ?? []).filter((warning) => about.test(warning));
  return said.length ? `; the engine warns: ${said.map((warning) => warning.replace(/^WARNING:\s*/i, '')).join('; ')}` : '';
}

function formatMiB(bytes: number): string {
  return bytes % MiB === 0 ? `${bytes / MiB}MiB` : formatSize(bytes);
}

/** A run in a few words: how it ended and the first thing it said. */
export function describeRun(run: RunOutcome): string {
  if (run.startError) return `it did not start: ${run.startError}`;
  const ended = run.timedOut ? 'timed out' : run.oomKilled ? 'was OOM-killed' : `exit status ${run.exitCode}`;
  const said = (run.stderr.text.trim() || run.stdout.text.trim()).split('\n')[0];
  return said ? `${ended}, ${quoteOutput(said)}` : ended;
}
