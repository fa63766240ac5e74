// The TAP 14 report: one subtest per step, one test point per check, details in YAML blocks.
// Text from a submission only ever appears after a fixed prefix on a line or inside an indented
// YAML block, so it can neither start a line of the stream nor forge a test point.
import { stringify } from 'yaml';
import { stepPassed, stepTotals, type CheckResult, type ExerciseResult, type StepResult } from '../runner/results.js';
import { plainText } from '../runner/text/plain.js';

const INDENT = '    ';

// Line breaks end a TAP line; U+2028/2029 count, as tap-parser's line splitter (`.`) stops at them.
const LINE_BREAKS = /[\n\t\u2028\u2029]+/g;
// Not characters at all; YAML would print them raw and a strict reader rejects the block.
const NON_CHARACTER = /[\ufffe\uffff]/g;

/** Submission text as the terminal would show it, and no lone surrogate or non-character. */
function safeText(text: string): string {
  return plainText(text).replace(NON_CHARACTER, '\uFFFD');
}

/** A description is one line: escape sequences go, line breaks and tabs become one space. */
function oneLine(text: string): string {
  return safeText(text).replace(LINE_BREAKS, ' ').trim();
}

/** TAP's only escapes: `\` and `#`, so a `#` in a title cannot start a SKIP or TODO directive. */
function escapeDescription(text: string): string {
  return oneLine(text).replace(/\\/g, '\\\\').replace(/#/g, '\\#');
}

/**
 * Text that ends a test point line. TAP 14 reads a line ending in `{` as the start of a buffered
 * subtest and has no escape for it, so trailing braces go (the YAML block keeps the full text).
 */
function lineEnd(text: string): string {
  return text.replace(/[\s{]+$/, '');
}

function yamlText(text: string): string {
  return safeText(text).replace(/[\u2028\u2029]/g, '\n');
}

/** A YAML diagnostics block indented two more than its test point, which sits at `indent`. */
function diagnostics(fields: Record<string, string | number | boolean | undefined>, indent: string): string[] {
  const present = Object.fromEntries(
    Object.entries(fields)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => [key, typeof value === 'string' ? yamlText(value) : value]),
  );
  // Literal block scalars keep multi-line logs readable and indented; no folding of long lines.
  const body = stringify(present, { lineWidth: 0, blockQuote: 'literal' }).replace(/\n$/, '');
  const pad = `${indent}  `;
  // Blank lines stay blank: tap-parser reads them as part of the open YAML block.
  const lines = body.split('\n').map((line) => (line === '' ? '' : pad + line));
  return [`${pad}---`, ...lines, `${pad}...`];
}

function skipReason(check: CheckResult): string {
  // Messages of skipped checks already say "skipped: ..."; the directive says it once.
  return lineEnd(escapeDescription(check.message.replace(/^\s*skipped:\s*/i, '')));
}

/** A bonus check's failure is expected to be possible, which is what TAP's TODO means. */
function checkLine(check: CheckResult, number: number): string {
  const description = `${escapeDescription(check.title)} (${check.points}/${check.maxPoints})`;
  switch (check.status) {
    case 'pass':
      return `ok ${number} - ${description}`;
    case 'skip':
      return `ok ${number} - ${description} # SKIP ${skipReason(check)}`.trimEnd();
    case 'fail':
      return check.required ? `not ok ${number} - ${description}` : `not ok ${number} - ${description} # TODO bonus`;
    case 'error':
      return `not ok ${number} - ${description}`;
  }
}

function checkDiagnostics(check: CheckResult, indent: string): string[] {
  return diagnostics(
    {
      id: check.id,
      kind: check.kind,
      status: check.status,
      message: check.message,
      expected: check.expected,
      actual: check.actual,
      hint: check.hint,
      log: check.log,
      points: check.points,
      maxPoints: check.maxPoints,
      durationMs: check.durationMs,
    },
    indent,
  );
}

/**
 * A step's test point: ok when the step passed. A bonus step that did not pass is `not ok # TODO`,
 * so it cannot fail the stream, unless a check could not be judged: that is the grader's to fix.
 */
function stepPoint(step: StepResult, number: number): string {
  const description = `${number} - ${lineEnd(escapeDescription(step.title))}`;
  if (stepPassed(step)) return `ok ${description}`;
  const unjudged = step.checks.some((check) => check.status === 'error');
  return step.required || unjudged ? `not ok ${description}` : `not ok ${description} # TODO bonus`;
}

function stepLines(step: StepResult, number: number): string[] {
  const title = lineEnd(oneLine(step.title));
  const body: string[] = [];
  if (!step.required) body.push('# bonus: these checks add points but never fail the run');
  body.push(step.checks.length === 0 ? '1..0 # no checks' : `1..${step.checks.length}`);
  step.checks.forEach((check, index) => {
    body.push(checkLine(check, index + 1), ...checkDiagnostics(check, ''));
  });
  const { points, maxPoints } = stepTotals(step);
  return [
    // A comment is not unescaped by readers, so the subtest name is written as plain text.
    `# Subtest: ${title}`,
    ...body.map((line) => (line === '' ? '' : INDENT + line)),
    stepPoint(step, number),
    ...diagnostics({ id: step.id, required: step.required, points, maxPoints, durationMs: step.durationMs }, ''),
  ];
}

export function tapReport(result: ExerciseResult): string {
  const lines = [
    'TAP version 14',
    result.steps.length === 0 ? '1..0 # no steps' : `1..${result.steps.length}`,
    ...result.steps.flatMap((step, index) => stepLines(step, index + 1)),
    `# score: ${result.score}/${result.maxScore}`,
  ];
  return `${lines.join('\n')}\n`;
}
