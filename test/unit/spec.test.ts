// loadExercise on the shipped exercise and on broken specs: every problem must come back as a
// SpecError issue naming the file, the exact line and column, and what to write instead.
import { execFileSync } from 'node:child_process';
import { truncate } from 'node:fs/promises';
import path from 'node:path';
import t, { type Test } from 'tap';
import { SpecError, type SpecIssue } from '../../runner/spec/shapes.js';
import { graderOf } from '../../graders/index.js';
import { loadExercise, type Action } from '../../runner/spec/loader.js';
import type { CheckContext } from '../../graders/types.js';
import type { OutcomeByKind } from '../../graders/outcomes.js';
import { buildOutcome, FakeEngine, testLimits } from '../support/fake-engine.js';

const multiDir = path.resolve(import.meta.dirname, '../../exercises/multi');

/** Lines joined with newlines: line N of the file is `lines[N - 1]`, easy to count in a test. */
const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

const EXERCISE = yaml('id: demo', 'title: Demo', 'steps: [one]');

/** The step every broken spec starts from; each test changes one thing. */
const GOOD_STEP = [
  'id: one', //                      1
  'title: Step one', //              2
  'actions:', //                     3
  '  - build: app', //               4
  '  - run: app-output', //          5
  '    image: app', //               6
  'checks:', //                      7
  '  - id: builds', //               8
  '    title: the app builds', //    9
  '    kind: image-builds', //      10
  '    image: app', //              11
  '  - id: prints', //              12
  '    title: it prints hi', //     13
  '    kind: command', //           14
  '    run: app-output', //         15
  '    stdout:', //                 16
  '      equals: "hi\\n"', //       17
  '    needs: [builds]', //         18
];

/** GOOD_STEP with lines replaced, by line number (1-based). */
function stepWith(changes: Record<number, string>): string {
  return yaml(...GOOD_STEP.map((line, index) => changes[index + 1] ?? line));
}

function label(dir: string, file: string): string {
  return path.relative(process.cwd(), path.join(dir, file));
}

async function issuesOf(t: Test, files: Record<string, string>): Promise<{ dir: string; issues: SpecIssue[] }> {
  const dir = t.testdir({ 'exercise.yaml': EXERCISE, ...files });
  try {
    await loadExercise(dir);
  } catch (error) {
    if (error instanceof SpecError) {
      // The message is every issue as file:line:col: message, one per line.
      t.equal(error.message, error.issues.map((issue) => `${issue.file}:${issue.line}:${issue.col}: ${issue.message}`).join('\n'));
      return { dir, issues: error.issues };
    }
    throw error;
  }
  t.fail('the spec loaded, but it is broken');
  return { dir, issues: [] };
}

function issue(dir: string, file: string, line: number, col: number, message: string | RegExp) {
  return { file: label(dir, file), line, col, message };
}

t.test('the shipped multi exercise loads with its four steps', async (t) => {
  const exercise = await loadExercise(multiDir);
  t.equal(exercise.id, 'multi');
  t.equal(exercise.title, 'Create Images using Dockerfiles (3/3) | Multi-Stage');
  t.same(
    exercise.steps.map((step) => step.id),
    ['compile-hello', 'large-small', 'target-stage', 'scratch-sleep'],
  );
  t.same(
    exercise.steps.map((step) => step.bonus),
    [false, false, false, true],
    'only scratch-sleep is a bonus',
  );
  t.same(
    exercise.steps.map((step) => step.checks.length),
    [3, 7, 4, 7],
  );
  t.same(
    exercise.steps.map((step) => step.dirs),
    [['.'], ['.'], ['.'], ['scratch', '../scratch']],
  );
  t.equal(exercise.limits.buildNetwork, 'default');
  t.equal(exercise.limits.memoryBytes, undefined, 'limits not written stay unset');

  const [compileHello, largeSmall, targetStage, scratch] = exercise.steps;
  t.same(
    compileHello!.actions.map((action) => `${action.kind} ${action.name}`),
    ['build toolchain', 'compile hello', 'run hello-output'],
  );
  t.match(compileHello!.actions[0], { kind: 'build', part: 'toolchain', from: [{ dockerfile: 'Dockerfile' }] });
  t.match(compileHello!.actions[1], {
    kind: 'compile',
    image: { value: 'toolchain' },
    sources: ['hello.c'],
    command: ['gcc', '-Wall', 'hello.c', '-o', 'hello'],
    output: 'hello',
  });
  t.match(largeSmall!.actions[1], {
    kind: 'build',
    name: 'large',
    part: 'all',
    from: [{ dockerfile: 'Dockerfile.large' }, { dockerfile: 'Dockerfile', target: 'build' }],
  });
  t.same(
    targetStage!.checks.map((check) => [check.id, check.kind, check.points, check.needs.map((need) => need.value)]),
    [
      ['target-builds', 'image-builds', 1, []],
      ['from-cache', 'build-cached', 2, ['large-small/small-builds']],
      ['build-stage-hello', 'command', 1, []],
      ['bigger-than-small', 'image-size', 1, []],
    ],
  );
  t.same(targetStage!.checks[3]!.uses, [
    { kind: 'build', name: 'small' },
    { kind: 'build', name: 'my-build-stage' },
  ]);
  const closures = exercise.steps.flatMap((step) =>
    step.checks.flatMap((check) =>
      Object.entries(check)
        .filter(([, value]) => typeof value === 'function')
        .map(([key]) => `${step.id}/${check.id}.${key}`),
    ),
  );
  t.same(closures, [], 'a check is plain data: its grader is looked up by kind when it runs');
  const sleeper = scratch!.actions.find((action) => action.name === 'sleeper') as Extract<Action, { kind: 'start' }>;
  t.equal(sleeper.settleMs, 1000, 'settle: 1s is 1000 ms');
  t.same(scratch!.checks.find((check) => check.id === 'root-listing')?.uses, [
    { kind: 'start', name: 'sleeper' },
    { kind: 'build', name: 'sleep-tools', reportsFailure: true },
  ]);
  const need = scratch!.checks.find((check) => check.id === 'top-shows-sleep')!.needs[0]!;
  t.equal(need.value, 'still-running');
  t.same(need.at.source.lineCounter.linePos(need.at.node!.range![0]), { line: 59, col: 13 }, 'a need remembers where it was written');
  t.equal(scratch!.file, label(multiDir, 'scratch-sleep.yaml'));
});

t.test('the good step used below loads', async (t) => {
  const dir = t.testdir({ 'exercise.yaml': EXERCISE, 'one.yaml': stepWith({}) });
  const exercise = await loadExercise(dir);
  t.same(
    exercise.steps[0]?.checks.map((check) => check.id),
    ['builds', 'prints'],
  );
  t.same(exercise.steps[0]?.checks[1]?.uses, [{ kind: 'run', name: 'app-output' }]);
  t.equal(exercise.steps[0]?.checks[0]?.points, 1, 'points default to 1');
});

t.test('malformed YAML is reported at the offending line and column', async (t) => {
  const tab = await issuesOf(t, { 'exercise.yaml': yaml('id: demo', 'title: Demo', 'steps:', '\t- one') });
  t.same(tab.issues, [issue(tab.dir, 'exercise.yaml', 4, 1, 'Tabs are not allowed as indentation')]);

  const colon = await issuesOf(t, { 'exercise.yaml': yaml('id: demo', 'title: Demo: the sequel', 'steps: [one]') });
  t.same(colon.issues, [issue(colon.dir, 'exercise.yaml', 2, 8, 'Nested mappings are not allowed in compact mappings')]);

  // The yaml parser only notices a missing quote at the end of the file, and says so there.
  const quote = await issuesOf(t, { 'exercise.yaml': yaml('id: demo', 'title: "an unterminated string', 'steps: [one]') });
  t.same(quote.issues, [issue(quote.dir, 'exercise.yaml', 4, 1, 'Missing closing "quote')]);

  const step = await issuesOf(t, { 'one.yaml': stepWith({ 10: '    kind: image-builds\n   image: app' }) });
  t.equal(step.issues[0]?.file, label(step.dir, 'one.yaml'), "a step file's own YAML errors name that file");
  t.equal(step.issues[0]?.line, 11);
});

t.test('a YAML alias is read as the value it names', async (t) => {
  // Regression (fixed): scalarValue() in runner/spec/shapes.ts only looks at Scalar nodes, so `*name` is refused,
  // and describeNode() words it "found undefined undefined".
  const dir = t.testdir({ 'exercise.yaml': yaml('id: demo', 'title: &title Demo', 'description: *title', 'steps: [one]'), 'one.yaml': stepWith({}) });
  const exercise = await loadExercise(dir);
  t.equal(exercise.description, 'Demo');
});

t.test('an unknown key lists the valid ones, at its own line and column', async (t) => {
  const { dir, issues } = await issuesOf(t, { 'one.yaml': stepWith({ 9: '    titel: the app builds' }) });
  t.same(issues, [
    issue(dir, 'one.yaml', 9, 5, 'unknown key "titel" (did you mean "title"?); valid keys: id, title, kind, points, hint, needs, image'),
    issue(dir, 'one.yaml', 8, 5, 'missing key "title" (a string)'),
  ]);
  await t.rejects(
    loadExercise(dir),
    {
      message: `${label(dir, 'one.yaml')}:9:5: unknown key "titel" (did you mean "title"?); valid keys: id, title, kind, points, hint, needs, image\n${label(dir, 'one.yaml')}:8:5: missing key "title" (a string)`,
    },
    'the error message says file:line:col for each issue',
  );
  t.match(
    String((await issuesOf(t, { 'exercise.yaml': yaml('id: demo', 'title: Demo', 'steps: [one]', 'limits:', '  memroy: 1GB') })).issues[0]?.message),
    'unknown key "memroy" (did you mean "memory"?); valid keys: runTimeout, buildTimeout, memory, pids, cpus, output, buildNetwork',
  );
});

t.test('an unknown key far from every valid one gets no suggestion', async (t) => {
  const { dir, issues } = await issuesOf(t, { 'one.yaml': stepWith({ 2: 'title: Step one\nzzzzzz: 1' }) });
  t.same(issues, [issue(dir, 'one.yaml', 3, 1, 'unknown key "zzzzzz"; valid keys: id, title, description, dir, bonus, needs, actions, checks')]);
});

t.test('a value of the wrong type says what was expected and found', async (t) => {
  const points = await issuesOf(t, { 'one.yaml': stepWith({ 11: '    image: app\n    points: many' }) });
  t.same(points.issues, [issue(points.dir, 'one.yaml', 12, 13, 'expected a number >= 0 and <= 1000, found string "many"')]);

  const bonus = await issuesOf(t, { 'one.yaml': stepWith({ 2: 'title: Step one\nbonus: yes please' }) });
  t.same(bonus.issues, [issue(bonus.dir, 'one.yaml', 3, 8, 'expected true or false, found string "yes please"')]);

  const steps = await issuesOf(t, { 'exercise.yaml': yaml('id: demo', 'title: Demo', 'steps: one') });
  t.same(steps.issues, [issue(steps.dir, 'exercise.yaml', 3, 8, 'expected a list, found string "one"')]);

  const exitCode = await issuesOf(t, { 'one.yaml': stepWith({ 15: '    run: app-output\n    exitCode: 1.5' }) });
  t.same(exitCode.issues, [issue(exitCode.dir, 'one.yaml', 16, 15, 'expected a whole number >= 0 and <= 255, found number 1.5')]);

  const name = await issuesOf(t, { 'one.yaml': stepWith({ 4: '  - build: My_App' }) });
  t.equal(name.issues[0]?.line, 4);
  t.equal(name.issues[0]?.col, 12);
  t.equal(name.issues[0]?.message, 'expected a lower-case name such as my-image (letters, digits, dashes), found string "My_App"');
});

t.test('an unknown check kind lists the valid kinds and suggests a close one', async (t) => {
  const kinds =
    'file-exists, dockerfile, compiles, image-builds, command, image-size, path-absent, build-cached, container-running, process-list, root-listing';
  const close = await issuesOf(t, { 'one.yaml': stepWith({ 14: '    kind: comand' }) });
  t.same(close.issues, [issue(close.dir, 'one.yaml', 14, 11, `unknown check kind "comand" (did you mean "command"?); valid kinds: ${kinds}`)]);

  const far = await issuesOf(t, { 'one.yaml': stepWith({ 14: '    kind: telepathy' }) });
  t.same(far.issues, [issue(far.dir, 'one.yaml', 14, 11, `unknown check kind "telepathy"; valid kinds: ${kinds}`)]);

  const missing = await issuesOf(t, { 'one.yaml': stepWith({ 14: '    points: 2' }) });
  t.same(missing.issues, [issue(missing.dir, 'one.yaml', 12, 5, `a check needs a "kind": one of ${kinds}`)]);
});

t.test('an invalid regular expression in matches is a spec error at its position', async (t) => {
  const { dir, issues } = await issuesOf(t, { 'one.yaml': stepWith({ 17: '      matches: "^(hi"' }) });
  t.equal(issues.length, 1);
  t.match(issues[0], issue(dir, 'one.yaml', 17, 16, /^invalid regular expression "\^\(hi": missing closing \): `\^\(hi` \(patterns use RE2 syntax/));

  const lookahead = await issuesOf(t, { 'one.yaml': stepWith({ 17: '      matches: "^(?=Hello)"' }) });
  t.match(
    lookahead.issues[0],
    issue(lookahead.dir, 'one.yaml', 17, 16, /invalid or unsupported Perl syntax.*no backreferences or lookaround/),
    'what cannot run in linear time is refused at load',
  );

  const two = await issuesOf(t, { 'one.yaml': stepWith({ 17: '      equals: hi\n      contains: h' }) });
  t.same(two.issues, [issue(two.dir, 'one.yaml', 17, 7, 'give exactly one of equals, contains or matches')]);
});

t.test('needs naming nothing known lists the checks and steps there are', async (t) => {
  const { dir, issues } = await issuesOf(t, { 'one.yaml': stepWith({ 18: '    needs: [biulds]' }) });
  t.same(issues, [issue(dir, 'one.yaml', 18, 13, 'needs "biulds", which is neither a check before it in one (builds) nor a step (one)')]);

  const qualified = await issuesOf(t, { 'one.yaml': stepWith({ 18: '    needs: [zero/builds]' }) });
  t.same(qualified.issues, [issue(qualified.dir, 'one.yaml', 18, 13, 'needs "zero/builds": no step "zero" (steps: one)')]);
});

t.test('needs on a later step, on its own step or on the check itself is cyclic', async (t) => {
  const later = await issuesOf(t, {
    'exercise.yaml': yaml('id: demo', 'title: Demo', 'steps: [one, two]'),
    'one.yaml': stepWith({ 2: 'title: Step one\nneeds: [two]' }),
    'two.yaml': yaml('id: two', 'title: Two', 'checks:', '  - id: x', '    title: x', '    kind: file-exists', '    paths: [x]'),
  });
  t.same(later.issues, [issue(later.dir, 'one.yaml', 3, 9, 'needs step "two", which runs after one: steps run in the order of exercise.yaml')]);

  const laterCheck = await issuesOf(t, {
    'exercise.yaml': yaml('id: demo', 'title: Demo', 'steps: [one, two]'),
    'one.yaml': stepWith({ 18: '    needs: [two/x]' }),
    'two.yaml': yaml('id: two', 'title: Two', 'checks:', '  - id: x', '    title: x', '    kind: file-exists', '    paths: [x]'),
  });
  t.same(laterCheck.issues, [issue(laterCheck.dir, 'one.yaml', 18, 13, 'needs "two/x": step two does not run before one')]);

  const self = await issuesOf(t, { 'one.yaml': stepWith({ 2: 'title: Step one\nneeds: [one]' }) });
  t.same(self.issues, [issue(self.dir, 'one.yaml', 3, 9, 'step one cannot need itself (cyclic needs)')]);

  const ownCheck = await issuesOf(t, { 'one.yaml': stepWith({ 18: '    needs: [prints]' }) });
  t.same(ownCheck.issues, [issue(ownCheck.dir, 'one.yaml', 18, 13, 'needs check "prints", which comes later in one (or is this check: cyclic needs)')]);

  const laterInStep = await issuesOf(t, { 'one.yaml': stepWith({ 11: '    image: app\n    needs: [prints]' }) });
  t.same(laterInStep.issues, [issue(laterInStep.dir, 'one.yaml', 12, 13, 'needs check "prints", which comes later in one (or is this check: cyclic needs)')]);
});

t.test('an action referring to an unknown action names the ones there are', async (t) => {
  const { dir, issues } = await issuesOf(t, { 'one.yaml': stepWith({ 6: '    image: nope' }) });
  t.same(issues, [issue(dir, 'one.yaml', 6, 12, 'no build named "nope" before this action (builds so far: app)')]);

  const none = await issuesOf(t, { 'one.yaml': stepWith({ 4: '  - start: web\n    image: app' }) });
  t.same(none.issues[0], issue(none.dir, 'one.yaml', 5, 12, 'no build named "app" before this action (no build so far)'));
});

t.test('a reference to an action of the wrong kind says what it is', async (t) => {
  const program = await issuesOf(t, { 'one.yaml': stepWith({ 6: '    program: app' }) });
  t.same(program.issues, [issue(program.dir, 'one.yaml', 6, 14, '"app" is a build, not a compile')]);

  const check = await issuesOf(t, { 'one.yaml': stepWith({ 15: '    run: app' }) });
  t.same(check.issues, [issue(check.dir, 'one.yaml', 12, 5, '"app" is a build, not a run')]);

  const unknown = await issuesOf(t, { 'one.yaml': stepWith({ 11: '    image: ghost' }) });
  t.same(unknown.issues, [issue(unknown.dir, 'one.yaml', 8, 5, 'no build named "ghost" in this or an earlier step (builds so far: app)')]);
});

t.test('a run needs exactly one of image and program; an action exactly one kind key', async (t) => {
  const both = await issuesOf(t, { 'one.yaml': stepWith({ 6: '    image: app\n    program: app' }) });
  t.same(both.issues, [issue(both.dir, 'one.yaml', 5, 5, 'a run takes exactly one of "image" (a build) or "program" (a compile)')]);

  const two = await issuesOf(t, { 'one.yaml': stepWith({ 4: '  - build: app\n    start: app' }) });
  t.same(two.issues, [issue(two.dir, 'one.yaml', 4, 5, 'an action has exactly one of build, compile, run, start; found build and start')]);
});

t.test('an action name used twice is reported at the second action', async (t) => {
  const { dir, issues } = await issuesOf(t, { 'one.yaml': stepWith({ 4: '  - build: app\n  - build: app\n    dockerfile: Dockerfile.dev' }) });
  t.same(issues, [issue(dir, 'one.yaml', 5, 5, 'action name "app" is used twice; names are shared by the whole exercise')]);

  const acrossSteps = await issuesOf(t, {
    'exercise.yaml': yaml('id: demo', 'title: Demo', 'steps: [one, two]'),
    'one.yaml': stepWith({}),
    'two.yaml': yaml('id: two', 'title: Two', 'actions:', '  - build: app', 'checks:', '  - id: x', '    title: x', '    kind: image-builds', '    image: app'),
  });
  t.same(acrossSteps.issues, [issue(acrossSteps.dir, 'two.yaml', 4, 5, 'action name "app" is used twice; names are shared by the whole exercise')]);

  const checks = await issuesOf(t, { 'one.yaml': stepWith({ 12: '  - id: builds', 18: '' }) });
  t.same(checks.issues, [issue(checks.dir, 'one.yaml', 12, 5, 'check id "builds" is used twice in step one')]);
});

t.test('a step whose id differs from its file name', async (t) => {
  const { dir, issues } = await issuesOf(t, { 'one.yaml': stepWith({ 1: 'id: uno' }) });
  t.same(issues, [issue(dir, 'one.yaml', 1, 1, 'step id "uno" does not match its file name one.yaml')]);
});

t.test('a missing step file is reported and the other steps are still checked', async (t) => {
  const { dir, issues } = await issuesOf(t, {
    'exercise.yaml': yaml('id: demo', 'title: Demo', 'steps: [one, missing]'),
    'one.yaml': stepWith({ 14: '    kind: comand' }),
  });
  t.same(
    issues.map((found) => [found.file, found.line, found.col]),
    [
      [label(dir, 'one.yaml'), 14, 11],
      [label(dir, 'missing.yaml'), 1, 1],
    ],
  );
  t.equal(issues[1]?.message, 'missing.yaml not found');

  const noExercise = t.testdir({});
  await t.rejects(loadExercise(noExercise), {
    name: 'SpecError',
    issues: [{ file: label(noExercise, 'exercise.yaml'), line: 1, col: 1, message: 'exercise.yaml not found' }],
  });
});

t.test('sizes and durations are read with their units', async (t) => {
  const dir = t.testdir({
    'exercise.yaml': yaml(
      'id: demo',
      'title: Demo',
      'steps: [one]',
      'limits:',
      '  memory: 64MiB',
      '  output: 10MB',
      '  runTimeout: 30s',
      '  buildTimeout: 5m',
      '  pids: 64',
      '  cpus: 0.5',
    ),
    'one.yaml': yaml(
      'id: one',
      'title: One',
      'actions:',
      '  - build: app',
      '  - start: web',
      '    image: app',
      '    settle: 500ms',
      'checks:',
      '  - id: small',
      '    title: small',
      '    kind: image-size',
      '    image: app',
      '    max: 10MB',
      '    min: 1 KiB',
    ),
  });
  const exercise = await loadExercise(dir);
  t.same(exercise.limits, {
    runTimeoutMs: 30_000,
    buildTimeoutMs: 300_000,
    memoryBytes: 67_108_864,
    pids: 64,
    cpus: 0.5,
    outputBytes: 10_000_000,
    buildNetwork: undefined,
  });
  t.equal((exercise.steps[0]!.actions[1] as Extract<Action, { kind: 'start' }>).settleMs, 500);

  // The parsed bounds are inside the check: 10MB is 10,000,000 bytes exactly, 1 KiB is 1024.
  const sizeCheck = exercise.steps[0]!.checks[0]!;
  t.same(
    sizeCheck.options,
    { image: 'app', max: 10_000_000, min: 1024, ratioTo: undefined, maxRatio: undefined, minRatio: undefined },
    "the check carries its kind's own options, parsed",
  );
  const verdictFor = (sizeBytes: number) =>
    graderOf(sizeCheck.kind).run(
      sizeCheck.options,
      contextWith({ app: { ok: true, ref: 'app', id: 'sha256:app', sizeBytes, dockerfile: 'Dockerfile', build: buildOutcome() } }),
    );
  t.equal((await verdictFor(10_000_000)).status, 'pass');
  t.equal((await verdictFor(10_000_001)).status, 'fail');
  t.equal((await verdictFor(1024)).status, 'pass');
  t.equal((await verdictFor(1023)).status, 'fail');
});

t.test('sizes and durations without a unit, with an unknown unit or out of range are refused', async (t) => {
  const { dir, issues } = await issuesOf(t, {
    'exercise.yaml': yaml(
      'id: demo',
      'title: Demo',
      'steps: [one]',
      'limits:',
      '  memory: 10 furlongs',
      '  output: 1.5',
      '  runTimeout: 30',
      '  buildTimeout: 0s',
      '  pids: 8',
    ),
  });
  t.same(issues, [
    issue(dir, 'exercise.yaml', 5, 11, 'expected a size such as 10MB, 512kB or 1MiB, found string "10 furlongs"'),
    issue(dir, 'exercise.yaml', 6, 11, 'expected a size such as 10MB, 512kB or 1MiB, found number 1.5'),
    issue(dir, 'exercise.yaml', 7, 15, 'expected a duration such as 500ms, 30s, 5m or 2h, found number 30'),
    issue(dir, 'exercise.yaml', 8, 17, 'expected a duration such as 500ms, 30s, 5m or 2h, found string "0s"'),
    issue(dir, 'exercise.yaml', 9, 9, 'pids 8 is below the minimum of 16 (a shell and a compiler start several processes): use pids: 16 or more'),
  ]);

  const tooLong = await issuesOf(t, { 'exercise.yaml': yaml('id: demo', 'title: Demo', 'steps: [one]', 'limits:', '  runTimeout: 11m') });
  t.same(tooLong.issues, [
    issue(
      tooLong.dir,
      'exercise.yaml',
      5,
      15,
      'runTimeout 11m is above the maximum of 10m (a program of a course exercise that runs longer is stuck): use runTimeout: 10m or less',
    ),
  ]);
});

// ---- hostile spec files: bounded in time, memory and stack ---------------------------------

t.test('a spec file that is a FIFO, a folder or over 1 MB is refused at 1:1, without hanging', { timeout: 60_000 }, async (t) => {
  const fifo = t.testdir({ 'one.yaml': stepWith({}) });
  execFileSync('mkfifo', [path.join(fifo, 'exercise.yaml')]);
  await t.rejects(loadExercise(fifo), {
    name: 'SpecError',
    issues: [issue(fifo, 'exercise.yaml', 1, 1, 'exercise.yaml is a fifo (named pipe): not a regular file')],
  });

  const stepFifo = t.testdir({ 'exercise.yaml': EXERCISE });
  execFileSync('mkfifo', [path.join(stepFifo, 'one.yaml')]);
  await t.rejects(loadExercise(stepFifo), {
    name: 'SpecError',
    issues: [issue(stepFifo, 'one.yaml', 1, 1, 'one.yaml is a fifo (named pipe): not a regular file')],
  });

  const folder = t.testdir({ 'exercise.yaml': EXERCISE, 'one.yaml': {} });
  await t.rejects(loadExercise(folder), { name: 'SpecError', issues: [issue(folder, 'one.yaml', 1, 1, 'one.yaml is a folder, not a regular file')] });

  const huge = t.testdir({ 'exercise.yaml': EXERCISE, 'one.yaml': stepWith({ 2: `title: ${'x'.repeat(1_000_000)}` }) });
  await t.rejects(loadExercise(huge), {
    name: 'SpecError',
    issues: [issue(huge, 'one.yaml', 1, 1, /^one\.yaml is \d+ bytes, over the 1000000 bytes a spec file may have$/)],
  });

  // A sparse file claims its size: refused from it, nothing read.
  const sparse = t.testdir({ 'exercise.yaml': EXERCISE, 'one.yaml': '' });
  await truncate(path.join(sparse, 'one.yaml'), 1_500_000_000);
  await t.rejects(loadExercise(sparse), {
    name: 'SpecError',
    issues: [issue(sparse, 'one.yaml', 1, 1, 'one.yaml is 1.5GB, over the 1MB a spec file may have')],
  });
});

t.test('aliases: up to 100 per file are read, the 101st is refused where it is written', async (t) => {
  const step = (count: number) =>
    yaml(
      'id: one',
      'title: &title Step one',
      'checks:',
      '  - id: files',
      '    title: *title',
      '    kind: file-exists',
      '    paths:',
      ...Array.from({ length: count - 1 }, () => '      - *title'),
    );
  const fine = t.testdir({ 'exercise.yaml': EXERCISE, 'one.yaml': step(100) });
  const exercise = await loadExercise(fine);
  t.equal(exercise.steps[0]!.checks[0]!.title, 'Step one', '100 aliases are read as their values');

  // 16,000 aliases took 37 s when each was resolved by walking the whole document.
  const many = await issuesOf(t, { 'one.yaml': step(16_000) });
  t.same(many.issues, [issue(many.dir, 'one.yaml', 107, 9, 'more than 100 aliases (*title is one too many): write the values out')]);
});

t.test('nesting deeper than 64 levels is refused where it goes too deep, even 2,000 levels', async (t) => {
  const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
  // The step file is a mapping (level 1), so `description` may hold 63 more.
  const fine = await issuesOf(t, { 'one.yaml': stepWith({ 2: `title: Step one\ndescription: ${nested(63)}` }) });
  t.same(fine.issues, [issue(fine.dir, 'one.yaml', 3, 14, 'expected a string, found a list')], '64 levels are read (and judged by the schema)');

  const deep = await issuesOf(t, { 'one.yaml': stepWith({ 2: `title: Step one\ndescription: ${nested(64)}` }) });
  t.same(deep.issues, [issue(deep.dir, 'one.yaml', 3, 14 + 63, 'nested too deeply: a spec may nest at most 64 levels of mappings and lists')]);

  for (const [name, text] of [
    ['flow lists', nested(2000)],
    ['flow mappings', `${'{a: '.repeat(2000)}1${'}'.repeat(2000)}`],
    ['block mappings', `\n${Array.from({ length: 700 }, (_, level) => `${' '.repeat(level + 1)}k:`).join('\n')} 1`],
  ] as const) {
    const { dir, issues } = await issuesOf(t, { 'one.yaml': stepWith({ 2: `title: Step one\ndescription: ${text}` }) });
    t.equal(issues.length, 1, name);
    t.match(issues[0], { file: label(dir, 'one.yaml'), line: Number, col: Number, message: /^nested too deeply: a spec may nest at most 64 levels/ }, name);
    t.ok(issues[0]!.line >= 3 && issues[0]!.col > 1, `${name}: at the place it goes too deep (${issues[0]!.line}:${issues[0]!.col})`);
  }
});

t.test('points are a finite number from 0 to 1000', async (t) => {
  const atMost = await issuesOf(t, {
    'one.yaml': stepWith({ 9: '    title: the app builds\n    points: 1e308', 13: '    title: it prints hi\n    points: .inf' }),
  });
  // How the found value is worded for .inf and .nan belongs to schema.ts; the refusal and its place are what matter here.
  t.match(atMost.issues, [
    issue(atMost.dir, 'one.yaml', 10, 13, 'expected a number >= 0 and <= 1000, found number 1e+308'),
    issue(atMost.dir, 'one.yaml', 15, 13, /^expected a number >= 0 and <= 1000, found number/),
  ]);
  t.equal(atMost.issues.length, 2);
  const nan = await issuesOf(t, { 'one.yaml': stepWith({ 9: '    title: the app builds\n    points: .nan' }) });
  t.match(nan.issues, [issue(nan.dir, 'one.yaml', 10, 13, /^expected a number >= 0 and <= 1000, found number/)]);
  t.equal(nan.issues.length, 1);

  const dir = t.testdir({ 'exercise.yaml': EXERCISE, 'one.yaml': stepWith({ 9: '    title: the app builds\n    points: 1000' }) });
  t.equal((await loadExercise(dir)).steps[0]!.checks[0]!.points, 1000);
});

/** A CheckContext whose outcomes are the given builds. */
function contextWith(builds: Record<string, OutcomeByKind['build']>): CheckContext {
  return {
    engine: new FakeEngine(),
    limits: testLimits,
    dir: undefined,
    dirLabel: '',
    signal: new AbortController().signal,
    outcome: <K extends keyof OutcomeByKind>(_kind: K, name: string) => builds[name] as OutcomeByKind[K],
    helper: (purpose) => ({ name: `helper-${purpose}`, labels: {} }),
  };
}

t.test('needs are resolved once, at load, to the step and check they name', async (t) => {
  const exercise = await loadExercise(multiDir);
  const needsOf = (stepId: string, checkId: string) =>
    exercise.steps
      .find((step) => step.id === stepId)!
      .checks.find((check) => check.id === checkId)!
      .needs.map(({ value, step, check }) => ({ value, step, check }));
  t.same(needsOf('target-stage', 'from-cache'), [{ value: 'large-small/small-builds', step: 'large-small', check: 'small-builds' }], 'step/check');
  t.same(
    needsOf('scratch-sleep', 'top-shows-sleep'),
    [{ value: 'still-running', step: 'scratch-sleep', check: 'still-running' }],
    'an earlier check of the same step',
  );
  t.same(needsOf('compile-hello', 'compiles-cleanly'), [{ value: 'hello-c-exists', step: 'compile-hello', check: 'hello-c-exists' }]);

  const dir = t.testdir({
    'exercise.yaml': 'id: two\ntitle: Two\nsteps: [first, second]\n',
    'first.yaml': 'id: first\ntitle: First\nchecks:\n  - id: a\n    title: A\n    kind: file-exists\n    paths: [x]\n',
    'second.yaml': 'id: second\ntitle: Second\nneeds: [first]\nchecks:\n  - id: b\n    title: B\n    kind: file-exists\n    paths: [y]\n',
  });
  const two = await loadExercise(dir);
  t.same(
    two.steps[1]!.needs.map(({ value, step, check }) => ({ value, step, check })),
    [{ value: 'first', step: 'first', check: undefined }],
    'a whole step',
  );
});
