// The one shape every run produces. Reports are pure functions of an ExerciseResult; the exit
// code is derived from it here, never by a reporter.

/** Bumped when a field changes meaning or goes away; new optional fields keep it. */
export const SCHEMA_VERSION = 1;

export type CheckStatus = 'pass' | 'fail' | 'skip' | 'error';

/** What a check's log holds, so a report can name it without knowing the grader that wrote it. */
export type LogKind = 'build' | 'compiler' | 'program';

/** Where a check is written: its spec file, relative to the exercise's folder, and its line. */
export interface SourceRef {
  file: string;
  line: number;
}

/**
 * A place in the submission a failure points at: a file relative to the submission folder, with
 * '/' between folders (`scratch/Dockerfile`, or `../scratch/Dockerfile` for a step folder beside
 * it), never a path of the grading machine; its line and, when known, column, counting from 1.
 */
export interface SubmissionLocation {
  file: string;
  line: number;
  column?: number;
}

export interface CheckResult {
  id: string;
  title: string;
  kind: string;
  status: CheckStatus;
  points: number;
  maxPoints: number;
  /** False for bonus steps: their checks add points but never fail the run. */
  required: boolean;
  message: string;
  hint?: string;
  expected?: string;
  actual?: string;
  /** Build log or program output that explains a failure, already capped in size. */
  log?: string;
  /** What `log` holds; set with it. */
  logKind?: LogKind;
  source: SourceRef;
  /** Where in the student's files the failure points (a Dockerfile instruction, a compiler diagnostic); distinct from `source`. */
  location?: SubmissionLocation;
  durationMs: number;
}

export interface StepResult {
  id: string;
  title: string;
  required: boolean;
  /** The folder graded for this step, relative to the submission ("." for the submission). */
  dir?: string;
  checks: CheckResult[];
  durationMs: number;
}

/** A measurement worth charting: an image a run built, its size, and whose it is. */
export interface ImageFact {
  name: string;
  step: string;
  sizeBytes: number;
  /** Built only for the grader's use (a toolchain to compile in, a tools image), not the student's work. */
  helper: boolean;
}

/** An image as the results carry it: its facts, and the bound a check set on it. */
export interface ImageResult extends ImageFact {
  /** The most it may weigh, when a check set a bound (the tightest of them). */
  maxBytes?: number;
}

export interface ExerciseResult {
  schemaVersion: typeof SCHEMA_VERSION;
  exercise: string;
  /** The name of the exercise's folder, which `source.file` of each check is relative to. */
  exerciseFolder: string;
  title: string;
  score: number;
  maxScore: number;
  /** Every check of every required step passed. */
  passed: boolean;
  steps: StepResult[];
  images: ImageResult[];
  /** The submission folder's absolute path on the grading machine. */
  submission: string;
  /** The same on any machine: the submission folder's name, on one line. */
  submissionId: string;
  runId: string;
  grader: { name: 'grade'; version: string };
  engine?: { version: string; apiVersion: string; os: string; arch: string; cpus?: number };
  startedAt: string;
  durationMs: number;
}

export const EXIT = {
  passed: 0,
  failed: 1,
  cannotGrade: 2,
  interrupted: 130,
  terminated: 143,
} as const;

/** Points earned and available in one step, bonus or not. */
export function stepTotals(step: StepResult): { points: number; maxPoints: number } {
  return {
    points: step.checks.reduce((sum, check) => sum + check.points, 0),
    maxPoints: step.checks.reduce((sum, check) => sum + check.maxPoints, 0),
  };
}

/** Every check passed. A bonus step is passed or not by the same rule; it just cannot fail the run. */
export function stepPassed(step: StepResult): boolean {
  return step.checks.every((check) => check.status === 'pass');
}

export function summarize(steps: StepResult[]): Pick<ExerciseResult, 'score' | 'maxScore' | 'passed'> {
  const totals = steps.map(stepTotals);
  return {
    score: totals.reduce((sum, step) => sum + step.points, 0),
    maxScore: totals.reduce((sum, step) => sum + step.maxPoints, 0),
    passed: steps.every((step) => !step.required || stepPassed(step)),
  };
}

/** A required check that could not be judged (status `error`) means the grade is not known: 2. */
export function exitCodeOf(result: ExerciseResult): number {
  const required = result.steps.flatMap((step) => step.checks).filter((check) => check.required);
  if (required.some((check) => check.status === 'error')) return EXIT.cannotGrade;
  return result.passed ? EXIT.passed : EXIT.failed;
}
