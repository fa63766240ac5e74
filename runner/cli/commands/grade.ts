// `grade <exercise>`: grade the exercise in a folder. The top command: the other commands hang
// from it. What grading needs (the loader, the engine, the graders, the reports) is loaded only
// when it grades, so `grade --help` and `grade --version` stay fast.
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { exitCodeOf, type ExerciseResult } from '../../results.js';
import { exercisesRoot } from '../../paths.js';
import { version } from '../../version.js';
import type { FileReport } from '../../../reports/index.js';
import { StrictCommand, UsageError } from '../command-line.js';
import { Interrupts } from '../interrupts.js';
import { exerciseNames } from '../exercise-folders.js';
import type { TerminalView } from '../progress.js';

/** After a signal, how long cleanup may take before the process leaves anyway. */
const CLEANUP_DEADLINE_MS = 5000;

interface GradeOptions {
  dir?: string;
  reporter: string;
  out?: string;
  report?: string;
  keep?: boolean;
  exercises?: string;
  [flag: string]: unknown;
}

export function gradeCommand(): StrictCommand {
  const command: StrictCommand = new StrictCommand('grade')
    .usage('<exercise> [options]')
    .description('grade the exercise in a folder')
    .enablePositionalOptions()
    .argument('[exercise]')
    .option('--dir <PATH>', 'the submission folder (default: the current folder)')
    .option('--reporter <NAME>', 'what goes to stdout: terminal (default), json or tap', 'terminal')
    .option('--out <DIR>', 'write report files into DIR (default ./grade-report with --report)')
    .option('--report <LIST>', 'which files: tap,html,json,junit,gradescope,classroom (default: all)')
    .option('--keep', 'keep the images built for inspection (containers are always removed)')
    .option('--exercises <DIR>', 'where exercise specs live (default: the ones shipped with grade)')
    .option('--watch', 'grade again whenever a file of the submission is saved (Ctrl+C to stop)')
    .limitFlags(['runTimeoutMs', 'buildTimeoutMs', 'memoryBytes', 'pids', 'cpus', 'outputBytes', 'buildNetwork', 'engineTimeoutMs'])
    .version(version, '-v, --version', 'show the version')
    .runs((exercise: string | undefined, options: GradeOptions) => {
      const gradeOnce = () =>
        gradeExercise(
          exercise,
          options,
          command.commands.map((each) => each.name()),
        );
      return options.watch ? import('../watch.js').then(({ watchSubmission }) => watchSubmission(exercise, options, gradeOnce)) : gradeOnce();
    });
  return command;
}

async function gradeExercise(name: string | undefined, options: GradeOptions, commandNames: string[]): Promise<number> {
  if (!name) throw new UsageError('name an exercise to grade, e.g. `grade multi`');
  const root = path.resolve(options.exercises ?? exercisesRoot);
  const [{ engineTimeoutFromFlags, limitsFromFlags }, { fileReports, stdoutReporters }, { suggest }] = await Promise.all([
    import('../flag-values.js'),
    import('../../../reports/index.js'),
    import('../../spec/shapes.js'),
  ]);
  const engineTimeoutMs = engineTimeoutFromFlags(options);
  const reporter = options.reporter;
  if (!Object.hasOwn(stdoutReporters, reporter)) {
    throw new UsageError(`--reporter ${reporter}: expected one of ${Object.keys(stdoutReporters).join(', ')}`);
  }
  const reportFiles = chosenReports(options.out, options.report, Object.keys(fileReports) as FileReport[]);
  const flagLimits = limitsFromFlags(options);

  const available = await exerciseNames(root);
  if (!available.includes(name)) {
    const guess = suggest(name, [...available, ...commandNames]);
    throw new UsageError(`no exercise "${name}" in ${root} (exercises: ${available.join(', ') || 'none'})${guess ? `: did you mean "${guess}"?` : ''}`);
  }
  const [
    { loadExercise },
    { resolveLimits, fitToEngine },
    { DockerodeEngine, where },
    { grade },
    { ImageLedger },
    { TerminalView },
    { githubActionsRun, GithubActionsRun },
  ] = await Promise.all([
    import('../../spec/loader.js'),
    import('../../spec/limits.js'),
    import('../../engine/dockerode/index.js'),
    import('../../grading/run.js'),
    import('../../grading/image-ledger.js'),
    import('../progress.js'),
    import('../github-actions.js'),
  ]);
  const exercise = await loadExercise(path.join(root, name));
  const submissionDir = path.resolve(options.dir ?? '.');
  if (!(await stat(submissionDir).catch(() => undefined))?.isDirectory()) {
    throw new UsageError(`--dir ${submissionDir}: no such folder`);
  }
  const limits = resolveLimits(exercise.limits, flagLimits);

  // With a document on stdout, stdout carries it alone; the progress view goes to stderr.
  const document = stdoutReporters[reporter as keyof typeof stdoutReporters];
  // In GitHub Actions (GITHUB_ACTIONS=true) the view's lines stay between stop-commands; see ../github-actions.ts.
  const github = githubActionsRun(process.env, document ? 'document' : 'terminal', document ? process.stderr : process.stdout);
  const view = await TerminalView.open({ stream: github?.viewStream ?? (document ? process.stderr : process.stdout) });
  // A malformed DOCKER_HOST or DOCKER_API_VERSION is refused here, before anything is shown.
  const engine = new DockerodeEngine({ timeoutMs: engineTimeoutMs });
  let cleanupProblems = 0;
  // Stops grading and cleans up, within a deadline: a stalled engine must not keep the process alive.
  const interrupts = new Interrupts(
    { stopping: 'stopping and removing what this run created', left: 'containers of this run may be left' },
    CLEANUP_DEADLINE_MS,
    () => view.stop(),
  );

  view.header(exercise.id, exercise.title, submissionDir);
  try {
    const engineInfo = await engine.info();
    const fitted = fitToEngine(limits, engineInfo);
    if (fitted.note) view.note(fitted.note);
    const result = await grade({
      exercise,
      submissionDir,
      engine,
      engineInfo,
      limits: fitted.limits,
      keepImages: Boolean(options.keep),
      // GRADE_STEPS_AT_ONCE=1 grades the steps one after another, as a student types them.
      stepsAtOnce: Number.parseInt(process.env.GRADE_STEPS_AT_ONCE ?? '', 10) || undefined,
      ledger: ImageLedger.forEngine(where()),
      onEvent: (event) => {
        if (event.type === 'cleanup-problem') cleanupProblems++;
        if (github) github.onEvent(event, view.onEvent);
        else view.onEvent(event);
      },
      signal: interrupts.signal,
    });
    view.summary(result);
    if (reportFiles) await writeReports(result, reportFiles.dir, reportFiles.names, fileReports, view);
    await github?.finish(result);
    if (document) process.stdout.write(github ? GithubActionsRun.documentText(reporter, document(result)) : document(result));
    return exitCodeOf(result);
  } catch (error) {
    view.stop();
    if (interrupts.interrupted) {
      process.stderr.write(
        cleanupProblems ? 'grading stopped; some of what it created could not be removed: run `grade clean`\n' : 'grading stopped; nothing was left behind\n',
      );
      return interrupts.exitCode;
    }
    throw error;
  } finally {
    github?.close();
    interrupts.dispose();
  }
}

/** `--out DIR --report LIST`: which report files to write, or undefined for none. */
function chosenReports(out: string | undefined, list: string | undefined, known: FileReport[]): { dir: string; names: FileReport[] } | undefined {
  if (out === undefined && list === undefined) return undefined;
  const names = (
    list !== undefined
      ? list
          .split(',')
          .map((name) => name.trim())
          .filter(Boolean)
      : known
  ) as FileReport[];
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length || names.length === 0) {
    throw new UsageError(`--report ${String(list)}: expected a comma-separated choice of ${known.join(',')}`);
  }
  return { dir: path.resolve(out ?? 'grade-report'), names: [...new Set(names)] };
}

async function writeReports(
  result: ExerciseResult,
  dir: string,
  names: FileReport[],
  fileReports: typeof import('../../../reports/index.js').fileReports,
  view: TerminalView,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const name of names) {
    const { file, write } = fileReports[name];
    await writeFile(path.join(dir, file), write(result));
  }
  view.note(`reports written to ${dir}: ${names.map((name) => fileReports[name].file).join(', ')}`);
}
