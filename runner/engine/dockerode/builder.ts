// Which builder answered POST /build. grade asks for the classic builder (version=1) because only
// its stream names each step's image and cache hit; an engine that answers with BuildKit, refuses
// version 1, or builds without a step the parser can follow is the grader's world failing, not
// the submission: an EngineError (exit 2), never a grade. docs/builder.md has the whole story.
import { StringDecoder } from 'node:string_decoder';
import { EngineError } from '../engine.js';
import { BUILDAH_STEP_LINE, type BuildStreamSummary, CLASSIC_STEP_LINE } from './build-stream.js';
import { type DockerodeError, engineMessage, shownAddress } from './errors.js';

/**
 * What the stream showed: `classic` a "Step N/M : " line; `buildkit` a `moby.buildkit.trace` (or
 * `moby.image.id` before any classic step); `buildah` Podman's "STEP N/M: " or "[1/2] STEP N/M: ";
 * `unknown` none of them (yet).
 */
export type BuilderKind = 'classic' | 'buildkit' | 'buildah' | 'unknown';

/** The engine cannot run the classic builder; `imageId` is what it built anyway, for the caller to remove. */
export class ClassicBuilderMissing extends EngineError {
  constructor(
    message: string,
    advice: string,
    readonly builder: BuilderKind,
    readonly imageId?: string,
    options?: { cause?: unknown },
  ) {
    super(message, advice, options);
    this.name = 'ClassicBuilderMissing';
  }
}

const ADVICE =
  "grade reads the classic builder's output, which names each step's image and cache hit (BuildKit's does not). Check the engine with `DOCKER_BUILDKIT=0 docker build .` " +
  'in a folder with a Dockerfile: if it says the legacy builder is not there, point DOCKER_HOST at a Docker Engine that has it (grade is tested on Docker Engine 20.10 and 26). ' +
  "grade's README (the builder) says why, and what BuildKit support would take.";

// The parser's line patterns, tried on each line of a `stream` text.
const CLASSIC_STEP = new RegExp(CLASSIC_STEP_LINE.source, 'm');
const BUILDAH_STEP = new RegExp(BUILDAH_STEP_LINE.source, 'm');
// What a refusal of version=1 would say: today's engines answer "invalid version X" to a version
// they lack; a future one may name the builder it no longer has.
const REFUSAL = /\binvalid (?:builder )?version\b|\b(?:classic|legacy) builder\b|\bbuilder version\b|\bbuildkit (?:is )?required\b|\brequires buildkit\b/i;

interface StreamEvent {
  id?: unknown;
  stream?: unknown;
  aux?: unknown;
}

/** Watches the build stream, fed the same chunks as the parser, and says which builder it is. */
export class BuilderWitness {
  private readonly decoder = new StringDecoder('utf8');
  private unfinished = '';
  private seen: BuilderKind = 'unknown';

  get kind(): BuilderKind {
    return this.seen;
  }

  /** Reads a chunk; returns the error to stop the build with as soon as BuildKit is seen. */
  push(chunk: Buffer | string): ClassicBuilderMissing | undefined {
    // Once the classic builder has shown a step, nothing later changes the answer: stop reading.
    if (this.seen === 'classic') return undefined;
    this.unfinished += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const events = this.unfinished.split('\n');
    this.unfinished = events.pop()!;
    for (const event of events) this.onEvent(event);
    return this.seen === 'buildkit' ? buildKitAnswered() : undefined;
  }

  /**
   * After the stream: the error to throw instead of returning the outcome, or undefined. `stopped`
   * says the build was cut off (timeout, interrupt), when the stream proves nothing.
   */
  end(summary: Pick<BuildStreamSummary, 'steps' | 'imageId' | 'error'>, stopped?: string): ClassicBuilderMissing | undefined {
    if (this.seen !== 'classic') this.onEvent(this.unfinished + this.decoder.end());
    this.unfinished = '';
    if (this.seen === 'buildkit') return buildKitAnswered(summary.imageId);
    if (this.seen !== 'unknown' || stopped !== undefined) return undefined;
    // An image and no step: the classic builder prints "Step 1/N" for any Dockerfile it builds.
    if (summary.imageId !== undefined && summary.error === undefined && summary.steps.length === 0) {
      return new ClassicBuilderMissing(
        `the Docker engine at ${shownAddress()} built the image, but its answer is not the classic builder's: no "Step N/M" line in it`,
        ADVICE,
        'unknown',
        summary.imageId,
      );
    }
    return undefined;
  }

  private onEvent(raw: string): void {
    if (this.seen === 'classic' || !raw.trim()) return;
    let event: StreamEvent;
    try {
      event = JSON.parse(raw) as StreamEvent;
    } catch {
      return;
    }
    if (typeof event !== 'object' || event === null) return;
    if (event.id === 'moby.buildkit.trace') this.seen = 'buildkit';
    // The classic builder sends moby.image.id only for --squash, after its steps; grade never squashes.
    else if (event.id === 'moby.image.id' && this.seen === 'unknown') this.seen = 'buildkit';
    else if (typeof event.stream === 'string' && this.seen !== 'buildkit') {
      if (CLASSIC_STEP.test(event.stream)) this.seen = 'classic';
      else if (this.seen === 'unknown' && BUILDAH_STEP.test(event.stream)) this.seen = 'buildah';
    }
  }
}

function buildKitAnswered(imageId?: string): ClassicBuilderMissing {
  return new ClassicBuilderMissing(
    `the Docker engine at ${shownAddress()} answered the build with BuildKit (a moby.buildkit.trace message), not the classic builder grade asked for (API build version 1)`,
    ADVICE,
    'buildkit',
    imageId,
  );
}

/** A refusal of POST /build?version=1 before any stream, as an EngineError; undefined for any other failure. */
export function classicBuilderRefusal(failure: unknown): ClassicBuilderMissing | undefined {
  const status = (failure as DockerodeError)?.statusCode;
  if (status === undefined || status < 400) return undefined;
  const message = engineMessage(failure);
  if (!REFUSAL.test(message)) return undefined;
  return new ClassicBuilderMissing(
    `the Docker engine at ${shownAddress()} refused the classic builder (API build version 1) with HTTP ${status}: ${message}`,
    ADVICE,
    'unknown',
    undefined,
    { cause: failure },
  );
}
