// The contract every grader kind fulfils: a name, the fields it reads from a check in a spec, the
// actions it depends on, and a `run` that turns them into a verdict.
import type { DockerEngine, Labels, Limits } from '../runner/engine/engine.js';
import type { ActionKind, OutcomeByKind } from './outcomes.js';
import type { Fields, InferFields } from '../runner/spec/shapes.js';
import type { LogKind, SubmissionLocation } from '../runner/results.js';
import path from 'node:path';

export type VerdictStatus = 'pass' | 'fail' | 'error';

/** Output that explains the verdict, and what it holds so a report can name it: both or neither. */
export type Logged = { log?: undefined; logKind?: undefined } | { log: string; logKind: LogKind };

interface VerdictFields {
  status: VerdictStatus;
  message: string;
  expected?: string;
  actual?: string;
  /** A bound this check set on an image's size, for reports to draw. */
  imageBound?: { image: string; maxBytes: number };
  /** Replaces the spec's hint when the grader knows better, e.g. "link it statically". */
  hint?: string;
  /** The line of the student's file the failure points at, relative to the submission (see locationIn). */
  location?: SubmissionLocation;
}

export type Verdict = VerdictFields & Logged;
type VerdictExtra = Omit<VerdictFields, 'status' | 'message'> & Logged;

export interface ActionUse {
  kind: ActionKind;
  name: string;
  /** The grader reports this action's failure itself instead of being skipped. */
  reportsFailure?: boolean;
}

export interface CheckContext {
  engine: DockerEngine;
  limits: Limits;
  /** Absolute folder graded by this step; undefined when none of its candidate folders exists. */
  dir: string | undefined;
  /**
   * How the step's folder is shown to the student, e.g. "scratch/" or "../scratch/": when `dir`
   * exists, its path relative to the submission with a trailing '/' ("" for the submission itself).
   */
  dirLabel: string;
  outcome<K extends ActionKind>(kind: K, name: string): OutcomeByKind[K];
  /** A name and labels for a helper container this check starts (removed by the run). */
  helper(purpose: string): { name: string; labels: Labels };
  signal: AbortSignal;
}

export interface GraderKind<F extends Fields = Fields> {
  kind: string;
  summary: string;
  fields: F;
  uses(options: InferFields<F>): ActionUse[];
  run(options: InferFields<F>, context: CheckContext): Promise<Verdict>;
}

export function defineGrader<F extends Fields>(grader: GraderKind<F>): GraderKind<F> {
  return grader;
}

export const pass = (message: string, extra: VerdictExtra = {}): Verdict => ({ status: 'pass', message, ...extra });
export const fail = (message: string, extra: VerdictExtra = {}): Verdict => ({ status: 'fail', message, ...extra });

/** A log and what it holds, or nothing when there is no text to show. */
export const logOf = (kind: LogKind, text: string | undefined): Logged => (text ? { log: text, logKind: kind } : {});

/**
 * A line of `file` in the step's folder as a place in the submission: the folder's label
 * (`scratch/`, `../scratch/` or empty) joined to the file, '/'-separated and normalized.
 */
export function locationIn(dirLabel: string, file: string, line: number, column?: number): SubmissionLocation {
  const joined = path.posix.normalize(`${dirLabel}${file.split(path.sep).join('/')}`);
  return column === undefined ? { file: joined, line } : { file: joined, line, column };
}
