// `grade new <id>`: a new exercise folder that loads and self-tests as made (scaffold-templates.ts
// holds its files). An existing folder is never touched: the folder is created first, atomically,
// and a failure half-way removes what was written.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadExercise, NAME, type Exercise } from '../spec/loader.js';
import { checkIdsOf, loadControls, type Control } from './controls.js';
import { scaffoldFiles } from './scaffold-templates.js';

/** The loader's rule for ids: lower-case words joined by dashes. */
const EXERCISE_ID = new RegExp(`^${NAME}$`);

/** The id or the folder is not one a new exercise may take. */
export class ScaffoldError extends Error {}

export interface Scaffolded {
  dir: string;
  files: string[];
  exercise: Exercise;
  controls: Control[];
}

/**
 * Writes `<root>/<id>/`, then loads it as `grade` will. `reserved` are words that cannot be
 * exercise ids because `grade <word>` means a command.
 */
export async function scaffoldExercise(root: string, id: string, reserved: readonly string[] = []): Promise<Scaffolded> {
  if (!EXERCISE_ID.test(id)) {
    throw new ScaffoldError(`"${id}" is not an exercise id: use lower-case letters, digits and dashes, such as ${suggestedId(id)}`);
  }
  if (reserved.includes(id)) throw new ScaffoldError(`"${id}" is a grade command: \`grade ${id}\` could not grade it; choose another id`);
  const dir = path.join(root, id);
  const shown = path.relative(process.cwd(), dir) || dir;
  await mkdir(root, { recursive: true });
  try {
    await mkdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new ScaffoldError(`${shown} already exists: choose another id, or remove it first`);
    throw error;
  }
  const files = scaffoldFiles(id);
  try {
    for (const [relative, text] of Object.entries(files)) {
      const file = path.join(dir, relative);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, text, { flag: 'wx' });
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const exercise = await loadExercise(dir);
  const controls = await loadControls(dir, checkIdsOf(exercise));
  return { dir, files: Object.keys(files), exercise, controls };
}

/** A near id that the rule accepts: `My_Exercise 2` becomes `my-exercise-2`. */
export function suggestedId(written: string): string {
  const words = written
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  return words.length ? words.join('-') : 'my-exercise';
}
