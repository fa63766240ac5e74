// The DockerEngine interface over the Engine API, with dockerode. Every container it creates gets
// the grader's limits; engine trouble (unreachable, permission, API version, going away) becomes
// an EngineError that says what to do.
import Docker from 'dockerode';
import type { ContainerTopResult, ContainerWaitResult } from 'dockerode';
import type { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { Demuxer, OutputCapture } from './capture.js';
import {
  DEFAULT_ENGINE_TIMEOUT_MS,
  EngineError,
  type BuildOutcome,
  type BuildRequest,
  type BuildStep,
  type ContainerState,
  type DockerEngine,
  type EngineInfo,
  type ImageInfo,
  type Labels,
  type Limits,
  type OurObjects,
  type ProcessList,
  type PullProgress,
  type RunOutcome,
  type RunRequest,
  type StartRequest,
} from './engine.js';
import { answersWithin, boundRequests, EngineClock, EngineStall, watchEngine } from './bounds.js';

/** When a build or run times out, how long the engine has to answer the ping that tells its fault from ours. */
const TIMEOUT_PING_MS = 5000;
/** After a kill, how long the engine has to confirm the container stopped. */
const KILL_GRACE_MS = 10_000;
/** A pull is the engine's to bound, but one that trickles on forever must still end. */
const PULL_TIMEOUT_MS = 15 * 60_000;
/** Build logs kept for the report; the builder's own chatter beyond this is dropped. */
const BUILD_LOG_BYTES = 256 * 1024;
const COPY_OUT_BYTES = 64 * 1024 * 1024;
const BUILDER_COLOUR = /\u001b\[[0-9;]*m/g;

interface DockerodeError extends Error {
  statusCode?: number;
  code?: string;
  json?: { message?: string };
  reason?: string;
}

/** The engine's endpoint as the user named it (docker-modem reads DOCKER_HOST the same way). */
export function where(): string {
  return process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
}

/** Turns transport and version failures into EngineErrors; other errors pass through. */
export function asEngineError(error: unknown): unknown {
  if (error instanceof EngineError) return error;
  const failure = error as DockerodeError;
  const code = failure?.code;
  if (error instanceof EngineStall) {
    return new EngineError(`the Docker engine at ${where()} stopped answering (${error.message})`, STALLED_ADVICE, { cause: error });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    const host = (failure as DockerodeError & { hostname?: string }).hostname ?? where();
    return new EngineError(
      `DOCKER_HOST=${where()} names host ${host}, which does not resolve (${code})`,
      'Check the host name in DOCKER_HOST (and your network or DNS), or unset DOCKER_HOST to use the local engine.',
      { cause: error },
    );
  }
  if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ETIMEDOUT') {
    return new EngineError(
      `cannot reach the Docker engine at ${where()} (${code})`,
      'Start Docker (Docker Desktop, or `sudo systemctl start docker` / `sudo dockerd &`), or point DOCKER_HOST at a running engine.',
      { cause: error },
    );
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new EngineError(
      `permission denied on the Docker socket ${where()}`,
      'Add your user to the docker group (`sudo usermod -aG docker $USER`, then log in again), or run grade with sudo.',
      { cause: error },
    );
  }
  if (code === 'ECONNRESET' || code === 'EPIPE' || /socket hang up/i.test(failure?.message ?? '')) {
    return new EngineError(
      `the Docker engine at ${where()} went away during grading (${code ?? 'socket hang up'})`,
      'Check that Docker is running and has not restarted, then grade again.',
      { cause: error },
    );
  }
  const message = engineMessage(error);
  if (failure?.statusCode === 400 && /client version .* too (new|old)|minimum supported API version/i.test(message)) {
    return new EngineError(`the Docker engine refused our API version: ${message}`, 'Update Docker, or set DOCKER_API_VERSION to a version the engine supports.', { cause: error });
  }
  if (/no space left on device/i.test(message)) {
    return new EngineError(`the Docker engine ran out of disk space: ${message}`, 'Free space with `docker system prune` (and `grade clean`), then grade again.', { cause: error });
  }
  return error;
}

const STALLED_ADVICE =
  'Check `docker info`: if it hangs too, restart Docker (`sudo systemctl restart docker`, or restart Docker Desktop). ' +
  'Then run `grade clean` to remove what this run left, and grade again. A slow but working engine can be given longer with --engine-timeout.';

/** The engine's own message for an API error, without dockerode's "(HTTP code 404) ..." prefix. */
export function engineMessage(error: unknown): string {
  const failure = error as DockerodeError;
  const message = failure?.json?.message ?? failure?.message ?? failure?.reason ?? String(error);
  return String(message).replace(/^\(HTTP code \d+\)\s*[\w ]*-\s*/, '').trim();
}

function isNotFound(error: unknown): boolean {
  return (error as DockerodeError)?.statusCode === 404;
}

async function engineCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw asEngineError(error);
  }
}

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

const HOST_ADVICE =
  'Set DOCKER_HOST to unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://USER@HOST (npipe:////./pipe/docker_engine on Windows), or unset it to use the local engine.';

/** Why DOCKER_HOST cannot name an engine, or undefined when it can (docker-modem reads it). */
export function dockerHostProblem(value: string | undefined, platform: NodeJS.Platform = process.platform): string | undefined {
  if (!value) return undefined;
  // Without a scheme it is host:port, read as tcp:// (as docker-modem and the docker CLI do).
  const address = value.includes('://') ? value : `tcp://${value}`;
  const scheme = /^([^:/]*):\/\//.exec(address)?.[1]?.toLowerCase();
  if (scheme === 'unix') return undefined;
  if (scheme === 'npipe') return platform === 'win32' ? undefined : 'npipe:// works only on Windows';
  if (scheme !== 'tcp' && scheme !== 'ssh') return `${scheme ? `${scheme}://` : 'an empty scheme'} is not a scheme Docker uses`;
  let host = '';
  try {
    host = new URL(address).hostname;
  } catch {
    return 'it is not a valid address';
  }
  return host ? undefined : 'it names no host';
}

/** Why DOCKER_API_VERSION is malformed, or undefined when it is unset or well-formed. */
export function apiVersionProblem(value: string | undefined): string | undefined {
  if (!value?.trim()) return undefined;
  return /^v?\d+\.\d+$/.test(value.trim()) ? undefined : 'expected a version such as 1.41';
}

/** The engine named by DOCKER_HOST, at DOCKER_API_VERSION when set; both are checked first. */
function dockerFromEnvironment(): Docker {
  const host = process.env.DOCKER_HOST;
  const hostProblem = dockerHostProblem(host);
  if (hostProblem) throw new EngineError(`DOCKER_HOST=${host} is not an engine address: ${hostProblem}`, HOST_ADVICE);
  const version = process.env.DOCKER_API_VERSION;
  const versionProblem = apiVersionProblem(version);
  if (versionProblem) {
    throw new EngineError(
      `DOCKER_API_VERSION=${version}: ${versionProblem}`,
      'Set DOCKER_API_VERSION to an API version the engine supports (`docker version` shows it), or unset it to use the engine\'s own.',
    );
  }
  const trimmed = version?.trim();
  return new Docker(trimmed ? { version: `v${trimmed.replace(/^v/, '')}` } : undefined);
}

/** An answer from something at DOCKER_HOST that is not a Docker engine (a web server, another protocol). */
function notAnEngine(detail: string, cause?: unknown): EngineError {
  return new EngineError(
    `the service at ${where()} answered, but not as a Docker engine (${detail})`,
    'Point DOCKER_HOST at a Docker engine (its socket, or the TCP port dockerd listens on), or unset it to use the local engine.',
    { cause },
  );
}

function asFirstAnswer(error: unknown): unknown {
  const converted = asEngineError(error);
  if (converted instanceof EngineError) return converted;
  const failure = error as DockerodeError;
  if (failure?.statusCode !== undefined) {
    const said = engineMessage(error).split('\n')[0]!.slice(0, 80);
    return notAnEngine(`HTTP ${failure.statusCode} to GET /version${said ? `: ${said}` : ''}`, error);
  }
  if (failure?.code?.startsWith('HPE_')) return notAnEngine(`its answer is not HTTP: ${failure.code}`, error);
  return error;
}

export interface DockerodeEngineOptions {
  /** The engine to talk to; by default the one DOCKER_HOST names. */
  docker?: Docker;
  /** How long any request may go unanswered (the --engine-timeout flag). */
  timeoutMs?: number;
}

export class DockerodeEngine implements DockerEngine {
  private readonly docker: Docker;
  private readonly clock: EngineClock;

  constructor(options: DockerodeEngineOptions = {}) {
    this.docker = options.docker ?? dockerFromEnvironment();
    this.clock = new EngineClock(options.timeoutMs ?? DEFAULT_ENGINE_TIMEOUT_MS);
    boundRequests(this.docker.modem, this.clock);
  }

  // @types/dockerode types ping() without options; dockerode passes abortSignal on to the request.
  private ping = (signal: AbortSignal) => (this.docker.ping as (options: { abortSignal: AbortSignal }) => Promise<unknown>).call(this.docker, { abortSignal: signal });

  /** Calls `onStall` with an EngineError when the engine stops answering; returns the stop function. */
  private watch(what: string, onStall: (error: EngineError) => void): () => void {
    return watchEngine(this.ping, this.clock, `pings during ${what}`, (stall) => onStall(asEngineError(stall) as EngineError));
  }

  /** Whether the engine still answers, asked when a build or run timed out: if not, the fault is not the submission's. */
  private async stalledAt(what: string): Promise<EngineError | undefined> {
    if (await answersWithin(this.ping, TIMEOUT_PING_MS)) return undefined;
    this.clock.silent();
    return asEngineError(new EngineStall(`${what} timed out, and a ping`, TIMEOUT_PING_MS)) as EngineError;
  }

  async info(): Promise<EngineInfo> {
    let version: Docker.DockerVersion;
    let system: { NCPU?: number };
    try {
      // One after the other: a failed first answer then leaves no second request pending.
      version = await this.docker.version();
      if (typeof version?.ApiVersion !== 'string') throw notAnEngine('its answer to GET /version is not a Docker version');
      system = await this.docker.info();
    } catch (error) {
      throw asFirstAnswer(error);
    }
    return { version: version.Version, apiVersion: version.ApiVersion, os: version.Os, arch: version.Arch, cpus: system?.NCPU };
  }

  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    try {
      const image = await this.docker.getImage(ref).inspect();
      return { id: image.Id, sizeBytes: image.Size };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw asEngineError(error);
    }
  }

  async pull(ref: string, onProgress?: (progress: PullProgress) => void, signal?: AbortSignal): Promise<void> {
    const abort = new AbortController();
    let stalled: EngineError | undefined;
    let timedOut = false;
    const onOuterAbort = () => abort.abort(signal?.reason);
    if (signal?.aborted) abort.abort(signal.reason);
    else signal?.addEventListener('abort', onOuterAbort, { once: true });
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, PULL_TIMEOUT_MS);
    const stopWatching = this.watch(`the pull of ${ref}`, (error) => {
      stalled = error;
      abort.abort(error);
    });
    try {
      const stream = (await this.docker.pull(ref, { abortSignal: abort.signal })) as Readable;
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          stream.destroy();
          reject(new Error('the pull was stopped'));
        };
        if (abort.signal.aborted) onAbort();
        abort.signal.addEventListener('abort', onAbort, { once: true });
        this.docker.modem.followProgress(
          stream,
          (error: Error | null, events: { error?: string }[]) => {
            abort.signal.removeEventListener('abort', onAbort);
            const failed = error ?? events.find((event) => event.error);
            if (failed) reject(new Error(error ? engineMessage(error) : String((failed as { error: string }).error).trim(), { cause: error ?? undefined }));
            else resolve();
          },
          (event: PullProgress) => onProgress?.(event),
        );
      });
    } catch (error) {
      if (stalled) throw stalled;
      if (timedOut) throw new Error(`the pull of ${ref} did not finish within ${PULL_TIMEOUT_MS / 60_000} min`, { cause: error });
      const converted = asEngineError(error instanceof Error && error.cause ? error.cause : error);
      throw converted instanceof EngineError ? converted : new Error(engineMessage(error), { cause: error });
    } finally {
      clearTimeout(timer);
      stopWatching();
      signal?.removeEventListener('abort', onOuterAbort);
    }
  }

  async build(request: BuildRequest): Promise<BuildOutcome> {
    const started = Date.now();
    const abort = new AbortController();
    // Past the build timeout, a silent engine is the machine's fault, not the Dockerfile's.
    const timer = setTimeout(() => void this.stalledAt('the build').then((stall) => abort.abort(stall ?? new Error('timeout'))), request.limits.buildTimeoutMs);
    const stopWatching = this.watch('the build', (stall) => abort.abort(stall));
    const onOuterAbort = () => abort.abort(request.signal?.reason);
    request.signal?.addEventListener('abort', onOuterAbort);
    const steps: BuildStep[] = [];
    let log = '';
    let error: string | undefined;
    let imageId: string | undefined;
    const note = (text: string) => {
      if (log.length < BUILD_LOG_BYTES) log += text.slice(0, BUILD_LOG_BYTES - log.length);
    };
    const onLine = (line: string) => {
      const step = /^Step (\d+)\/\d+ : (.*)$/.exec(line);
      if (step) {
        steps.push({ index: Number(step[1]), instruction: step[2]!, cached: false, output: [] });
        return;
      }
      const current = steps.at(-1);
      if (!current) return;
      const produced = /^ ---> ([0-9a-f]{12,64})$/.exec(line);
      if (produced) current.imageId = produced[1];
      else if (line === ' ---> Using cache') current.cached = true;
      else if (current.output.length < 500) current.output.push(line);
    };
    try {
      const stream = (await this.docker.buildImage(request.context as unknown as NodeJS.ReadableStream, {
        // No tag and no labels: either would add images of the grader's own (the classic builder
        // makes one LABEL step per label), and a regrade would no longer be served from the cache.
        dockerfile: request.dockerfile,
        target: request.target ?? '',
        rm: true,
        forcerm: true,
        pull: false,
        version: '1',
        networkmode: request.limits.buildNetwork,
        memory: request.limits.memoryBytes,
        memswap: request.limits.memoryBytes,
        cpuquota: Math.round(request.limits.cpus * 100_000),
        cpuperiod: 100_000,
        abortSignal: abort.signal,
      } as Docker.ImageBuildOptions)) as Readable;
      let partial = '';
      let pendingText = '';
      for await (const chunk of stream) {
        partial += chunk.toString('utf8');
        const lines = partial.split('\n');
        partial = lines.pop()!;
        for (const raw of lines) {
          if (!raw.trim()) continue;
          let event: { stream?: string; error?: string; errorDetail?: { message?: string }; aux?: { ID?: string } };
          try {
            event = JSON.parse(raw);
          } catch {
            continue;
          }
          if (event.stream !== undefined) {
            // The classic builder colours a RUN's stderr; the colour is not part of the log.
            const text = event.stream.replace(BUILDER_COLOUR, '');
            note(text);
            pendingText += text;
            const complete = pendingText.split('\n');
            pendingText = complete.pop()!;
            complete.forEach(onLine);
          }
          if (event.aux?.ID) imageId = event.aux.ID;
          if (event.error) {
            error = event.errorDetail?.message ?? event.error;
            note(`${error}\n`);
          }
        }
      }
      if (pendingText) onLine(pendingText);
    } catch (failure) {
      if (abort.signal.reason instanceof EngineError) throw abort.signal.reason;
      if (abort.signal.aborted) {
        error = request.signal?.aborted ? 'grading was interrupted' : `build timed out after ${Math.round(request.limits.buildTimeoutMs / 1000)} s and was stopped`;
      } else {
        const converted = asEngineError(failure);
        if (converted instanceof EngineError) throw converted;
        error = engineMessage(failure);
      }
    } finally {
      clearTimeout(timer);
      stopWatching();
      request.signal?.removeEventListener('abort', onOuterAbort);
    }
    const ok = error === undefined && imageId !== undefined;
    return {
      ok,
      imageId: ok ? imageId : undefined,
      steps,
      log,
      error: ok ? undefined : (error ?? 'the build ended without producing an image'),
      timedOut: abort.signal.aborted && !request.signal?.aborted,
      durationMs: Date.now() - started,
    };
  }

  private async create(options: Docker.ContainerCreateOptions): Promise<Docker.Container> {
    return engineCall(() => this.docker.createContainer(options));
  }

  /**
   * Runs a container to completion. The run's own timeout kills it; an engine that stops
   * answering meanwhile ends the run with an EngineError, never as a timeout of the program.
   */
  async run(request: RunRequest): Promise<RunOutcome> {
    const watch = new AbortController();
    const stopWatching = this.watch(`the run of ${request.name}`, (stall) => watch.abort(stall));
    try {
      return await this.runContained(request, watch.signal);
    } finally {
      stopWatching();
    }
  }

  /** `watch` aborts, with the EngineError as its reason, when the engine stops answering. */
  private async runContained(request: RunRequest, watch: AbortSignal): Promise<RunOutcome> {
    const started = Date.now();
    const stdout = new OutputCapture(request.limits.outputBytes);
    const stderr = new OutputCapture(request.limits.outputBytes);
    const container = await this.create({
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
      attached = (await engineCall(() => container.attach({ stream: true, stdout: true, stderr: true }))) as unknown as Readable;
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
        await container.start();
      } catch (error) {
        const converted = asEngineError(error);
        if (converted instanceof EngineError) throw converted;
        return outcome({ startError: engineMessage(error) });
      }
      const timedOut = await this.waitBounded(container, request.limits.runTimeoutMs, request.signal, watch);
      if (!flooded) await within(drained, 2000);
      if (watch.aborted) throw watch.reason;
      const state = (await engineCall(() => container.inspect())).State;
      let copied: Buffer | undefined;
      if (request.copyOut && !timedOut) copied = await this.copyOut(container, request.copyOut, watch);
      const result = outcome({ exitCode: state.ExitCode, timedOut, oomKilled: state.OOMKilled, copied });
      return { ...result, startError: runtimeStartError(result) };
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      attached?.destroy();
      // A removal that fails after the run failed must not hide why the run failed.
      await this.removeContainer(container.id).catch((error: unknown) => {
        if (!failed) throw error;
      });
    }
  }

  /**
   * Waits for a container to exit; past the timeout (or on abort) kills it. True when killed.
   * Throws the EngineError when `watch` fires, or when the engine is silent as the timeout fires.
   */
  private async waitBounded(container: Docker.Container, timeoutMs: number, signal: AbortSignal | undefined, watch: AbortSignal): Promise<boolean> {
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
        first = await Promise.race([waiting.then(() => 'exited' as const, (error) => Promise.reject(asEngineError(error))), expired]);
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
        const stall = await this.stalledAt('the run');
        if (stall) throw stall;
      }
      await container.kill({ signal: 'SIGKILL' }).catch((error: unknown) => {
        // "is not running": it ended on its own meanwhile.
        const converted = asEngineError(error);
        if (converted instanceof EngineError) throw converted;
      });
      await within(waiting.catch(() => undefined), KILL_GRACE_MS);
      return true;
    } finally {
      stopWaiting.abort();
    }
  }

  private async copyOut(container: Docker.Container, path: string, watch: AbortSignal): Promise<Buffer | undefined> {
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

  async start(request: StartRequest): Promise<{ id: string; startError?: string }> {
    const container = await this.create({
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

  async inspectContainer(id: string): Promise<ContainerState> {
    const { State } = await engineCall(() => this.docker.getContainer(id).inspect());
    return { running: State.Running, status: State.Status, exitCode: State.ExitCode, oomKilled: State.OOMKilled, error: State.Error ?? '' };
  }

  async logs(id: string, limits: Limits) {
    const stdout = new OutputCapture(limits.outputBytes);
    const stderr = new OutputCapture(limits.outputBytes);
    const raw = (await engineCall(() =>
      this.docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false }),
    )) as unknown as Buffer;
    new Demuxer(stdout, stderr).push(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)));
    return { stdout: stdout.result(), stderr: stderr.result() };
  }

  async top(id: string): Promise<ProcessList> {
    const result = (await engineCall(() => this.docker.getContainer(id).top())) as ContainerTopResult;
    return { titles: result.Titles ?? [], processes: result.Processes ?? [] };
  }

  async exportListing(id: string): Promise<string[]> {
    const archive = (await engineCall(() => this.docker.getContainer(id).export())) as unknown as Readable;
    const entries = new Set<string>();
    const reader = extract();
    reader.on('entry', (header, body, next) => {
      const top = header.name.replace(/^\.?\//, '').split('/')[0];
      if (top) entries.add(top);
      body.on('end', next);
      body.resume();
    });
    const stopWatching = this.watch(`the export of container ${id.slice(0, 12)}`, (stall) => archive.destroy(stall));
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

  async pathsPresent(image: string, paths: string[], labels: Labels = {}): Promise<string[]> {
    // Created, never started: the archive API reads the image's filesystem without running it.
    const container = await this.create({ Image: image, Cmd: ['/grade-probe-never-runs'], Labels: labels, NetworkDisabled: true });
    try {
      const present: string[] = [];
      for (const path of paths) {
        try {
          // A HEAD (infoArchive) leaves its socket open when the path exists: ask for the
          // archive and drop it unread once the engine has answered.
          const archive = (await container.getArchive({ path })) as unknown as Readable;
          archive.destroy();
          present.push(path);
        } catch (error) {
          if (!isNotFound(error)) throw asEngineError(error);
        }
      }
      return present;
    } finally {
      await this.removeContainer(container.id);
    }
  }

  async removeContainer(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (error) {
      if (isNotFound(error) || /already in progress/i.test(engineMessage(error))) return;
      throw asEngineError(error);
    }
  }

  async tagImage(id: string, repoTag: string): Promise<void> {
    const colon = repoTag.lastIndexOf(':');
    const [repo, tag] = colon > repoTag.lastIndexOf('/') ? [repoTag.slice(0, colon), repoTag.slice(colon + 1)] : [repoTag, 'latest'];
    await engineCall(() => this.docker.getImage(id).tag({ repo, tag }));
  }

  async removeImage(ref: string, options: { keepTagged?: boolean } = {}): Promise<'removed' | 'absent' | 'in-use'> {
    try {
      if (options.keepTagged && ((await this.docker.getImage(ref).inspect()).RepoTags ?? []).some((tag) => tag !== '<none>:<none>')) return 'in-use';
      await this.docker.getImage(ref).remove({ noprune: true });
      return 'removed';
    } catch (error) {
      if (isNotFound(error)) return 'absent';
      // 409: a container, a child image or another repository still uses it.
      if ((error as DockerodeError)?.statusCode === 409) return 'in-use';
      throw asEngineError(error);
    }
  }

  async listOurs(labelFilter: string): Promise<OurObjects> {
    const filters = JSON.stringify({ label: [labelFilter] });
    const [containers, images] = await engineCall(() =>
      Promise.all([this.docker.listContainers({ all: true, filters }), this.docker.listImages({ filters })]),
    );
    return {
      containers: containers.map((container) => ({ id: container.Id, name: (container.Names[0] ?? '').replace(/^\//, ''), labels: container.Labels ?? {} })),
      images: images.map((image) => ({ id: image.Id, tags: (image.RepoTags ?? []).filter((tag) => tag !== '<none>:<none>'), labels: image.Labels ?? {} })),
    };
  }
}

/** Waits for `promise`, but no longer than `ms`; leaves no timer behind either way. */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
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
