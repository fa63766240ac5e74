// `grade merge` on shard gradebooks written by hand: every refusal names the shard and what
// differs, and a merge of all shards is the gradebook a single run writes, row for row.
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t, { type Test } from 'tap';
import {
  type BatchManifest,
  exerciseHash,
  GRADEBOOK_VERSION,
  readManifest,
  recordOfResult,
  type Shard,
  type StudentRecord,
  writeGradebook,
  writeManifest,
  writeRecord,
} from '../../runner/batch/gradebook.js';
import { MergeError, mergeGradebooks } from '../../runner/batch/merge.js';
import { shardOf } from '../../runner/batch/shard.js';
import { UsageError } from '../../runner/cli/command-line.js';
import { mergeCommand } from '../../runner/cli/commands/merge.js';
import { REFERENCE_SOLUTION } from '../../runner/class-results.js';
import { packageRoot } from '../../runner/paths.js';
import type { ExerciseResult } from '../../runner/results.js';
import { loadExercise } from '../../runner/spec/loader.js';
import { version } from '../../runner/version.js';

const exercisesRoot = path.join(packageRoot, 'exercises');
const exercise = await loadExercise(path.join(exercisesRoot, 'multi'));
const specHash = await exerciseHash(exercise);
const fixture = async (name: string) => JSON.parse(await readFile(path.join(packageRoot, 'test/fixtures/results', `${name}.json`), 'utf8')) as ExerciseResult;
const results = { solution: await fixture('solution'), compileError: await fixture('compile-error'), scratchDynamic: await fixture('scratch-dynamic') };

const REFERENCE = 'f'.repeat(64);
const COPIED = 'c'.repeat(64);
const SHARED = 'e'.repeat(64);
const TOTAL = 3;

/** Each student's outcome: a graded result with a fingerprint, or a status without a result. */
const CLASS: Record<string, { result: ExerciseResult; fingerprint: string | null } | { status: 'error' | 'timed-out'; message: string }> = {
  alice: { result: results.solution, fingerprint: REFERENCE },
  bob: { result: results.compileError, fingerprint: 'b'.repeat(64) },
  carol: { result: results.scratchDynamic, fingerprint: COPIED },
  dave: { result: results.scratchDynamic, fingerprint: COPIED },
  erin: { result: results.solution, fingerprint: SHARED },
  heidi: { status: 'timed-out', message: 'grading took longer than 600 s' },
  ivan: { status: 'error', message: 'the archive ivan.zip could not be read: bad header' },
  judy: { result: results.compileError, fingerprint: SHARED },
  'multi-judy': { result: results.compileError, fingerprint: null },
};
const LISTING = Object.keys(CLASS).sort();
const SKIPPED = [
  { entry: 'README.md', reason: 'not a submission: a file at the top of the class folder' },
  { entry: 'notes.txt', reason: 'not a submission: a file at the top of the class folder' },
];
const studentsOf = (index: number) => LISTING.filter((student) => shardOf(student, TOTAL) === index);

const root = t.testdir({});

function manifestFor(shard: Shard | null, overrides: Partial<BatchManifest> = {}): BatchManifest {
  return {
    gradebookVersion: GRADEBOOK_VERSION,
    exercise: 'multi',
    title: exercise.title,
    exerciseHash: specHash,
    grader: { name: 'grade', version },
    engine: { version: '20.10.24', apiVersion: '1.41', os: 'linux', arch: 'x86_64', cpus: 4 },
    shard,
    classListing: LISTING,
    skipped: SKIPPED.filter((entry) => !shard || shardOf(entry.entry, shard.total) === shard.index),
    referenceFingerprint: REFERENCE,
    ...overrides,
  };
}

async function writeStudent(dir: string, student: string): Promise<void> {
  const outcome = CLASS[student]!;
  const common = {
    student,
    entry: student,
    contentHash: `content-of-${student}`,
    exerciseHash: specHash,
    grader: { name: 'grade' as const, version },
    machineFault: false,
    finishedAt: '2025-01-01T00:00:00.000Z',
    durationMs: 1000,
  };
  let record: StudentRecord;
  if ('result' in outcome) {
    const result = { ...outcome.result, submissionId: student };
    await mkdir(path.join(dir, 'students', student), { recursive: true });
    await writeFile(path.join(dir, 'students', student, 'results.json'), JSON.stringify(result));
    await writeFile(path.join(dir, 'students', student, 'report.html'), `<!doctype html><title>${student}</title>`);
    record = { ...common, ...recordOfResult(result), status: 'graded', hasResult: true, fingerprint: outcome.fingerprint };
  } else {
    record = {
      ...common,
      status: outcome.status,
      score: 0,
      maxScore: 28,
      passed: false,
      message: outcome.message,
      points: {},
      images: [],
      imageBounds: {},
      hasResult: false,
      fingerprint: null,
    };
  }
  await writeRecord(dir, record);
}

/** A gradebook folder: one shard's students, or the whole class's without a shard. */
async function writeShard(dir: string, shard: Shard | null, overrides: Partial<BatchManifest> = {}): Promise<string> {
  await writeManifest(dir, manifestFor(shard, overrides));
  for (const student of shard ? studentsOf(shard.index) : LISTING) await writeStudent(dir, student);
  return dir;
}

/** Fresh shard folders 1..TOTAL under `name`, with `change` applied to the manifest of the one it names. */
async function shards(name: string, change?: { index: number; overrides: Partial<BatchManifest> }): Promise<string[]> {
  const dirs: string[] = [];
  for (let index = 1; index <= TOTAL; index++) {
    dirs.push(await writeShard(path.join(root, name, `shard-${index}`), { index, total: TOTAL }, change?.index === index ? change.overrides : {}));
  }
  return dirs;
}

const merge = (dirs: string[], out: string, options: { exercisesRoot?: string; dryRun?: boolean } = {}) =>
  mergeGradebooks({ dirs, out, exercisesRoot: options.exercisesRoot ?? exercisesRoot, dryRun: options.dryRun });

async function refusal(t: Test, promise: Promise<unknown>, message: string | RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  t.ok(error instanceof MergeError, 'a MergeError');
  if (typeof message === 'string') t.equal((error as Error).message, message);
  else t.match((error as Error).message, message);
  t.notMatch((error as Error).message, /\n/, 'on one line');
}

t.test('the class spreads over the three shards', async (t) => {
  for (let index = 1; index <= TOTAL; index++) t.ok(studentsOf(index).length >= 2, `shard ${index}: ${studentsOf(index).join(', ')}`);
});

t.test('merging every shard gives the rows, checks and scores of a single run', async (t) => {
  const dirs = await shards('whole-equal');
  const whole = await writeShard(path.join(root, 'whole-equal', 'single-run'), null);
  const single = await writeGradebook(whole, exercise);
  const out = path.join(root, 'whole-equal', 'merged');
  const { plan, summary } = await merge(dirs, out);
  t.ok(summary, 'a gradebook was written');
  t.same(
    plan.shards.map((shard) => shard.students),
    [1, 2, 3].map(studentsOf),
  );
  const comparable = ({ generatedAt: _, ...rest }: NonNullable<typeof summary>) => rest;
  t.same(comparable(summary!), comparable(single));
  t.equal(summary!.shard, null);
  t.equal(summary!.submissions.length, LISTING.length + SKIPPED.length, 'every student and every skipped entry');
  t.same(
    summary!.submissions.map((row) => [row.student, row.status, row.score, row.duplicateOf]),
    [
      ['README.md', 'skipped', 0, null],
      ['alice', 'graded', 28, REFERENCE_SOLUTION],
      ['bob', 'graded', 3, null],
      ['carol', 'graded', 24, null],
      ['dave', 'graded', 24, 'carol'],
      ['erin', 'graded', 28, null],
      ['heidi', 'timed-out', 0, null],
      ['ivan', 'error', 0, null],
      ['judy', 'graded', 3, 'erin'],
      ['multi-judy', 'graded', 3, null],
      ['notes.txt', 'skipped', 0, null],
    ],
    'duplicates across shards are found once merged',
  );
  t.not(shardOf('carol', TOTAL), shardOf('dave', TOTAL), 'carol and dave were graded in different shards');
  t.equal(await readFile(path.join(out, 'grades.csv'), 'utf8'), await readFile(path.join(whole, 'grades.csv'), 'utf8'), 'grades.csv is the same file');
  const classJson = async (dir: string) => {
    const { generatedAt: _, ...rest } = JSON.parse(await readFile(path.join(dir, 'class.json'), 'utf8'));
    return rest;
  };
  t.same(await classJson(out), await classJson(whole), 'class.json holds the same');
  t.equal(await readFile(path.join(out, 'students/alice/report.html'), 'utf8'), '<!doctype html><title>alice</title>', "each student's report is copied");
  const manifest = await readManifest(out);
  t.equal(manifest?.shard, null);
  t.same(manifest?.skipped, SKIPPED, 'the union of skipped entries, sorted');
  t.same(manifest?.classListing, LISTING);
});

t.test('merging again into the same folder replaces it, leaving nothing stale', async (t) => {
  const dirs = await shards('again');
  const out = path.join(root, 'again', 'merged');
  await merge(dirs, out);
  await writeFile(path.join(out, 'students/alice/stale.txt'), 'from before\n');
  const { summary } = await merge(dirs, out);
  t.equal(summary?.submissions.length, LISTING.length + SKIPPED.length);
  await t.rejects(readFile(path.join(out, 'students/alice/stale.txt')), { code: 'ENOENT' });
});

t.test('--dry-run checks everything and writes nothing', async (t) => {
  const dirs = await shards('dry-run');
  const out = path.join(root, 'dry-run', 'merged');
  const { plan, summary } = await merge(dirs, out, { dryRun: true });
  t.equal(summary, undefined);
  t.equal(plan.total, TOTAL);
  t.equal(plan.exercise, 'multi');
  t.equal(await readManifest(out), undefined, 'no batch.json');
  await t.rejects(readFile(path.join(out, 'grades.csv')), { code: 'ENOENT' });
  await refusal(t, merge(dirs.slice(1), out, { dryRun: true }), /^missing shard 1\/3/);
});

t.test('a folder that is not a shard gradebook is refused', async (t) => {
  const dirs = await shards('not-gradebook');
  const empty = path.join(root, 'not-gradebook', 'empty');
  await mkdir(empty);
  const out = path.join(root, 'not-gradebook', 'merged');
  await refusal(
    t,
    merge([...dirs, empty], out),
    `${empty} is not a gradebook: it holds no readable batch.json (a folder written by \`grade batch --shard i/N --out DIR\`)`,
  );
  await refusal(t, merge([...dirs, path.join(root, 'nowhere')], out), `${path.join(root, 'nowhere')}: no such folder`);
  const whole = await writeShard(path.join(root, 'not-gradebook', 'whole'), null);
  await refusal(
    t,
    merge([whole, ...dirs], out),
    `${whole} is the gradebook of a whole class, not of a shard (it was graded without --shard): there is nothing to merge it with`,
  );
  await writeFile(path.join(empty, 'batch.json'), '{ half a manifest');
  await refusal(t, merge([...dirs, empty], out), /is not a gradebook: it holds no readable batch\.json/);
  await refusal(t, merge([], out), /^name the shard folders to merge/);
  const forged = await writeShard(path.join(root, 'not-gradebook', 'forged-name'), { index: 1, total: TOTAL }, { classListing: [...LISTING, '../escape'] });
  await refusal(
    t,
    merge([forged, ...dirs.slice(1)], out),
    `${path.join(forged, 'batch.json')} names "../escape", which is no folder name: it was not written by \`grade batch\``,
  );
  const forgedShard = await writeShard(path.join(root, 'not-gradebook', 'forged-shard'), { index: 4, total: TOTAL });
  await refusal(t, merge([...dirs, forgedShard], out), `${path.join(forgedShard, 'batch.json')} names shard 4/3, which no \`grade batch --shard\` writes`);
});

t.test('shards that differ are refused, saying which and what', async (t) => {
  const out = (name: string) => path.join(root, name, 'merged');
  let dirs = await shards('other-exercise', { index: 2, overrides: { exercise: 'other' } });
  await refusal(
    t,
    merge(dirs, out('other-exercise')),
    `shard 2/3 (${dirs[1]}) graded exercise other, shard 1/3 (${dirs[0]}) multi: only shards of one exercise merge`,
  );

  dirs = await shards('other-spec', { index: 3, overrides: { exerciseHash: 'a'.repeat(64) } });
  await refusal(
    t,
    merge(dirs, out('other-spec')),
    `shard 3/3 (${dirs[2]}) and shard 1/3 (${dirs[0]}) graded different versions of exercise multi: grade every shard with the same spec`,
  );

  dirs = await shards('other-grader', { index: 2, overrides: { grader: { name: 'grade', version: '0.0.1' } } });
  await refusal(
    t,
    merge(dirs, out('other-grader')),
    `shard 2/3 (${dirs[1]}) was graded by grade 0.0.1, shard 1/3 (${dirs[0]}) ${version}: grade every shard with the same grade`,
  );

  dirs = await shards('other-gradebook', { index: 3, overrides: { gradebookVersion: 0 as typeof GRADEBOOK_VERSION } });
  await refusal(
    t,
    merge(dirs, out('other-gradebook')),
    `${dirs[2]} is a gradebook of version 0, and this grade merges version ${GRADEBOOK_VERSION}: grade that shard again with this grade`,
  );

  dirs = await shards('other-total');
  const fourth = await writeShard(path.join(root, 'other-total', 'of-four'), { index: 4, total: 4 });
  await refusal(
    t,
    merge([...dirs, fourth], out('other-total')),
    `shard 4/4 (${fourth}) is one of 4 shards, shard 1/3 (${dirs[0]}) one of 3: every shard must be graded with the same N in --shard i/N`,
  );

  dirs = await shards('other-class-size', { index: 2, overrides: { classListing: [...LISTING, 'zoe'] } });
  await refusal(
    t,
    merge(dirs, out('other-class-size')),
    `shard 2/3 (${dirs[1]}) lists ${LISTING.length + 1} students, shard 1/3 (${dirs[0]}) ${LISTING.length}: they graded different class folders`,
  );

  dirs = await shards('other-class-names', { index: 3, overrides: { classListing: LISTING.map((student) => (student === 'bob' ? 'bobby' : student)) } });
  await refusal(
    t,
    merge(dirs, out('other-class-names')),
    `shard 3/3 (${dirs[2]}) lists bobby where shard 1/3 (${dirs[0]}) lists bob: they graded different class folders`,
  );
});

t.test('a shard given twice, or missing, is refused', async (t) => {
  const dirs = await shards('overlap');
  const out = path.join(root, 'overlap', 'merged');
  const copy = path.join(root, 'overlap', 'shard-2-again');
  await cp(dirs[1]!, copy, { recursive: true });
  await refusal(t, merge([...dirs, copy], out), `shard 2/3 appears twice: ${dirs[1]} and ${copy} (merge each shard once)`);
  await refusal(t, merge([...dirs, dirs[0]!], out), `${dirs[0]} is named twice: merge each shard once`);
  await refusal(t, merge([dirs[0]!, dirs[1]!], out), `missing shard 3/3: merge the folders of all 3 shards (2 given)`);
  await refusal(t, merge([dirs[1]!], out), `missing shards 1/3 and 3/3: merge the folders of all 3 shards (1 given)`);
});

t.test('a shard without all its students, or with another shard’s, is refused', async (t) => {
  let dirs = await shards('lacking');
  const [first, second] = studentsOf(2);
  await rm(path.join(dirs[1]!, 'students', first!, 'record.json'));
  await refusal(
    t,
    merge(dirs, path.join(root, 'lacking', 'merged')),
    `shard 2/3 (${dirs[1]}) lacks ${first}: run \`grade batch multi <class> --out ${dirs[1]} --shard 2/3\` again to finish it`,
  );
  await rm(path.join(dirs[1]!, 'students', second!), { recursive: true });
  await refusal(t, merge(dirs, path.join(root, 'lacking', 'merged')), new RegExp(`lacks ${first} and ${second}: run`));

  dirs = await shards('stray');
  const stray = studentsOf(3)[0]!;
  await cp(path.join(dirs[2]!, 'students', stray), path.join(dirs[0]!, 'students', stray), { recursive: true });
  await refusal(
    t,
    merge(dirs, path.join(root, 'stray', 'merged')),
    `shard 1/3 (${dirs[0]}) holds a record of ${stray}, who belongs to shard 3/3: it was not written by \`grade batch --shard\`; grade that shard again into a new folder`,
  );

  dirs = await shards('stale');
  const stale = studentsOf(1)[0]!;
  const recordFile = path.join(dirs[0]!, 'students', stale, 'record.json');
  const record = JSON.parse(await readFile(recordFile, 'utf8')) as StudentRecord;
  await writeFile(recordFile, JSON.stringify({ ...record, grader: { name: 'grade', version: '0.0.1' } }));
  await refusal(
    t,
    merge(dirs, path.join(root, 'stale', 'merged')),
    `shard 1/3 (${dirs[0]}): ${stale} was graded by grade 0.0.1, the rest of the shard by grade ${version}: run \`grade batch multi <class> --out ${dirs[0]} --shard 1/3\` again to regrade it`,
  );
});

t.test('--out may not be a shard folder, lie inside one, or hold other files', async (t) => {
  const dirs = await shards('out');
  await refusal(t, merge(dirs, dirs[1]!), `--out ${dirs[1]} is the shard folder ${dirs[1]}: write the merged gradebook to a folder of its own`);
  const inside = path.join(dirs[2]!, 'merged');
  await refusal(t, merge(dirs, inside), `--out ${inside} is inside the shard folder ${dirs[2]}: write the merged gradebook to a folder of its own`);
  const busy = path.join(root, 'out', 'busy');
  await mkdir(busy);
  await writeFile(path.join(busy, 'thesis.tex'), 'months of work\n');
  await refusal(t, merge(dirs, busy), `--out ${busy} holds files and no gradebook: name a new or empty folder for the merged gradebook`);
  t.equal(await readFile(path.join(busy, 'thesis.tex'), 'utf8'), 'months of work\n', 'untouched');
  const [otherShard] = await shards('out-other');
  await refusal(t, merge(dirs, otherShard!), `--out ${otherShard} holds shard 1/3's gradebook: write the merged gradebook to a folder of its own`);
});

t.test('an exercise that changed since the shards were graded is refused', async (t) => {
  const dirs = await shards('changed');
  const changedRoot = path.join(root, 'changed', 'exercises');
  await cp(path.join(exercisesRoot, 'multi'), path.join(changedRoot, 'multi'), { recursive: true });
  const spec = path.join(changedRoot, 'multi', 'large-small.yaml');
  await writeFile(spec, (await readFile(spec, 'utf8')).replace('max: 10MB', 'max: 12MB'));
  await refusal(t, merge(dirs, path.join(root, 'changed', 'merged'), { exercisesRoot: changedRoot }), /^the exercise changed since the shards were graded \(/);
  const empty = path.join(root, 'changed', 'no-exercises');
  await mkdir(empty);
  await refusal(
    t,
    merge(dirs, path.join(root, 'changed', 'merged'), { exercisesRoot: empty }),
    `the shards graded exercise multi, which ${empty} does not hold (name its folder with --exercises)`,
  );
});

t.test('the merge command turns a refusal into a usage error, and needs --out and folders', async (t) => {
  const dirs = await shards('command');
  const run = (args: string[]) => mergeCommand().parseAsync(args, { from: 'user' });
  await t.rejects(
    run([dirs[0]!, '--out', path.join(root, 'command', 'merged')]),
    new UsageError(`missing shards 2/3 and 3/3: merge the folders of all 3 shards (1 given)`),
  );
  await t.rejects(run(dirs), new UsageError('--out DIR is needed: the folder the merged gradebook goes to'));
  await t.rejects(run(['--out', 'x']), /^name the shard folders to merge/);
});
