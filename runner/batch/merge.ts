// `grade merge`: the gradebooks of `grade batch --shard i/N` combined into the one a single run
// writes. Every shard is checked against the others before anything is written: same exercise,
// grader and class, each shard present once and complete, each record where its name puts it.
import { cp, mkdir, readdir, realpath, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ClassSummary } from '../class-results.js';
import { loadExercise } from '../spec/loader.js';
import {
  type BatchManifest,
  byName,
  exerciseHash,
  GRADEBOOK_VERSION,
  MANIFEST_FILE,
  readManifest,
  readRecord,
  recordedStudents,
  STUDENTS_DIR,
  studentDir,
  writeGradebook,
  writeManifest,
} from './gradebook.js';
import { MAX_SHARDS, shardOf } from './shard.js';

/** The shards cannot be merged: one line saying which shard or folder, and what differs. */
export class MergeError extends Error {}

export interface ShardGradebook {
  dir: string;
  manifest: BatchManifest & { shard: { index: number; total: number } };
  /** The class's students this shard grades, all of them recorded. */
  students: string[];
}

export interface MergePlan {
  out: string;
  exercise: string;
  total: number;
  /** In shard order. */
  shards: ShardGradebook[];
  /** The merged gradebook's manifest: the shards' with no shard and every skipped entry. */
  manifest: BatchManifest;
}

export interface MergeOptions {
  dirs: string[];
  out: string;
  /** Where the exercise named in the shards' manifests lives. */
  exercisesRoot: string;
  /** Check everything, write nothing. */
  dryRun?: boolean;
}

/** Up to this many names in a message; the rest are counted. */
const NAMES_SHOWN = 3;

/** Checks the shards and, unless `dryRun`, writes the merged gradebook into `out`. */
export async function mergeGradebooks(options: MergeOptions): Promise<{ plan: MergePlan; summary?: ClassSummary }> {
  const plan = await planMerge(options.dirs, options.out);
  const exerciseDir = path.join(path.resolve(options.exercisesRoot), plan.exercise);
  if (!(await stat(path.join(exerciseDir, 'exercise.yaml')).catch(() => undefined))?.isFile()) {
    throw new MergeError(
      `the shards graded exercise ${plan.exercise}, which ${path.resolve(options.exercisesRoot)} does not hold (name its folder with --exercises)`,
    );
  }
  const exercise = await loadExercise(exerciseDir);
  if ((await exerciseHash(exercise)) !== plan.manifest.exerciseHash) {
    throw new MergeError(
      `the exercise changed since the shards were graded (${exerciseDir} differs from the spec they were graded with): grade them again, or merge with the exercise they used (--exercises)`,
    );
  }
  if (options.dryRun) return { plan };

  await mkdir(path.join(plan.out, STUDENTS_DIR), { recursive: true });
  for (const shard of plan.shards) {
    for (const student of shard.students) {
      const target = studentDir(plan.out, student);
      // A folder left by an earlier merge must not keep files the shard no longer has.
      await rm(target, { recursive: true, force: true });
      await cp(studentDir(shard.dir, student), target, { recursive: true, dereference: false, verbatimSymlinks: true, errorOnExist: true, force: false });
    }
  }
  // The manifest goes in after the students: a merge killed half-way leaves no gradebook that looks whole.
  await writeManifest(plan.out, plan.manifest);
  const summary = await writeGradebook(plan.out, exercise);
  return { plan, summary };
}

/** Reads and cross-checks the shard folders; throws a MergeError naming the first problem. */
export async function planMerge(dirs: string[], outDir: string): Promise<MergePlan> {
  if (dirs.length === 0) throw new MergeError('name the shard folders to merge, e.g. `grade merge gradebook-* --out gradebook`');
  const out = await realOrResolved(outDir);
  const read: { dir: string; manifest: BatchManifest }[] = [];
  for (const given of dirs) {
    const dir = await realOrResolved(given);
    if (isInside(dir, out)) {
      throw new MergeError(`--out ${outDir} is ${dir === out ? '' : 'inside '}the shard folder ${given}: write the merged gradebook to a folder of its own`);
    }
    if (!(await stat(dir).catch(() => undefined))?.isDirectory()) throw new MergeError(`${given}: no such folder`);
    const manifest = await readManifest(dir);
    if (!manifest)
      throw new MergeError(`${given} is not a gradebook: it holds no readable ${MANIFEST_FILE} (a folder written by \`grade batch --shard i/N --out DIR\`)`);
    if (manifest.gradebookVersion !== GRADEBOOK_VERSION) {
      throw new MergeError(
        `${given} is a gradebook of version ${manifest.gradebookVersion}, and this grade merges version ${GRADEBOOK_VERSION}: grade that shard again with this grade`,
      );
    }
    if (!manifest.shard)
      throw new MergeError(`${given} is the gradebook of a whole class, not of a shard (it was graded without --shard): there is nothing to merge it with`);
    const { index, total } = manifest.shard;
    if (!Number.isInteger(total) || total < 1 || total > MAX_SHARDS || !Number.isInteger(index) || index < 1 || index > total) {
      throw new MergeError(`${path.join(given, MANIFEST_FILE)} names shard ${index}/${total}, which no \`grade batch --shard\` writes`);
    }
    // Names become paths under --out: only what a folder of the class could have been called.
    const badName = [manifest.exercise, ...manifest.classListing].find((name) => typeof name !== 'string' || !isPlainName(name));
    if (badName !== undefined)
      throw new MergeError(
        `${path.join(given, MANIFEST_FILE)} names ${JSON.stringify(badName)}, which is no folder name: it was not written by \`grade batch\``,
      );
    read.push({ dir, manifest });
  }
  const shownAs = new Map(read.map((each, index) => [each.dir, dirs[index]!]));
  const shards = read as { dir: string; manifest: ShardGradebook['manifest'] }[];
  shards.sort((a, b) => a.manifest.shard.index - b.manifest.shard.index);
  const first = shards[0]!;
  const name = (shard: (typeof shards)[number]) => `shard ${shard.manifest.shard.index}/${shard.manifest.shard.total} (${shownAs.get(shard.dir)})`;

  for (const shard of shards.slice(1)) {
    const [a, b] = [shard.manifest, first.manifest];
    const differ = (what: string, mine: unknown, theirs: unknown, consequence: string) =>
      new MergeError(`${name(shard)} ${what} ${String(mine)}, ${name(first)} ${String(theirs)}: ${consequence}`);
    if (a.exercise !== b.exercise) throw differ('graded exercise', a.exercise, b.exercise, 'only shards of one exercise merge');
    if (a.exerciseHash !== b.exerciseHash) {
      throw new MergeError(`${name(shard)} and ${name(first)} graded different versions of exercise ${a.exercise}: grade every shard with the same spec`);
    }
    if (a.grader.version !== b.grader.version) throw differ('was graded by grade', a.grader.version, b.grader.version, 'grade every shard with the same grade');
    if (a.shard.total !== b.shard.total) {
      throw new MergeError(
        `${name(shard)} is one of ${a.shard.total} shards, ${name(first)} one of ${b.shard.total}: every shard must be graded with the same N in --shard i/N`,
      );
    }
    const listingProblem = listingDifference(a.classListing, b.classListing);
    if (listingProblem !== undefined) {
      const detail =
        listingProblem === 'count'
          ? `lists ${a.classListing.length} students, ${name(first)} ${b.classListing.length}`
          : `lists ${listingProblem.mine ?? '(nobody)'} where ${name(first)} lists ${listingProblem.theirs ?? '(nobody)'}`;
      throw new MergeError(`${name(shard)} ${detail}: they graded different class folders`);
    }
  }

  // Sorted by index, two folders of one shard sit side by side.
  for (const [i, shard] of shards.entries()) {
    const before = shards[i - 1];
    if (!before || before.manifest.shard.index !== shard.manifest.shard.index) continue;
    const { index, total } = shard.manifest.shard;
    throw new MergeError(
      before.dir === shard.dir
        ? `${shownAs.get(shard.dir)} is named twice: merge each shard once`
        : `shard ${index}/${total} appears twice: ${shownAs.get(before.dir)} and ${shownAs.get(shard.dir)} (merge each shard once)`,
    );
  }

  const total = first.manifest.shard.total;
  const present = new Set(shards.map((shard) => shard.manifest.shard.index));
  const missing = Array.from({ length: total }, (_, i) => i + 1).filter((index) => !present.has(index));
  if (missing.length > 0) {
    const list = missing.map((index) => `${index}/${total}`);
    throw new MergeError(`missing shard${missing.length > 1 ? 's' : ''} ${joinNames(list)}: merge the folders of all ${total} shards (${shards.length} given)`);
  }

  const exercise = first.manifest.exercise;
  const again = (shard: (typeof shards)[number]) =>
    `run \`grade batch ${exercise} <class> --out ${shownAs.get(shard.dir)} --shard ${shard.manifest.shard.index}/${total}\` again`;
  const planned: ShardGradebook[] = [];
  for (const shard of shards) {
    const { index } = shard.manifest.shard;
    const listed = new Set(shard.manifest.classListing);
    const recorded = await recordedStudents(shard.dir);
    const strays = recorded.filter((student) => listed.has(student) && shardOf(student, total) !== index);
    if (strays.length > 0) {
      throw new MergeError(
        `${name(shard)} holds a record of ${joinNames(strays)}, who belong${strays.length > 1 ? '' : 's'} to shard ${shardOf(strays[0]!, total)}/${total}: ` +
          'it was not written by `grade batch --shard`; grade that shard again into a new folder',
      );
    }
    const students = shard.manifest.classListing.filter((student) => shardOf(student, total) === index);
    const recordedSet = new Set(recorded);
    const lacking = students.filter((student) => !recordedSet.has(student));
    if (lacking.length > 0) throw new MergeError(`${name(shard)} lacks ${joinNames(lacking)}: ${again(shard)} to finish it`);
    for (const student of students) {
      const record = await readRecord(shard.dir, student);
      const stale =
        record?.exerciseHash !== shard.manifest.exerciseHash
          ? `${student} was graded with another version of the exercise than the rest of the shard`
          : record.grader.version !== shard.manifest.grader.version
            ? `${student} was graded by grade ${record.grader.version}, the rest of the shard by grade ${shard.manifest.grader.version}`
            : undefined;
      if (stale) throw new MergeError(`${name(shard)}: ${stale}: ${again(shard)} to regrade it`);
    }
    planned.push({ dir: shard.dir, manifest: shard.manifest, students });
  }

  await checkOut(out, outDir);
  const skipped = new Map<string, BatchManifest['skipped'][number]>();
  for (const shard of shards) for (const entry of shard.manifest.skipped) if (!skipped.has(entry.entry)) skipped.set(entry.entry, entry);
  const manifest: BatchManifest = {
    ...first.manifest,
    engine: shards.find((shard) => shard.manifest.engine)?.manifest.engine ?? null,
    shard: null,
    skipped: [...skipped.values()].sort((a, b) => byName(a.entry, b.entry)),
  };
  return { out, exercise, total, shards: planned, manifest };
}

/** --out is new, empty, or the gradebook of an earlier merge: never someone's other files. */
async function checkOut(out: string, shown: string): Promise<void> {
  const info = await stat(out).catch(() => undefined);
  if (!info) return;
  if (!info.isDirectory()) throw new MergeError(`--out ${shown} is a file: name a folder for the merged gradebook`);
  const previous = await readManifest(out);
  if (previous?.shard) {
    throw new MergeError(
      `--out ${shown} holds shard ${previous.shard.index}/${previous.shard.total}'s gradebook: write the merged gradebook to a folder of its own`,
    );
  }
  if (!previous && (await readdir(out)).length > 0) {
    throw new MergeError(`--out ${shown} holds files and no gradebook: name a new or empty folder for the merged gradebook`);
  }
}

/** Undefined when the listings are equal; else 'count', or the first name where they part. */
function listingDifference(mine: string[], theirs: string[]): 'count' | { mine?: string; theirs?: string } | undefined {
  if (mine.length !== theirs.length) return 'count';
  const a = [...mine].sort(byName);
  const b = [...theirs].sort(byName);
  const at = a.findIndex((student, index) => student !== b[index]);
  return at === -1 ? undefined : { mine: a[at], theirs: b[at] };
}

function joinNames(names: string[]): string {
  if (names.length > NAMES_SHOWN + 1) return `${names.slice(0, NAMES_SHOWN).join(', ')} and ${names.length - NAMES_SHOWN} more`;
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)}` : (names[0] ?? '');
}

/** The real path when it exists (so a link cannot hide that --out is a shard), else the resolved one. */
async function realOrResolved(dir: string): Promise<string> {
  const resolved = path.resolve(dir);
  const real = await realpath(resolved).catch(() => undefined);
  if (real) return real;
  // A new --out inside a linked shard folder: resolve the part that exists.
  const parent = path.dirname(resolved);
  return parent === resolved ? resolved : path.join(await realOrResolved(parent), path.basename(resolved));
}

const isPlainName = (name: string) => name !== '' && name !== '.' && name !== '..' && !/[/\\\0]/.test(name);

const isInside = (root: string, target: string) => {
  const relative = path.relative(root, target);
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
};
