// `grade batch <exercise> <class>`: grade every submission of a class folder into a gradebook
// folder (grades.csv, class.json, index.html, students/). Run again with the same --out, it
// grades only what is missing or changed; --shard i/N grades one part for `grade merge`.
import { availableParallelism } from 'node:os';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { EXIT } from '../../results.js';
import { exercisesRoot } from '../../paths.js';
import type { FileReport } from '../../../reports/index.js';
import { StrictCommand, UsageError } from '../command-line.js';
import { Interrupts } from '../interrupts.js';
import { exerciseNames } from '../exercise-folders.js';

/** After a signal, how long the students being graded may take to clean up before the process leaves. */
const CLEANUP_DEADLINE_MS = 10_000;
const MAX_JOBS = 64;

interface BatchFlags {
  out: string;
  jobs?: string;
  shard?: string;
  report?: string;
  reporter: string;
  regrade?: boolean;
  keepCache?: boolean;
  dryRun?: boolean;
  exercises?: string;
  [flag: string]: unknown;
}

export function batchCommand(): StrictCommand {
  return new StrictCommand('batch')
    .usage('<exercise> <class> --out DIR [options]')
    .description('grade every submission in a class folder into a gradebook')
    .argument('[exercise]')
    .argument('[class]')
    .option('--out <DIR>', 'the gradebook folder (default: ./gradebook); run again with the same DIR to resume', 'gradebook')
    .option('--jobs <N>', "submissions graded at once (default: the engine's CPU count)")
    .option('--shard <I/N>', 'grade only shard I of N (1-based) of the class, for `grade merge`')
    .option('--report <LIST>', 'more reports per student beside results.json and report.html: tap,junit,gradescope,classroom')
    .option('--reporter <NAME>', 'what goes to stdout: terminal (default) or json (class.json)', 'terminal')
    .option('--regrade', 'grade every submission again, even those graded already and unchanged')
    .option('--keep-cache', "keep each student's image layers instead of removing them once graded")
    .option('--dry-run', 'list what would be graded, and which shard, without grading')
    .option('--exercises <DIR>', 'where exercise specs live (default: the ones shipped with grade)')
    .limitFlags(['runTimeoutMs', 'buildTimeoutMs', 'memoryBytes', 'pids', 'cpus', 'outputBytes', 'buildNetwork', 'engineTimeoutMs', 'submissionTimeoutMs'])
    .runs((exercise: string | undefined, classDir: string | undefined, flags: BatchFlags) => gradeBatch(exercise, classDir, flags));
}

async function gradeBatch(name: string | undefined, classArg: string | undefined, flags: BatchFlags): Promise<number> {
  if (!name || !classArg) throw new UsageError('name an exercise and a class folder, e.g. `grade batch multi submissions/ --out gradebook`');
  const root = path.resolve(flags.exercises ?? exercisesRoot);
  const [{ engineTimeoutFromFlags, limitsFromFlags, machineSettingFromFlags }, { fileReports }, { suggest }, { parseShard, ShardError }] = await Promise.all([
    import('../flag-values.js'),
    import('../../../reports/index.js'),
    import('../../spec/shapes.js'),
    import('../../batch/shard.js'),
  ]);
  if (flags.reporter !== 'terminal' && flags.reporter !== 'json') throw new UsageError(`--reporter ${flags.reporter}: expected terminal or json`);
  const reports = extraReports(flags.report, Object.keys(fileReports) as FileReport[]);
  const jobsFlag = flags.jobs === undefined ? undefined : jobsOf(flags.jobs);
  let shard: ReturnType<typeof parseShard> | undefined;
  try {
    shard = flags.shard === undefined ? undefined : parseShard(flags.shard);
  } catch (error) {
    if (error instanceof ShardError) throw new UsageError(error.message);
    throw error;
  }
  const engineTimeoutMs = engineTimeoutFromFlags(flags);
  const submissionTimeoutMs = machineSettingFromFlags(flags, 'submissionTimeoutMs');
  const flagLimits = limitsFromFlags(flags);

  const available = await exerciseNames(root);
  if (!available.includes(name)) {
    const guess = suggest(name, available);
    throw new UsageError(`no exercise "${name}" in ${root} (exercises: ${available.join(', ') || 'none'})${guess ? `: did you mean "${guess}"?` : ''}`);
  }
  const classDir = path.resolve(classArg);
  if (!(await stat(classDir).catch(() => undefined))?.isDirectory()) throw new UsageError(`${classArg}: no such class folder`);
  const out = path.resolve(flags.out);
  if (isWithin(classDir, out))
    throw new UsageError(`--out ${flags.out} is inside the class folder ${classArg}: it would be graded as a submission; choose a folder outside it`);

  const [{ loadExercise }, { resolveLimits, fitToEngine }, batch, { BatchView }] = await Promise.all([
    import('../../spec/loader.js'),
    import('../../spec/limits.js'),
    import('../../batch/batch.js'),
    import('../batch-progress.js'),
  ]);
  const exercise = await loadExercise(path.join(root, name));
  const limits = resolveLimits(exercise.limits, flagLimits);

  if (flags.dryRun) {
    const plan = await wrapBatchError(batch, () => batch.planBatch({ exercise, classDir, out, shard, regrade: flags.regrade }));
    for (const { entry, current } of plan.submissions) {
      process.stdout.write(
        `${current ? 'graded already' : 'to grade'}  ${JSON.stringify(entry.student)}  (${entry.kind === 'folder' ? 'folder' : entry.format})\n`,
      );
    }
    for (const skipped of plan.manifest.skipped) process.stdout.write(`skipped  ${JSON.stringify(skipped.entry)}: ${skipped.reason}\n`);
    const toGrade = plan.submissions.filter((each) => !each.current).length;
    const where = shard ? ` in shard ${shard.index}/${shard.total} (${plan.outsideShard} in other shards)` : '';
    process.stdout.write(
      `grade batch --dry-run: ${plan.submissions.length} submissions${where}, ${toGrade} to grade, ${plan.manifest.skipped.length} skipped\n`,
    );
    return EXIT.passed;
  }

  const [{ DockerodeEngine, where }, { ImageLedger }] = await Promise.all([import('../../engine/dockerode/index.js'), import('../../grading/image-ledger.js')]);
  const engine = new DockerodeEngine({ timeoutMs: engineTimeoutMs });
  const engineInfo = await engine.info();
  const fitted = fitToEngine(limits, engineInfo);
  const jobs = jobsFlag ?? Math.max(1, Math.min(MAX_JOBS, engineInfo.cpus ?? availableParallelism()));
  const json = flags.reporter === 'json';
  const view = new BatchView(json ? process.stderr : process.stdout);

  // Each student being graded removes what it created, within a deadline; finished students keep
  // their records: the next run goes on from there.
  const interrupts = new Interrupts(
    { stopping: `stopping; the students graded so far are kept in ${out}`, left: 'containers may be left' },
    CLEANUP_DEADLINE_MS,
    () => view.stop(),
  );

  view.header(exercise.id, classDir, out);
  if (fitted.note) view.note(fitted.note);
  try {
    const summary = await wrapBatchError(batch, () =>
      batch.gradeClass({
        exercise,
        classDir,
        out,
        engine,
        engineInfo,
        limits: fitted.limits,
        jobs,
        submissionTimeoutMs,
        shard,
        regrade: flags.regrade,
        keepCache: flags.keepCache,
        reports,
        ledger: ImageLedger.forEngine(where()),
        signal: interrupts.signal,
        onEvent: (event) => view.onEvent(event),
      }),
    );
    view.summary(summary, out);
    if (json) process.stdout.write(await readFile(path.join(out, 'class.json'), 'utf8'));
    return EXIT.passed;
  } catch (error) {
    view.stop();
    if (interrupts.interrupted) {
      process.stderr.write(`grading stopped; run the same command again to grade the rest into ${out}\n`);
      return interrupts.exitCode;
    }
    throw error;
  } finally {
    interrupts.dispose();
  }
}

/** A gradebook folder of another batch is the user's to sort out: one line, exit 2. */
async function wrapBatchError<T>(batch: typeof import('../../batch/batch.js'), work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof batch.BatchError) throw new UsageError(error.message);
    throw error;
  }
}

function jobsOf(text: string): number {
  const jobs = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(jobs >= 1 && jobs <= MAX_JOBS)) throw new UsageError(`--jobs ${text}: expected a whole number from 1 to ${MAX_JOBS}`);
  return jobs;
}

/** `--report`: the reports beyond results.json and report.html, which every student gets. */
function extraReports(list: string | undefined, known: FileReport[]): FileReport[] {
  if (list === undefined) return [];
  const names = list
    .split(',')
    .map((each) => each.trim())
    .filter(Boolean) as FileReport[];
  const unknown = names.filter((each) => !known.includes(each));
  if (unknown.length || names.length === 0) throw new UsageError(`--report ${list}: expected a comma-separated choice of ${known.join(',')}`);
  return [...new Set(names)];
}

const isWithin = (root: string, target: string) => {
  const relative = path.relative(root, target);
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
};
