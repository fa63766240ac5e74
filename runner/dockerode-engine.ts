// The DockerEngine interface over the Engine API, with dockerode. Every container it creates gets
// the grader's limits; engine trouble (unreachable, permission, API version, going away) becomes
// an EngineError that says what to do.
import Docker from 'dockerode';
import type { ContainerTopResult, ContainerWaitResult } from 'dockerode';
import type { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { Demuxer, OutputCapture } from './capture.js';
import {
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

/** How long the engine has to answer a first ping before we call it unreachable. */
const PING_TIMEOUT_MS = 10_000;
/** Past a run's timeout, how long the kill may take before the run is abandoned and removed. */
const FALLBACK_GRACE_MS = 30_000;
/** After a kill, how long the engine has to confirm the container stopped. */
const KILL_GRACE_MS = 10_000;
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

function where(): string {
  return process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
}

/** Turns transport and version failures into EngineErrors; other errors pass through. */
export function asEngineError(error: unknown): unknown {
  const failure = error as DockerodeError;
  const code = failure?.code;
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

/** The engine named by DOCKER_HOST (docker-modem reads it), at DOCKER_API_VERSION when set. */
function dockerFromEnvironment(): Docker {
  const version = process.env.DOCKER_API_VERSION?.trim();
  return new Docker(version ? { version: `v${version.replace(/^v/, '')}` } : undefined);
}

export class DockerodeEngine implements DockerEngine {
  constructor(private readonly docker: Docker = dockerFromEnvironment()) {}

  async info(): Promise<EngineInfo> {
    let timer: NodeJS.Timeout | undefined;
    const silent = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new EngineError(`the Docker engine at ${where()} did not answer within ${PING_TIMEOUT_MS / 1000} s`, 'Check that Docker is running and responsive (`docker info`).')),
        PING_TIMEOUT_MS,
      );
    });
    const version = await engineCall(() => Promise.race([this.docker.version(), silent])).finally(() => clearTimeout(timer));
    return { version: version.Version, apiVersion: version.ApiVersion, os: version.Os, arch: version.Arch };
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
    let stream: Readable;
    try {
      stream = (await this.docker.pull(ref, { abortSignal: signal })) as Readable;
    } catch (error) {
      const converted = asEngineError(error);
      throw converted instanceof EngineError ? converted : new Error(engineMessage(error), { cause: error });
    }
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(
        stream,
        (error: Error | null, events: { error?: string }[]) => {
          const failed = error ?? events.find((event) => event.error);
          if (failed) reject(new Error(error ? engineMessage(error) : String((failed as { error: string }).error).trim()));
          else resolve();
        },
        (event: PullProgress) => onProgress?.(event),
      );
    });
  }

  async build(request: BuildRequest): Promise<BuildOutcome> {
    const started = Date.now();
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error('timeout')), request.limits.buildTimeoutMs);
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
      if (line === ' ---> Using cache') current.cached = true;
      else if (current.output.length < 500) current.output.push(line);
    };
    try {
      const stream = (await this.docker.buildImage(request.context as unknown as NodeJS.ReadableStream, {
        dockerfile: request.dockerfile,
        t: request.tag,
        target: request.target ?? '',
        labels: request.labels,
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
      if (abort.signal.aborted) {
        error = request.signal?.aborted ? 'grading was interrupted' : `build timed out after ${Math.round(request.limits.buildTimeoutMs / 1000)} s and was stopped`;
      } else {
        const converted = asEngineError(failure);
        if (converted instanceof EngineError) throw converted;
        error = engineMessage(failure);
      }
    } finally {
      clearTimeout(timer);
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
   * Runs a container to completion. The run's own timeout kills it; should the engine not answer
   * the kill, an outer fallback gives up on it, removes it by name and reports a timeout.
   */
  async run(request: RunRequest): Promise<RunOutcome> {
    const fallbackMs = request.limits.runTimeoutMs + FALLBACK_GRACE_MS;
    let timer: NodeJS.Timeout | undefined;
    const contained = this.runContained(request);
    const fallback = new Promise<RunOutcome>((resolve) => {
      timer = setTimeout(() => {
        contained.catch(() => undefined);
        void this.removeContainer(request.name).catch(() => undefined);
        const nothing = new OutputCapture(0).result();
        resolve({ exitCode: null, stdout: nothing, stderr: nothing, timedOut: true, oomKilled: false, durationMs: fallbackMs });
      }, fallbackMs);
    });
    try {
      return await Promise.race([contained, fallback]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async runContained(request: RunRequest): Promise<RunOutcome> {
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
      const timedOut = await this.waitBounded(container, request.limits.runTimeoutMs, request.signal);
      if (!flooded) await within(drained, 2000);
      const state = (await engineCall(() => container.inspect())).State;
      let copied: Buffer | undefined;
      if (request.copyOut && !timedOut) copied = await this.copyOut(container, request.copyOut);
      const result = outcome({ exitCode: state.ExitCode, timedOut, oomKilled: state.OOMKilled, copied });
      return { ...result, startError: runtimeStartError(result) };
    } finally {
      attached?.destroy();
      await this.removeContainer(container.id);
    }
  }

  /** Waits for a container to exit; past the timeout (or on abort) kills it. True when killed. */
  private async waitBounded(container: Docker.Container, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const waiting = container.wait() as Promise<ContainerWaitResult>;
    waiting.catch(() => undefined);
    // A plain timer: on Node 20 an AbortSignal.timeout() inside AbortSignal.any() can be garbage
    // collected before it fires, and the run would then wait for the outer fallback.
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), timeoutMs);
      onAbort = () => resolve('expired');
      if (signal?.aborted) resolve('expired');
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    let first: 'exited' | 'expired';
    try {
      first = await Promise.race([waiting.then(() => 'exited' as const, (error) => Promise.reject(asEngineError(error))), expired]);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
    if (first === 'exited') return false;
    await container.kill({ signal: 'SIGKILL' }).catch(() => undefined);
    await within(waiting.catch(() => undefined), KILL_GRACE_MS);
    return true;
  }

  private async copyOut(container: Docker.Container, path: string): Promise<Buffer | undefined> {
    try {
      const archive = (await container.getArchive({ path })) as unknown as Readable;
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
    await new Promise<void>((resolve, reject) => {
      reader.on('finish', resolve);
      reader.on('error', reject);
      archive.on('error', reject);
      archive.pipe(reader);
    });
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

  async removeImage(ref: string, owner?: { key: string; value: string }): Promise<void> {
    let parent: string | undefined;
    try {
      parent = (await this.docker.getImage(ref).inspect()).Parent || undefined;
      await this.docker.getImage(ref).remove({ noprune: true });
    } catch (error) {
      if (isNotFound(error)) return;
      throw asEngineError(error);
    }
    // The classic builder makes one image per label; those carrying this run's label are ours.
    while (owner && parent) {
      const image = await this.docker.getImage(parent).inspect().catch(() => undefined);
      if (!image || image.Config?.Labels?.[owner.key] !== owner.value || (image.RepoTags ?? []).some((tag) => tag !== '<none>:<none>')) return;
      parent = image.Parent || undefined;
      try {
        await this.docker.getImage(image.Id).remove({ noprune: true });
      } catch (error) {
        const converted = asEngineError(error);
        if (converted instanceof EngineError) throw converted;
        return; // still a parent of another image: it stays as that image's cache
      }
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
