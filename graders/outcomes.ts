// What a step's actions leave behind for its checks: built images, compiled programs, finished
// runs and detached containers, each either done or failed with a reason a student can act on.
import type { BuildOutcome, CapturedOutput, ImageInfo, RunOutcome } from '../runner/engine/engine.js';

export interface Failed {
  ok: false;
  /** One sentence: why this action has nothing to offer, e.g. "image small did not build". */
  reason: string;
  /**
   * The cause lies with the grading machine (no registry reachable for a base image), not the
   * submission: checks that depend on this cannot be judged and end as `error`, with no hint.
   */
  environment?: boolean;
}

export interface BuiltImage extends Pick<ImageInfo, 'listedSizeBytes' | 'listedSizeWhy'> {
  ok: true;
  ref: string;
  id: string;
  sizeBytes: number;
  dockerfile: string;
  target?: string;
  build: BuildOutcome;
}

/** A build that was attempted (or refused before it started) and failed. */
export interface FailedBuild extends Failed {
  /** Replaces the check's hint where the cause is known, e.g. a base image that does not exist. */
  hint?: string;
  dockerfile?: string;
  target?: string;
  build?: BuildOutcome;
}

export interface CompiledProgram {
  ok: true;
  /** The image the compiler ran in; the program runs there too. */
  image: string;
  command: string[];
  compiler: RunOutcome;
  /** Tar archive of the produced binary, when the compiler produced one. */
  binary?: Buffer;
  binaryPath: string;
}

export interface FinishedRun {
  ok: true;
  image: string;
  command: string[];
  run: RunOutcome;
}

export interface StartedContainer {
  ok: true;
  id: string;
  image: string;
  /** The engine refused to start it (the program could not be executed). */
  startError?: string;
  logs?: { stdout: CapturedOutput; stderr: CapturedOutput };
}

export interface OutcomeByKind {
  build: BuiltImage | FailedBuild;
  compile: CompiledProgram | Failed;
  run: FinishedRun | Failed;
  start: StartedContainer | Failed;
}

export type ActionKind = keyof OutcomeByKind;
export type Outcome = OutcomeByKind[ActionKind];
