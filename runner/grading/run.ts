// Grades one submission against one exercise: runs each step's actions, then its checks, in
// order, and gathers every verdict into one ExerciseResult. A submission's faults become failed,
// skipped or errored checks; only the grader's own world failing (EngineError) stops the run.
import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { CheckContext, Verdict } from '../../graders/types.js';
import { perform, wait, type ActionEnv } from './actions.js';
import { EngineError, type DockerEngine, type EngineInfo, type Limits } from '../engine/engine.js';
import type { Outcome, OutcomeByKind } from '../../graders/outcomes.js';
import { SCHEMA_VERSION, summarize, type CheckResult, type ExerciseResult, type ImageFact, type ImageResult, type StepResult } from '../results.js';
import type { ImageLedger } from './image-ledger.js';
import { GradingSession, type BuildWitness } from './session.js';
import { StepEvents, runSteps, stepPrerequisites } from './schedule.js';
import { graderOf } from '../../graders/index.js';
import type { Check, Exercise, Need, Step } from '../spec/loader.js';
import { singleLine } from '../text/plain.js';
import { version } from '../version.js';

export type RunEvent =
  | { type: 'step-start'; step: Step; dirLabel: string }
  | { type: 'activity'; step: Step; text: string }
  | { type: 'check'; step: Step; result: CheckResult }
  | { type: 'step-end'; step: Step; result: StepResult }
  | { type: 'cleanup-problem'; text: string };

export interface GradeOptions {
  exercise: Exercise;
  submissionDir: string;
  engine: DockerEngine;
  limits: Limits;
  /** Tag the images built (grade-<run>-<name>) so they can be inspected afterwards. */
  keepImages?: boolean;
  /** What the engine said of itself, when the caller asked already. */
  engineInfo?: EngineInfo;
  /** Where the images builds create are written down, for `grade clean --cache`. */
  ledger?: ImageLedger;
  /** Told of every build's images (a batch removes a student's own layers afterwards). */
  witness?: BuildWitness;
  onEvent?: (event: RunEvent) => void;
  signal?: AbortSignal;
  /** How the run waits out a started container's settle time; a real timer unless a test says otherwise. */
  wait?: (ms: number, signal: AbortSignal) => Promise<void>;
  runId?: string;
  /**
   * No step folder outside this one is graded (batch grading: a student's `../scratch` must not
   * be a classmate's). Unset, a step may look beside the submission, as a student's own machine
   * lays the exercise out (~/multi and ~/scratch).
   */
  confineTo?: string;
  /** Who the submission is, in labels and in the results (default: its folder's name). */
  submissionName?: string;
  /** How many steps may run at the same time, of those that use nothing of each other (default STEPS_AT_ONCE). */
  stepsAtOnce?: number;
}

/**
 * Steps at once, when they use nothing of each other: the multi exercise's compile, its
 * large-small builds and its scratch step. Their builds of one folder take turns, and a started
 * container's settle second uses no CPU, so two cores are not oversubscribed for long.
 */
export const STEPS_AT_ONCE = 3;

/** The run stopped because its signal fired (Ctrl+C, SIGTERM); what it created is gone. */
export class GradingInterrupted extends Error {
  constructor() {
    super('grading was interrupted');
    this.name = 'GradingInterrupted';
  }
}

export async function grade(options: GradeOptions): Promise<ExerciseResult> {
  const { exercise, engine, limits, onEvent = () => {} } = options;
  const signal = options.signal ?? new AbortController().signal;
  // Resolved once: `--dir` may be a link to the folder. Links inside it are judged where they are read.
  const submissionDir = await realpath(path.resolve(options.submissionDir)).catch(() => path.resolve(options.submissionDir));
  const confineTo = options.confineTo && (await realpath(path.resolve(options.confineTo)).catch(() => path.resolve(options.confineTo!)));
  const startedAt = new Date();
  const engineInfo = options.engineInfo ?? (await engine.info());
  const submissionName = options.submissionName ?? (path.basename(submissionDir) || submissionDir);
  const session = new GradingSession(engine, exercise.id, submissionName, {
    runId: options.runId,
    keepImages: options.keepImages,
    ledger: options.ledger,
    witness: options.witness,
  });
  const outcomes = new Map<string, Outcome>();
  /** The images each step built, in the order built. */
  const built: ImageFact[][] = exercise.steps.map(() => []);
  /** The tightest size bound a check set on each image built. */
  const maxBytes = new Map<ImageFact, number>();
  const exerciseDir = path.resolve(exercise.dir);
  const ended: (StepResult | undefined)[] = [];
  const events = new StepEvents<RunEvent>(exercise.steps.length, onEvent);
  // One step failing for the grader's world (or Ctrl+C) stops the steps running beside it.
  const run = new AbortController();
  const stop = () => run.abort();
  if (signal.aborted) stop();
  signal.addEventListener('abort', stop, { once: true });

  const gradeStep = async (index: number): Promise<void> => {
    const step = exercise.steps[index]!;
    if (run.signal.aborted) throw new GradingInterrupted();
    const { dir, dirLabel, dirShown } = await resolveStepDir(submissionDir, step.dirs, confineTo);
    const emit = (event: RunEvent) => events.emit(index, event);
    emit({ type: 'step-start', step, dirLabel });
    const stepStarted = Date.now();
    const done = ended.filter((result) => result !== undefined);
    const stepBlocked = unmetNeed(step.needs, step, done, []);
    const env: ActionEnv = {
      engine,
      limits,
      session,
      step: step.id,
      dir,
      dirLabel: dirShown,
      outcomes,
      images: built[index]!,
      signal: run.signal,
      activity: (text) => emit({ type: 'activity', step, text }),
      wait: options.wait ?? wait,
      settling: [],
    };
    for (const action of step.actions) {
      outcomes.set(action.name, stepBlocked ? { ok: false, reason: stepBlocked } : await perform(action, env));
      if (run.signal.aborted) throw new GradingInterrupted();
    }
    // A started container's settle time overlaps the actions after it (a helper image's build).
    await Promise.all(env.settling);
    if (run.signal.aborted) throw new GradingInterrupted();
    const context: CheckContext = {
      engine,
      limits,
      dir,
      dirLabel: dirShown,
      signal: run.signal,
      outcome: <K extends keyof OutcomeByKind>(_kind: K, name: string) => outcomes.get(name) as OutcomeByKind[K],
      helper: (purpose) => ({ name: session.helperName(purpose), labels: session.labels }),
    };
    const checks: CheckResult[] = [];
    for (const check of step.checks) {
      const { result, imageBound } = await runCheck(check, step, context, stepBlocked ?? unmetNeed(check.needs, step, done, checks), outcomes, exerciseDir);
      if (run.signal.aborted) throw new GradingInterrupted();
      // The bound is on the image the check saw: the latest built under that name (this step's, or a prerequisite's).
      const bounded = imageBound && built.flat().findLast((image) => image.name === imageBound.image);
      if (bounded) maxBytes.set(bounded, Math.min(imageBound.maxBytes, maxBytes.get(bounded) ?? Infinity));
      checks.push(result);
      emit({ type: 'check', step, result });
    }
    const result: StepResult = {
      id: step.id,
      title: step.title,
      required: !step.bonus,
      dir: dir ? path.relative(submissionDir, dir) || '.' : undefined,
      checks,
      durationMs: Date.now() - stepStarted,
    };
    ended[index] = result;
    emit({ type: 'step-end', step, result });
    events.end(index);
  };

  try {
    await runSteps(stepPrerequisites(exercise.steps), Math.max(1, options.stepsAtOnce ?? STEPS_AT_ONCE), gradeStep, stop);
  } finally {
    signal.removeEventListener('abort', stop);
    const problems = await session.cleanup().catch((error: Error) => [error.message]);
    for (const text of problems) onEvent({ type: 'cleanup-problem', text });
  }
  const steps = ended.filter((result) => result !== undefined);
  return {
    schemaVersion: SCHEMA_VERSION,
    exercise: exercise.id,
    exerciseFolder: path.basename(exerciseDir),
    title: exercise.title,
    ...summarize(steps),
    steps,
    images: built.flat().map((image): ImageResult => (maxBytes.has(image) ? { ...image, maxBytes: maxBytes.get(image) } : image)),
    submission: submissionDir,
    submissionId: singleLine(submissionName),
    runId: session.runId,
    grader: { name: 'grade', version },
    engine: engineInfo,
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
  };
}

/** A check's place in its spec, as the results give it: relative to the exercise's folder. */
function sourceOf(check: Check, exerciseDir: string): CheckResult['source'] {
  const file = path.relative(exerciseDir, path.resolve(check.source.file)).split(path.sep).join('/');
  return { file, line: check.source.line };
}

type CheckRun = { result: CheckResult; imageBound?: Verdict['imageBound'] };

async function runCheck(
  check: Check,
  step: Step,
  context: CheckContext,
  blocked: string | undefined,
  outcomes: Map<string, Outcome>,
  exerciseDir: string,
): Promise<CheckRun> {
  const started = Date.now();
  const base = {
    id: check.id,
    title: check.title,
    kind: check.kind,
    maxPoints: check.points,
    required: !step.bonus,
    hint: check.hint,
    source: sourceOf(check, exerciseDir),
  };
  const failedUses = check.uses.flatMap((use) => {
    const outcome = outcomes.get(use.name);
    return outcome && !outcome.ok ? [{ use, outcome }] : [];
  });
  if (blocked) return only({ ...base, status: 'skip', points: 0, message: `skipped: ${blocked}`, hint: undefined, durationMs: 0 });
  // The grading machine could not provide what the check needs: no verdict, and no hint for the student.
  const unjudged = failedUses.find(({ outcome }) => outcome.environment);
  if (unjudged) return only({ ...base, status: 'error', points: 0, message: `not judged: ${unjudged.outcome.reason}`, hint: undefined, durationMs: 0 });
  const unusable = failedUses.find(({ use }) => !use.reportsFailure);
  if (unusable) return only({ ...base, status: 'skip', points: 0, message: `skipped: ${unusable.outcome.reason}`, hint: undefined, durationMs: 0 });
  try {
    const verdict = await graderOf(check.kind).run(check.options, context);
    const result: CheckResult = {
      ...base,
      status: verdict.status,
      points: verdict.status === 'pass' ? check.points : 0,
      message: verdict.message,
      hint: verdict.status === 'pass' ? undefined : (verdict.hint ?? check.hint),
      expected: verdict.expected,
      actual: verdict.actual,
      log: verdict.log,
      logKind: verdict.logKind,
      location: verdict.location,
      durationMs: Date.now() - started,
    };
    return { result, imageBound: verdict.imageBound };
  } catch (error) {
    if (error instanceof EngineError || context.signal.aborted) throw error;
    // The grader's failure, not the student's: no hint about their work.
    return only({
      ...base,
      status: 'error',
      points: 0,
      message: `the grader could not complete this check: ${(error as Error).message}`,
      hint: undefined,
      durationMs: Date.now() - started,
    });
  }
}

const only = (result: CheckResult): CheckRun => ({ result });

/** Why a `needs` list is not met, or undefined when every prerequisite passed. */
function unmetNeed(needs: Need[], step: Step, done: StepResult[], sameStep: CheckResult[]): string | undefined {
  for (const need of needs) {
    // The loader resolved each need to a step (this one, or an earlier one) and perhaps a check.
    const checks = need.step === step.id ? sameStep : (done.find((result) => result.id === need.step)?.checks ?? []);
    const unmet = checks.find((result) => (need.check === undefined || result.id === need.check) && result.status !== 'pass');
    if (unmet) {
      return `needs ${need.step}/${unmet.id} (${unmet.title}), which ${unmet.status === 'fail' ? 'failed' : unmet.status === 'skip' ? 'was skipped' : 'could not be checked'}`;
    }
  }
  return undefined;
}

/** The folder a step grades (undefined: none of its candidates exists), as the student sees it named. */
export interface StepDir {
  dir: string | undefined;
  dirLabel: string;
  dirShown: string;
}

/**
 * The first candidate that is a real folder (not a link) inside the resolved submission is
 * graded; with `confineTo`, only one that lies within it, links along the way resolved.
 */
export async function resolveStepDir(submission: string, candidates: string[], confineTo?: string): Promise<StepDir> {
  const label = (candidate: string) => (candidate === '.' ? 'the submission folder' : `${candidate.replace(/\/$/, '')}/`);
  const within = async (dir: string) => {
    if (confineTo === undefined) return true;
    const real = await realpath(dir).catch(() => undefined);
    return real !== undefined && isInside(confineTo, real);
  };
  for (const candidate of candidates) {
    const dir = path.resolve(submission, candidate);
    if ((await lstat(dir).catch(() => undefined))?.isDirectory() && (await within(dir))) {
      return { dir, dirLabel: label(candidate), dirShown: candidate === '.' ? '' : label(candidate) };
    }
  }
  const all = candidates.map(label).join(' or ');
  return { dir: undefined, dirLabel: all, dirShown: all };
}

const isInside = (root: string, target: string) => {
  const relative = path.relative(root, target);
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
};
