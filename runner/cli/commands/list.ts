// `grade list`: the exercises and their steps, with points.
import type { Command } from 'commander';
import path from 'node:path';
import { exercisesRoot } from '../../paths.js';
import { EXIT } from '../../results.js';
import { StrictCommand } from '../command-line.js';
import { exerciseNames } from '../exercise-folders.js';

export function listCommand(): StrictCommand {
  return (
    new StrictCommand('list')
      .description('list the exercises and their steps')
      .option('--exercises <DIR>', 'where exercise specs live (default: the ones shipped with grade)')
      // `grade --exercises DIR list` names the folder before the command: read the parent's flag too.
      .runs((_options: unknown, command: Command) => {
        const { exercises } = command.optsWithGlobals<{ exercises?: string }>();
        return listExercises(path.resolve(exercises ?? exercisesRoot));
      })
  );
}

async function listExercises(root: string): Promise<number> {
  const { loadExercise } = await import('../../spec/loader.js');
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
