// `grade batch` and `grade merge` on the real engine, with a class made of the fixture
// submissions in every form a class folder holds them: folders, a zip, a tar.gz with one top
// folder, a hostile archive, a reformatted copy, two copies of the reference solution, a student
// called `scratch`, and a README. Each student must score as a single run of their own files
// scores; shards merged must equal the whole run; a batch killed with SIGKILL must finish on the
// second run; nothing may be left on the engine.
import t from 'tap';
import Docker from 'dockerode';
import { createRequire } from 'node:module';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadExercise } from '../../runner/spec/loader.js';
import { grade } from '../../runner/grading/run.js';
import { exercisesRoot, packageRoot } from '../../runner/paths.js';
import { LABEL } from '../../runner/grading/session.js';
import { ImageLedger } from '../../runner/grading/image-ledger.js';
import type { ExerciseResult } from '../../runner/results.js';
import { REFERENCE_SOLUTION, type ClassResult } from '../../runner/class-results.js';
import { faultSuite, realEngine, standInSolution, submissions, testLimits } from '../support/engine.js';
import { runCli, startCli } from '../support/cli.js';
import { tarGzFolder, zipArchive, zipFolder } from '../support/archives.js';

const engine = await realEngine(t);

if (engine) {
  const faults = faultSuite(t, import.meta.filename);
  const exercise = await loadExercise(path.join(exercisesRoot, 'multi'));
  const offline = ['--build-network', 'none'];
  const work = t.testdir();
  const classDir = path.join(work, 'class');
  const isolated = path.join(work, 'isolated');
  // The batch's ledger, apart from every other test's: what it lists is what this file's builds made.
  const env = { GRADE_STATE_DIR: path.join(work, 'state') };
  const marker = `batch-marker-${randomBytes(6).toString('hex')}`;
  const students = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'ivan', 'mallory', 'scratch'];

  /** Each student's own files, alone in a folder: what a single run of `grade multi --dir` grades. */
  const own: Record<string, string> = {};
  const place = async (name: string, from: string) => {
    own[name] = path.join(isolated, name);
    await cp(from, own[name], { recursive: true });
  };
  await mkdir(classDir, { recursive: true });
  await standInSolution(path.join(work, 'solution'));
  await place('alice', path.join(work, 'solution'));
  await cp(own.alice!, path.join(classDir, 'alice'), { recursive: true });
  // dave hands in alice's work with other comments, blank lines and indentation: a duplicate.
  await place('dave', path.join(work, 'solution'));
  for (const file of ['Dockerfile', 'hello.c']) {
    const text = await readFile(path.join(own.dave!, file), 'utf8');
    const reformatted = file === 'hello.c' ? `/* dave's own work */\n${text.replace(/\n/g, '\n\n')}` : `# my Dockerfile\n${text.replace(/ {4}/g, '\t')}`;
    await writeFile(path.join(own.dave!, file), reformatted);
  }
  await cp(own.dave!, path.join(classDir, 'dave'), { recursive: true });
  await place('bob', path.join(submissions, 'compile-warning'));
  await zipFolder(own.bob!, path.join(classDir, 'bob.zip'));
  await place('carol', path.join(submissions, 'wrong-output'));
  await tarGzFolder(own.carol!, path.join(classDir, 'carol.tar.gz'), 'carol-work/');
  // erin has no scratch folder of her own: her `../scratch` must not find the student `scratch`.
  await place('erin', path.join(submissions, 'single-stage'));
  await cp(own.erin!, path.join(classDir, 'erin'), { recursive: true });
  // The student called scratch lays the course out as multi/ beside scratch/.
  await place('scratch', path.join(submissions, 'scratch-beside'));
  await cp(own.scratch!, path.join(classDir, 'scratch'), { recursive: true });
  // Two verbatim copies of the reference solution, whose alpine base no registry here serves.
  for (const name of ['frank', 'grace']) await cp(path.join(exercisesRoot, 'multi/solution'), path.join(classDir, name), { recursive: true });
  // ivan's build makes a layer no one else's does: it must be gone once he is graded.
  await place('ivan', path.join(submissions, 'compile-warning'));
  const ivanDockerfile = path.join(own.ivan!, 'Dockerfile');
  await writeFile(ivanDockerfile, (await readFile(ivanDockerfile, 'utf8')).replace(/^(FROM .*)$/m, `$1\nRUN echo ${marker} > /marker`));
  await cp(own.ivan!, path.join(classDir, 'ivan'), { recursive: true });
  await writeFile(
    path.join(classDir, 'mallory.zip'),
    zipArchive([
      { name: 'Dockerfile', data: 'FROM scratch\n' },
      { name: '../../escaped', data: 'pwned' },
    ]),
  );
  await writeFile(path.join(classDir, 'README.md'), '# Submissions of the multi-stage exercise\n');

  const rowsOf = (doc: ClassResult) =>
    doc.submissions.map(({ result: _result, ...row }) => ({ ...row, images: row.images.map(({ name, helper }) => ({ name, helper })) }));
  const verdicts = (result: ExerciseResult) =>
    result.steps.flatMap((step) => step.checks.map((check) => `${step.id}/${check.id}: ${check.status} ${check.points}`));

  const whole = path.join(work, 'whole');
  let wholeDoc: ClassResult;
  let wholeCsv: string;

  t.test('a class graded with --jobs 2: a gradebook with every entry, each student scored as a single run scores them', async (t) => {
    const run = await runCli(['batch', 'multi', classDir, '--out', whole, '--jobs', '2', ...offline], { env });
    t.equal(run.code, 0, run.stderr);
    t.match(run.stdout, /10 to grade, 1 skipped \(not submissions\)/);
    t.match(run.stdout, /Gradebook: .*grades\.csv, class\.json, index\.html and students\//);
    // The registry no one can reach is the machine's problem, said once for the class.
    const notJudged = run.stdout.split('\n').filter((line) => /^note: 2 submissions not judged: .*no registry could be reached/.test(line));
    t.equal(notJudged.length, 1, 'the unreachable registry is reported once, for both students');

    wholeDoc = JSON.parse(await readFile(path.join(whole, 'class.json'), 'utf8')) as ClassResult;
    wholeCsv = await readFile(path.join(whole, 'grades.csv'), 'utf8');
    const Ajv2020 = createRequire(import.meta.url)('ajv/dist/2020.js').default;
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    // A row's result is described by the results' own schema, which class.schema.json refers to.
    ajv.addSchema(JSON.parse(await readFile(path.join(packageRoot, 'reports/results.schema.json'), 'utf8')));
    const validate = ajv.compile(JSON.parse(await readFile(path.join(packageRoot, 'reports/class.schema.json'), 'utf8')));
    t.ok(validate(wholeDoc), `class.json follows its schema: ${JSON.stringify(validate.errors)}`);
    const row = (student: string) => wholeDoc.submissions.find((each) => each.student === student)!;
    t.same(
      wholeDoc.submissions.map((each) => each.student),
      [...students, 'README.md'].sort(),
      'every entry is a row',
    );
    t.equal(row('README.md').status, 'skipped');

    for (const student of ['alice', 'bob', 'carol', 'dave', 'erin', 'ivan']) {
      const single = await grade({ exercise, submissionDir: own[student]!, engine, limits: testLimits });
      const batched = row(student);
      t.equal(batched.status, 'graded', `${student} is graded`);
      t.equal(batched.score, single.score, `${student} scores ${single.score}/${single.maxScore} in the batch as in a single run`);
      t.same(verdicts(batched.result!), verdicts(single), `${student}: the same verdict for every check`);
      t.ok(existsSync(path.join(whole, batched.report!)), `${student}'s report.html is written`);
    }
    const single = await grade({ exercise, submissionDir: path.join(own.scratch!, 'multi'), engine, limits: testLimits });
    t.same(verdicts(row('scratch').result!), verdicts(single), 'the student called scratch: graded from multi/, with the scratch/ beside it');

    const erinSources = row('erin').result!.steps.find((step) => step.id === 'scratch-sleep')!.checks[0]!;
    t.equal(erinSources.status, 'fail', "erin's scratch step finds no scratch folder: the student called scratch is not hers");
    t.equal(row('alice').score, row('alice').maxScore, 'the stand-in solution gets full marks');
    t.equal(row('dave').duplicateOf, 'alice', 'the reformatted copy is flagged as a duplicate of the first of its group');
    t.equal(row('alice').duplicateOf, null);
    for (const student of ['frank', 'grace']) {
      t.equal(row(student).duplicateOf, REFERENCE_SOLUTION, `${student}'s files are the reference solution, not a copy of a classmate`);
      t.equal(row(student).status, 'error', `${student} is not judged: its base image cannot be pulled here`);
    }
    t.equal(row('mallory').status, 'error', 'the hostile archive is refused');
    t.match(row('mallory').message, /mallory\.zip: .*\.\./);
    t.notOk(existsSync(path.join(work, 'escaped')), 'nothing of it was written outside');
    faults.add(3);
    t.match(wholeCsv.split('\r\n')[0], /^student,score,maxScore,passed,status,duplicateOf,message,compile-hello\//);
    t.ok(existsSync(path.join(whole, 'index.html')), 'the class dashboard is written');
  });

  t.test("a student's own layers are gone once graded; the rest is the cache `grade clean --cache` removes", async (t) => {
    const docker = new Docker();
    const ledger = await ImageLedger.forEngine(process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock', env).read();
    t.ok(ledger.length > 0, 'the builds were written to the ledger');
    const left: string[] = [];
    for (const id of ledger) {
      const history = await docker
        .getImage(id)
        .history()
        .catch(() => undefined);
      if (history?.some((layer: { CreatedBy: string }) => layer.CreatedBy.includes(marker))) left.push(id);
    }
    t.same(left, [], "no image holding ivan's own layer is left");
  });

  t.test('shards 1/2 and 2/2, merged, make the gradebook of the whole run', async (t) => {
    const shards = [path.join(work, 'shard-1'), path.join(work, 'shard-2')];
    for (const [index, out] of shards.entries()) {
      const run = await runCli(['batch', 'multi', classDir, '--out', out, '--shard', `${index + 1}/2`, '--jobs', '2', ...offline], { env });
      t.equal(run.code, 0, run.stderr);
      t.match(run.stdout, /in other shards/);
    }
    const merged = path.join(work, 'merged');
    const merge = await runCli(['merge', ...shards, '--out', merged], { env });
    t.equal(merge.code, 0, merge.stderr);
    t.equal(await readFile(path.join(merged, 'grades.csv'), 'utf8'), wholeCsv, 'grades.csv is the same, byte for byte');
    const mergedDoc = JSON.parse(await readFile(path.join(merged, 'class.json'), 'utf8')) as ClassResult;
    t.same(rowsOf(mergedDoc), rowsOf(wholeDoc), 'the same rows');
    t.same(mergedDoc.checks, wholeDoc.checks, 'the same item analysis');
    t.equal(mergedDoc.shard, null);

    const again = await runCli(['merge', shards[0]!, '--out', path.join(work, 'half')], { env });
    t.equal(again.code, 2, 'a missing shard is refused');
    t.match(again.stderr, /missing shard 2\/2/);
  });

  t.test('a batch killed with SIGKILL finishes on the second run: every student once, nothing lost or left', async (t) => {
    const out = path.join(work, 'killed');
    const first = startCli(['batch', 'multi', classDir, '--out', out, '--jobs', '1', ...offline], { env });
    const recorded = async () =>
      (await readdir(path.join(out, 'students')).catch(() => [])).filter((student) => existsSync(path.join(out, 'students', student, 'record.json')));
    let exited = false;
    void first.done.then(() => (exited = true));
    while (!exited && (await recorded()).length < 2) await new Promise((resolve) => setTimeout(resolve, 200));
    t.notOk(exited, 'the batch was still grading when killed');
    first.child.kill('SIGKILL');
    await first.done;
    const graded = (await recorded()).length;
    t.ok(graded >= 2 && graded < students.length, `killed after ${graded} of ${students.length} students`);

    const second = await runCli(['batch', 'multi', classDir, '--out', out, '--jobs', '2', ...offline], { env });
    t.equal(second.code, 0, second.stderr);
    const [, toGrade, kept] = /(\d+) to grade, (\d+) graded already/.exec(second.stdout) ?? [];
    t.equal(Number(toGrade) + Number(kept), students.length, 'the second run grades what the first did not');
    t.ok(Number(kept) >= 1 && Number(kept) <= graded, `${kept} kept from the killed run`);
    t.equal(await readFile(path.join(out, 'grades.csv'), 'utf8'), wholeCsv, 'the finished gradebook is the whole run');
    t.same((await recorded()).sort(), [...students].sort(), 'every student has one record');
    const leftovers = await readdir(path.join(out, 'students'), { recursive: true });
    t.same(
      leftovers.filter((file) => file.endsWith('.tmp')),
      [],
      'no half-written file',
    );

    const clean = await runCli(['clean'], { env });
    t.equal(clean.code, 0, clean.stderr);
    const ours = await engine.listOurs(`${LABEL.tool}=grade`);
    t.same(
      ours.containers.filter((container) => students.includes(container.labels[LABEL.submission] ?? '')),
      [],
      'no container of any student is left',
    );
    faults.add();
  });

  t.test('Ctrl+C stops the batch cleanly: exit 130, the students graded so far kept, nothing of the others left', async (t) => {
    const out = path.join(work, 'interrupted');
    const run = startCli(['batch', 'multi', classDir, '--out', out, '--jobs', '2', ...offline], { env });
    let exited = false;
    void run.done.then(() => (exited = true));
    const recorded = async () =>
      (await readdir(path.join(out, 'students')).catch(() => [])).filter((student) => existsSync(path.join(out, 'students', student, 'record.json')));
    while (!exited && (await recorded()).length < 1) await new Promise((resolve) => setTimeout(resolve, 100));
    run.child.kill('SIGINT');
    const { code, stderr } = await run.done;
    t.equal(code, 130, stderr);
    t.match(stderr, /SIGINT: stopping; the students graded so far are kept in/);
    t.match(stderr, /grading stopped; run the same command again to grade the rest/);
    t.ok((await recorded()).length >= 1, 'the finished students keep their records');
    const owner = `${LABEL.owner}`;
    const left = (await engine.listOurs(`${LABEL.tool}=grade`)).containers.filter((container) => container.labels[owner]?.endsWith(`:${run.child.pid}`));
    t.same(left, [], 'the students in progress left no container');
    faults.add();
  });

  t.test('a rerun of a graded class grades nothing; a changed submission alone is graded again', async (t) => {
    const rerun = await runCli(['batch', 'multi', classDir, '--out', whole, '--reporter', 'json', ...offline], { env });
    t.equal(rerun.code, 0, rerun.stderr);
    // Only the two the grading machine could not judge (no registry here) are tried again.
    t.match(rerun.stderr, /2 to grade, 8 graded already/, 'with --reporter json the progress goes to stderr');
    const printed = JSON.parse(rerun.stdout) as ClassResult;
    t.same(rowsOf(printed), rowsOf(JSON.parse(await readFile(path.join(whole, 'class.json'), 'utf8'))), 'stdout is class.json');
    await writeFile(path.join(classDir, 'erin', 'hello.c'), (await readFile(path.join(own.erin!, 'hello.c'), 'utf8')).replace('Hello, world!', 'Hello, erin!'));
    const changed = await runCli(['batch', 'multi', classDir, '--out', whole, ...offline], { env });
    t.equal(changed.code, 0, changed.stderr);
    t.match(changed.stdout, /3 to grade, 7 graded already/);
    const doc = JSON.parse(await readFile(path.join(whole, 'class.json'), 'utf8')) as ClassResult;
    const erin = doc.submissions.find((row) => row.student === 'erin')!;
    t.ok(erin.score < wholeDoc.submissions.find((row) => row.student === 'erin')!.score, "erin's new greeting costs her the output check");
  });

  t.teardown(async () => {
    // The layer cache this file's builds left, recorded in its own ledger.
    await runCli(['clean', '--cache'], { env });
  });
}
