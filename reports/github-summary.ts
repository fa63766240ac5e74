// The GitHub Actions job summary (markdown appended to $GITHUB_STEP_SUMMARY): the score, a table of
// steps and checks, and what to fix. GitHub renders it as GitHub-flavoured markdown with HTML, so
// every piece of text is escaped to stay text: no markup, table cell, link or @mention from it.
import { stepPassed, stepTotals, type CheckResult, type CheckStatus, type ExerciseResult } from '../runner/results.js';
import { plainText } from '../runner/text/plain.js';

/** GitHub takes at most 1 MiB per step summary; this leaves room for what other commands of the step append. */
export const SUMMARY_MAX_BYTES = 512 * 1024;
/** The most of one log a summary shows: its end, where a build or compiler says what went wrong. */
const LOG_MAX_BYTES = 16 * 1024;
/** Kept free for the note that says the summary was cut. */
const NOTE_RESERVE = 512;

const MARK: Record<CheckStatus, string> = { pass: '✅', fail: '❌', skip: '⏭️', error: '⚠️' };
const WORD: Record<CheckStatus, string> = { pass: 'passed', fail: 'failed', skip: 'skipped', error: 'not judged' };
const LOG_TITLE = { build: 'Build output', compiler: 'Compiler output', program: 'Program output' } as const;

/**
 * Text for markdown: every ASCII punctuation character as a numeric character reference, which
 * markdown shows as that character and never reads as syntax (no emphasis, code, table cell,
 * link, heading, list or HTML tag can start), and no URL or address is linked. An `@` is followed
 * by a word joiner, so no @mention pings anyone. Line breaks become `<br>`, or a space on one line.
 */
export function markdownText(text: string, options: { oneLine?: boolean } = {}): string {
  const escaped = plainText(text)
    .replace(/[\u2028\u2029]/g, '\n')
    .replace(/[!-/:-@[-`{-~]/g, (char) => (char === '@' ? '&#64;&#8288;' : `&#${char.charCodeAt(0)};`));
  return escaped
    .trim()
    .split(/\n+/)
    .map((line) => line.trim())
    .join(options.oneLine ? ' ' : '<br>');
}

/** Text inside `<pre>`: an HTML block that markdown leaves alone and no `</pre>` in the text can end. */
export function preText(text: string): string {
  return plainText(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/** The end of `text` within `max` bytes, cut at a line break, saying that it was cut. */
function logTail(text: string, max: number): string {
  if (bytes(text) <= max) return text;
  const kept = Buffer.from(text, 'utf8')
    .subarray(-max)
    .toString('utf8')
    .replace(/^[^\n]*\n/, '');
  return `... (the start is not shown: the summary keeps the last ${Math.round(max / 1024)} KiB)\n${kept}`;
}

function points(value: number, max: number): string {
  return `${value}/${max}`;
}

/** The headline: the score, and whether the required checks passed. */
function heading(result: ExerciseResult): string[] {
  const required = result.steps.filter((step) => step.required).flatMap((step) => step.checks);
  const missed = required.filter((check) => check.status !== 'pass').length;
  const unjudged = required.filter((check) => check.status === 'error').length;
  const verdict = result.passed
    ? 'every required check passed'
    : `${missed} required check${missed === 1 ? '' : 's'} not passed${unjudged ? `, ${unjudged} of them not judged on this machine` : ''}`;
  return [
    `## ${result.passed ? '✅' : unjudged ? '⚠️' : '❌'} ${markdownText(result.title, { oneLine: true })}`,
    '',
    `**Score: ${points(result.score, result.maxScore)}**: ${verdict}.${result.steps.some((step) => !step.required) ? ' Bonus points count in the score and in the maximum; only the required steps decide whether it passes.' : ''}`,
    '',
  ];
}

function tableRows(result: ExerciseResult): string[] {
  return result.steps.flatMap((step) => {
    const totals = stepTotals(step);
    const title = `**${markdownText(step.title, { oneLine: true })}**${step.required ? '' : ' (bonus)'}`;
    return [
      `| ${stepPassed(step) ? '✅' : MARK.fail} | ${title} | | **${points(totals.points, totals.maxPoints)}** |`,
      ...step.checks.map(
        (check) =>
          `| ${MARK[check.status]} | ${markdownText(check.title, { oneLine: true })} | ${WORD[check.status]} | ${points(check.points, check.maxPoints)} |`,
      ),
    ];
  });
}

/** What a student reads about one check that did not pass: where, why, what to try, and the output that explains it. */
function details(stepTitle: string, required: boolean, check: CheckResult): string[] {
  const lines = [
    `#### ${MARK[check.status]} ${markdownText(stepTitle, { oneLine: true })} › ${markdownText(check.title, { oneLine: true })}${required ? '' : ' (bonus)'}`,
    '',
  ];
  const where = check.location
    ? `<code>${markdownText(`${check.location.file}:${check.location.line}${check.location.column ? `:${check.location.column}` : ''}`, { oneLine: true })}</code>: `
    : '';
  lines.push(`${where}${markdownText(check.message)}`, '');
  if (check.expected !== undefined) lines.push(`**Expected:** ${markdownText(check.expected)}`, '');
  if (check.actual !== undefined) lines.push(`**Actual:** ${markdownText(check.actual)}`, '');
  if (check.hint !== undefined) lines.push(`**Hint:** ${markdownText(check.hint)}`, '');
  if (check.log !== undefined) {
    const title = check.logKind ? LOG_TITLE[check.logKind] : 'Output';
    lines.push(`<details><summary>${title}</summary>`, '', '<pre>', preText(logTail(check.log, LOG_MAX_BYTES)), '</pre>', '', '</details>', '');
  }
  return lines;
}

/**
 * The job summary of one run, at most `maxBytes` of UTF-8: the heading, then the table, then the
 * checks that did not pass in the spec's order, required steps first. What does not fit is left
 * out whole, and a last line says how much.
 */
export function githubSummary(result: ExerciseResult, options: { maxBytes?: number } = {}): string {
  const budget = (options.maxBytes ?? SUMMARY_MAX_BYTES) - NOTE_RESERVE;
  const out: string[] = [];
  let used = 0;
  let left = 0;
  const add = (lines: string[]): boolean => {
    const text = `${lines.join('\n')}\n`;
    if (left > 0 || used + bytes(text) > budget) return false;
    out.push(text);
    used += bytes(text);
    return true;
  };
  add(heading(result));
  add(['| | Step / check | Result | Points |', '| :-: | --- | --- | --: |']);
  const rows = tableRows(result);
  rows.forEach((row, index) => {
    if (!add([row])) left = Math.max(left, rows.length - index);
  });
  const rowsLeft = left;
  left = 0;
  const failures = [...result.steps.filter((step) => step.required), ...result.steps.filter((step) => !step.required)].flatMap((step) =>
    step.checks.filter((check) => check.status !== 'pass').map((check) => ({ step, check })),
  );
  add(['']);
  if (failures.length) add([failures.some(({ step }) => step.required) ? '### What to fix' : '### The bonus step', '']);
  failures.forEach(({ step, check }, index) => {
    if (!add(details(step.title, step.required, check))) left = Math.max(left, failures.length - index);
  });
  const cut = [
    rowsLeft ? `${rowsLeft} row${rowsLeft === 1 ? '' : 's'} of the table` : '',
    left ? `${left} check${left === 1 ? '' : 's'} that did not pass` : '',
  ].filter(Boolean);
  if (cut.length) {
    out.push(
      `\n_Not shown: ${cut.join(' and ')}; a step summary holds at most ${Math.round((budget + NOTE_RESERVE) / 1024)} KiB here. The job's log has everything._\n`,
    );
  }
  return out.join('');
}
