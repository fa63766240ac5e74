// The gradebook folder a batch writes, and reads back when it runs again:
//
//   batch.json                  what was graded: exercise, grader, shard, the class listing
//   students/<student>/         results.json, report.html (and --report's files), then record.json
//   grades.csv, class.json, index.html   the gradebook, rebuilt from the records each time
//
// A student's record.json is written last and atomically: it is the mark that the student is
// graded. A batch killed at any point leaves either a whole record or none, so a second run
// grades exactly the students without one.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { gradebookCsv } from '../../reports/class/csv.js';
import { classDashboard } from '../../reports/class/dashboard.js';
import {
  CLASS_SCHEMA_VERSION,
  REFERENCE_SOLUTION,
  type CheckStats,
  type ClassSummary,
  type ImageStats,
  type SubmissionRow,
  type SubmissionStatus,
} from '../class-results.js';
import type { ExerciseResult } from '../results.js';
import type { Exercise } from '../spec/loader.js';
import { ownerAlive, ownerOf } from '../grading/session.js';

export const MANIFEST_FILE = 'batch.json';
export const RECORD_FILE = 'record.json';
export const RESULTS_FILE = 'results.json';
export const STUDENTS_DIR = 'students';
/** Bumped when batch.json or record.json change shape: an older gradebook is then graded afresh. */
export const GRADEBOOK_VERSION = 1;

export interface Shard {
  /** 1-based. */
  index: number;
  total: number;
}

export interface BatchManifest {
  gradebookVersion: typeof GRADEBOOK_VERSION;
  exercise: string;
  title: string;
  /** The spec files' content: a changed exercise regrades everyone. */
  exerciseHash: string;
  grader: { name: 'grade'; version: string };
  engine: NonNullable<ExerciseResult['engine']> | null;
  shard: Shard | null;
  /** Every student of the class folder, whatever the shard, sorted: what `grade merge` compares. */
  classListing: string[];
  /** This gradebook's entries that are not submissions, with why. */
  skipped: { entry: string; reason: string }[];
  /** The fingerprint of the exercise's reference solution, when it ships one. */
  referenceFingerprint: string | null;
}

/** One student's outcome: written last, so its presence means the student is graded. */
export interface StudentRecord {
  student: string;
  entry: string;
  status: Exclude<SubmissionStatus, 'skipped'>;
  score: number;
  maxScore: number;
  passed: boolean;
  message: string;
  points: Record<string, number>;
  images: SubmissionRow['images'];
  /** Whether students/<student>/results.json and report.html were written. */
  hasResult: boolean;
  /** The grading machine, not the submission, kept it from being judged (a registry out of reach, a grader fault): a rerun tries again. */
  machineFault: boolean;
  contentHash: string;
  exerciseHash: string;
  grader: { name: 'grade'; version: string };
  /** The graded files after normalising, for duplicates; null when none was found. */
  fingerprint: string | null;
  /** The tightest size bound a check set per image name, for the dashboard. */
  imageBounds: Record<string, number>;
  finishedAt: string;
  durationMs: number;
}

export const studentDir = (out: string, student: string) => path.join(out, STUDENTS_DIR, student);

const LOCK_FILE = 'batch.lock';

/** Another batch is writing this gradebook folder. */
export class GradebookBusy extends Error {}

/**
 * Takes the gradebook folder for this process: two batches writing one folder would grade
 * students twice and race on the gradebook. A lock whose process is gone (killed, even with
 * SIGKILL) is taken over. Returns the release.
 */
export async function lockGradebook(out: string): Promise<() => Promise<void>> {
  await mkdir(out, { recursive: true });
  const file = path.join(out, LOCK_FILE);
  const me = ownerOf(process.pid);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, `${me}\n`, { flag: 'wx' });
      return () => rm(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = (await readFile(file, 'utf8').catch(() => '')).trim();
    if (ownerAlive(holder) || (holder && !holder.startsWith(`${me.split(':')[0]}:`))) {
      throw new GradebookBusy(`another grade batch (${holder}) is writing ${out}: wait for it to finish, or remove ${file} if that process is gone`);
    }
    // Its writer is gone: the folder is ours to go on with.
    await rm(file, { force: true });
  }
  throw new GradebookBusy(`could not take ${file}: another grade batch took it at the same moment`);
}

/** Writes beside, then renames: a reader sees the old file or the new one, never half of one. */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, content);
  await rename(temporary, file);
}

async function readJson<T>(file: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    // Only a writer other than ours leaves a broken file (ours rename whole files into place).
    return undefined;
  }
}

export const readManifest = (out: string) => readJson<BatchManifest>(path.join(out, MANIFEST_FILE));
export const writeManifest = (out: string, manifest: BatchManifest) => writeFileAtomic(path.join(out, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
export const readRecord = (out: string, student: string) => readJson<StudentRecord>(path.join(studentDir(out, student), RECORD_FILE));
export const readResult = (out: string, student: string) => readJson<ExerciseResult>(path.join(studentDir(out, student), RESULTS_FILE));

export async function writeRecord(out: string, record: StudentRecord): Promise<void> {
  await writeFileAtomic(path.join(studentDir(out, record.student), RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
}

/** Forgets a student's earlier grading before grading again, so no stale report outlives it. */
export async function clearStudent(out: string, student: string): Promise<void> {
  await rm(studentDir(out, student), { recursive: true, force: true });
}

/** The students with a record in this gradebook folder. */
export async function recordedStudents(out: string): Promise<string[]> {
  const entries = await readdir(path.join(out, STUDENTS_DIR), { withFileTypes: true }).catch(() => []);
  const students: string[] = [];
  for (const entry of entries) {
    if (entry.isDirectory() && (await readRecord(out, entry.name))) students.push(entry.name);
  }
  return students.sort(byName);
}

/** Plain code-point order: the same on every machine, whatever its locale. */
export const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A hash of an exercise's spec files, so a changed exercise is regraded. */
export async function exerciseHash(exercise: Exercise): Promise<string> {
  const hash = createHash('sha256');
  const files = (await readdir(exercise.dir)).filter((file) => /\.ya?ml$/.test(file)).sort(byName);
  for (const file of files)
    hash
      .update(`${file}\0`)
      .update(await readFile(path.join(exercise.dir, file)))
      .update('\0');
  return hash.digest('hex');
}

/** What the gradebook needs of a student's result: points per check, the first failure, images. */
export function recordOfResult(result: ExerciseResult): Pick<StudentRecord, 'score' | 'maxScore' | 'passed' | 'message' | 'points' | 'images' | 'imageBounds'> {
  const points: Record<string, number> = {};
  let message = '';
  for (const step of result.steps) {
    for (const check of step.checks) {
      points[`${step.id}/${check.id}`] = check.points;
      if (!message && check.required && check.status !== 'pass') message = `${step.id}/${check.id}: ${check.message}`;
    }
  }
  const imageBounds: Record<string, number> = {};
  for (const image of result.images) {
    if (image.maxBytes !== undefined) imageBounds[image.name] = Math.min(image.maxBytes, imageBounds[image.name] ?? Infinity);
  }
  return {
    score: result.score,
    maxScore: result.maxScore,
    passed: result.passed,
    message,
    points,
    images: result.images.map(({ name, sizeBytes, helper }) => ({ name, sizeBytes, helper })),
    imageBounds,
  };
}

// ---- the gradebook ----------------------------------------------------------------------------

const HISTOGRAM_BINS = 10;
const COMMON_MESSAGES = 5;
/** Distinct messages counted per check; past this, rarer ones are dropped (a class cannot grow memory). */
const MESSAGES_TRACKED = 200;

/**
 * Rebuilds grades.csv, class.json and index.html from the records on disk: every recorded
 * student of the class listing (a shard's folder holds its own students only), plus the skipped
 * entries the manifest lists. Results are read one student at a time, so memory holds one
 * result, never the class's.
 */
export async function writeGradebook(out: string, exercise: Pick<Exercise, 'steps'>): Promise<ClassSummary> {
  const manifest = await readManifest(out);
  if (!manifest) throw new Error(`${out} holds no ${MANIFEST_FILE}: not a gradebook folder`);
  const columns = exercise.steps.flatMap((step) =>
    step.checks.map((check) => ({ step: step.id, check: check.id, title: check.title, maxPoints: check.points, required: !step.bonus })),
  );
  const records: StudentRecord[] = [];
  for (const student of await recordedStudents(out)) {
    if (!manifest.classListing.includes(student)) continue;
    const record = await readRecord(out, student);
    if (record) records.push(record);
  }
  const duplicateOf = duplicatesOf(records, manifest.referenceFingerprint);
  const rows: SubmissionRow[] = [
    ...records.map(
      (record): SubmissionRow => ({
        student: record.student,
        entry: record.entry,
        status: record.status,
        score: record.score,
        maxScore: record.maxScore,
        passed: record.passed,
        duplicateOf: duplicateOf.get(record.student) ?? null,
        message: record.message,
        points: record.points,
        images: record.images,
        report: record.hasResult ? `${STUDENTS_DIR}/${record.student}/report.html` : null,
      }),
    ),
    ...manifest.skipped.map(
      (skipped): SubmissionRow => ({
        student: skipped.entry,
        entry: skipped.entry,
        status: 'skipped',
        score: 0,
        maxScore: 0,
        passed: false,
        duplicateOf: null,
        message: skipped.reason,
        points: {},
        images: [],
        report: null,
      }),
    ),
  ].sort((a, b) => byName(a.student, b.student));

  const checks = new Map(columns.map((column) => [`${column.step}/${column.check}`, newStats(column)]));
  const messages = new Map<string, Map<string, number>>();
  for (const record of records) {
    if (!record.hasResult) continue;
    const result = await readResult(out, record.student);
    for (const step of result?.steps ?? []) {
      for (const check of step.checks) {
        const key = `${step.id}/${check.id}`;
        const stats = checks.get(key);
        if (!stats) continue;
        const counted = { pass: 'passed', fail: 'failed', skip: 'skipped', error: 'errored' } as const;
        stats[counted[check.status]]++;
        if (check.status !== 'pass') countMessage(messages, key, check.message);
      }
    }
  }
  for (const [key, stats] of checks) {
    const judged = stats.passed + stats.failed + stats.skipped + stats.errored;
    stats.passRate = judged ? stats.passed / judged : 0;
    stats.commonMessages = [...(messages.get(key) ?? new Map<string, number>())]
      .sort((a, b) => b[1] - a[1] || byName(a[0], b[0]))
      .slice(0, COMMON_MESSAGES)
      .map(([message, count]) => ({ message, count }));
  }

  const graded = records.filter((record) => record.status === 'graded');
  const maxScore = columns.reduce((sum, column) => sum + column.maxPoints, 0);
  const summary: ClassSummary = {
    schemaVersion: CLASS_SCHEMA_VERSION,
    exercise: manifest.exercise,
    title: manifest.title,
    grader: manifest.grader,
    engine: manifest.engine,
    generatedAt: new Date().toISOString(),
    shard: manifest.shard,
    columns,
    submissions: rows,
    checks: [...checks.values()].sort(
      (a, b) =>
        a.passRate - b.passRate ||
        columns.findIndex((c) => c.check === a.check && c.step === a.step) - columns.findIndex((c) => c.check === b.check && c.step === b.step),
    ),
    scores: scoreSummary(
      graded.map((record) => record.score),
      maxScore,
    ),
    images: imageStats(records),
    duplicates: duplicateGroups(duplicateOf),
  };

  await writeFileAtomic(path.join(out, 'grades.csv'), gradebookCsv(summary));
  await writeFileAtomic(path.join(out, 'index.html'), classDashboard(summary));
  await writeClassJson(out, summary);
  return summary;
}

function newStats(column: ClassSummary['columns'][number]): CheckStats {
  return { ...column, passed: 0, failed: 0, skipped: 0, errored: 0, passRate: 0, commonMessages: [] };
}

/** Ids and digests differ from student to student; without them, the same mistake reads the same. */
const normaliseMessage = (message: string) => message.replace(/\b(sha256:)?[0-9a-f]{12,64}\b/g, '<id>').slice(0, 300);

function countMessage(messages: Map<string, Map<string, number>>, key: string, message: string): void {
  const counts = messages.get(key) ?? new Map<string, number>();
  messages.set(key, counts);
  const text = normaliseMessage(message);
  if (counts.has(text) || counts.size < MESSAGES_TRACKED) counts.set(text, (counts.get(text) ?? 0) + 1);
}

export function scoreSummary(scores: number[], maxScore: number): ClassSummary['scores'] {
  const sorted = [...scores].sort((a, b) => a - b);
  const mean = sorted.length ? sorted.reduce((sum, score) => sum + score, 0) / sorted.length : 0;
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length === 0 ? 0 : sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  const width = maxScore / HISTOGRAM_BINS;
  const histogram = Array.from({ length: HISTOGRAM_BINS }, (_, bin) => ({ from: bin * width, to: (bin + 1) * width, count: 0 }));
  for (const score of sorted) {
    const bin = width > 0 ? Math.min(HISTOGRAM_BINS - 1, Math.floor(score / width)) : HISTOGRAM_BINS - 1;
    histogram[bin]!.count++;
  }
  return { mean, median, histogram };
}

/** Each image's sizes across the class: the last build of each name per student, the one the checks judged. */
export function imageStats(records: Pick<StudentRecord, 'images' | 'imageBounds'>[]): ImageStats[] {
  const byImage = new Map<string, { helper: boolean; sizes: number[]; bound?: number }>();
  for (const record of records) {
    const last = new Map(record.images.map((image) => [image.name, image]));
    for (const image of last.values()) {
      const entry = byImage.get(image.name) ?? { helper: image.helper, sizes: [] };
      entry.sizes.push(image.sizeBytes);
      const bound = record.imageBounds[image.name];
      if (bound !== undefined) entry.bound = Math.min(bound, entry.bound ?? Infinity);
      byImage.set(image.name, entry);
    }
  }
  return [...byImage].map(([name, { helper, sizes, bound }]) => {
    const sorted = sizes.sort((a, b) => a - b);
    return {
      name,
      helper,
      count: sorted.length,
      minBytes: sorted[0]!,
      medianBytes: sorted[Math.floor((sorted.length - 1) / 2)]!,
      maxBytes: sorted.at(-1)!,
      ...(bound !== undefined ? { boundBytes: bound } : {}),
    };
  });
}

/**
 * Each student whose graded files match another's: the first of the group by name, or the
 * reference solution when the files are the exercise's own.
 */
function duplicatesOf(records: StudentRecord[], reference: string | null): Map<string, string> {
  const groups = new Map<string, string[]>();
  for (const record of [...records].sort((a, b) => byName(a.student, b.student))) {
    if (!record.fingerprint) continue;
    groups.set(record.fingerprint, [...(groups.get(record.fingerprint) ?? []), record.student]);
  }
  const duplicateOf = new Map<string, string>();
  for (const [fingerprint, students] of groups) {
    if (fingerprint === reference) {
      for (const student of students) duplicateOf.set(student, REFERENCE_SOLUTION);
    } else if (students.length > 1) {
      for (const student of students.slice(1)) duplicateOf.set(student, students[0]!);
    }
  }
  return duplicateOf;
}

function duplicateGroups(duplicateOf: Map<string, string>): ClassSummary['duplicates'] {
  const groups = new Map<string, string[]>();
  for (const [student, of] of duplicateOf) groups.set(of, [...(groups.get(of) ?? []), student]);
  return [...groups].map(([of, students]) => ({ of, students: of === REFERENCE_SOLUTION ? students : [of, ...students] })).sort((a, b) => byName(a.of, b.of));
}

/** class.json: the summary with each graded student's result, streamed one student at a time. */
async function writeClassJson(out: string, summary: ClassSummary): Promise<void> {
  const file = path.join(out, 'class.json');
  const temporary = `${file}.${process.pid}.tmp`;
  const stream = createWriteStream(temporary);
  const write = async (text: string) => {
    if (!stream.write(text)) await once(stream, 'drain');
  };
  const { submissions, ...rest } = summary;
  const head = JSON.stringify({ ...rest, submissions: [] }, null, 2);
  const [before, after] = head.split('"submissions": []');
  await write(`${before}"submissions": [`);
  for (const [index, row] of submissions.entries()) {
    const result = row.report ? ((await readResult(out, row.student)) ?? null) : null;
    const text = JSON.stringify({ ...row, result }, null, 2).replace(/\n/g, '\n    ');
    await write(`${index ? ',' : ''}\n    ${text}`);
  }
  await write(`${submissions.length ? '\n  ' : ''}]${after}\n`);
  stream.end();
  await once(stream, 'close');
  await rename(temporary, file);
}
