#!/usr/bin/env node
// The `grade` command: grade an exercise in a folder, list the exercises, clean up after killed
// runs. Exit codes: 0 every required check passed, 1 some did not, 2 grading was impossible
// (bad arguments, an invalid spec, no engine), 130/143 interrupted.
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseDocument } from 'yaml';
import { fileReports, stdoutReporters, type FileReport, type StdoutReporter } from '../../reports/index.js';
import { TerminalView } from './progress.js';
import { DockerodeEngine, where } from '../engine/dockerode.js';
import { EngineError, type DockerEngine, type Limits } from '../engine/engine.js';
import {
  buildNetworkShape, ENGINE_TIMEOUT, ENGINE_TIMEOUT_BOUNDS, fitToEngine, LIMIT_BOUNDS, limitValueShape, outOfBounds, resolveLimits,
  type BoundedLimit, type LimitBound,
} from '../spec/limits.js';
import { exercisesRoot } from '../paths.js';
import { EXIT, exitCodeOf, type ExerciseResult } from '../results.js';
import { grade, GradingInterrupted } from '../grading/run.js';
import { Cursor, duration, INVALID, SpecError, suggest, type Shape } from '../spec/shapes.js';
import { cleanCache, cleanLeftovers } from '../grading/clean.js';
import { ImageLedger } from '../grading/image-ledger.js';
import { loadExercise } from '../spec/loader.js';
import { version } from '../version.js';
import { LineCounter } from 'yaml';

const USAGE = `Usage: grade <exercise> [options]     grade the exercise in a folder
       grade list                       list the exercises and their steps
       grade clean [--all] [--cache]    remove containers and images left by killed runs
                                        (--all: also those of runs still grading;
                                        --cache: also every image a grading built, the
                                        layer cache included)

Options:
  --dir PATH             the submission folder (default: the current folder)
  --reporter NAME        what goes to stdout: terminal (default), json or tap
  --out DIR              write report files into DIR (default ./grade-report with --report)
  --report LIST          which files: tap,html,json,junit,gradescope,classroom (default: all)
  --keep                 keep the images built for inspection (containers are always removed)
  --exercises DIR        where exercise specs live (default: the ones shipped with grade)
  --run-timeout T        wall-clock limit per container run, e.g. 30s (default 30s)
  --build-timeout T      wall-clock limit per image build, e.g. 5m (default 5m)
  --memory SIZE          memory per container and build, e.g. 512MiB (swap is not allowed)
  --pids N               process limit per container (default 512)
  --cpus N               CPU share per container (default 1)
  --output-limit SIZE    output kept per stream of a run (default 1MiB)
  --build-network MODE   none or default (default: as the exercise says)
  --engine-timeout T     how long the Docker engine may go without answering (default 30s)
  -h, --help             show this help
  -v, --version          show the version

Exit status: 0 all required checks passed, 1 some did not, 2 could not grade.`;

class UsageError extends Error {}
/** After a signal, how long cleanup may take before the process leaves anyway. */
const CLEANUP_DEADLINE_MS = 5000;
/** A setting out of its bounds: one line naming the value and the fix, without the usage. */
class SettingError extends Error {}

type FlagShape = { key: keyof Limits; shape: Shape<number | string>; bound?: Pick<LimitBound, 'unit' | 'min' | 'max' | 'belowMin' | 'aboveMax'> };

/** The limit flags, from the one table of bounds the spec and the README follow too. */
const LIMIT_FLAGS: Record<string, FlagShape> = {
  ...Object.fromEntries(
    (Object.keys(LIMIT_BOUNDS) as BoundedLimit[]).map((key) => [LIMIT_BOUNDS[key].flag, { key, shape: limitValueShape(key), bound: LIMIT_BOUNDS[key] }]),
  ),
  'build-network': { key: 'buildNetwork', shape: buildNetworkShape() },
};

/** A flag's value read with the same shape as the spec's, so both accept the same forms; then its bounds. */
function flagValue(flag: string, text: string, shape: Shape<number | string>, bound?: FlagShape['bound']): number | string {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const cursor = new Cursor({ file: `--${flag}`, lineCounter }, [], null);
  const value = shape.parse(doc.contents as never, cursor);
  if (value === INVALID) throw new UsageError(`--${flag} ${text}: ${cursor.issues[0]?.message ?? `expected ${shape.expects}`}`);
  const problem = bound && typeof value === 'number' ? outOfBounds(bound, value, `--${flag} ${text}`, (limit) => `--${flag} ${limit}`) : undefined;
  if (problem) throw new SettingError(problem);
  return value;
}

/**
 * Our own one-line message for an unknown flag, a flag missing its value or a switch given one;
 * Node's parser words them in terms of its API ("To specify a positional argument...").
 */
function argumentProblem(argv: string[], options: NonNullable<ParseArgsConfig['options']>): string | undefined {
  const { tokens } = parseArgs({ args: argv, allowPositionals: true, options, strict: false, tokens: true });
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const option = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    if (!option) {
      const guess = token.rawName.startsWith('--') ? suggest(token.name, Object.keys(options)) : undefined;
      return `unknown option ${token.rawName} (${guess ? `did you mean --${guess}?` : 'grade --help lists the options'})`;
    }
    if (option.type === 'string' && token.value === undefined) return `${token.rawName} needs a value`;
    // As Node's strict parser: a separate value that looks like an option is more likely a
    // forgotten value than a value.
    if (option.type === 'string' && !token.inlineValue && /^-./.test(token.value ?? '')) {
      return `${token.rawName} needs a value: ${token.value} looks like an option (to mean it as the value, write --${token.name}=${token.value})`;
    }
    if (option.type === 'boolean' && token.inlineValue) return `${token.rawName} takes no value (write ${token.rawName} alone)`;
  }
  return undefined;
}

async function main(argv: string[]): Promise<number> {
  const options = {
    dir: { type: 'string' },
    reporter: { type: 'string', default: 'terminal' },
    out: { type: 'string' },
    report: { type: 'string' },
    keep: { type: 'boolean', default: false },
    all: { type: 'boolean', default: false },
    cache: { type: 'boolean', default: false },
    exercises: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' },
    ...Object.fromEntries(Object.keys(LIMIT_FLAGS).map((flag) => [flag, { type: 'string' as const }])),
    [ENGINE_TIMEOUT.flag]: { type: 'string' },
  } satisfies ParseArgsConfig['options'];
  const problem = argumentProblem(argv, options);
  if (problem) throw new UsageError(problem);
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.passed;
  }
  if (values.version) {
    process.stdout.write(`${version}\n`);
    return EXIT.passed;
  }
  const [command, ...rest] = positionals;
  if (!command) throw new UsageError('name an exercise to grade, e.g. `grade multi`');
  if (rest.length > 0) throw new UsageError(`unexpected argument${rest.length > 1 ? 's' : ''}: ${rest.join(' ')}`);
  const root = path.resolve(String(values.exercises ?? exercisesRoot));

  if (command === 'list') return listExercises(root);
  const engineText = values[ENGINE_TIMEOUT.flag];
  const engineTimeoutMs = typeof engineText === 'string' ? Number(flagValue(ENGINE_TIMEOUT.flag, engineText, duration(), ENGINE_TIMEOUT_BOUNDS)) : ENGINE_TIMEOUT.defaultMs;
  if (command === 'clean') return clean(new DockerodeEngine({ timeoutMs: engineTimeoutMs }), { all: Boolean(values.all), cache: Boolean(values.cache) });

  const reporter = String(values.reporter);
  if (!Object.hasOwn(stdoutReporters, reporter)) {
    throw new UsageError(`--reporter ${reporter}: expected one of ${Object.keys(stdoutReporters).join(', ')}`);
  }
  const reportFiles = chosenReports(values.out, values.report);
  const flagLimits: Partial<Limits> = {};
  for (const [flag, { key, shape, bound }] of Object.entries(LIMIT_FLAGS)) {
    const text = (values as Record<string, unknown>)[flag];
    if (typeof text === 'string') (flagLimits as Record<string, unknown>)[key] = flagValue(flag, text, shape, bound);
  }

  const exerciseDir = path.join(root, command);
  const available = await exerciseNames(root);
  if (!available.includes(command)) {
    const guess = suggest(command, [...available, 'list', 'clean']);
    throw new UsageError(`no exercise "${command}" in ${root} (exercises: ${available.join(', ') || 'none'})${guess ? `: did you mean "${guess}"?` : ''}`);
  }
  const exercise = await loadExercise(exerciseDir);
  const submissionDir = path.resolve(String(values.dir ?? '.'));
  if (!(await stat(submissionDir).catch(() => undefined))?.isDirectory()) {
    throw new UsageError(`--dir ${submissionDir}: no such folder`);
  }
  const limits = resolveLimits(exercise.limits, flagLimits);

  // With a document on stdout, stdout carries it alone; the progress view goes to stderr.
  const document = stdoutReporters[reporter as StdoutReporter];
  const view = new TerminalView({ stream: document ? process.stderr : process.stdout });
  // A malformed DOCKER_HOST or DOCKER_API_VERSION is refused here, before anything is shown.
  const engine = new DockerodeEngine({ timeoutMs: engineTimeoutMs });
  const interrupt = new AbortController();
  let signalExit: number = EXIT.interrupted;
  let cleanupProblems = 0;
  // The first signal stops grading and cleans up, but only for so long: a stalled engine must not
  // keep the process alive. A second signal leaves at once.
  const onSignal = (signal: NodeJS.Signals) => {
    const code = signal === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted;
    view.stop();
    if (interrupt.signal.aborted) {
      process.stderr.write(`\n${signal} again: stopped at once; containers of this run may be left: run \`grade clean\` to remove them\n`);
      process.exit(code);
    }
    signalExit = code;
    process.stderr.write(`\n${signal}: stopping and removing what this run created (${signal} again to leave at once)...\n`);
    interrupt.abort();
    setTimeout(() => {
      process.stderr.write(
        `grade: cleanup did not finish within ${CLEANUP_DEADLINE_MS / 1000} s (is the Docker engine answering?); ` +
          'containers of this run may be left: run `grade clean` to remove them\n',
      );
      process.exit(code);
    }, CLEANUP_DEADLINE_MS).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

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
      keepImages: Boolean(values.keep),
      ledger: ImageLedger.forEngine(where()),
      onEvent: (event) => {
        if (event.type === 'cleanup-problem') cleanupProblems++;
        view.onEvent(event);
      },
      signal: interrupt.signal,
    });
    view.summary(result);
    if (reportFiles) await writeReports(result, reportFiles.dir, reportFiles.names, view);
    if (document) process.stdout.write(document(result));
    return exitCodeOf(result);
  } catch (error) {
    view.stop();
    if (interrupt.signal.aborted) {
      process.stderr.write(
        cleanupProblems ? 'grading stopped; some of what it created could not be removed: run `grade clean`\n' : 'grading stopped; nothing was left behind\n',
      );
      return signalExit;
    }
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** `--out DIR --report LIST`: which report files to write, or undefined for none. */
function chosenReports(out: unknown, list: unknown): { dir: string; names: FileReport[] } | undefined {
  if (out === undefined && list === undefined) return undefined;
  const names = (typeof list === 'string' ? list.split(',').map((name) => name.trim()).filter(Boolean) : Object.keys(fileReports)) as FileReport[];
  const unknown = names.filter((name) => !Object.hasOwn(fileReports, name));
  if (unknown.length || names.length === 0) {
    throw new UsageError(`--report ${String(list)}: expected a comma-separated choice of ${Object.keys(fileReports).join(',')}`);
  }
  return { dir: path.resolve(typeof out === 'string' ? out : 'grade-report'), names: [...new Set(names)] };
}

async function writeReports(result: ExerciseResult, dir: string, names: FileReport[], view: TerminalView): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const name of names) {
    const { file, write } = fileReports[name];
    await writeFile(path.join(dir, file), write(result));
  }
  view.note(`reports written to ${dir}: ${names.map((name) => fileReports[name].file).join(', ')}`);
}

async function exerciseNames(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
}

async function listExercises(root: string): Promise<number> {
  for (const name of await exerciseNames(root)) {
    const exercise = await loadExercise(path.join(root, name));
    process.stdout.write(`${exercise.id}  ${exercise.title}\n`);
    for (const step of exercise.steps) {
      const points = step.checks.reduce((sum, check) => sum + check.points, 0);
      process.stdout.write(`  ${step.id.padEnd(16)} ${String(points).padStart(2)} pts${step.bonus ? ' (bonus)' : '        '}  ${step.title}\n`);
    }
  }
  return EXIT.passed;
}

async function clean(engine: DockerEngine, options: { all: boolean; cache: boolean }): Promise<number> {
  await engine.info();
  const { removed, inUse } = await cleanLeftovers(engine, { all: options.all });
  for (const object of removed) process.stdout.write(`removed ${object}\n`);
  for (const object of inUse) process.stdout.write(`kept ${object}: its run is still grading (grade clean --all removes it too)\n`);
  process.stdout.write(`grade clean: removed ${removed.length}, kept ${inUse.length} in use\n`);
  if (options.cache) {
    const cache = await cleanCache(engine, ImageLedger.forEngine(where()));
    const kept = cache.inUse.length ? `; kept ${cache.inUse.length} that a container, a tag or another image still uses` : '';
    process.stdout.write(`grade clean --cache: removed ${cache.removed.length} image${cache.removed.length === 1 ? '' : 's'} gradings built${kept}\n`);
  }
  return EXIT.passed;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      // One line: a page of usage would push the problem out of sight.
      process.stderr.write(`grade: ${error.message}\n`);
    } else if (error instanceof SpecError) {
      process.stderr.write(`grade: the exercise spec is invalid:\n${error.message}\n`);
    } else if (error instanceof EngineError) {
      process.stderr.write(`grade: ${error.message}\n${error.advice}\n`);
      // Every engine request is bounded and aborted, but an engine that stopped answering must
      // never keep the process alive: leave shortly even if something is still pending.
      setTimeout(() => process.exit(EXIT.cannotGrade), 1000).unref();
    } else if (error instanceof SettingError) {
      process.stderr.write(`grade: ${error.message}\n`);
    } else if (error instanceof GradingInterrupted) {
      process.stderr.write('grade: interrupted\n');
    } else {
      process.stderr.write(`grade: internal error: ${(error as Error)?.stack ?? String(error)}\nPlease report this.\n`);
    }
    process.exitCode = EXIT.cannotGrade;
  },
);
