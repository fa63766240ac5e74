// grades.csv: one row per entry of the class folder and one points column per check, written as
// RFC 4180 says, with every text cell defused so that a spreadsheet shows it and never runs it.
import type { ClassSummary, SubmissionRow } from '../../runner/class-results.js';

const FIXED_COLUMNS = ['student', 'score', 'maxScore', 'passed', 'status', 'duplicateOf', 'message'];

// What spreadsheets (Excel, LibreOffice, Google Sheets) read as the start of a formula, or strip
// before looking for one (tab, CR, LF); the full-width forms are included because some normalise them.
const FORMULA_START = /^[=+\-@\t\r\n\uff1d\uff0b\uff0d\uff20]/;

export function gradebookCsv(summary: ClassSummary): string {
  const keys = summary.columns.map((column) => `${column.step}/${column.check}`);
  const header = [...FIXED_COLUMNS, ...keys].map(textCell);
  const rows = summary.submissions.map((row) => [
    textCell(row.student),
    String(row.score),
    String(row.maxScore),
    String(row.passed),
    textCell(row.status),
    textCell(row.duplicateOf ?? ''),
    textCell(row.message),
    ...keys.map((key) => pointsCell(row, key)),
  ]);
  return [header, ...rows].map((cells) => `${cells.join(',')}\r\n`).join('');
}

/** A check's points; empty when the submission was not graded, so that a blank is never read as a zero. */
function pointsCell(row: SubmissionRow, key: string): string {
  if (row.status !== 'graded' || !Object.hasOwn(row.points, key)) return '';
  return String(row.points[key]);
}

/** Text as a spreadsheet will show it: a leading quote keeps a formula as text, then RFC 4180 quoting. */
export function textCell(value: string): string {
  const shown = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(shown) ? `"${shown.replace(/"/g, '""')}"` : shown;
}
