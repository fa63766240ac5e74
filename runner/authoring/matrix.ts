// The self-test as a reader sees it: a matrix of which check catches which mistake (rows are the
// checks, columns the reference and each control), a verdict line per submission, a warning per
// check no control shows at work, and the conclusion. Plain text, a pure function of the report.
import { singleLine } from '../text/plain.js';
import type { Cell, Mark, SelftestReport, SubmissionVerdict } from './verdict.js';

const MARKS: Record<Mark, string> = {
  caught: '✖',
  'not-caught': '!',
  'not-shown': '~',
  unexpected: '!',
  'not-judged': '?',
  none: ' ',
};

const WORDS: Record<Cell['status'], string> = { pass: 'pass', fail: 'FAIL', skip: 'skip', error: 'err', missing: '-' };

export const LEGEND = '✖ expected to fail and failed (caught)   ! not as expected   ~ expected to fail but skipped (shows nothing)   ? not judged';

const cellText = (cell: Cell | undefined) => (cell ? `${MARKS[cell.mark]} ${WORDS[cell.status]}` : '  -');

const folderOf = (each: SubmissionVerdict) => `${singleLine(each.folder)}/`;

/** The matrix, with the submissions' folder names as column heads when they fit in `width`, numbers otherwise. */
export function matrixLines(report: SelftestReport, width = 120): string[] {
  const columns = [report.reference, ...report.controls];
  const rowHead = Math.max('check'.length, ...report.checks.map((check) => check.id.length)) + 2;
  const cellWidth = 6;
  const byName = columns.map((each) => (each.role === 'reference' ? each.name : singleLine(each.name)));
  const named = rowHead + byName.reduce((sum, name) => sum + Math.max(name.length + 2, cellWidth) + 2, 0) <= width;
  const heads = named ? byName : columns.map((each, index) => (each.role === 'reference' ? 'ref' : String(index)));
  const widths = heads.map((head) => Math.max(head.length + 2, cellWidth) + 2);
  const row = (first: string, cells: string[]) => (first.padEnd(rowHead) + cells.map((cell, index) => cell.padEnd(widths[index]!)).join('')).trimEnd();
  const lines: string[] = [];
  if (!named) lines.push(...columns.map((each, index) => `${heads[index]!.padStart(3)} = ${folderOf(each)}`), '');
  // Heads stand over the status words, past the mark column.
  lines.push(
    row(
      'check',
      heads.map((head) => `  ${head}`),
    ),
  );
  for (const check of report.checks)
    lines.push(
      row(
        check.id,
        columns.map((each) => cellText(each.cells[check.id])),
      ),
    );
  lines.push('', LEGEND);
  return lines;
}

/** One line per submission: its folder, its score and what it shows. */
export function verdictLines(report: SelftestReport): string[] {
  return [report.reference, ...report.controls].map((each) => `${folderOf(each)} (${each.score}/${each.maxScore}): ${each.summary}`);
}

export function conclusion(report: SelftestReport): string {
  const total = report.controls.length;
  const controls = total === 1 ? 'the control' : `all ${total} controls`;
  if (report.exitCode === 0) {
    return `selftest ${report.exercise}: passed: the reference solution gets full marks${total ? ` and ${controls} ${total === 1 ? 'is' : 'are'} caught` : ''}`;
  }
  const columns = [report.reference, ...report.controls];
  if (report.exitCode === 2) {
    const unjudged = columns.filter((each) => Object.values(each.cells).some((cell) => cell.mark === 'not-judged')).map(folderOf);
    return `selftest ${report.exercise}: not judged: the grading machine could not judge checks of ${unjudged.join(', ')} (the cause is above)`;
  }
  const problems: string[] = [];
  if (report.reference.verdict !== 'ok') problems.push('the reference solution does not get full marks');
  const missed = report.controls.filter((each) => each.verdict !== 'ok').map(folderOf);
  if (missed.length) problems.push(`${missed.length} of ${total} control${total === 1 ? '' : 's'} not caught: ${missed.join(', ')}`);
  return `selftest ${report.exercise}: failed: ${problems.join('; ')}`;
}

/** Everything a terminal shows after grading: matrix, verdicts, warnings, conclusion. */
export function selftestText(report: SelftestReport, width?: number): string {
  // When checks could not be judged, which ones no control catches is not known either.
  const warnings =
    report.exitCode === 2
      ? []
      : report.controls.length === 0
        ? ['warning: no negative controls under wrong/: nothing shows that the checks catch a mistake']
        : report.uncaught.map((id) => `warning: no control shows that ${id} catches anything`);
  return `${[...matrixLines(report, width), '', ...verdictLines(report), ...(warnings.length ? ['', ...warnings] : []), '', conclusion(report)].join('\n')}\n`;
}
