// gradeClass() on a tiny exercise and a class written to temporary folders, against the
// FakeEngine: each student's fate (graded, not a submission, hanging past its time, tripping the
// grader), what a rerun grades, an engine failure stopping the class without losing a record,
// and the class engine's shared pulls and layer removal.
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import t, { type Test } from 'tap';
import { EngineError, type BuildRequest, type RunOutcome, type RunRequest } from '../../runner/engine/engine.js';
import { gradeClass, type BatchEvent, type BatchOptions } from '../../runner/batch/batch.js';
import { ClassEngine } from '../../runner/batch/class-engine.js';
import { lockGradebook, readRecord } from '../../runner/batch/gradebook.js';
import { LABEL } from '../../runner/grading/session.js';
import { loadExercise } from '../../runner/spec/loader.js';
import { captured, FakeEngine, testLimits } from '../support/fake-engine.js';

const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

const EXERCISE = {
  'exercise.yaml': yaml('schemaVersion: 1', 'id: tiny', 'title: A tiny exercise', 'steps: [app]'),
  'app.yaml': yaml(
    'id: app',
    'title: The app image',
    'actions:',
    '  - build: app',
    '  - run: app-output',
    '    image: app',
    'checks:',
    '  - id: builds',
    '    title: the app builds',
    '    kind: image-builds',
    '    image: app',
    '    points: 2',
    '  - id: prints',
    '    title: it prints hi',
    '    kind: command',
    '    run: app-output',
    '    stdout: { equals: "hi\\n" }',
  ),
};

const DOCKERFILE = 'FROM alpine:3.19\nCOPY hi.txt /\nCMD ["cat", "/hi.txt"]\n';

/** The FakeEngine, with a student whose program never ends until its run is stopped. */
class ClassroomEngine extends FakeEngine {
  hangs = new Set<string>();
  failsFor = new Set<string>();

  override async run(request: RunRequest): Promise<RunOutcome> {
    const student = request.labels[LABEL.submission] ?? '';
    if (this.failsFor.has(student)) throw new EngineError('the Docker engine stopped answering', 'restart it');
    if (this.hangs.has(student)) {
      await new Promise((resolve) => request.signal?.addEventListener('abort', resolve, { once: true }));
      throw new Error('the run was stopped');
    }
    return super.run(request);
  }
}

async function setUp(t: Test, students: Record<string, Record<string, string> | string>) {
  const root = t.testdir({ exercise: EXERCISE, class: students, out: {} });
  const exercise = await loadExercise(path.join(root, 'exercise'));
  const engine = new ClassroomEngine();
  engine
    .image('alpine:3.19', 7_400_000)
    .onBuild({ dockerfile: 'Dockerfile' }, { sizeBytes: 7_500_000, outcome: { imageId: 'sha256:app' } })
    .onRun({ image: 'sha256:app' }, { stdout: captured('hi\n') });
  const events: BatchEvent[] = [];
  const options = (extra: Partial<BatchOptions> = {}): BatchOptions => ({
    exercise,
    classDir: path.join(root, 'class'),
    out: path.join(root, 'out'),
    engine,
    engineInfo: { version: '27.0.0-fake', apiVersion: '1.46', os: 'linux', arch: 'amd64', cpus: 2 },
    limits: testLimits,
    jobs: 2,
    submissionTimeoutMs: 60_000,
    signal: new AbortController().signal,
    onEvent: (event) => events.push(event),
    ...extra,
  });
  return { root, engine, events, options, out: path.join(root, 'out') };
}

const good = () => ({ Dockerfile: DOCKERFILE, 'hi.txt': 'hi\n' });

t.test('every entry gets its row: graded, skipped, timed out; the class goes on past a hanging student', async (t) => {
  const { engine, options, out, events } = await setUp(t, { alice: good(), bob: { 'hi.txt': 'hi\n' }, carol: good(), 'README.md': '# the class\n' });
  engine.hangs.add('carol');
  const summary = await gradeClass(options({ submissionTimeoutMs: 2000 }));
  const row = (student: string) => summary.submissions.find((each) => each.student === student)!;
  t.same(
    summary.submissions.map((each) => [each.student, each.status]),
    [
      ['README.md', 'skipped'],
      ['alice', 'graded'],
      ['bob', 'graded'],
      ['carol', 'timed-out'],
    ],
  );
  t.equal(row('alice').score, 3);
  t.equal(row('bob').score, 0);
  t.match(row('bob').message, /^app\/builds: /, "the first failed check is the row's message");
  t.match(row('carol').message, /grading took longer than 2 s \(--submission-timeout\) and was stopped/);
  t.equal(row('carol').report, null, 'no report for a student not graded');
  t.same(engine.leftovers().containers, [], "the hanging student's containers are removed too");
  t.match(events[0], { type: 'plan', toGrade: ['alice', 'bob', 'carol'], current: 0, skipped: 1 });
  const csv = await readFile(path.join(out, 'grades.csv'), 'utf8');
  t.match(csv.split('\r\n')[0], 'student,score,maxScore,passed,status,duplicateOf,message,app/builds,app/prints');
});

t.test('a rerun grades only what changed; a student the machine could not judge is tried again', async (t) => {
  const { engine, options, out, events, root } = await setUp(t, { alice: good(), bob: good() });
  await gradeClass(options());
  const first = await readRecord(out, 'alice');
  events.length = 0;
  await gradeClass(options());
  t.match(events[0], { type: 'plan', toGrade: [], current: 2 }, 'nothing changed: nothing graded');
  t.same(await readRecord(out, 'alice'), first, "alice's record is untouched");

  const { writeFile } = await import('node:fs/promises');
  await writeFile(path.join(root, 'class', 'bob', 'hi.txt'), 'hello\n');
  events.length = 0;
  await gradeClass(options());
  t.match(events[0], { type: 'plan', toGrade: ['bob'], current: 1 }, 'the changed submission alone');

  events.length = 0;
  await gradeClass(options({ regrade: true }));
  t.match(events[0], { type: 'plan', toGrade: ['alice', 'bob'], current: 0 }, '--regrade grades all');
  t.ok(engine.builds.length >= 5);
});

t.test('the engine failing stops the class; finished students keep their records, the failed one has none', async (t) => {
  const { engine, options, out } = await setUp(t, { alice: good(), bob: good(), carol: good() });
  engine.failsFor.add('bob');
  await t.rejects(gradeClass(options({ jobs: 1 })), EngineError);
  t.ok(await readRecord(out, 'alice'), 'alice, graded before, is kept');
  t.equal(await readRecord(out, 'bob'), undefined, 'bob has no record: the next run grades him');
  t.equal(await readRecord(out, 'carol'), undefined, 'carol was never started');
});

t.test('a fault of the grader on one submission is that student error, not the class', async (t) => {
  const { engine, options } = await setUp(t, { alice: good(), bob: good() });
  // A bug of ours surfacing on bob's submission alone.
  const build = engine.build.bind(engine);
  let builds = 0;
  engine.build = async (request: BuildRequest) => {
    if (++builds === 1) throw new TypeError('cannot read properties of undefined');
    return build(request);
  };
  const summary = await gradeClass(options({ jobs: 1 }));
  const statuses = summary.submissions.map((each) => [each.student, each.status, each.message.slice(0, 40)]);
  t.same(statuses[0]!.slice(0, 2), ['alice', 'error']);
  t.match(summary.submissions[0]!.message, /^the grader failed on this submission: cannot read properties/);
  t.same(statuses[1]!.slice(0, 2), ['bob', 'graded']);
});

t.test('the class engine pulls a base image once for everyone, and asks an unreachable registry once', async (t) => {
  const inner = new FakeEngine();
  const engine = new ClassEngine(inner, new AbortController().signal);
  await Promise.all([engine.pull('alpine:3.19'), engine.pull('alpine:3.19'), engine.pull('alpine:3.19')]);
  t.same(inner.pulls, ['alpine:3.19'], 'three students, one pull');

  inner.failOn('pull', new Error('dial tcp: lookup registry-1.docker.io: no such host'));
  await t.rejects(engine.pull('busybox'), /no such host/);
  await t.rejects(engine.pull('busybox'), /no such host/, 'the failure is shared');
  t.equal(inner.calls.filter((call) => call.method === 'pull' && call.arg === 'busybox').length, 1, 'the registry was asked once');
});

t.test("a student's own layers are removed when graded; layers another student still grading used stay", async (t) => {
  const inner = new FakeEngine();
  const engine = new ClassEngine(inner, new AbortController().signal);
  engine.begin('alice');
  engine.begin('bob');
  // bob's build took alice's first layer from the cache.
  engine.used('bob', ['sha256:aaaaaaaaaaaa0000', 'bbbbbbbbbbbb']);
  const outcome = await engine.finished('alice', { created: ['aaaaaaaaaaaa', 'cccccccccccc'], contextFree: [] });
  t.same(outcome, { removed: 1, kept: 1 });
  t.same(
    inner.calls.filter((call) => call.method === 'removeImage').map((call) => call.arg),
    ['cccccccccccc'],
    'only the layer no one else used, newest first',
  );
});

t.test('layers made before any file went in wait for the class: kept once a second student uses them, removed if no one does', async (t) => {
  const inner = new FakeEngine();
  const engine = new ClassEngine(inner, new AbortController().signal);
  const removed = () => inner.calls.filter((call) => call.method === 'removeImage').map((call) => call.arg);
  engine.begin('alice');
  // alice's toolchain layer (RUN apk add), her own marker layer, then the layer of her files.
  await engine.finished('alice', { created: ['toolchain000', 'marker000000', 'hellofiles00'], contextFree: ['toolchain000', 'marker000000'] });
  t.same(removed(), ['hellofiles00'], 'only the layer of her files goes at once');
  engine.begin('bob');
  engine.used('bob', ['toolchain000', 'bobfiles0000']);
  await engine.finished('bob', { created: ['bobfiles0000'], contextFree: [] });
  await engine.finish();
  t.same(removed(), ['hellofiles00', 'bobfiles0000', 'marker000000'], "the toolchain both used stays; alice's own marker layer goes at the end");
});

t.test("image ids compare by the 11 hex digits every builder prints (Podman's), whatever form they came in", async (t) => {
  const inner = new FakeEngine();
  const engine = new ClassEngine(inner, new AbortController().signal);
  const removed = () => inner.calls.filter((call) => call.method === 'removeImage').map((call) => call.arg);
  const toolchain = `sha256:0a1b2c3d4e5${'f'.repeat(53)}`;
  engine.begin('alice');
  await engine.finished('alice', { created: [toolchain, 'a11ce000000'], contextFree: [toolchain] });
  engine.begin('bob');
  // Buildah names the step's image by 11 hex digits.
  engine.used('bob', ['0a1b2c3d4e5']);
  await engine.finished('bob', { created: [], contextFree: [] });
  await engine.finish();
  t.same(removed(), ['a11ce000000'], 'the toolchain bob used under its short id stays');

  const alone = new FakeEngine();
  const single = new ClassEngine(alone, new AbortController().signal);
  single.begin('carol');
  await single.finished('carol', { created: [toolchain], contextFree: [toolchain] });
  await single.finish();
  t.same(
    alone.calls.filter((call) => call.method === 'removeImage').map((call) => call.arg),
    [toolchain],
    'a layer no one shared is removed by the id it was given',
  );
});

t.test('a removal waits for the builds running, and builds wait for the removal', async (t) => {
  const order: string[] = [];
  let finishBuild!: () => void;
  const inner = new FakeEngine();
  const build = inner.build.bind(inner);
  inner.build = async (request: BuildRequest) => {
    order.push('build starts');
    await new Promise<void>((resolve) => (finishBuild = resolve));
    order.push('build ends');
    return build(request);
  };
  const removeImage = inner.removeImage.bind(inner);
  inner.removeImage = async (ref, options) => {
    order.push(`remove ${ref}`);
    return removeImage(ref, options);
  };
  const engine = new ClassEngine(inner, new AbortController().signal);
  const { Readable } = await import('node:stream');
  const request = () => ({ context: Readable.from([]), dockerfile: 'Dockerfile', limits: testLimits });
  engine.begin('alice');
  const running = engine.build(request());
  await new Promise((resolve) => setImmediate(resolve));
  const removal = engine.finished('alice', { created: ['dddddddddddd'], contextFree: [] });
  const later = engine.build(request());
  await new Promise((resolve) => setImmediate(resolve));
  t.same(order, ['build starts'], 'neither the removal nor the next build starts while a build runs');
  finishBuild();
  await running;
  await removal;
  await new Promise((resolve) => setImmediate(resolve));
  finishBuild();
  await later;
  t.same(order, ['build starts', 'build ends', 'remove dddddddddddd', 'build starts', 'build ends']);
});

t.test('one batch at a time writes a gradebook folder; the lock of a killed batch is taken over', async (t) => {
  const out = t.testdir({});
  const { writeFile: write } = await import('node:fs/promises');
  const { hostname } = await import('node:os');
  const host = hostname().replace(/[^\w.-]+/g, '_');
  // A live process (the test runner's parent) holds it.
  await write(path.join(out, 'batch.lock'), `${host}:${process.ppid}\n`);
  await t.rejects(lockGradebook(out), new RegExp(`another grade batch \\(${host}:${process.ppid}\\) is writing`));
  // A batch of another machine (a shared volume) cannot be asked: it counts as alive.
  await write(path.join(out, 'batch.lock'), 'another-host:1\n');
  await t.rejects(lockGradebook(out), /another grade batch \(another-host:1\) is writing/);
  // A killed batch's lock: its pid is gone.
  await write(path.join(out, 'batch.lock'), `${host}:4000000\n`);
  const release = await lockGradebook(out);
  t.equal(await readFile(path.join(out, 'batch.lock'), 'utf8'), `${host}:${process.pid}\n`, 'taken over');
  await release();
  await t.rejects(readFile(path.join(out, 'batch.lock'), 'utf8'), { code: 'ENOENT' }, 'released');
});
