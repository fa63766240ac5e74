#!/usr/bin/env node
// The `grade` command: grade an exercise in a folder, list the exercises, clean up after killed
// runs. Exit codes: 0 every required check passed, 1 some did not, 2 grading was impossible
// (bad arguments, an invalid spec, no engine), 130/143 interrupted.
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseDocument } from 'yaml';
import { fileReports, stdoutReporters, type FileReport, type StdoutReporter } from '../reports/index.js';
import { TerminalView } from '../reports/terminal.js';
import { DockerodeEngine } from './dockerode-engine.js';
import { EngineError, type DockerEngine, type Limits } from './engine.js';
import { resolveLimits } from './limits.js';
import { exercisesRoot } from './paths.js';
import { EXIT, exitCodeOf, type ExerciseResult } from './results.js';
import { grade, GradingInterrupted } from './run.js';
import { Cursor, duration, INVALID, number, oneOf, size, SpecError, type Shape } from './schema.js';
import { cleanLeftovers } from './clean.js';
import { loadExercise } from './spec.js';
import { version } from './version.js';
import { LineCounter } from 'yaml';

const USAGE = `Usage: grade <exercise> [options]     grade the exercise in a folder
       grade list                       list the exercises and their steps
       grade clean [--all]              remove images and containers left by killed runs
                                        (--all: also those of runs still grading)

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
  -h, --help             show this help
  -v, --version          show the version

Exit status: 0 all required checks passed, 1 some did not, 2 could not grade.`;

class UsageError extends Error {}

const LIMIT_FLAGS: Record<string, { key: keyof Limits; shape: Shape<number | string> }> = {
  'run-timeout': { key: 'runTimeoutMs', shape: duration({ max: 600_000 }) },
  'build-timeout': { key: 'buildTimeoutMs', shape: duration({ max: 3_600_000 }) },
  memory: { key: 'memoryBytes', shape: size() },
  pids: { key: 'pids', shape: number({ min: 16, max: 100_000, integer: true }) },
  cpus: { key: 'cpus', shape: number({ min: 0.1, max: 64 }) },
  'output-limit': { key: 'outputBytes', shape: size() },
  'build-network': { key: 'buildNetwork', shape: oneOf(['none', 'default'] as const) },
};

/** A flag's value read with the same shape as the spec's, so both accept the same forms. */
function flagValue(flag: string, text: string, shape: Shape<number | string>): number | string {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const cursor = new Cursor({ file: `--${flag}`, lineCounter }, [], null);
  const value = shape.parse(doc.contents as never, cursor);
  if (value === INVALID) throw new UsageError(`--${flag} ${text}: expected ${shape.expects}`);
  return value;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        dir: { type: 'string' },
        reporter: { type: 'string', default: 'terminal' },
        out: { type: 'string' },
        report: { type: 'string' },
        keep: { type: 'boolean', default: false },
        all: { type: 'boolean', default: false },
        exercises: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
        ...Object.fromEntries(Object.keys(LIMIT_FLAGS).map((flag) => [flag, { type: 'string' as const }])),
      },
    });
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
  if (command === 'clean') return clean(new DockerodeEngine(), Boolean(values.all));

  const reporter = String(values.reporter);
  if (!Object.hasOwn(stdoutReporters, reporter)) {
    throw new UsageError(`--reporter ${reporter}: expected one of ${Object.keys(stdoutReporters).join(', ')}`);
  }
  const reportFiles = chosenReports(values.out, values.report);
  const flagLimits: Partial<Limits> = {};
  for (const [flag, { key, shape }] of Object.entries(LIMIT_FLAGS)) {
    const text = (values as Record<string, unknown>)[flag];
    if (typeof text === 'string') (flagLimits as Record<string, unknown>)[key] = flagValue(flag, text, shape);
  }

  const exerciseDir = path.join(root, command);
  const available = await exerciseNames(root);
  if (!available.includes(command)) {
    throw new UsageError(`no exercise "${command}" in ${root} (exercises: ${available.join(', ') || 'none'})`);
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
  const interrupt = new AbortController();
  let signalExit: number = EXIT.interrupted;
  const onSignal = (signal: NodeJS.Signals) => {
    signalExit = signal === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted;
    if (interrupt.signal.aborted) process.exit(signalExit); // a second Ctrl+C: leave now
    process.stderr.write(`\n${signal}: stopping and removing what this run created...\n`);
    interrupt.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  view.header(exercise.id, exercise.title, submissionDir);
  try {
    const result = await grade({
      exercise,
      submissionDir,
      engine: new DockerodeEngine(),
      limits,
      keepImages: Boolean(values.keep),
      onEvent: view.onEvent,
      signal: interrupt.signal,
    });
    view.summary(result);
    if (reportFiles) await writeReports(result, reportFiles.dir, reportFiles.names, view);
    if (document) process.stdout.write(document(result));
    return exitCodeOf(result);
  } catch (error) {
    view.stop();
    if (interrupt.signal.aborted) {
      process.stderr.write('grading stopped; nothing was left behind\n');
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

async function clean(engine: DockerEngine, all: boolean): Promise<number> {
  await engine.info();
  const { removed, inUse } = await cleanLeftovers(engine, { all });
  for (const object of removed) process.stdout.write(`removed ${object}\n`);
  for (const object of inUse) process.stdout.write(`kept ${object}: its run is still grading (grade clean --all removes it too)\n`);
  process.stdout.write(`grade clean: removed ${removed.length}, kept ${inUse.length} in use\n`);
  return EXIT.passed;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`grade: ${error.message}\n\n${USAGE}\n`);
    } else if (error instanceof SpecError) {
      process.stderr.write(`grade: the exercise spec is invalid:\n${error.message}\n`);
    } else if (error instanceof EngineError) {
      process.stderr.write(`grade: ${error.message}\n${error.advice}\n`);
    } else if (error instanceof GradingInterrupted) {
      process.stderr.write('grade: interrupted\n');
    } else {
      process.stderr.write(`grade: internal error: ${(error as Error)?.stack ?? String(error)}\nPlease report this.\n`);
    }
    process.exitCode = EXIT.cannotGrade;
  },
);
