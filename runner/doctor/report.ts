// What `grade doctor` found, and how it is shown: one row per check (its status, what was found,
// and for a problem what to do), as a table for a person or one JSON document for a program. The
// verdict (will grading work here?) is decided once, from the rows.
import { singleLine } from '../text/plain.js';

/** `skip`: not checked, because a check it needs failed (its `found` names which). */
export type DoctorStatus = 'ok' | 'warn' | 'fail' | 'skip';

export type DoctorCheckId = 'engine' | 'api' | 'storage' | 'base-images' | 'builder' | 'build-run' | 'memory-limit' | 'pids-limit' | 'disk';

export interface DoctorCheck {
  id: DoctorCheckId;
  status: DoctorStatus;
  /** What was found, in one line. */
  found: string;
  /** What the user can do about it: set for every `fail` and `warn`. */
  fix?: string;
}

export interface DoctorReport {
  /** Grading will work here: no check failed (warnings and skipped checks aside). */
  ok: boolean;
  checks: DoctorCheck[];
}

export function doctorReport(checks: DoctorCheck[]): DoctorReport {
  return { ok: checks.every((check) => check.status !== 'fail'), checks };
}

/** Exit status of `grade doctor`: 0 grading will work, 1 it will not. */
export function doctorExitCode(report: DoctorReport): number {
  return report.ok ? 0 : 1;
}

/** `--reporter json`: `{ok, checks: [{id, status, found, fix}]}`, `fix` only where there is one. */
export function doctorJson(report: DoctorReport): string {
  return `${JSON.stringify({ ok: report.ok, checks: report.checks.map(({ id, status, found, fix }) => ({ id, status, found, ...(fix ? { fix } : {}) })) }, null, 2)}\n`;
}

export interface TableStyle {
  ok(text: string): string;
  warn(text: string): string;
  fail(text: string): string;
  skip(text: string): string;
  dim(text: string): string;
}

const plain: TableStyle = { ok: (text) => text, warn: (text) => text, fail: (text) => text, skip: (text) => text, dim: (text) => text };

const SHOWN_STATUS: Record<DoctorStatus, string> = { ok: 'ok', warn: 'warn', fail: 'FAIL', skip: 'skip' };

/**
 * The table: `status  check  found`, and under a row with something to do, `fix: ...` indented
 * under the found text; then one line with the verdict. Every text is kept to its line (an image
 * name comes from a Dockerfile, a message from the engine).
 */
export function doctorTable(report: DoctorReport, style: TableStyle = plain): string {
  const idWidth = Math.max(...report.checks.map((check) => check.id.length));
  const indent = ' '.repeat(2 + 4 + 2 + idWidth + 2);
  const lines: string[] = [];
  for (const check of report.checks) {
    const status = style[check.status](SHOWN_STATUS[check.status].padEnd(4));
    lines.push(`  ${status}  ${check.id.padEnd(idWidth)}  ${singleLine(check.found)}`);
    if (check.fix && check.status !== 'ok') lines.push(`${indent}${style.dim('fix:')} ${singleLine(check.fix)}`);
  }
  const failed = report.checks.filter((check) => check.status === 'fail').length;
  const warned = report.checks.filter((check) => check.status === 'warn').length;
  const warnings = warned ? ` (${warned} warning${warned === 1 ? '' : 's'})` : '';
  lines.push(
    '',
    report.ok
      ? style.ok(`grading will work on this machine${warnings}`)
      : style.fail(`grading will not work on this machine: ${failed} check${failed === 1 ? '' : 's'} failed${warnings}; see each fix above`),
  );
  return `${lines.join('\n')}\n`;
}
