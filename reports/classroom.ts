// The GitHub Classroom autograding-grading-reporter input, as JSON: one test per check. The CLI
// base64-encodes it into the step output the reporter reads; this file owns only the document.
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
 * The reporter prints each message into the Actions log, where a line starting with `::` or `##[`
 * (after blanks) is a workflow command: such lines get a visible `| ` so they stay text.
 */
function inertInActionsLog(text: string): string {
  return text.replace(/^([ \t]*)(::|##\[)/gm, '$1| $2');
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

export function classroomReport(result: ExerciseResult): string {
  const tests = result.steps.flatMap((step) =>
    step.checks.map(
      (check): ClassroomTest => ({
        // One line, printed after the reporter's own mark, so it never starts a log line.
        name: checkName(step.title, check),
        status: testStatus(check),
        score: check.points,
        // The reporter prints the message of a test that did not pass, after "Error: ".
        message: message(check),
        // The command that regrades it (the whole exercise is one run), and where the check is written.
        test_code: platformLine(`grade ${result.exercise} # step ${step.id}, check ${check.id}`),
        filename: platformLine(`${result.exerciseFolder}/${check.source.file}`),
        line_no: check.source.line,
        duration: check.durationMs,
      }),
    ),
  );
  const results: ClassroomResults = { version: 1, status: runStatus(result), max_score: result.maxScore, tests };
  return `${JSON.stringify(results, null, 2)}\n`;
}
