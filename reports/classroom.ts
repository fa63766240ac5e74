// The GitHub Classroom autograding-grading-reporter input, as JSON: tests of equal weight, one
// or more per check. The CLI base64-encodes it into the step output the reporter reads; this file
// owns only the document.
import type { CheckResult, ExerciseResult } from '../runner/results.js';
import { checkName, checkOutput, platformLine } from './gradescope.js';

type ClassroomStatus = 'pass' | 'fail' | 'error';

interface ClassroomTest {
  name: string;
  status: ClassroomStatus;
  score: number;
  message: string;
  test_code: string;
  filename: string;
  line_no: number;
  duration: number;
}

interface ClassroomResults {
  version: 1;
  status: ClassroomStatus;
  max_score: number;
  tests: ClassroomTest[];
}

function testStatus(check: CheckResult): ClassroomStatus {
  // The reporter knows no "skip": a check that could not run earned nothing, so it did not pass.
  if (check.status === 'pass') return 'pass';
  return check.status === 'error' ? 'error' : 'fail';
}

/**
 * The reporter prints names, commands and messages into the Actions log, outside any
 * stop-commands region. The runner reads a line starting with `::` (after blanks) as a command,
 * and `##[` anywhere in a line as the older form of one: the first gets a visible `| `, the
 * second a space (`# #[`), so both stay text.
 */
function inertInActionsLog(text: string): string {
  return text.replace(/^([ \t]*)(::)/gm, '$1| $2').replace(/##\[/g, '# #[');
}

function message(check: CheckResult): string {
  const output = checkOutput(check);
  // The reporter knows no skip, so the message says it: the runner's messages already do.
  const said = check.status === 'skip' && !/^\s*skipped\b/i.test(output) ? `skipped: ${output}` : output;
  return inertInActionsLog(said);
}

function runStatus(result: ExerciseResult): ClassroomStatus {
  if (result.steps.some((step) => step.checks.some((check) => check.status === 'error'))) return 'error';
  return result.passed ? 'pass' : 'fail';
}

/** More tests than this and the reporter's list is unreadable: one test per check instead (see pointUnit). */
export const MAX_CLASSROOM_TESTS = 200;

/**
 * The weight of one test. The reporter shows `passed tests / tests × max_score` in the log and
 * sends Classroom the sum of the tests' scores; the two agree only when every test weighs the
 * same. So each check becomes `maxPoints / unit` tests of `unit` points, the unit being the
 * greatest common divisor of the checks' points (1 for whole points). Points that are not
 * multiples of 1/1024, none above zero, or more than MAX_CLASSROOM_TESTS tests: undefined, and
 * each check is one test of its own points (Classroom's sum stays right; the log's figure may not).
 */
export function pointUnit(points: number[]): number | undefined {
  const scaled = points.filter((value) => value > 0).map((value) => value * 1024);
  if (scaled.length === 0 || !scaled.every(Number.isSafeInteger)) return undefined;
  const divisor = scaled.reduce(gcd);
  const tests = scaled.reduce((sum, value) => sum + value / divisor, 0);
  return tests <= MAX_CLASSROOM_TESTS ? divisor / 1024 : undefined;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** A check's tests: one per `unit` of its points (none for a check worth nothing), or one of all its points. */
function checkTests(result: ExerciseResult, stepId: string, stepTitle: string, check: CheckResult, unit: number | undefined): ClassroomTest[] {
  const parts = unit === undefined ? 1 : Math.round(check.maxPoints / unit);
  // One line, printed after the reporter's own mark, so it never starts a log line.
  const name = inertInActionsLog(checkName(stepTitle, check));
  const status = testStatus(check);
  const shared = {
    status,
    // The command that regrades it (the whole exercise is one run), and where the check is written.
    test_code: inertInActionsLog(platformLine(`grade ${result.exercise} # step ${stepId}, check ${check.id}`)),
    filename: inertInActionsLog(platformLine(`${result.exerciseFolder}/${check.source.file}`)),
    line_no: check.source.line,
  };
  return Array.from({ length: parts }, (_, index) => ({
    name: parts === 1 ? name : `${name} (part ${index + 1} of ${parts})`,
    ...shared,
    score: status === 'pass' ? (unit === undefined ? check.points : unit) : 0,
    // The reporter prints the message of a test that could not be judged, after "Error: ". Said once per check.
    message: index === 0 ? message(check) : `part ${index + 1} of ${parts} of this check: see part 1`,
    duration: index === 0 ? check.durationMs : 0,
  }));
}

export function classroomReport(result: ExerciseResult): string {
  const checks = result.steps.flatMap((step) => step.checks);
  const unit = pointUnit(checks.map((check) => check.maxPoints));
  const tests = result.steps.flatMap((step) => step.checks.flatMap((check) => checkTests(result, step.id, step.title, check, unit)));
  // Bonus points count in max_score, as in every other report: a run without the bonus step scores below 100 %.
  const results: ClassroomResults = { version: 1, status: runStatus(result), max_score: result.maxScore, tests };
  return `${JSON.stringify(results, null, 2)}\n`;
}
