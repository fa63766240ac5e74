// What a self-test concludes from the results of the reference solution and of each negative
// control: a pure function of those results, so the matrix, the JSON document and the exit status
// all read one verdict. A listed check counts as catching its mistake only when it failed: a check
// skipped because a prerequisite failed first shows nothing about the check itself.
import { EXIT, type CheckStatus, type ExerciseResult } from '../results.js';
import { singleLine } from '../text/plain.js';
import { CONTROLS_FOLDER, SOLUTION_FOLDER, type Expectation } from './controls.js';

/** A check's status in one submission; `missing` when the result lacks it (it should never). */
export type CellStatus = CheckStatus | 'missing';

/** What one cell says about the self-test. */
export type Mark =
  /** Expected to fail, and failed: the check catches the mistake. */
  | 'caught'
  /** Expected to fail, but passed: the check misses the mistake. */
  | 'not-caught'
  /** Expected to fail, but skipped because a prerequisite failed: nothing shown. */
  | 'not-shown'
  /** Expected to pass (the reference, or a control with othersPass), and did not. */
  | 'unexpected'
  /** Not judged (status error) where the verdict depends on it: the grading machine's problem. */
  | 'not-judged'
  | 'none';

export interface Cell {
  status: CellStatus;
  expected: 'pass' | 'fail' | 'any';
  mark: Mark;
  /** The check's message, when it did not pass. */
  message?: string;
}

export interface SubmissionVerdict {
  /** `solution`, or the control's folder name. */
  name: string;
  /** The folder within the exercise: `solution` or `wrong/<name>`. */
  folder: string;
  role: 'reference' | 'control';
  /** The grading's run id: its containers' `grade.run` label. */
  runId: string;
  score: number;
  maxScore: number;
  expectation?: Expectation;
  /** By `step/check`, in exercise order. */
  cells: Record<string, Cell>;
  verdict: 'ok' | 'failed' | 'not-judged';
  /** One line saying why, without the submission's name. */
  summary: string;
}

export interface SelftestReport {
  schemaVersion: 1;
  exercise: string;
  checks: { id: string; title: string }[];
  reference: SubmissionVerdict;
  controls: SubmissionVerdict[];
  /** Checks that no control shows catching anything: listed by none, or failed in none that lists them. */
  uncaught: string[];
  /** The reference got full marks and every control was caught. */
  passed: boolean;
  exitCode: number;
}

export interface Graded {
  name: string;
  result: ExerciseResult;
  expectation?: Expectation;
}

const statusOf = (result: ExerciseResult): Map<string, { status: CheckStatus; message: string }> =>
  new Map(result.steps.flatMap((step) => step.checks.map((check) => [`${step.id}/${check.id}`, { status: check.status, message: check.message }])));

function markOf(status: CellStatus, expected: Cell['expected'], unjudgedBeside: boolean): Mark {
  if (expected === 'any') return 'none';
  if (status === 'error' || status === 'missing') return 'not-judged';
  // A skip beside a check that was not judged may wait on it: the machine's doing, not the check's.
  if (status === 'skip' && unjudgedBeside) return 'not-judged';
  if (expected === 'pass') return status === 'pass' ? 'none' : 'unexpected';
  return status === 'fail' ? 'caught' : status === 'pass' ? 'not-caught' : 'not-shown';
}

function cellsOf(ids: readonly string[], result: ExerciseResult, expectedOf: (id: string) => Cell['expected']): Record<string, Cell> {
  const found = statusOf(result);
  const unjudged = [...found.values()].some((check) => check.status === 'error');
  return Object.fromEntries(
    ids.map((id) => {
      const check = found.get(id);
      const status: CellStatus = check?.status ?? 'missing';
      const expected = expectedOf(id);
      const cell: Cell = { status, expected, mark: markOf(status, expected, unjudged) };
      if (status !== 'pass') cell.message = check ? singleLine(check.message) : 'the result has no such check';
      return [id, cell];
    }),
  );
}

const said = (id: string, cell: Cell) => {
  if (cell.status === 'pass') return `${id} passed`;
  const how = cell.status === 'fail' ? 'failed' : cell.status === 'skip' ? 'was skipped' : 'was not judged';
  // The run words skips and errors "skipped: ..." and "not judged: ...": said once is enough.
  return `${id} ${how} (${cell.message?.replace(/^(skipped|not judged): /, '')})`;
};

const withMark = (cells: Record<string, Cell>, mark: Mark) => Object.entries(cells).filter(([, cell]) => cell.mark === mark);

function verdictOf(cells: Record<string, Cell>): SubmissionVerdict['verdict'] {
  const marks = Object.values(cells).map((cell) => cell.mark);
  if (marks.some((mark) => mark === 'not-caught' || mark === 'not-shown' || mark === 'unexpected')) return 'failed';
  return marks.includes('not-judged') ? 'not-judged' : 'ok';
}

export function judgeReference(ids: readonly string[], graded: Graded): SubmissionVerdict {
  const { result } = graded;
  const cells = cellsOf(ids, result, () => 'pass');
  // Full marks is every check passed and every point earned: a check worth 0 points still counts.
  const fullMarks = result.score === result.maxScore;
  let verdict = verdictOf(cells);
  if (verdict === 'ok' && !fullMarks) verdict = 'failed';
  const score = `${result.score}/${result.maxScore}`;
  const lost = withMark(cells, 'unexpected').map(([id, cell]) => said(id, cell));
  const unjudged = withMark(cells, 'not-judged').map(([id, cell]) => said(id, cell));
  const summary =
    verdict === 'ok'
      ? 'full marks'
      : verdict === 'not-judged'
        ? `not judged: ${unjudged.join('; ')}`
        : `NOT FULL MARKS: ${[...lost, ...unjudged].join('; ') || `the score is ${score}`}`;
  return {
    name: graded.name,
    folder: SOLUTION_FOLDER,
    role: 'reference',
    runId: result.runId,
    score: result.score,
    maxScore: result.maxScore,
    cells,
    verdict,
    summary,
  };
}

export function judgeControl(ids: readonly string[], graded: Graded & { expectation: Expectation }): SubmissionVerdict {
  const { result, expectation } = graded;
  const listed = new Set(expectation.fails);
  const cells = cellsOf(ids, result, (id) => (listed.has(id) ? 'fail' : expectation.othersPass ? 'pass' : 'any'));
  const verdict = verdictOf(cells);
  const caught = withMark(cells, 'caught').map(([id]) => id);
  let summary: string;
  if (verdict === 'ok') {
    summary = `caught: ${caught.join(', ')} ${caught.length === 1 ? 'fails' : 'fail'} as expected${expectation.othersPass ? ', and every other check passes' : ''}`;
  } else if (verdict === 'not-judged') {
    summary = `not judged: ${withMark(cells, 'not-judged')
      .map(([id, cell]) => said(id, cell))
      .join('; ')}`;
  } else {
    const problems = [
      ...withMark(cells, 'not-caught').map(([id, cell]) => said(id, cell)),
      ...withMark(cells, 'not-shown').map(([id, cell]) => `${said(id, cell)}: a skipped check does not show that it catches the mistake`),
      ...withMark(cells, 'unexpected').map(([id, cell]) => `${said(id, cell)}, though othersPass is true`),
    ];
    summary = `NOT CAUGHT: ${problems.join('; ')}`;
  }
  return {
    name: graded.name,
    folder: `${CONTROLS_FOLDER}/${graded.name}`,
    role: 'control',
    runId: result.runId,
    score: result.score,
    maxScore: result.maxScore,
    expectation,
    cells,
    verdict,
    summary,
  };
}

/** The whole self-test: the reference, each control, the checks no control shows at work, and the exit status. */
export function selftestReport(
  exercise: { id: string; steps: { id: string; checks: { id: string; title: string }[] }[] },
  reference: Graded,
  controls: (Graded & { expectation: Expectation })[],
): SelftestReport {
  const checks = exercise.steps.flatMap((step) => step.checks.map((check) => ({ id: `${step.id}/${check.id}`, title: check.title })));
  const ids = checks.map((check) => check.id);
  const referenceVerdict = judgeReference(ids, reference);
  const controlVerdicts = controls.map((control) => judgeControl(ids, control));
  const uncaught = ids.filter((id) => !controlVerdicts.some((control) => control.cells[id]?.mark === 'caught'));
  const all = [referenceVerdict, ...controlVerdicts];
  // As for grading: what could not be judged is the machine's to fix first, and says so.
  const exitCode = all.some((each) => Object.values(each.cells).some((cell) => cell.mark === 'not-judged'))
    ? EXIT.cannotGrade
    : all.every((each) => each.verdict === 'ok')
      ? EXIT.passed
      : EXIT.failed;
  return {
    schemaVersion: 1,
    exercise: exercise.id,
    checks,
    reference: referenceVerdict,
    controls: controlVerdicts,
    uncaught,
    passed: exitCode === EXIT.passed,
    exitCode,
  };
}
