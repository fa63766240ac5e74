// The contract every grader kind fulfils: a name, the fields it reads from a check in a spec, the
// actions it depends on, and a `run` that turns them into a verdict.
import type { DockerEngine, Labels, Limits } from '../runner/engine/engine.js';
import type { ActionKind, OutcomeByKind } from './outcomes.js';
import type { Fields, InferFields } from '../runner/spec/shapes.js';

export type VerdictStatus = 'pass' | 'fail' | 'error';

export interface Verdict {
  status: VerdictStatus;
  message: string;
  expected?: string;
  actual?: string;
  log?: string;
  /** Replaces the spec's hint when the grader knows better, e.g. "link it statically". */
  hint?: string;
}

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
  /** How the step's folder is shown to the student, e.g. "scratch/" or "../scratch/". */
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

export const pass = (message: string, extra: Omit<Verdict, 'status' | 'message'> = {}): Verdict => ({ status: 'pass', message, ...extra });
export const fail = (message: string, extra: Omit<Verdict, 'status' | 'message'> = {}): Verdict => ({ status: 'fail', message, ...extra });
