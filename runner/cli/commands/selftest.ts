// `grade selftest <exercise>`: the test of an exercise itself. Grades the reference solution
// (solution/, full marks expected) and each negative control (wrong/<name>/ with an expect.yaml
// naming the checks it must fail), each as `grade <exercise> --dir` would, on a private copy whose
// base images `--image` may replace, and prints which check catches which mistake.
import type { Command } from 'commander';
import path from 'node:path';
import { EXIT } from '../../results.js';
import { exercisesRoot } from '../../paths.js';
import { StrictCommand, UsageError } from '../command-line.js';
import { Interrupts } from '../interrupts.js';
import { exerciseNames } from '../exercise-folders.js';

/** After a signal, how long cleanup may take before the process leaves anyway. */
const CLEANUP_DEADLINE_MS = 5000;

interface SelftestFlags {
  image: string[];
  reporter: string;
  exercises?: string;
  [flag: string]: unknown;
}

export function selftestCommand(): StrictCommand {
  return (
    new StrictCommand('selftest')
      .usage('<exercise> [options]')
      .description('test an exercise: its solution gets full marks, each control in wrong/ fails its listed checks')
      .argument('[exercise]')
      .option(
        '--image <NAME=IMAGE>',
        'use IMAGE where a Dockerfile says FROM NAME; NAME+build=IMAGE only in stages that install packages or compile; * in NAME matches anything; repeatable',
        (value: string, previous: string[]) => [...previous, value],
        [] as string[],
      )
      .option('--reporter <NAME>', 'what goes to stdout: terminal (default) or json', 'terminal')
      .option('--exercises <DIR>', 'where exercise specs live (default: the ones shipped with grade)')
      .limitFlags(['runTimeoutMs', 'buildTimeoutMs', 'memoryBytes', 'pids', 'cpus', 'outputBytes', 'buildNetwork', 'engineTimeoutMs'])
      // `grade --exercises DIR selftest multi` names the folder before the command: read the parent's flag too
      // (only that one: the parent's own defaults, such as its --reporter, would override ours).
      .runs((exercise: string | undefined, flags: SelftestFlags, command: Command) =>
        selftestExercise(exercise, { ...flags, exercises: flags.exercises ?? command.optsWithGlobals<SelftestFlags>().exercises }),
      )
  );
}

async function selftestExercise(name: string | undefined, flags: SelftestFlags): Promise<number> {
  if (!name) throw new UsageError('name an exercise to self-test, e.g. `grade selftest multi`');
  if (flags.reporter !== 'terminal' && flags.reporter !== 'json') throw new UsageError(`--reporter ${flags.reporter}: expected terminal or json`);
  const root = path.resolve(flags.exercises ?? exercisesRoot);
  const [{ engineTimeoutFromFlags, limitsFromFlags }, { parseImageMap, ImageMapError }, { suggest }] = await Promise.all([
    import('../flag-values.js'),
    import('../../authoring/base-images.js'),
    import('../../spec/shapes.js'),
  ]);
  const engineTimeoutMs = engineTimeoutFromFlags(flags);
  const flagLimits = limitsFromFlags(flags);
  let imageMap: ReturnType<typeof parseImageMap>;
  try {
    imageMap = parseImageMap(flags.image ?? []);
  } catch (error) {
    if (error instanceof ImageMapError) throw new UsageError(error.message);
    throw error;
  }

  const available = await exerciseNames(root);
  if (!available.includes(name)) {
    const guess = suggest(name, available);
    throw new UsageError(`no exercise "${name}" in ${root} (exercises: ${available.join(', ') || 'none'})${guess ? `: did you mean "${guess}"?` : ''}`);
  }
  const [{ loadExercise }, { resolveLimits, fitToEngine }, { DockerodeEngine, where }, { ImageLedger }, controls, selftest, matrix, { singleLine }] =
    await Promise.all([
      import('../../spec/loader.js'),
      import('../../spec/limits.js'),
      import('../../engine/dockerode/index.js'),
      import('../../grading/image-ledger.js'),
      import('../../authoring/controls.js'),
      import('../../authoring/selftest.js'),
      import('../../authoring/matrix.js'),
      import('../../text/plain.js'),
    ]);
  const exercise = await loadExercise(path.join(root, name));
  // Everything the self-test reads is checked before the engine is asked anything.
  const wrong = await controls.loadControls(exercise.dir, controls.checkIdsOf(exercise));
  await selftest.solutionDir(exercise).catch((error: unknown) => {
    throw error instanceof selftest.SelftestError ? new UsageError(error.message) : error;
  });
  const limits = resolveLimits(exercise.limits, flagLimits);

  const json = flags.reporter === 'json';
  // With a document on stdout, stdout carries it alone: progress goes to stderr.
  const progress = json ? process.stderr : process.stdout;
  const engine = new DockerodeEngine({ timeoutMs: engineTimeoutMs });
  let cleanupProblems = 0;
  const interrupts = new Interrupts(
    { stopping: 'stopping and removing what this run created', left: 'containers of this run may be left' },
    CLEANUP_DEADLINE_MS,
  );

  progress.write(`selftest ${exercise.id}: the reference solution and ${wrong.length} negative control${wrong.length === 1 ? '' : 's'}\n`);
  try {
    const engineInfo = await engine.info();
    const fitted = fitToEngine(limits, engineInfo);
    if (fitted.note) progress.write(`note: ${fitted.note}\n`);
    let started = 0;
    const { report, baseImages } = await selftest.runSelftest({
      exercise,
      controls: wrong,
      imageMap,
      signal: interrupts.signal,
      gradeCopy: selftest.gradeWith({
        exercise,
        engine,
        engineInfo,
        limits: fitted.limits,
        ledger: ImageLedger.forEngine(where()),
        signal: interrupts.signal,
        onEvent: (event) => {
          if (event.type === 'cleanup-problem') cleanupProblems++;
        },
      }),
      onEvent: (event) => {
        // Folder names and Dockerfile text are the author's, but still printed one line each.
        if (event.type === 'note') progress.write(`note: ${singleLine(event.text)}\n`);
        else if (event.type === 'grading') {
          started = Date.now();
          progress.write(`grading ${singleLine(event.folder)}/ ... `);
        } else progress.write(`${event.result.score}/${event.result.maxScore} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
      },
    });
    // The matrix is the view: on stdout, or beside the JSON document on stderr.
    progress.write(`\n${matrix.selftestText(report, progress.isTTY ? progress.columns : undefined)}`);
    if (json) process.stdout.write(`${JSON.stringify({ ...report, baseImages }, null, 2)}\n`);
    if (report.exitCode === EXIT.cannotGrade) {
      process.stderr.write(
        'grade: some checks could not be judged on this machine; if a base image is missing offline, map it to a local one: ' +
          '--image NAME=IMAGE (grade selftest --help)\n',
      );
    }
    if (cleanupProblems) process.stderr.write('grade: some of what the self-test created could not be removed: run `grade clean`\n');
    return report.exitCode;
  } catch (error) {
    if (interrupts.interrupted) {
      process.stderr.write(
        cleanupProblems ? 'selftest stopped; some of what it created could not be removed: run `grade clean`\n' : 'selftest stopped; nothing was left behind\n',
      );
      return interrupts.exitCode;
    }
    throw error;
  } finally {
    interrupts.dispose();
  }
}
