// The JUnit XML report: one <testsuite> per step, one <testcase> per check, for CI test views.
// Every string is escaped for its place (text or attribute) and stripped of what XML 1.0 forbids.
import { stepPassed, stepTotals, type CheckResult, type ExerciseResult, type StepResult } from '../runner/results.js';
import { plainText } from '../runner/text/plain.js';

// Everything outside XML 1.0's Char production. With the u flag a lone surrogate is one code
// point, so it is caught here too.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

function xmlSafe(text: string): string {
  // plainText first: an escape sequence is dropped whole rather than leaving "[2J" behind.
  return plainText(text).replace(NOT_XML_CHAR, '\uFFFD');
}

function escapeText(text: string): string {
  return xmlSafe(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Line breaks and tabs as character references: a parser would otherwise normalize them to spaces. */
function escapeAttribute(text: string): string {
  return escapeText(text).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

function attributes(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([name, value]) => ` ${name}="${escapeAttribute(String(value))}"`)
    .join('');
}

function seconds(durationMs: number): string {
  return (durationMs / 1000).toFixed(3);
}

function counts(checks: CheckResult[]) {
  return {
    tests: checks.length,
    failures: checks.filter((check) => check.status === 'fail').length,
    errors: checks.filter((check) => check.status === 'error').length,
    skipped: checks.filter((check) => check.status === 'skip').length,
  };
}

function details(check: CheckResult): string {
  const parts = [check.message];
  if (check.expected !== undefined) parts.push(`expected: ${check.expected}`);
  if (check.actual !== undefined) parts.push(`actual: ${check.actual}`);
  if (check.hint !== undefined) parts.push(`hint: ${check.hint}`);
  if (!check.required) parts.push('bonus: this check adds points but never fails the run');
  if (check.log !== undefined) parts.push(`log:\n${check.log}`);
  return parts.join('\n');
}

/**
 * Where an annotation tool (action-junit-report, GitLab) puts the testcase: the line of the
 * student's file the failure points at (relative to the submission), else the check in its spec
 * (relative to the folder holding the exercise, as the Classroom report names it).
 */
function place(result: ExerciseResult, check: CheckResult): { file: string; line: number } {
  if (check.location) return { file: check.location.file, line: check.location.line };
  return { file: `${result.exerciseFolder}/${check.source.file}`, line: check.source.line };
}

function testcase(result: ExerciseResult, step: StepResult, check: CheckResult): string[] {
  const open = `<testcase${attributes({ name: check.title, classname: `${result.exercise}.${step.id}`, time: seconds(check.durationMs), ...place(result, check) })}`;
  switch (check.status) {
    case 'pass':
      return [`${open}/>`];
    case 'skip':
      return [`${open}>`, `  <skipped${attributes({ message: check.message })}/>`, '</testcase>'];
    case 'fail':
      return [`${open}>`, `  <failure${attributes({ message: check.message, type: check.kind })}>${escapeText(details(check))}</failure>`, '</testcase>'];
    case 'error':
      return [`${open}>`, `  <error${attributes({ message: check.message, type: check.kind })}>${escapeText(details(check))}</error>`, '</testcase>'];
  }
}

function testsuite(result: ExerciseResult, step: StepResult): string[] {
  const { points, maxPoints } = stepTotals(step);
  const properties = { required: String(step.required), passed: String(stepPassed(step)), points, maxPoints };
  return [
    `<testsuite${attributes({ name: step.title, id: step.id, ...counts(step.checks), time: seconds(step.durationMs) })}>`,
    '  <properties>',
    ...Object.entries(properties).map(([name, value]) => `    <property${attributes({ name, value })}/>`),
    '  </properties>',
    ...step.checks.flatMap((check) => testcase(result, step, check)).map((line) => `  ${line}`),
    '</testsuite>',
  ];
}

export function junitReport(result: ExerciseResult): string {
  const checks = result.steps.flatMap((step) => step.checks);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attributes({ name: result.title, ...counts(checks), time: seconds(result.durationMs) })}>`,
    ...result.steps.flatMap((step) => testsuite(result, step)).map((line) => `  ${line}`),
    '</testsuites>',
  ];
  return `${lines.join('\n')}\n`;
}
