// Reads the answer to POST /build: one JSON event per line ({stream}, {aux: {ID}}, {error,
// errorDetail}). The classic builder's `stream` text says "Step N/M : ...", " ---> Using cache" and
// " ---> <id>"; Podman's (Buildah's) says "[1/2] STEP N/M: ...", "--> Using cache <id>", "--> <id>"
// and "COMMIT". Pure: fed the chunks as they arrive, split anywhere, it does no I/O.
import { StringDecoder } from 'node:string_decoder';
import type { BuildStep } from '../engine.js';

/** Build log kept for the report, in characters; the builder's chatter beyond it is dropped. */
export const BUILD_LOG_CHARS = 256 * 1024;
/** Output lines kept per step. */
export const STEP_OUTPUT_LINES = 500;
/** The classic builder colours a RUN's stderr; the colour is not part of the log. */
const BUILDER_COLOUR = /\u001b\[[0-9;]*m/g;

// The builders' lines, shared with builder.ts (which tests a whole `stream` text with the `m` flag).
/** The classic builder: "Step 3/10 : RUN x"; the index counts across stages. */
export const CLASSIC_STEP_LINE = /^Step (\d+)\/\d+ : (.*)$/;
/** Buildah: "[1/2] STEP 2/6: RUN x", "STEP 1/3: FROM x" for one stage, "STEP 1: FROM x" in older versions; numbered per stage. */
export const BUILDAH_STEP_LINE = /^(?:\[\d+\/\d+\] )?STEP (\d+)(?:\/\d+)?: (.*)$/;
/** Buildah: a step taken from the cache, with the cached image's full id; "--> <short id>" follows. */
export const BUILDAH_USING_CACHE_LINE = /^--> Using cache [0-9a-f]{12,64}$/;
/** Buildah: the image a step made, as Podman prints it (11 hex characters in Podman 4). */
export const BUILDAH_PRODUCED_LINE = /^--> ([0-9a-f]{11,64})$/;
/** Buildah: the final step of the target stage is being committed ("COMMIT" or "[2/2] COMMIT [name]"). */
export const BUILDAH_COMMIT_LINE = /^(?:\[\d+\/\d+\] )?COMMIT(?: .*)?$/;
/** Buildah: the built image's full id, alone on a line after the last step's "--> <id>". */
const BUILDAH_IMAGE_LINE = /^[0-9a-f]{64}$/;

/** What the stream said. */
export interface BuildStreamSummary {
  steps: BuildStep[];
  /** The builder's text and its error, without colour, capped. */
  log: string;
  /** The last image the builder announced (aux.ID): the target's, when the build got that far. */
  imageId?: string;
  /** The builder's error event, e.g. a RUN that exited non-zero. */
  error?: string;
}

export interface BuildStreamCaps {
  logChars?: number;
  stepOutputLines?: number;
}

interface BuildEvent {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

export class BuildStreamParser {
  // Bytes to text across chunk boundaries: a character split between two chunks stays whole.
  private readonly decoder = new StringDecoder('utf8');
  private unfinishedEvent = '';
  // The builder sends "Step 1/4 : FROM x" and its "\n" as two events: lines are joined across them.
  private unfinishedLine = '';
  private readonly steps: BuildStep[] = [];
  // Which builder's lines the first step was in: each builder's other lines are read only then.
  private builder: 'classic' | 'buildah' | undefined;
  // Buildah numbers the steps of each stage from 1: the steps of the stages before, to count on from.
  private stageOffset = 0;
  private lastStageStep = 0;
  private log = '';
  private imageId: string | undefined;
  private error: string | undefined;
  private readonly logChars: number;
  private readonly stepOutputLines: number;

  constructor(caps: BuildStreamCaps = {}) {
    this.logChars = caps.logChars ?? BUILD_LOG_CHARS;
    this.stepOutputLines = caps.stepOutputLines ?? STEP_OUTPUT_LINES;
  }

  push(chunk: Buffer | string): void {
    this.unfinishedEvent += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const events = this.unfinishedEvent.split('\n');
    this.unfinishedEvent = events.pop()!;
    for (const event of events) this.onEvent(event);
  }

  /** The summary, once the stream has ended (or was cut off): what is left over is read too. */
  end(): BuildStreamSummary {
    this.onEvent(this.unfinishedEvent + this.decoder.end());
    this.unfinishedEvent = '';
    if (this.unfinishedLine) this.onLine(this.unfinishedLine);
    this.unfinishedLine = '';
    return { steps: this.steps, log: this.log, imageId: this.imageId, error: this.error };
  }

  private onEvent(raw: string): void {
    if (!raw.trim()) return;
    let event: BuildEvent;
    try {
      event = JSON.parse(raw) as BuildEvent;
    } catch {
      return;
    }
    if (typeof event.stream === 'string') {
      const text = event.stream.replace(BUILDER_COLOUR, '');
      this.note(text);
      const lines = (this.unfinishedLine + text).split('\n');
      this.unfinishedLine = lines.pop()!;
      for (const line of lines) this.onLine(line);
    }
    if (event.aux?.ID) this.imageId = event.aux.ID;
    if (event.error) {
      this.error = event.errorDetail?.message ?? event.error;
      this.note(`${this.error}\n`);
    }
  }

  private onLine(line: string): void {
    if (this.builder !== 'buildah') {
      const step = CLASSIC_STEP_LINE.exec(line);
      if (step) {
        this.builder = 'classic';
        this.steps.push({ index: Number(step[1]), instruction: step[2]!, cached: false, output: [] });
        return;
      }
    }
    if (this.builder !== 'classic') {
      const step = BUILDAH_STEP_LINE.exec(line);
      if (step) {
        this.builder = 'buildah';
        const inStage = Number(step[1]);
        // A stage starts again at step 1: the stage before it had lastStageStep steps.
        if (inStage <= this.lastStageStep) this.stageOffset += this.lastStageStep;
        this.lastStageStep = inStage;
        this.steps.push({ index: this.stageOffset + inStage, instruction: step[2]!, cached: false, output: [] });
        return;
      }
    }
    const current = this.steps.at(-1);
    if (!current) return;
    if (this.builder === 'buildah') {
      const produced = BUILDAH_PRODUCED_LINE.exec(line);
      if (produced) current.imageId = produced[1];
      else if (BUILDAH_USING_CACHE_LINE.test(line)) current.cached = true;
      // After a step's image, a lone full id is the image built, not the step's output.
      else if (BUILDAH_COMMIT_LINE.test(line) || (current.imageId && BUILDAH_IMAGE_LINE.test(line))) return;
      else if (current.output.length < this.stepOutputLines) current.output.push(line);
      return;
    }
    const produced = /^ ---> ([0-9a-f]{12,64})$/.exec(line);
    if (produced) current.imageId = produced[1];
    else if (line === ' ---> Using cache') current.cached = true;
    else if (current.output.length < this.stepOutputLines) current.output.push(line);
  }

  private note(text: string): void {
    if (this.log.length < this.logChars) this.log += text.slice(0, this.logChars - this.log.length);
  }
}

/** Reads a whole build stream, given as the chunks it arrived in. */
export function parseBuildStream(chunks: Iterable<Buffer | string>, caps?: BuildStreamCaps): BuildStreamSummary {
  const parser = new BuildStreamParser(caps);
  for (const chunk of chunks) parser.push(chunk);
  return parser.end();
}
