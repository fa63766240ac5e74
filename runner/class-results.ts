// The gradebook of a class: one row per entry of the class folder, the item analysis of every
// check, and the score distribution. `class.json` is this document with each graded row's full
// ExerciseResult; grades.csv and the dashboard are pure functions of it (reports/class/).
import type { ExerciseResult } from './results.js';

/** Bumped when a field of class.json changes meaning or goes away. */
export const CLASS_SCHEMA_VERSION = 1;

/**
 * graded: the grader judged it (some checks may still be `error`); error: it could not be graded
 * (an unreadable archive, the engine failing); timed-out: past the per-submission bound;
 * skipped: an entry of the class folder that is not a submission (a README, a dotfile).
 */
export type SubmissionStatus = 'graded' | 'error' | 'timed-out' | 'skipped';

/** What `duplicateOf` says of a submission identical to the exercise's own reference solution. */
export const REFERENCE_SOLUTION = '(reference solution)';

export interface SubmissionRow {
  /** The entry's name without its archive extension: a folder name, never containing "/". */
  student: string;
  /** The entry as found in the class folder (`alice.zip`, `bob/`). */
  entry: string;
  status: SubmissionStatus;
  score: number;
  maxScore: number;
  passed: boolean;
  /** The first student (by name) of this one's group of identical submissions, or REFERENCE_SOLUTION. */
  duplicateOf: string | null;
  /** Why it was skipped, timed out or not graded; for a graded one, its first failed required check. */
  message: string;
  /** Points per check, keyed `<step>/<check>`; empty when not graded. */
  points: Record<string, number>;
  /** Images its run built: name and size, for the dashboard's sizes across the class. */
  images: { name: string; sizeBytes: number; helper: boolean }[];
  /** `students/<student>/report.html`, relative to the gradebook folder, when one was written. */
  report: string | null;
}

export interface CheckStats {
  step: string;
  check: string;
  title: string;
  maxPoints: number;
  required: boolean;
  passed: number;
  failed: number;
  skipped: number;
  errored: number;
  /** passed / (passed + failed + skipped + errored) over graded submissions; 0 when none. */
  passRate: number;
  /** The most frequent messages of the checks that did not pass, most frequent first (at most 5). */
  commonMessages: { message: string; count: number }[];
}

export interface ScoreSummary {
  /** Over graded submissions only; 0 when there are none. */
  mean: number;
  median: number;
  /** Ten equal bins over 0..maxScore (the last bin includes maxScore). */
  histogram: { from: number; to: number; count: number }[];
}

export interface ImageStats {
  name: string;
  helper: boolean;
  count: number;
  minBytes: number;
  medianBytes: number;
  maxBytes: number;
  /** The bound a check set on it (the tightest seen), when any. */
  boundBytes?: number;
}

/** The whole gradebook as the dashboard and grades.csv read it: every row, no per-student result. */
export interface ClassSummary {
  schemaVersion: typeof CLASS_SCHEMA_VERSION;
  exercise: string;
  title: string;
  grader: { name: 'grade'; version: string };
  engine: NonNullable<ExerciseResult['engine']> | null;
  generatedAt: string;
  /** Present when this gradebook holds one shard of a class (`--shard i/N`). */
  shard: { index: number; total: number } | null;
  /** Every check of the exercise, in spec order: the columns of grades.csv. */
  columns: { step: string; check: string; title: string; maxPoints: number; required: boolean }[];
  submissions: SubmissionRow[];
  /** Ordered by pass rate, lowest first: the checks most students fail come first. */
  checks: CheckStats[];
  scores: ScoreSummary;
  images: ImageStats[];
  /** Groups of identical submissions, each by name, the first being the one the others copy. */
  duplicates: { of: string; students: string[] }[];
}

/** One row of class.json: the summary row with the student's full result when graded. */
export interface ClassSubmission extends SubmissionRow {
  result: ExerciseResult | null;
}

/** class.json. */
export interface ClassResult extends Omit<ClassSummary, 'submissions'> {
  submissions: ClassSubmission[];
}
