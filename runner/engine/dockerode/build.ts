// Builds an image with the classic builder, bounded by the build timeout and the engine watchdog;
// what the builder says is read by build-stream.ts.
import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import { EngineError, type BuildOutcome, type BuildRequest } from '../engine.js';
import { BuildStreamParser } from './build-stream.js';
import { BuilderWitness, classicBuilderRefusal } from './builder.js';
import type { EngineConnection } from './connection.js';
import { asEngineError, engineMessage } from './errors.js';

export async function build(engine: EngineConnection, request: BuildRequest): Promise<BuildOutcome> {
  const dialect = await engine.dialect();
  // Each step's processes get at most the CPU time the build could use before its timeout: where
  // closing the request does not stop a step (Podman), a busy loop still ends on its own.
  const cpuSeconds = Math.ceil((request.limits.buildTimeoutMs / 1000) * Math.max(1, request.limits.cpus));
  const started = Date.now();
  const abort = new AbortController();
  // Past the build timeout, a silent engine is the machine's fault, not the Dockerfile's.
  const timer = setTimeout(() => void engine.stalledAt('the build').then((stall) => abort.abort(stall ?? new Error('timeout'))), request.limits.buildTimeoutMs);
  const stopWatching = engine.watch('the build', (stall) => abort.abort(stall));
  const onOuterAbort = () => abort.abort(request.signal?.reason);
  // Already stopped (a step beside this one failed while it waited for its turn): the request,
  // made with an aborted signal, ends at once instead of building on an engine that may be gone.
  if (request.signal?.aborted) onOuterAbort();
  else request.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const parser = new BuildStreamParser();
  // Which builder answered: BuildKit, or none the parser can follow, is an EngineError, not a grade.
  const witness = new BuilderWitness();
  /** Why the build ended outside the stream: refused, timed out, interrupted. */
  let stopped: string | undefined;
  try {
    const stream = (await engine.docker.buildImage(
      request.context as unknown as NodeJS.ReadableStream,
      {
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
        ulimits: dialect.buildUlimits([{ name: 'cpu', soft: cpuSeconds, hard: cpuSeconds }]),
        abortSignal: abort.signal,
      } as Docker.ImageBuildOptions,
    )) as Readable;
    for await (const chunk of stream) {
      parser.push(chunk as Buffer);
      const notClassic = witness.push(chunk as Buffer);
      // Stop BuildKit at once: closing the request cancels the build on the engine.
      if (notClassic) {
        abort.abort(notClassic);
        break;
      }
    }
  } catch (failure) {
    if (abort.signal.reason instanceof EngineError) throw abort.signal.reason;
    if (abort.signal.aborted) {
      stopped = request.signal?.aborted
        ? 'grading was interrupted'
        : `build timed out after ${Math.round(request.limits.buildTimeoutMs / 1000)} s and was stopped${
            dialect.cancelsBuilds ? '' : ` (the engine runs the step it was in to its end, with at most ${cpuSeconds} s of CPU)`
          }`;
    } else {
      const refused = classicBuilderRefusal(failure);
      if (refused) throw refused;
      const converted = asEngineError(failure);
      if (converted instanceof EngineError) throw converted;
      stopped = engineMessage(failure);
    }
  } finally {
    clearTimeout(timer);
    stopWatching();
    request.signal?.removeEventListener('abort', onOuterAbort);
  }
  const summary = parser.end();
  const notClassic = witness.end(summary, stopped);
  if (notClassic) throw notClassic;
  const { steps, log, imageId, error: builderError } = summary;
  const error = stopped ?? builderError;
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
