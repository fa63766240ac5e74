// grade() on a tiny exercise and submission written to temporary folders, against the FakeEngine:
// what is skipped and why, what a throwing grader does, how the score is summed, and that every
// container and image the run created is removed whatever happens.
import path from 'node:path';
import t, { type Test } from 'tap';
import { EngineError } from '../../runner/engine/engine.js';
import { ImageLedger } from '../../runner/grading/image-ledger.js';
import { EXIT, exitCodeOf, type ExerciseResult } from '../../runner/results.js';
import { grade, type RunEvent } from '../../runner/grading/run.js';
import { loadExercise } from '../../runner/spec/loader.js';
import { buildStep, captured, FakeEngine, testLimits } from '../support/fake-engine.js';
import { checkOf, checksById } from '../support/results.js';

const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

const EXERCISE = yaml('schemaVersion: 1', 'id: tiny', 'title: A tiny exercise', 'steps: [app, extra]');

const APP_STEP = yaml(
  'id: app',
  'title: The app image',
  'actions:',
  '  - build: app',
  '  - run: app-output',
  '    image: app',
  '  - start: server',
  '    image: app',
  '    settle: 1ms',
  'checks:',
  '  - id: has-dockerfile',
  '    title: the Dockerfile exists',
  '    kind: file-exists',
  '    paths: [Dockerfile]',
  '    hint: Write a Dockerfile.',
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
  '    needs: [has-dockerfile]',
  '  - id: running',
  '    title: the server keeps running',
  '    kind: container-running',
  '    container: server',
  '    hint: Keep the process in the foreground.',
  '  - id: small',
  '    title: the app is at most 10MB',
  '    kind: image-size',
  '    image: app',
  '    max: 10MB',
);

const EXTRA_STEP = yaml(
  'id: extra',
  'title: Notes (bonus)',
  'bonus: true',
  'needs: [app]',
  'checks:',
  '  - id: notes',
  '    title: NOTES.md exists',
  '    kind: file-exists',
  '    paths: [NOTES.md]',
  '    points: 3',
);

const DOCKERFILE = 'FROM alpine:3.19\nCOPY hi.txt /\nCMD ["cat", "/hi.txt"]\n';
const APP_ID = 'sha256:app';

interface Setup {
  exercise?: Record<string, string>;
  /** Leave the base image off the engine, so it must be pulled. */
  noBaseImage?: boolean;
  submission?: Record<string, string>;
  engine?: (engine: FakeEngine) => void;
}

async function setUp(t: Test, setup: Setup = {}) {
  const root = t.testdir({
    exercise: { 'exercise.yaml': EXERCISE, 'app.yaml': APP_STEP, 'extra.yaml': EXTRA_STEP, ...setup.exercise },
    alice: setup.submission ?? { Dockerfile: DOCKERFILE, 'hi.txt': 'hi\n' },
  });
  const exercise = await loadExercise(path.join(root, 'exercise'));
  const engine = new FakeEngine();
  if (!setup.noBaseImage) engine.image('alpine:3.19', 7_400_000);
  engine
    .onBuild({ dockerfile: 'Dockerfile' }, { sizeBytes: 7_500_000, outcome: { imageId: APP_ID } })
    .onRun({ image: APP_ID }, { stdout: captured('hi\n') })
    .onStart(APP_ID, { id: 'server-1' });
  setup.engine?.(engine);
  const events: RunEvent[] = [];
  // The settle time is waited on the test's own terms: noted, never slept.
  const waits: number[] = [];
  const wait = async (ms: number) => {
    waits.push(ms);
  };
  const run = () =>
    grade({ exercise, submissionDir: path.join(root, 'alice'), engine, limits: testLimits, runId: 't1', onEvent: (event) => events.push(event), wait });
  return { root, exercise, engine, events, run, waits };
}

/** A settle time that passes at once. */
const settled = async () => undefined;

const statuses = (result: ExerciseResult) => Object.fromEntries(Object.entries(checksById(result)).map(([id, check]) => [id, check.status]));

t.test('a good submission passes every check, and everything it created is removed', async (t) => {
  const { engine, events, run, root, waits } = await setUp(t, { submission: { Dockerfile: DOCKERFILE, 'hi.txt': 'hi\n', 'NOTES.md': '# notes\n' } });
  const result = await run();
  t.same(waits, [1], "the started container settles for its settle time, on the run's clock");

  t.same(statuses(result), {
    'app/has-dockerfile': 'pass',
    'app/builds': 'pass',
    'app/prints': 'pass',
    'app/running': 'pass',
    'app/small': 'pass',
    'extra/notes': 'pass',
  });
  t.match(result, {
    exercise: 'tiny',
    title: 'A tiny exercise',
    score: 9,
    maxScore: 9,
    passed: true,
    runId: 't1',
    submission: path.join(root, 'alice'),
    grader: { name: 'grade' },
    engine: { version: '27.0.0-fake', os: 'linux' },
    images: [{ name: 'app', step: 'app', sizeBytes: 7_500_000 }],
  });
  t.same(
    result.steps.map((found) => [found.id, found.required, found.dir]),
    [
      ['app', true, '.'],
      ['extra', false, '.'],
    ],
  );
  t.equal(checkOf(result, 'app/builds').message, 'built Dockerfile in 1.5 s: 7.5MB');
  t.equal(checkOf(result, 'app/builds').hint, undefined, 'no hint on a pass');

  t.match(engine.builds[0], { dockerfile: 'Dockerfile' });
  t.notOk('tag' in engine.builds[0]! || 'labels' in engine.builds[0]!, "a build gets no tag and no label: both would add images of the grader's own");
  t.match(engine.runs[0], { image: APP_ID, name: 'grade-t1-app-output', labels: { 'grade.run': 't1' } });
  t.match(engine.starts[0], { image: APP_ID, name: 'grade-t1-server' });
  t.same(engine.pulls, [], 'a base image already there is not pulled');

  t.same(engine.createdImages, [APP_ID], 'the built image stays as the layer cache');
  t.same(engine.createdContainers, ['server-1']);
  t.same(engine.leftovers(), { containers: [], images: [] });
  t.notOk(engine.methods().includes('removeImage'), "no image of the student's is removed: it is the cache");

  t.same(
    events.map((event) => event.type).filter((type) => type !== 'activity'),
    ['step-start', 'check', 'check', 'check', 'check', 'check', 'step-end', 'step-start', 'check', 'step-end'],
  );
  t.match(events[0], { type: 'step-start', dirLabel: 'the submission folder' });
  t.ok(events.some((event) => event.type === 'activity' && event.text === 'building app from Dockerfile'));
});

t.test('a missing base image is pulled, with its progress as activity', async (t) => {
  const { engine, events, run } = await setUp(t, { noBaseImage: true });
  const result = await run();
  t.same(engine.pulls, ['alpine:3.19']);
  t.ok(events.some((event) => event.type === 'activity' && event.text === 'pulling alpine:3.19: Downloading [=>  ]'));
  t.equal(result.passed, true);
  t.same(engine.leftovers(), { containers: [], images: [] });
  t.same(engine.removedImages, [], 'the pulled base image is kept');
});

t.test('a failed need skips the check, naming the check that failed', async (t) => {
  const { run, engine } = await setUp(t, { submission: { 'hi.txt': 'hi\n' } });
  const result = await run();
  const checks = checksById(result);

  t.match(checks['app/has-dockerfile'], { status: 'fail', message: 'Dockerfile not found', hint: 'Write a Dockerfile.' });
  t.match(checks['app/builds'], { status: 'fail', points: 0, message: 'no Dockerfile to build app from' }, 'image-builds reports the failed build itself');
  t.same(checks['app/prints'], {
    id: 'prints',
    title: 'it prints hi',
    kind: 'command',
    maxPoints: 1,
    required: true,
    hint: undefined,
    source: { file: 'app.yaml', line: 21 },
    status: 'skip',
    points: 0,
    message: 'skipped: needs app/has-dockerfile (the Dockerfile exists), which failed',
    durationMs: 0,
  });
  t.match(checks['app/running'], { status: 'skip', message: 'skipped: image app did not build', hint: undefined }, 'the start action had nothing to start');
  t.match(checks['app/small'], { status: 'skip', message: 'skipped: no Dockerfile to build app from' }, "a check using a failed build gets the build's reason");
  t.match(
    checks['extra/notes'],
    { status: 'skip', message: 'skipped: needs app/has-dockerfile (the Dockerfile exists), which failed' },
    'a step need names the first failed check of that step',
  );
  t.same(engine.builds, [], 'nothing was sent to the engine');
  t.same(engine.runs, []);
  t.same(engine.starts, []);
  t.same({ score: result.score, maxScore: result.maxScore, passed: result.passed }, { score: 0, maxScore: 9, passed: false });
});

t.test('a build that fails in the engine skips the checks that use it, with its reason', async (t) => {
  const { run, engine } = await setUp(t, {
    submission: { Dockerfile: 'FROM alpine:3.19\nRUN make\nCMD ["/app"]\n' },
    engine: (fake) =>
      fake.onBuild(
        { dockerfile: 'Dockerfile', target: undefined },
        {
          outcome: {
            ok: false,
            steps: [buildStep(1, 'FROM alpine:3.19'), buildStep(2, 'RUN make', false, ['/bin/sh: make: not found'])],
            error: "The command '/bin/sh -c make' returned a non-zero code: 127",
          },
        },
      ),
  });
  const result = await run();
  const checks = checksById(result);
  const reason = "Dockerfile:2: RUN make failed: The command '/bin/sh -c make' returned a non-zero code: 127";

  t.match(checks['app/builds'], {
    status: 'fail',
    message: reason,
    log: "Step 2: RUN make\n/bin/sh: make: not found\nThe command '/bin/sh -c make' returned a non-zero code: 127",
  });
  t.match(checks['app/prints'], { status: 'skip', message: 'skipped: image app did not build' });
  t.match(checks['app/small'], { status: 'skip', message: `skipped: ${reason}` });
  t.match(checks['app/running'], { status: 'skip', message: 'skipped: image app did not build' });
  t.match(checks['extra/notes'], { status: 'skip', message: 'skipped: needs app/builds (the app builds), which failed' });
  t.equal(result.score, 1);
  t.same(engine.createdImages, [], 'a failed build leaves no image');
  t.same(engine.leftovers(), { containers: [], images: [] });
});

t.test('a failed build names the right line when the Dockerfile starts with ARGs', async (t) => {
  // Regression (fixed): describeBuildFailure in runner/grading/actions.ts maps the builder's step number onto the
  // stages' instructions only, but the builder numbers the ARGs before the first FROM too, so
  // every line is off by the number of global ARGs (here it names line 4, RUN make install).
  const { run } = await setUp(t, {
    submission: { Dockerfile: 'ARG VERSION=3.19\nFROM alpine:${VERSION}\nRUN make\nRUN make install\n' },
    engine: (fake) =>
      fake.onBuild(
        { dockerfile: 'Dockerfile' },
        {
          outcome: { ok: false, steps: [buildStep(1, 'ARG VERSION=3.19'), buildStep(2, 'FROM alpine:${VERSION}'), buildStep(3, 'RUN make')], error: 'exit 2' },
        },
      ),
  });
  const result = await run();
  t.equal(checkOf(result, 'app/builds').message, 'Dockerfile:3: RUN make failed: exit 2');
});

t.test('a grader that throws gives an error, and the run goes on', async (t) => {
  const { run, engine } = await setUp(t, { engine: (fake) => fake.failOn('inspectContainer', new Error('socket hang up')) });
  const result = await run();
  const checks = checksById(result);
  t.match(checks['app/running'], {
    status: 'error',
    points: 0,
    maxPoints: 1,
    message: 'the grader could not complete this check: socket hang up',
    hint: undefined,
  });
  t.equal(checks['app/small']?.status, 'pass', 'the next check still ran');
  t.match(
    checks['extra/notes'],
    { status: 'skip', message: 'skipped: needs app/running (the server keeps running), which could not be checked' },
    'a step needing app is skipped',
  );
  t.same({ score: result.score, maxScore: result.maxScore, passed: result.passed }, { score: 5, maxScore: 9, passed: false });
  t.same(engine.leftovers(), { containers: [], images: [] }, 'cleanup ran after the throwing check');
});

t.test('an EngineError stops the run, after cleanup', async (t) => {
  const failure = new EngineError('the Docker engine stopped answering', 'start Docker and run grade again');
  const { run, engine, events } = await setUp(t, { engine: (fake) => fake.failOn('inspectContainer', failure) });
  await t.rejects(run(), failure);
  t.same(engine.createdContainers, ['server-1']);
  t.same(engine.leftovers(), { containers: [], images: [] }, 'the started container is removed anyway');
  t.notOk(
    events.some((event) => event.type === 'step-end'),
    'the step never ended',
  );

  const fromBuild = await setUp(t, { engine: (fake) => fake.failOn('build', new EngineError('no space left on device', 'free some disk space')) });
  await t.rejects(fromBuild.run(), { name: 'EngineError', message: 'no space left on device', advice: 'free some disk space' });
  t.same(fromBuild.engine.leftovers(), { containers: [], images: [] });

  const fromInfo = await setUp(t, { engine: (fake) => fake.failOn('info', new EngineError('cannot connect to the Docker daemon', 'is it running?')) });
  await t.rejects(fromInfo.run(), { name: 'EngineError' });
  t.same(fromInfo.engine.methods(), ['info'], 'nothing else is tried without an engine');
});

t.test('bonus steps add points but never decide passed', async (t) => {
  const { run } = await setUp(t);
  const result = await run();
  t.equal(checkOf(result, 'extra/notes').status, 'fail');
  t.equal(checkOf(result, 'extra/notes').required, false);
  t.same({ score: result.score, maxScore: result.maxScore, passed: result.passed }, { score: 6, maxScore: 9, passed: true });

  const failing = await setUp(t, { engine: (fake) => fake.onRun({ image: APP_ID }, { stdout: captured('bye\n') }) });
  const failed = await failing.run();
  t.match(checkOf(failed, 'app/prints'), { status: 'fail', message: `the image's default command printed "bye\\n" on stdout, expected "hi\\n"` });
  t.same({ score: failed.score, maxScore: failed.maxScore, passed: failed.passed }, { score: 5, maxScore: 9, passed: false });
});

t.test('keepImages keeps the images but still removes the containers', async (t) => {
  const { root, exercise, engine } = await setUp(t);
  await grade({ exercise, submissionDir: path.join(root, 'alice'), engine, limits: testLimits, runId: 't1', keepImages: true, wait: settled });
  t.same(engine.leftovers(), { containers: [], images: ['grade-t1-app:latest'] });
  t.same(engine.taggedImages, ['grade-t1-app:latest'], 'tagged by run and action name');
});

t.test('a cleanup problem is reported as an event, not thrown', async (t) => {
  const { run, events } = await setUp(t, {
    engine: (fake) => fake.failOn('removeContainer', new Error('removal of container server-1 is already in progress')),
  });
  const result = await run();
  t.equal(result.passed, true);
  t.same(
    events.filter((event) => event.type === 'cleanup-problem'),
    [{ type: 'cleanup-problem', text: 'container server-1: removal of container server-1 is already in progress' }],
  );
});

t.test('an engine silent at cleanup is still sent the removals it may carry out once it wakes', async (t) => {
  const { run, events, engine } = await setUp(t, {
    engine: (fake) => fake.failOn('listOurs', new EngineError('GET /containers/json got no answer within 2 s', 'check docker info')),
  });
  await run();
  t.same(engine.removedContainers, ['server-1'], 'the started container is sent its removal');
  t.same(
    events.filter((event) => event.type === 'cleanup-problem').map((event) => (event as { text: string }).text),
    ['containers of run t1 may be left (GET /containers/json got no answer within 2 s): run `grade clean` once Docker answers'],
  );
});

t.test('a step folder that does not exist fails its actions with the folders tried', async (t) => {
  const { run, events } = await setUp(t, {
    exercise: { 'app.yaml': APP_STEP.replace('title: The app image\n', 'title: The app image\ndir: [sub, ../sub]\n') },
  });
  const result = await run();
  const checks = checksById(result);
  t.match(events[0], { type: 'step-start', dirLabel: 'sub/ or ../sub/' });
  t.match(checks['app/has-dockerfile'], { status: 'fail', message: 'no folder to look in: sub/ or ../sub/ does not exist' });
  t.match(checks['app/builds'], { status: 'fail', message: 'sub/ or ../sub/ does not exist' });
  t.match(checks['app/small'], { status: 'skip', message: 'skipped: sub/ or ../sub/ does not exist' });
  t.equal(result.steps[0]?.dir, undefined);
});

t.test('the second candidate folder is used when the first is missing', async (t) => {
  const root = t.testdir({
    exercise: {
      'exercise.yaml': yaml('schemaVersion: 1', 'id: tiny', 'title: Tiny', 'steps: [notes]'),
      'notes.yaml': yaml(
        'id: notes',
        'title: Notes',
        'dir: [docs, ../docs]',
        'checks:',
        '  - id: notes',
        '    title: notes',
        '    kind: file-exists',
        '    paths: [NOTES.md]',
      ),
    },
    docs: { 'NOTES.md': 'hi' },
    alice: {},
  });
  const exercise = await loadExercise(path.join(root, 'exercise'));
  const result = await grade({ exercise, submissionDir: path.join(root, 'alice'), engine: new FakeEngine(), limits: testLimits });
  t.match(result.steps[0], { dir: '../docs', checks: [{ status: 'pass', message: 'found ../docs/NOTES.md' }] });
  t.match(result.runId, /^[0-9a-f]{10}$/, 'a random run id when none is given');
});

t.test('the images a build created are written to the ledger, cached ones and the base are not', async (t) => {
  const ledger = new ImageLedger(path.join(t.testdirName, 'state', 'images.txt'));
  const { root, exercise, engine } = await setUp(t, {
    engine: (fake) =>
      fake.onBuild(
        { dockerfile: 'Dockerfile' },
        {
          outcome: {
            imageId: APP_ID,
            steps: [
              { ...buildStep(1, 'FROM alpine:3.19'), imageId: 'aaaaaaaaaaaa' },
              { ...buildStep(2, 'COPY hi.txt /', true), imageId: 'bbbbbbbbbbbb' },
              { ...buildStep(3, 'CMD ["cat", "/hi.txt"]'), imageId: 'cccccccccccc' },
            ],
          },
        },
      ),
  });
  await grade({ exercise, submissionDir: path.join(root, 'alice'), engine, limits: testLimits, runId: 't1', ledger, wait: settled });
  t.same(await ledger.read(), ['cccccccccccc'], 'only the step the build made anew');
  await grade({ exercise, submissionDir: path.join(root, 'alice'), engine, limits: testLimits, runId: 't2', ledger, wait: settled });
  t.same(await ledger.read(), ['cccccccccccc'], 'each id once');
});

t.test('a base image no registry can provide: not judged, no hint, exit 2', async (t) => {
  const { run } = await setUp(t, {
    noBaseImage: true,
    engine: (fake) => fake.failOn('pull', new Error('Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host')),
  });
  const result = await run();
  const checks = checksById(result);
  for (const id of ['app/builds', 'app/prints', 'app/running', 'app/small']) {
    t.match(
      checks[id],
      {
        status: 'error',
        points: 0,
        message:
          /^not judged: base image alpine:3\.19 is not on this machine and no registry could be reached \(.*no such host\): connect to the network and grade again, or .*docker pull alpine:3\.19/,
      },
      id,
    );
    t.equal(checks[id]?.hint, undefined, `${id}: no hint for the student`);
  }
  t.equal(checks['app/has-dockerfile']?.status, 'pass', 'what needs no image is still graded');
  t.equal(exitCodeOf(result), EXIT.cannotGrade);
});

t.test("a base image the registry says does not exist is the student's to fix", async (t) => {
  const { run } = await setUp(t, {
    noBaseImage: true,
    engine: (fake) => fake.failOn('pull', new Error('manifest for alpine:3.19 not found: manifest unknown: manifest unknown')),
  });
  const result = await run();
  const checks = checksById(result);
  t.match(checks['app/builds'], {
    status: 'fail',
    message: 'base image alpine:3.19 does not exist in its registry (manifest for alpine:3.19 not found: manifest unknown: manifest unknown)',
    hint: /FROM line: is alpine:3\.19 spelt right/,
  });
  t.match(checks['app/prints'], { status: 'skip', hint: undefined });
  t.equal(exitCodeOf(result), EXIT.failed);
});
