// The Gradescope autograder results.json: one test per check, the student-facing text for each,
// and the plain text a platform shows about one check (shared with the Classroom report).
import type { CheckResult, ExerciseResult } from '../runner/results.js';
import { plainText } from '../runner/text/plain.js';

/** Submission text fit for a web page or a CI log: no escape sequences, controls or lone surrogates. */
export function platformText(text: string): string {
  return plainText(text);
}

/** Text a platform shows as one line: names, commands, file names. */
export function platformLine(text: string): string {
  return platformText(text)
    .replace(/[\n\t\u2028\u2029]+/g, ' ')
    .trim();
}

/** What a student reads about one check: the message, then expected/actual, hint and log. */
export function checkOutput(check: CheckResult): string {
  const parts = [check.message];
  if (check.expected !== undefined) parts.push(`Expected: ${check.expected}`);
  if (check.actual !== undefined) parts.push(`Actual: ${check.actual}`);
  if (check.hint !== undefined) parts.push(`Hint: ${check.hint}`);
  if (check.log !== undefined) parts.push(`Log:\n${check.log}`);
  return platformText(parts.join('\n'));
}

/** One check's name: its step then itself, so two steps' "image builds" checks stay apart. */
export function checkName(stepTitle: string, check: CheckResult): string {
  return platformLine(`${stepTitle} › ${check.title}`);
}

interface GradescopeTest {
  name: string;
  number: string;
  score: number;
  max_score: number;
  status: 'passed' | 'failed';
  output: string;
  output_format: 'text';
  visibility: 'visible';
  tags: string[];
}

interface GradescopeResults {
  score: number;
  execution_time: number;
  output: string;
  output_format: 'text';
  tests: GradescopeTest[];
  extra_data: {
    exercise: string;
    passed: boolean;
    maxScore: number;
    runId: string;
    grader: string;
  };
}

function summary(result: ExerciseResult): string {
  const checks = result.steps.flatMap((step) => step.checks);
  const missed = checks.filter((check) => check.required && check.status !== 'pass').length;
  const verdict = result.passed ? 'every required check passed' : `${missed} required check${missed === 1 ? '' : 's'} did not pass`;
  return platformLine(`${result.title}: ${result.score}/${result.maxScore} points; ${verdict}.`);
}

export function gradescopeReport(result: ExerciseResult): string {
  const tests = result.steps.flatMap((step, stepIndex) =>
    step.checks.map(
      (check, checkIndex): GradescopeTest => ({
        name: checkName(step.title, check),
        // Gradescope sorts tests by number, which keeps the spec's order.
        number: `${stepIndex + 1}.${checkIndex + 1}`,
        score: check.points,
        max_score: check.maxPoints,
        status: check.status === 'pass' ? 'passed' : 'failed',
        output: checkOutput(check),
        output_format: 'text',
        visibility: 'visible',
        tags: [check.status, ...(check.required ? [] : ['bonus'])],
      }),
    ),
  );
  const results: GradescopeResults = {
    score: result.score,
    execution_time: result.durationMs / 1000,
    output: summary(result),
    output_format: 'text',
    tests,
    extra_data: {
      exercise: platformText(result.exercise),
      passed: result.passed,
      maxScore: result.maxScore,
      runId: platformText(result.runId),
      grader: platformText(`${result.grader.name} ${result.grader.version}`),
    },
  };
  return `${JSON.stringify(results, null, 2)}\n`;
}
