// The test of an exercise itself: grade the reference solution (it must get full marks) and each
// negative control (its listed checks must fail), each on a private temporary copy whose base
// images the map may replace, and judge the results (verdict.ts). The exercise folder is only read.
import { cp, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { grade, GradingInterrupted, type GradeOptions } from '../grading/run.js';
import type { ExerciseResult } from '../results.js';
import type { Exercise } from '../spec/loader.js';
import { substituteInFolder, type FolderSubstitution, type ImageMapping } from './base-images.js';
import { CONTROLS_FOLDER, EXPECT_FILE, SOLUTION_FOLDER, type Control } from './controls.js';
import { selftestReport, type Graded, type SelftestReport } from './verdict.js';

/** Grades one private copy; `name` is who it is in the results. */
export type GradeCopy = (copy: { dir: string; name: string }) => Promise<ExerciseResult>;

export type SelftestEvent = { type: 'grading'; folder: string } | { type: 'graded'; folder: string; result: ExerciseResult } | { type: 'note'; text: string };

export interface SelftestOptions {
  exercise: Exercise;
  controls: Control[];
  imageMap: readonly ImageMapping[];
  gradeCopy: GradeCopy;
  onEvent?: (event: SelftestEvent) => void;
  signal?: AbortSignal;
  /** Where the private copies go (default: the system's temporary folder). */
  tmpRoot?: string;
}

/** The exercise cannot be self-tested as it is laid out (no solution/). */
export class SelftestError extends Error {}

/** The reference solution's folder, or a SelftestError saying where it should be. */
export async function solutionDir(exercise: Pick<Exercise, 'id' | 'dir'>): Promise<string> {
  const dir = path.join(exercise.dir, SOLUTION_FOLDER);
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) {
    throw new SelftestError(`${exercise.id} has no reference solution: ${path.relative(process.cwd(), dir) || dir} is not a folder`);
  }
  return dir;
}

/** Grades through grade() exactly as `grade <exercise> --dir` does, confined to the copy. */
export function gradeWith(options: Omit<GradeOptions, 'submissionDir' | 'submissionName' | 'confineTo'>): GradeCopy {
  return async ({ dir, name }) => {
    // A signal of its own per grading, following the self-test's: what one grading hangs on a
    // signal goes with it, instead of piling up on one signal for the whole self-test.
    const own = new AbortController();
    const stop = () => own.abort();
    options.signal?.addEventListener('abort', stop, { once: true });
    if (options.signal?.aborted) own.abort();
    try {
      // Confined: a copy's `../scratch` is a sibling in the temporary folder, never part of it.
      return await grade({ ...options, signal: own.signal, submissionDir: dir, submissionName: name, confineTo: dir });
    } finally {
      options.signal?.removeEventListener('abort', stop);
    }
  };
}

/**
 * Copies `source` (without its expect.yaml) into a fresh temporary folder, named `name` there,
 * substitutes base images in its Dockerfiles, hands it to `fn`, and removes it whatever happens.
 */
export async function withPrivateCopy<T>(
  source: string,
  name: string,
  imageMap: readonly ImageMapping[],
  fn: (dir: string, substituted: FolderSubstitution[]) => Promise<T>,
  tmpRoot = tmpdir(),
): Promise<T> {
  const holder = await mkdtemp(path.join(tmpRoot, 'grade-selftest-'));
  try {
    const dir = path.join(holder, name);
    const expectFile = path.join(source, EXPECT_FILE);
    await cp(source, dir, { recursive: true, verbatimSymlinks: true, filter: (from) => from !== expectFile });
    return await fn(dir, await substituteInFolder(dir, imageMap));
  } finally {
    await rm(holder, { recursive: true, force: true });
  }
}

export interface SelftestRun {
  report: SelftestReport;
  /** What the map replaced in each submission, by folder (`solution`, `wrong/<name>`). */
  baseImages: Record<string, FolderSubstitution[]>;
}

export async function runSelftest(options: SelftestOptions): Promise<SelftestRun> {
  const { exercise, controls, imageMap, gradeCopy, onEvent = () => {}, signal } = options;
  const reference = await solutionDir(exercise);
  const baseImages: Record<string, FolderSubstitution[]> = {};
  const gradeOne = async (source: string, name: string, folder: string): Promise<ExerciseResult> => {
    if (signal?.aborted) throw new GradingInterrupted();
    const result = await withPrivateCopy(
      source,
      name,
      imageMap,
      async (dir, substituted) => {
        baseImages[folder] = substituted.filter((file) => file.substitutions.length > 0);
        for (const note of substituted.flatMap((file) => file.notes)) onEvent({ type: 'note', text: `${folder}/${note}` });
        onEvent({ type: 'grading', folder });
        return gradeCopy({ dir, name });
      },
      options.tmpRoot,
    );
    onEvent({ type: 'graded', folder, result });
    return result;
  };
  const solution: Graded = { name: SOLUTION_FOLDER, result: await gradeOne(reference, SOLUTION_FOLDER, SOLUTION_FOLDER) };
  const graded: (Graded & Pick<Control, 'expectation'>)[] = [];
  for (const control of controls) {
    const folder = `${CONTROLS_FOLDER}/${control.name}`;
    graded.push({ name: control.name, expectation: control.expectation, result: await gradeOne(control.dir, control.name, folder) });
  }
  return { report: selftestReport(exercise, solution, graded), baseImages };
}
