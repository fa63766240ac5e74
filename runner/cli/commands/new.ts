// `grade new <id>`: scaffold a new exercise (exercise.yaml, one step, a reference solution and one
// negative control) that loads and self-tests as made, for an instructor to grow.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { EXIT } from '../../results.js';
import { exercisesRoot } from '../../paths.js';
import { StrictCommand, UsageError } from '../command-line.js';

interface NewFlags {
  exercises?: string;
}

export function newCommand(): StrictCommand {
  return new StrictCommand('new')
    .usage('<id> [options]')
    .description('create a new exercise: exercise.yaml, one step, a reference solution and one negative control')
    .argument('[id]')
    .option('--exercises <DIR>', 'where to create it (default: the exercises shipped with grade)')
    .runs((id: string | undefined, flags: NewFlags, command: Command) => {
      const exercises = flags.exercises ?? command.optsWithGlobals<NewFlags>().exercises;
      const commands = command.parent?.commands.map((each) => each.name()) ?? [];
      return newExercise(id, exercises, commands);
    });
}

async function newExercise(id: string | undefined, exercisesFlag: string | undefined, commands: string[]): Promise<number> {
  if (!id) throw new UsageError('name the new exercise, e.g. `grade new my-exercise`');
  const root = path.resolve(exercisesFlag ?? exercisesRoot);
  const [{ scaffoldExercise, ScaffoldError }, templates] = await Promise.all([
    import('../../authoring/scaffold.js'),
    import('../../authoring/scaffold-templates.js'),
  ]);
  let made: Awaited<ReturnType<typeof scaffoldExercise>>;
  try {
    made = await scaffoldExercise(root, id, commands);
  } catch (error) {
    if (error instanceof ScaffoldError) throw new UsageError(error.message);
    throw error;
  }
  const described: Record<string, string> = {
    'exercise.yaml': 'the exercise: its id, title and steps',
    [`${templates.STEP_ID}.yaml`]: 'its step: build the image, run it, check what it prints',
    'solution/': 'the reference solution, which must get full marks',
    [`wrong/${templates.MISTAKE}/`]: 'a negative control: one mistake, and expect.yaml naming the check that catches it',
  };
  const shown = path.relative(process.cwd(), made.dir) || made.dir;
  const checks = made.exercise.steps.reduce((sum, step) => sum + step.checks.length, 0);
  const exercisesArg = exercisesFlag === undefined ? '' : ` --exercises ${path.relative(process.cwd(), root) || '.'}`;
  process.stdout.write(
    `${[
      `created ${shown}/`,
      ...Object.entries(described).map(([file, what]) => `  ${file.padEnd(28)}${what}`),
      `It loads as made: ${made.exercise.steps.length} step, ${checks} checks, ${made.controls.length} negative control.`,
      `Next: edit the files, then self-test it: grade selftest ${id}${exercisesArg}`,
      `(offline, map its base image to a local one that has echo: --image ${templates.SOLUTION_BASE}=IMAGE)`,
    ].join('\n')}\n`,
  );
  // The specs' first lines point editors at schema files beside the exercise folders.
  const missing = Object.entries(templates.SCHEMA_FILES).filter(([, file]) => !existsSync(path.join(root, file)));
  if (missing.length) {
    const where = path.relative(process.cwd(), root) || '.';
    process.stdout.write(`For completion in your editor: ${missing.map(([kind, file]) => `grade schema ${kind} > ${path.join(where, file)}`).join('; ')}\n`);
  }
  return EXIT.passed;
}
