// Grades a class: every entry of a class folder is one student's submission, graded exactly as
// `grade <exercise> --dir` grades it, up to `jobs` at once, each within its own time bound, into a
// gradebook folder (gradebook.ts). A second run grades only the students without a current record.
import { lstat, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileReports, type FileReport } from '../../reports/index.js';
import { EngineError, type DockerEngine, type EngineInfo, type Limits } from '../engine/engine.js';
import type { ImageLedger } from '../grading/image-ledger.js';
import { grade, GradingInterrupted } from '../grading/run.js';
import { exitCodeOf, EXIT, type ExerciseResult } from '../results.js';
import type { Exercise } from '../spec/loader.js';
import { formatSpan } from '../text/format.js';
import { singleLine } from '../text/plain.js';
import { version } from '../version.js';
import { ArchiveError, archiveRoot, extractArchive } from './archive.js';
import { ClassEngine } from './class-engine.js';
import { gradedFiles, submissionFingerprint } from './duplicates.js';
import { contentHash, listClass, type Submission } from './entries.js';
import {
  byName,
  clearStudent,
  exerciseHash,
  GradebookBusy,
  GRADEBOOK_VERSION,
  lockGradebook,
  readManifest,
  readRecord,
  recordOfResult,
  studentDir,
  writeFileAtomic,
  writeGradebook,
  writeManifest,
  writeRecord,
  type BatchManifest,
  type Shard,
  type StudentRecord,
} from './gradebook.js';
import { shardOf } from './shard.js';
import type { ClassSummary } from '../class-results.js';

export interface BatchOptions {
  exercise: Exercise;
  classDir: string;
  out: string;
  engine: DockerEngine;
  engineInfo: EngineInfo;
  limits: Limits;
  /** Submissions graded at once. */
  jobs: number;
  /** Past this, a submission's grading is stopped and it is marked timed out. */
  submissionTimeoutMs: number;
  shard?: Shard;
  /** Grade every student again, current records or not. */
  regrade?: boolean;
  /** Leave each student's layers in the engine's cache instead of removing them once graded. */
  keepCache?: boolean;
  /** Reports written per student beside results.json and report.html. */
  reports?: FileReport[];
  ledger?: ImageLedger;
  signal: AbortSignal;
  onEvent?: (event: BatchEvent) => void;
}

export type BatchEvent =
  | { type: 'plan'; toGrade: string[]; current: number; skipped: number; outsideShard: number }
  | { type: 'start'; student: string }
  | { type: 'done'; record: StudentRecord }
  | { type: 'note'; text: string };

/** The batch cannot start: the gradebook folder belongs to another batch. */
export class BatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BatchError';
  }
}

/** What a batch would do, without an engine: `--dry-run`, and the first half of a run. */
export interface BatchPlan {
  manifest: BatchManifest;
  /** This shard's submissions, and whether each has a current record already. */
  submissions: { entry: Submission; contentHash: string; current: boolean }[];
  outsideShard: number;
}

export async function planBatch(
  options: Pick<BatchOptions, 'exercise' | 'classDir' | 'out' | 'shard' | 'regrade'> & { engineInfo?: EngineInfo },
): Promise<BatchPlan> {
  const { exercise, classDir, out, shard } = options;
  const entries = await listClass(classDir);
  const mine = (name: string) => !shard || shardOf(name, shard.total) === shard.index;
  const submissions = entries.filter((entry): entry is Submission => entry.kind !== 'skipped');
  const specHash = await exerciseHash(exercise);
  const previous = await readManifest(out);
  if (previous) {
    const problem =
      previous.gradebookVersion !== GRADEBOOK_VERSION
        ? `was written by an older grade (gradebook version ${previous.gradebookVersion}, now ${GRADEBOOK_VERSION})`
        : previous.exercise !== exercise.id
          ? `holds the gradebook of exercise ${previous.exercise}, not ${exercise.id}`
          : !sameShard(previous.shard, shard ?? null)
            ? `holds ${shardName(previous.shard)}, not ${shardName(shard ?? null)}`
            : undefined;
    if (problem) throw new BatchError(`--out ${out} ${problem}: choose another --out folder, or remove it to start afresh`);
  }
  const reference = path.join(exercise.dir, 'solution');
  const referenceFingerprint = (await stat(reference).catch(() => undefined))?.isDirectory()
    ? await submissionFingerprint(exercise, reference, reference)
    : null;
  const manifest: BatchManifest = {
    gradebookVersion: GRADEBOOK_VERSION,
    exercise: exercise.id,
    title: exercise.title,
    exerciseHash: specHash,
    grader: { name: 'grade', version },
    engine: options.engineInfo ?? previous?.engine ?? null,
    shard: shard ?? null,
    classListing: submissions.map((entry) => entry.student).sort(byName),
    skipped: entries.flatMap((entry) => (entry.kind === 'skipped' && mine(entry.entry) ? [{ entry: entry.entry, reason: entry.reason }] : [])),
    referenceFingerprint,
  };
  const planned: BatchPlan['submissions'] = [];
  for (const entry of submissions.filter((each) => mine(each.student))) {
    const hash = await contentHash(entry);
    const record = await readRecord(out, entry.student);
    const current =
      !options.regrade &&
      record !== undefined &&
      !record.machineFault &&
      record.contentHash === hash &&
      record.exerciseHash === specHash &&
      record.grader.version === version;
    planned.push({ entry, contentHash: hash, current });
  }
  return { manifest, submissions: planned, outsideShard: submissions.length - planned.length };
}

const sameShard = (a: Shard | null, b: Shard | null) => a?.index === b?.index && a?.total === b?.total;
const shardName = (shard: Shard | null) => (shard ? `shard ${shard.index}/${shard.total}` : 'a whole class');

export async function gradeClass(options: BatchOptions): Promise<ClassSummary> {
  const { out } = options;
  const plan = await planBatch({ ...options, engineInfo: options.engineInfo });
  let unlock: () => Promise<void>;
  try {
    unlock = await lockGradebook(out);
  } catch (error) {
    if (error instanceof GradebookBusy) throw new BatchError(error.message);
    throw error;
  }
  try {
    return await gradePlan(plan, options);
  } finally {
    await unlock();
  }
}

async function gradePlan(plan: BatchPlan, options: BatchOptions): Promise<ClassSummary> {
  const { exercise, out, onEvent = () => {} } = options;
  await writeManifest(out, plan.manifest);
  await removeStaleTemporaries(out);
  const queue = plan.submissions.filter((each) => !each.current);
  onEvent({
    type: 'plan',
    toGrade: queue.map((each) => each.entry.student),
    current: plan.submissions.length - queue.length,
    skipped: plan.manifest.skipped.length,
    outsideShard: plan.outsideShard,
  });

  // The engine failing stops every student; the first such error is the batch's.
  const stop = new AbortController();
  const signal = AbortSignal.any([options.signal, stop.signal]);
  const engine = new ClassEngine(options.engine, signal);
  let engineFailure: EngineError | undefined;
  const unjudged = new Map<string, number>();

  const worker = async () => {
    for (let next = queue.shift(); next && !signal.aborted; next = queue.shift()) {
      onEvent({ type: 'start', student: next.entry.student });
      let record: StudentRecord;
      try {
        record = await gradeStudent(next.entry, next.contentHash, plan.manifest, engine, signal, options);
      } catch (error) {
        // Stopped, or the engine failed: no record, so the next run grades this student.
        if (error instanceof GradingInterrupted) continue;
        if (error instanceof EngineError) {
          engineFailure ??= error;
          stop.abort();
          continue;
        }
        // A fault of the grader's on one submission must not cost the class its grading.
        record = {
          ...failedRecord(next.entry, next.contentHash, plan.manifest, `the grader failed on this submission: ${(error as Error).message}`),
          machineFault: true,
        };
      }
      await writeRecord(out, record);
      if (record.machineFault && record.hasResult) unjudged.set(record.message, (unjudged.get(record.message) ?? 0) + 1);
      onEvent({ type: 'done', record });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.jobs) }, worker));
  if (!engineFailure) await engine.finish().catch(() => undefined);
  if (engineFailure) throw engineFailure;
  if (options.signal.aborted) throw new GradingInterrupted();
  // The grading machine's fault (a registry it cannot reach) is said once, not once per student.
  for (const [message, count] of unjudged) onEvent({ type: 'note', text: `${count} submission${count === 1 ? '' : 's'} not judged: ${message}` });
  return writeGradebook(out, exercise);
}

function failedRecord(
  entry: Submission,
  hash: string,
  manifest: BatchManifest,
  message: string,
  status: 'error' | 'timed-out' = 'error',
  fingerprint: string | null = null,
  durationMs = 0,
): StudentRecord {
  return {
    student: entry.student,
    entry: entry.kind === 'folder' ? `${entry.entry}/` : entry.entry,
    contentHash: hash,
    exerciseHash: manifest.exerciseHash,
    grader: manifest.grader,
    status,
    score: 0,
    maxScore: 0,
    passed: false,
    message,
    points: {},
    images: [],
    hasResult: false,
    machineFault: false,
    fingerprint,
    imageBounds: {},
    finishedAt: new Date().toISOString(),
    durationMs,
  };
}

/** Files a killed run was writing (gradebook.ts writes beside, then renames): never read, so removed. */
async function removeStaleTemporaries(out: string): Promise<void> {
  for (const file of await readdir(out).catch(() => [])) {
    if (file.endsWith('.tmp')) await rm(path.join(out, file), { force: true });
  }
}

/** Grades one student into students/<student>/ and returns the record that marks it graded. */
async function gradeStudent(
  entry: Submission,
  hash: string,
  manifest: BatchManifest,
  engine: ClassEngine,
  batchSignal: AbortSignal,
  options: BatchOptions,
): Promise<StudentRecord> {
  const { exercise, out } = options;
  const started = Date.now();
  const notGraded = (status: 'error' | 'timed-out', message: string, fingerprint: string | null = null) =>
    failedRecord(entry, hash, manifest, message, status, fingerprint, Date.now() - started);

  await clearStudent(out, entry.student);
  let unpacked: string | undefined;
  const built = { created: [] as string[], contextFree: [] as string[] };
  engine.begin(entry.student);
  try {
    let confineTo = entry.path;
    if (entry.kind === 'archive') {
      unpacked = await mkdtemp(path.join(tmpdir(), 'grade-submission-'));
      try {
        await extractArchive(entry.path, entry.format, unpacked);
      } catch (error) {
        if (error instanceof ArchiveError) return notGraded('error', `${singleLine(entry.entry)}: ${error.message}`);
        throw error;
      }
      confineTo = await archiveRoot(unpacked);
    }
    const root = await exerciseFolderIn(confineTo, exercise);
    const fingerprint = await submissionFingerprint(exercise, root, confineTo);

    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), options.submissionTimeoutMs);
    let result: ExerciseResult;
    try {
      const grading = grade({
        exercise,
        submissionDir: root,
        submissionName: entry.student,
        confineTo,
        engine,
        engineInfo: options.engineInfo,
        limits: options.limits,
        ledger: options.ledger,
        witness: {
          built: (images) => {
            built.created.push(...images.created);
            built.contextFree.push(...images.contextFree);
            engine.used(entry.student, images.used);
          },
        },
        signal: AbortSignal.any([batchSignal, timeout.signal]),
      });
      result = await outlast(grading, timeout.signal, STOP_GRACE_MS);
    } catch (error) {
      // Whatever a stopped grading threw on its way out, it was stopped: by the batch (no record;
      // the next run grades this student) or by its time bound.
      if (batchSignal.aborted) throw new GradingInterrupted();
      if (timeout.signal.aborted) {
        return notGraded(
          'timed-out',
          `grading took longer than ${formatSpan(options.submissionTimeoutMs)} (--submission-timeout) and was stopped`,
          fingerprint,
        );
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
    // The student's entry, not the private folder it was unpacked into.
    result = { ...result, submission: entry.path };
    await writeStudentReports(studentDir(out, entry.student), result, options.reports ?? []);
    const graded = recordOfResult(result);
    const notJudged = exitCodeOf(result) === EXIT.cannotGrade;
    const firstError = result.steps.flatMap((step) => step.checks).find((check) => check.required && check.status === 'error');
    return {
      ...notGraded('error', ''),
      ...graded,
      status: notJudged ? 'error' : 'graded',
      message: notJudged && firstError ? firstError.message : graded.message,
      hasResult: true,
      machineFault: notJudged,
      fingerprint,
      finishedAt: new Date().toISOString(),
      durationMs: Date.now() - started,
    };
  } finally {
    // The student's own layers go (unless kept); a removal the engine refuses leaves cache, not a wrong grade.
    await engine.finished(entry.student, options.keepCache ? { created: [], contextFree: [] } : built).catch(() => undefined);
    if (unpacked) await rm(unpacked, { recursive: true, force: true });
  }
}

/** How long a stopped grading has to clean up before its student is given up on as timed out. */
const STOP_GRACE_MS = 60_000;

/**
 * The grading's result; once `stopped` has fired, at most `graceMs` more. A grading stopped at
 * its time bound ends by itself (every engine call is bounded); this only makes sure the class
 * goes on when one does not.
 */
function outlast<T>(grading: Promise<T>, stopped: AbortSignal, graceMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onStop = () => {
      timer = setTimeout(() => reject(new GradingInterrupted()), graceMs);
    };
    stopped.addEventListener('abort', onStop, { once: true });
    grading.then(resolve, reject).finally(() => {
      stopped.removeEventListener('abort', onStop);
      clearTimeout(timer);
    });
  });
}

/**
 * Where the exercise is inside a student's submission: the submission itself, or, when it holds
 * a folder named for the exercise (multi/ beside scratch/, as the course lays them out) and
 * nothing of the first step at its top, that folder. Either way nothing outside is graded.
 */
async function exerciseFolderIn(root: string, exercise: Exercise): Promise<string> {
  const inner = path.join(root, exercise.id);
  if (!(await lstat(inner).catch(() => undefined))?.isDirectory()) return root;
  const firstStepFiles = gradedFiles(exercise)[0]?.files ?? [];
  for (const file of firstStepFiles) {
    if (await lstat(path.join(root, file)).catch(() => undefined)) return root;
  }
  return inner;
}

async function writeStudentReports(dir: string, result: ExerciseResult, extra: FileReport[]): Promise<void> {
  const names = new Set<FileReport>(['json', 'html', ...extra]);
  for (const name of names) {
    const { file, write } = fileReports[name];
    await writeFileAtomic(path.join(dir, file), write(result));
  }
}
