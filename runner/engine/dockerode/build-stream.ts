// Reads the classic builder's answer to POST /build: one JSON event per line ({stream},
// {aux: {ID}}, {error, errorDetail}), whose `stream` text says "Step N/M : ...", " ---> Using cache"
// and " ---> <id>". Pure: fed the chunks as they arrive, split anywhere, it does no I/O.
import { StringDecoder } from 'node:string_decoder';
import type { BuildStep } from '../engine.js';

/** Build log kept for the report, in characters; the builder's chatter beyond it is dropped. */
export const BUILD_LOG_CHARS = 256 * 1024;
/** Output lines kept per step. */
export const STEP_OUTPUT_LINES = 500;
/** The classic builder colours a RUN's stderr; the colour is not part of the log. */
const BUILDER_COLOUR = /\u001b\[[0-9;]*m/g;

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
    const step = /^Step (\d+)\/\d+ : (.*)$/.exec(line);
    if (step) {
      this.steps.push({ index: Number(step[1]), instruction: step[2]!, cached: false, output: [] });
      return;
    }
    const current = this.steps.at(-1);
    if (!current) return;
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
