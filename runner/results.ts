// The one shape every run produces. Reports are pure functions of an ExerciseResult; the exit
// code is derived from it here, never by a reporter.

export type CheckStatus = 'pass' | 'fail' | 'skip' | 'error';

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

/** A measurement worth charting: the images a run built and their sizes. */
export interface ImageFact {
  name: string;
  step: string;
  sizeBytes: number;
}

export interface ExerciseResult {
  exercise: string;
  title: string;
  score: number;
  maxScore: number;
  /** Every check of every required step passed. */
  passed: boolean;
  steps: StepResult[];
  images: ImageFact[];
  submission: string;
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

export function summarize(steps: StepResult[]): Pick<ExerciseResult, 'score' | 'maxScore' | 'passed'> {
  const checks = steps.flatMap((step) => step.checks);
  return {
    score: checks.reduce((sum, check) => sum + check.points, 0),
    maxScore: checks.reduce((sum, check) => sum + check.maxPoints, 0),
    passed: checks.every((check) => !check.required || check.status === 'pass'),
  };
}

/** A required check that could not be judged (status `error`) means the grade is not known: 2. */
export function exitCodeOf(result: ExerciseResult): number {
  const required = result.steps.flatMap((step) => step.checks).filter((check) => check.required);
  if (required.some((check) => check.status === 'error')) return EXIT.cannotGrade;
  return result.passed ? EXIT.passed : EXIT.failed;
}
