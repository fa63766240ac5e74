// Containers: a bounded run to completion (files copied in and out, output captured under caps),
// a detached start, and what can be asked of a running one (state, logs, processes, its root).
// Every container gets the grader's limits.
import type Docker from 'dockerode';
import type { ContainerTopResult, ContainerWaitResult } from 'dockerode';
import type { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { within } from '../bounds.js';
import { Demuxer, OutputCapture } from '../capture.js';
import {
  EngineError,
  type CapturedOutput,
  type ContainerState,
  type Limits,
  type ProcessList,
  type RunOutcome,
  type RunRequest,
  type StartRequest,
} from '../engine.js';
import type { EngineConnection } from './connection.js';
import { attachStartError, type Dialect } from './dialect.js';
import { asEngineError, engineCall, engineMessage, isNotFound } from './errors.js';

/** After a kill, how long the engine has to confirm the container stopped. */
const KILL_GRACE_MS = 10_000;
const COPY_OUT_BYTES = 64 * 1024 * 1024;
/** How long the attached output may take to end after the program has exited. */
const DRAIN_MS = 10_000;

function hostConfig(limits: Limits, options: { pidOf?: string; keepCapabilities?: boolean } = {}): Docker.HostConfig {
  return {
    NetworkMode: 'none',
    Memory: limits.memoryBytes,
    MemorySwap: limits.memoryBytes,
    PidsLimit: limits.pids,
    NanoCpus: Math.round(limits.cpus * 1e9),
    CapDrop: options.keepCapabilities ? [] : ['ALL'],
    SecurityOpt: ['no-new-privileges'],
    Privileged: false,
    PidMode: options.pidOf ? `container:${options.pidOf}` : '',
    LogConfig: { Type: 'json-file', Config: { 'max-size': String(limits.outputBytes), 'max-file': '1' } },
  };
}

/**
 * Runs a container to completion. The run's own timeout kills it; an engine that stops
 * answering meanwhile ends the run with an EngineError, never as a timeout of the program.
 */
export async function run(engine: EngineConnection, request: RunRequest): Promise<RunOutcome> {
  const watch = new AbortController();
  const stopWatching = engine.watch(`the run of ${request.name}`, (stall) => watch.abort(stall));
  try {
    return await runContained(engine, request, watch.signal);
  } finally {
    stopWatching();
  }
}

/** `watch` aborts, with the EngineError as its reason, when the engine stops answering. */
async function runContained(engine: EngineConnection, request: RunRequest, watch: AbortSignal): Promise<RunOutcome> {
  const started = Date.now();
  const stdout = new OutputCapture(request.limits.outputBytes);
  const stderr = new OutputCapture(request.limits.outputBytes);
  const container = await engine.create({
    name: request.name,
    Image: request.image,
    Cmd: request.cmd,
    Entrypoint: request.entrypoint,
    WorkingDir: request.workingDir,
    Labels: request.labels,
    Tty: false,
    OpenStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    NetworkDisabled: true,
    // Output is read from the attached stream; a log on the engine's disk would only cost.
    HostConfig: { ...hostConfig(request.limits, request), LogConfig: { Type: 'none', Config: {} } },
  });
  const outcome = (extra: Partial<RunOutcome>): RunOutcome => ({
    exitCode: null,
    stdout: stdout.result(),
    stderr: stderr.result(),
    timedOut: false,
    oomKilled: false,
    durationMs: Date.now() - started,
    ...extra,
  });
  let attached: Readable | undefined;
  let flooded = false;
  let failed = false;
  try {
    for (const { dir, tar } of request.copyIn ?? []) {
      await engineCall(() => container.putArchive(tar, { path: dir }));
    }
    try {
      attached = (await container.attach({ stream: true, stdout: true, stderr: true })) as unknown as Readable;
    } catch (error) {
      const startError = attachStartError(error);
      if (startError === undefined) throw asEngineError(error);
      return outcome({ startError });
    }
    const demuxer = new Demuxer(stdout, stderr);
    const stream = attached;
    stream.on('data', (chunk: Buffer) => {
      demuxer.push(chunk);
      // A flood past the caps is not read any further: the stream is closed (a paused one would
      // stall the engine), the engine discards the rest, and the timeout ends the program.
      if (!flooded && ((stdout.full && stderr.full) || stdout.bytes + stderr.bytes > 4 * request.limits.outputBytes)) {
        flooded = true;
        stream.destroy();
      }
    });
    const drained = new Promise<void>((resolve) => {
      attached!.once('end', resolve);
      attached!.once('close', resolve);
      attached!.once('error', () => resolve());
    });
    try {
      await startWatched(engine, container, request.limits.runTimeoutMs);
    } catch (error) {
      const converted = asEngineError(error);
      if (converted instanceof EngineError) throw converted;
      return outcome({ startError: engineMessage(error) });
    }
    const timedOut = await waitBounded(engine, container, request.limits.runTimeoutMs, request.signal, watch);
    // The output still on its way once the program has exited: under load (four engines on two
    // cores) it has taken over 2 s, and a cut stream reads as a program that printed nothing.
    if (!flooded) await within(drained, DRAIN_MS);
    if (watch.aborted) throw watch.reason;
    const state = (await engineCall(() => container.inspect())).State;
    let copied: Buffer | undefined;
    if (request.copyOut && !timedOut) copied = await copyOut(container, request.copyOut, watch);
    const oomKilled = memoryKilled(state, await engine.dialect(), timedOut);
    const result = outcome({ exitCode: state.ExitCode, timedOut, oomKilled, copied });
    return { ...result, startError: runtimeStartError(result) };
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    attached?.destroy();
    // The container carries the run's label: a removal that fails here (a busy engine still
    // killing a fork bomb's processes answers 500) is tried again by the run's cleanup, which
    // reports what it cannot remove. It must not fail a run that ended, nor hide why one failed.
    const removal = engine.removeContainer(container.id).catch(() => undefined);
    // A silent engine answers no removal, but carries it out if it wakes: sent, not waited for,
    // so no container holds up the error that ends grading.
    if (!(failed && engine.clock.isSilent)) await removal;
  }
}

/**
 * Starts a container. The program's time starts once the engine answers; a start still
 * unanswered after the run timeout asks whether the engine is there at all, and throws the
 * EngineError if not, instead of waiting out the engine timeout.
 */
async function startWatched(engine: EngineConnection, container: Docker.Container, timeoutMs: number): Promise<void> {
  const starting = container.start() as Promise<unknown>;
  let answered = false;
  await within(
    starting.finally(() => (answered = true)),
    timeoutMs,
  );
  if (!answered) {
    const stall = await engine.stalledAt('the run');
    if (stall) throw stall;
  }
  await starting;
}

/**
 * Waits for a container to exit; past the timeout (or on abort) kills it. True when killed.
 * Throws the EngineError when `watch` fires, or when the engine is silent as the timeout fires.
 */
async function waitBounded(
  engine: EngineConnection,
  container: Docker.Container,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  watch: AbortSignal,
): Promise<boolean> {
  const stopWaiting = new AbortController();
  const waiting = container.wait({ abortSignal: stopWaiting.signal }) as Promise<ContainerWaitResult>;
  waiting.catch(() => undefined);
  // A plain timer: on Node 20 an AbortSignal.timeout() inside AbortSignal.any() can be garbage
  // collected before it fires.
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const expired = new Promise<'expired' | 'stalled'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), timeoutMs);
    onAbort = () => resolve(watch.aborted ? 'stalled' : 'expired');
    if (signal?.aborted || watch.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    watch.addEventListener('abort', onAbort, { once: true });
  });
  let first: 'exited' | 'expired' | 'stalled';
  try {
    try {
      first = await Promise.race([
        waiting.then(
          () => 'exited' as const,
          (error) => Promise.reject(asEngineError(error)),
        ),
        expired,
      ]);
    } finally {
      clearTimeout(timer);
      if (onAbort) {
        signal?.removeEventListener('abort', onAbort);
        watch.removeEventListener('abort', onAbort);
      }
    }
    if (first === 'exited') return false;
    if (first === 'stalled') throw watch.reason;
    if (!signal?.aborted) {
      const stall = await engine.stalledAt('the run');
      if (stall) throw stall;
    }
    await container.kill({ signal: 'SIGKILL' }).catch((error: unknown) => {
      // "is not running": it ended on its own meanwhile.
      const converted = asEngineError(error);
      if (converted instanceof EngineError) throw converted;
    });
    await within(
      waiting.catch(() => undefined),
      KILL_GRACE_MS,
    );
    return true;
  } finally {
    stopWaiting.abort();
  }
}

async function copyOut(container: Docker.Container, path: string, watch: AbortSignal): Promise<Buffer | undefined> {
  let archive: Readable | undefined;
  const onStall = () => archive?.destroy(watch.reason);
  watch.addEventListener('abort', onStall, { once: true });
  try {
    archive = (await container.getArchive({ path })) as unknown as Readable;
    if (watch.aborted) onStall();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of archive) {
      size += chunk.length;
      if (size > COPY_OUT_BYTES) {
        archive.destroy();
        return undefined;
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw asEngineError(error);
  } finally {
    watch.removeEventListener('abort', onStall);
  }
}

export async function start(engine: EngineConnection, request: StartRequest): Promise<{ id: string; startError?: string }> {
  const container = await engine.create({
    name: request.name,
    Image: request.image,
    Cmd: request.cmd,
    Labels: request.labels,
    Tty: false,
    OpenStdin: false,
    NetworkDisabled: true,
    HostConfig: hostConfig(request.limits),
  });
  try {
    await container.start();
    return { id: container.id };
  } catch (error) {
    const converted = asEngineError(error);
    if (converted instanceof EngineError) throw converted;
    return { id: container.id, startError: engineMessage(error) };
  }
}

export async function inspectContainer(engine: EngineConnection, id: string): Promise<ContainerState> {
  const { State } = await engineCall(() => engine.docker.getContainer(id).inspect());
  const oomKilled = memoryKilled(State, await engine.dialect(), false);
  return { running: State.Running, status: State.Status, exitCode: State.ExitCode, oomKilled, error: State.Error ?? '' };
}

export async function logs(engine: EngineConnection, id: string, limits: Limits): Promise<{ stdout: CapturedOutput; stderr: CapturedOutput }> {
  const stdout = new OutputCapture(limits.outputBytes);
  const stderr = new OutputCapture(limits.outputBytes);
  const raw = (await engineCall(() => engine.docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false }))) as unknown as Buffer;
  new Demuxer(stdout, stderr).push(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)));
  return { stdout: stdout.result(), stderr: stderr.result() };
}

export async function top(engine: EngineConnection, id: string): Promise<ProcessList> {
  const { topArgs } = await engine.dialect();
  const container = engine.docker.getContainer(id);
  const result = (await engineCall(() => (topArgs ? container.top({ ps_args: topArgs }) : container.top()))) as ContainerTopResult;
  return { titles: result.Titles ?? [], processes: result.Processes ?? [] };
}

export async function exportListing(engine: EngineConnection, id: string): Promise<string[]> {
  const archive = (await engineCall(() => engine.docker.getContainer(id).export())) as unknown as Readable;
  const entries = new Set<string>();
  const reader = extract();
  reader.on('entry', (header, body, next) => {
    const top = header.name.replace(/^\.?\//, '').split('/')[0];
    if (top) entries.add(top);
    body.on('end', next);
    body.resume();
  });
  const stopWatching = engine.watch(`the export of container ${id.slice(0, 12)}`, (stall) => archive.destroy(stall));
  try {
    await new Promise<void>((resolve, reject) => {
      reader.on('finish', resolve);
      reader.on('error', reject);
      archive.on('error', reject);
      archive.pipe(reader);
    });
  } catch (error) {
    throw asEngineError(error);
  } finally {
    stopWatching();
  }
  return [...entries].sort();
}

/**
 * Whether the kernel killed the program for memory: the engine says so, or, where it cannot
 * (Podman), the program was SIGKILLed (exit 137) and the grader did not do it.
 */
function memoryKilled(state: { OOMKilled: boolean; ExitCode: number; Running: boolean }, dialect: Dialect, killedByUs: boolean): boolean {
  if (state.OOMKilled || dialect.reportsOom) return state.OOMKilled;
  return !state.Running && !killedByUs && state.ExitCode === 137;
}

/**
 * A program that could not be executed inside the container (a dynamically linked binary in a
 * scratch image, a binary for another architecture) still "starts": runc reports the exec failure
 * on stderr with a non-zero exit. Recognise it so graders can explain it.
 */
function runtimeStartError(run: RunOutcome): string | undefined {
  if (run.exitCode === 0 || run.stdout.bytes > 0) return undefined;
  const line = run.stderr.text.trim().split('\n')[0] ?? '';
  return /^(exec \S+|.*exec user process caused): (no such file or directory|exec format error|permission denied)/i.test(line) ? line : undefined;
}
