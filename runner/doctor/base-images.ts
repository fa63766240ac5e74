// Which base images grading will need: those the exercise's reference solution builds FROM, and
// those a student's Dockerfiles in the submission folder name, found the way grading finds them
// (each step's folder, each build's Dockerfile).
import path from 'node:path';
import { externalBaseImages, parseDockerfile } from '../dockerfile/parser.js';
import { readDockerfile } from '../dockerfile/read.js';
import { resolveStepDir } from '../grading/run.js';
import type { Exercise } from '../spec/loader.js';

export interface NeededImage {
  image: string;
  /** Where it is named: "the reference solution (scratch/Dockerfile)", "your Dockerfile". */
  namedIn: string[];
}

/** The Dockerfiles each step builds, relative to the step's folder, with the step's folder candidates. */
function dockerfilesOf(exercise: Exercise): { dirs: string[]; dockerfile: string }[] {
  const found: { dirs: string[]; dockerfile: string }[] = [];
  for (const step of exercise.steps) {
    for (const action of step.actions) {
      if (action.kind !== 'build') continue;
      for (const choice of action.from) {
        if (!found.some((each) => each.dockerfile === choice.dockerfile && each.dirs.join() === step.dirs.join()))
          found.push({ dirs: step.dirs, dockerfile: choice.dockerfile });
      }
    }
  }
  return found;
}

async function imagesIn(
  root: string,
  wanted: { dirs: string[]; dockerfile: string }[],
  confineTo: string | undefined,
): Promise<{ image: string; file: string }[]> {
  const images: { image: string; file: string }[] = [];
  const seen = new Set<string>();
  for (const { dirs, dockerfile } of wanted) {
    const { dir } = await resolveStepDir(root, dirs, confineTo);
    if (!dir) continue;
    const file = path.join(dir, dockerfile);
    if (seen.has(file)) continue;
    seen.add(file);
    const shown = path.relative(root, file) || dockerfile;
    const read = await readDockerfile(dir, dockerfile, shown);
    if (!read.ok) continue;
    let parsed: ReturnType<typeof parseDockerfile>;
    try {
      parsed = parseDockerfile(read.text);
    } catch {
      // Grading says what is wrong with it; here it names no image.
      continue;
    }
    for (const image of externalBaseImages(parsed)) images.push({ image, file: shown });
  }
  return images;
}

/**
 * With an exercise: what its reference solution (`<exercise>/solution`) and the submission in
 * `submissionDir` build FROM. Without one: what `submissionDir/Dockerfile` builds FROM.
 */
export async function neededBaseImages(exercise: Exercise | undefined, submissionDir: string): Promise<NeededImage[]> {
  const wanted = exercise ? dockerfilesOf(exercise) : [{ dirs: ['.'], dockerfile: 'Dockerfile' }];
  const named: { image: string; where: string }[] = [];
  if (exercise) {
    const solution = path.join(exercise.dir, 'solution');
    for (const { image, file } of await imagesIn(solution, wanted, solution)) named.push({ image, where: `the reference solution (${file})` });
  }
  for (const { image, file } of await imagesIn(submissionDir, wanted, undefined)) named.push({ image, where: `your ${file}` });
  const needed: NeededImage[] = [];
  for (const { image, where } of named) {
    const entry = needed.find((each) => each.image === image);
    if (!entry) needed.push({ image, namedIn: [where] });
    else if (!entry.namedIn.includes(where)) entry.namedIn.push(where);
  }
  return needed;
}
