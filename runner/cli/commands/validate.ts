// `grade validate [PATH...]`: read exercise specs as grading reads them and report every problem
// of every file in one run, at file:line:column, sorted by file and line. Exit 0 when all are
// valid, 2 otherwise. What reading specs needs is loaded only when it runs.
import type { Command } from 'commander';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { exercisesRoot } from '../../paths.js';
import { EXIT } from '../../results.js';
import type { Exercise } from '../../spec/loader.js';
import type { SpecIssue } from '../../spec/shapes.js';
import { StrictCommand, UsageError } from '../command-line.js';
import { exerciseNames } from '../exercise-folders.js';

interface ValidateOptions {
  reporter: string;
  exercises?: string;
}

export interface ValidationProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

export interface Validation {
  valid: boolean;
  /** Every problem of every file, sorted by file, then line, then column. */
  problems: ValidationProblem[];
  /** What was found valid, one line each: "exercises/multi (4 steps, 28 points)". */
  valids: string[];
}

export function validateCommand(): StrictCommand {
  return (
    new StrictCommand('validate')
      .usage('[path...] [options]')
      .description('check exercise specs: every problem of every file, at file:line:column')
      .argument('[path...]')
      .option('--reporter <NAME>', 'what goes to stdout: text (default) or json', 'text')
      .option('--exercises <DIR>', 'the exercises checked when no PATH is given (default: the ones shipped with grade)')
      // `grade --exercises DIR validate` names the folder before the command: read the parent's flag too.
      .runs((paths: string[], options: ValidateOptions, command: Command) => {
        const { exercises } = command.optsWithGlobals<{ exercises?: string }>();
        return validate(paths, { ...options, exercises });
      })
  );
}

async function validate(paths: string[], options: ValidateOptions): Promise<number> {
  if (options.reporter !== 'text' && options.reporter !== 'json') throw new UsageError(`--reporter ${options.reporter}: expected text or json`);
  const root = path.resolve(options.exercises ?? exercisesRoot);
  const validation = await validateSpecs(paths, root);
  if (options.reporter === 'json') {
    process.stdout.write(`${JSON.stringify({ valid: validation.valid, problems: validation.problems }, null, 2)}\n`);
  } else {
    process.stdout.write(formatValidation(validation));
  }
  return validation.valid ? EXIT.passed : EXIT.cannotGrade;
}

/** The text report: a line per valid exercise or step file, then every problem, then a count. */
export function formatValidation(validation: Validation): string {
  const lines = [
    ...validation.valids.map((what) => `ok: ${what}`),
    ...validation.problems.map((problem) => `${problem.file}:${problem.line}:${problem.column}: ${problem.message}`),
  ];
  if (!validation.valid) {
    const files = new Set(validation.problems.map((problem) => problem.file)).size;
    const count = validation.problems.length;
    lines.push(`grade validate: ${count} problem${count === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}`);
  }
  return lines.map((line) => `${line}\n`).join('');
}

type Target = { kind: 'exercise'; dir: string } | { kind: 'step'; file: string } | { kind: 'missing'; path: string };

/**
 * Validates what `paths` name (every exercise under `root` when none): an exercise folder, a
 * folder of exercise folders, exercise.yaml (its exercise), or a step file (within its exercise
 * when the exercise.yaml beside it lists it). A name that is no path but an exercise under
 * `root` is that exercise.
 */
export async function validateSpecs(paths: string[], root: string): Promise<Validation> {
  const { inspectExercise, inspectStepFile, sortIssues } = await import('../../spec/loader.js');
  const targets = paths.length > 0 ? (await Promise.all(paths.map((each) => targetsOf(each, root)))).flat() : await shippedTargets(root);
  const issues: SpecIssue[] = [];
  const valids: string[] = [];
  const seen = new Set<string>();
  for (const target of targets) {
    const key = target.kind === 'exercise' ? target.dir : target.kind === 'step' ? target.file : target.path;
    if (seen.has(key)) continue;
    seen.add(key);
    if (target.kind === 'missing') {
      issues.push({ file: target.path, line: 1, col: 1, message: `no such file or folder (nor an exercise in ${shown(root)})` });
    } else if (target.kind === 'exercise') {
      const inspection = await inspectExercise(target.dir);
      issues.push(...inspection.issues);
      const { exercise } = inspection;
      if (exercise) {
        const points = exercise.steps.reduce((sum, step) => sum + step.checks.reduce((total, check) => total + check.points, 0), 0);
        // The negative controls' expect.yaml files name checks of this exercise: read them as strictly.
        const before = issues.length;
        const controls = await readControls(target.dir, exercise, issues);
        const shownControls = controls ? `, ${count(controls, 'negative control')}` : '';
        if (issues.length === before) valids.push(`${shown(target.dir)} (${count(exercise.steps.length, 'step')}, ${count(points, 'point')}${shownControls})`);
      }
    } else {
      const { issues: found, step } = await inspectStepFile(target.file);
      issues.push(...found);
      if (found.length === 0 && step) {
        const points = step.checks.reduce((sum, check) => sum + check.points, 0);
        valids.push(`${shown(target.file)} (step ${step.id}: ${count(step.checks.length, 'check')}, ${count(points, 'point')})`);
      }
    }
  }
  // A step file named beside its exercise folder is read twice: its problems are said once.
  const unique = [...new Map(issues.map((issue) => [`${issue.file}:${issue.line}:${issue.col}: ${issue.message}`, issue])).values()];
  const problems = sortIssues(unique).map(({ file, line, col, message }) => ({ file, line, column: col, message }));
  return { valid: problems.length === 0, problems, valids };
}

/** How many controls `wrong/` holds; their problems go to `issues`. */
async function readControls(dir: string, exercise: Pick<Exercise, 'steps'>, issues: SpecIssue[]): Promise<number> {
  const [{ checkIdsOf, loadControls }, { SpecError }] = await Promise.all([import('../../authoring/controls.js'), import('../../spec/shapes.js')]);
  try {
    return (await loadControls(dir, checkIdsOf(exercise))).length;
  } catch (error) {
    if (!(error instanceof SpecError)) throw error;
    issues.push(...error.issues);
    return 0;
  }
}

async function shippedTargets(root: string): Promise<Target[]> {
  const names = await exerciseNames(root);
  if (names.length === 0) throw new UsageError(`no exercise folders in ${root}: name the specs to validate, or --exercises DIR`);
  return names.map((name) => ({ kind: 'exercise', dir: path.join(root, name) }));
}

async function targetsOf(given: string, root: string): Promise<Target[]> {
  const resolved = path.resolve(given);
  const info = await stat(resolved).catch(() => undefined);
  if (!info) {
    const named = !given.includes('/') && !given.includes(path.sep) ? await stat(path.join(root, given)).catch(() => undefined) : undefined;
    return named?.isDirectory() ? [{ kind: 'exercise', dir: path.join(root, given) }] : [{ kind: 'missing', path: given }];
  }
  if (info.isDirectory()) {
    if (await isFile(path.join(resolved, 'exercise.yaml'))) return [{ kind: 'exercise', dir: resolved }];
    // A folder of exercises, such as exercises/ itself.
    const entries = await readdir(resolved, { withFileTypes: true });
    const exercises: Target[] = [];
    for (const entry of entries.filter((each) => each.isDirectory()).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (await isFile(path.join(resolved, entry.name, 'exercise.yaml'))) exercises.push({ kind: 'exercise', dir: path.join(resolved, entry.name) });
    }
    // Neither: read as an exercise, whose missing exercise.yaml is then the problem to report.
    return exercises.length > 0 ? exercises : [{ kind: 'exercise', dir: resolved }];
  }
  return path.basename(resolved) === 'exercise.yaml' ? [{ kind: 'exercise', dir: path.dirname(resolved) }] : [{ kind: 'step', file: resolved }];
}

const isFile = (file: string) =>
  stat(file).then(
    (info) => info.isFile(),
    () => false,
  );

/** A path as the loader names files: relative to the current folder. */
const shown = (file: string) => path.relative(process.cwd(), file) || '.';

const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
