// loadExercise on the shipped exercise and on broken specs: every problem must come back as a
// SpecError issue naming the file, the exact line and column, and what to write instead; every
// file's problems in one pass. The cases themselves are data (test/support/spec-cases.ts), which
// test/unit/spec-schema.test.ts holds the JSON Schema to as well.
import { execFileSync } from 'node:child_process';
import { truncate } from 'node:fs/promises';
import path from 'node:path';
import t, { type Test } from 'tap';
import { SpecError, type SpecIssue } from '../../runner/spec/shapes.js';
import { graderOf } from '../../graders/index.js';
import { inspectExercise, inspectStepFile, loadExercise, type Action } from '../../runner/spec/loader.js';
import type { CheckContext } from '../../graders/types.js';
import type { OutcomeByKind } from '../../graders/outcomes.js';
import { buildOutcome, FakeEngine, testLimits } from '../support/fake-engine.js';
import { EXERCISE, exerciseWith, specCases, stepWith, yaml, type ExpectedIssue, type SpecCase } from '../support/spec-cases.js';

const multiDir = path.resolve(import.meta.dirname, '../../exercises/multi');

function label(dir: string, file: string): string {
  return path.relative(process.cwd(), path.join(dir, file));
}

/** The folder of a case: the good exercise.yaml and step, then the case's files over them. */
function caseDir(t: Test, files: SpecCase['files']): string {
  return t.testdir({ 'exercise.yaml': EXERCISE, 'one.yaml': stepWith({}), ...files });
}

async function issuesOf(t: Test, files: SpecCase['files']): Promise<{ dir: string; issues: SpecIssue[] }> {
  const dir = caseDir(t, files);
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
  return { dir, issues: [] };
}

function issue(dir: string, file: string, line: number, col: number, message: string | RegExp) {
  return { file: label(dir, file), line, col, message };
}

const expected = (dir: string, issues: readonly ExpectedIssue[]) => issues.map(([file, line, col, message]) => issue(dir, file, line, col, message));

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
  t.same(need.at.source.lineCounter.linePos(need.at.node!.range![0]), { line: 60, col: 13 }, 'a need remembers where it was written');
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

t.test('every spec case is reported exactly as its table says, in one pass, sorted by file, line and column', async (t) => {
  for (const each of specCases) {
    const { dir, issues } = await issuesOf(t, each.files);
    t.equal(
      issues.length,
      each.issues.length,
      `${each.name}: ${issues.length ? issues.map((found) => `${found.line}:${found.col} ${found.message}`).join('; ') : 'no issue'}`,
    );
    t.match(issues, expected(dir, each.issues), each.name);
  }
});

t.test('the SpecError message says file:line:col for each issue', async (t) => {
  const dir = caseDir(t, { 'one.yaml': stepWith({ 9: '    titel: the app builds' }) });
  await t.rejects(loadExercise(dir), {
    name: 'SpecError',
    message: `${label(dir, 'one.yaml')}:8:5: missing key "title" (a string)\n${label(dir, 'one.yaml')}:9:5: unknown key "titel" (did you mean "title"?); valid keys: id, title, kind, points, hint, needs, image`,
  });
});

t.test('a YAML alias is read as the value it names', async (t) => {
  // Regression (fixed): scalarValue() in runner/spec/shapes.ts only looked at Scalar nodes, so `*name` was refused.
  const dir = caseDir(t, { 'exercise.yaml': exerciseWith('id: demo', 'title: &title Demo', 'description: *title', 'steps: [one]') });
  t.equal((await loadExercise(dir)).description, 'Demo');
  const aliases = specCases.find((each) => each.name === '100 aliases in a file are read')!;
  const exercise = await loadExercise(caseDir(t, aliases.files));
  t.equal(exercise.steps[0]!.checks[0]!.title, 'Step one', '100 aliases are read as their values');
  t.equal(exercise.steps[0]!.checks[0]!.options.paths && (exercise.steps[0]!.checks[0]!.options.paths as string[]).length, 99);
});

// ---- every file's problems in one pass -------------------------------------------------

t.test('a step file that does not parse hides no other problem: references are checked among the steps that did', async (t) => {
  const dir = t.testdir({
    'exercise.yaml': exerciseWith('id: demo', 'title: Demo', 'steps: [one, two, three]'),
    // Builds app, but its YAML is broken: what it names is unknown, so no "no build named app" below.
    'one.yaml': stepWith({ 10: '    kind: image-builds\n   image: app' }),
    'two.yaml': yaml(
      'id: two',
      'title: Two',
      'needs: [one]',
      'actions:',
      '  - run: two-output',
      '    image: app',
      'checks:',
      '  - id: x',
      '    title: x',
      '    kind: command',
      '    run: two-output',
      '    needs: [zero/x, one/builds]',
      '  - id: y',
      '    title: y',
      '    kind: image-builds',
      '    image: two-output',
    ),
    'three.yaml': yaml('id: three', 'title: Three', 'chekcs: []'),
  });
  const { issues, files, steps, exercise } = await inspectExercise(dir);
  t.match(
    issues,
    [
      issue(dir, 'one.yaml', 11, 1, /^Sequence item without - indicator/),
      issue(dir, 'one.yaml', 11, 11, /^Nested mappings are not allowed/),
      issue(dir, 'one.yaml', 11, 11, /^Implicit keys need to be on a single line/),
      issue(dir, 'three.yaml', 1, 1, 'missing key "checks" (a list of a check)'),
      issue(dir, 'three.yaml', 3, 1, 'unknown key "chekcs" (did you mean "checks"?); valid keys: id, title, description, dir, bonus, needs, actions, checks'),
      issue(dir, 'two.yaml', 12, 13, 'needs "zero/x": no step "zero" (steps: one, two, three)'),
      issue(dir, 'two.yaml', 13, 5, '"two-output" is a run, not a build'),
    ],
    'the broken YAML, the unknown key and the bad references, each at its place',
  );
  t.equal(issues.length, 7, "and nothing else: app may be the broken step's build, one/builds its check");
  t.same(
    files,
    ['exercise.yaml', 'one.yaml', 'two.yaml', 'three.yaml'].map((file) => label(dir, file)),
  );
  t.same(
    steps.map((step) => step.id),
    ['two'],
    'the steps whose files are valid on their own',
  );
  t.equal(exercise, undefined, 'no exercise while anything is wrong');
  await t.rejects(loadExercise(dir), { name: 'SpecError', issues }, 'loadExercise throws them all');
});

t.test('an exercise.yaml with problems of its own still names the steps to check', async (t) => {
  const { dir, issues } = await issuesOf(t, {
    'exercise.yaml': yaml('id: demo', 'steps: [one]'),
    'one.yaml': stepWith({ 18: '    needs: [biulds]' }),
  });
  t.same(issues, [
    issue(dir, 'exercise.yaml', 1, 1, 'exercise.yaml has no schemaVersion: add `schemaVersion: 1` as its first line'),
    issue(dir, 'exercise.yaml', 1, 1, 'missing key "title" (a string)'),
    issue(dir, 'one.yaml', 18, 13, 'needs "biulds", which is neither a check before it in one (builds) nor a step (one)'),
  ]);
});

t.test('an exercise.yaml that does not parse: every other .yaml file of the folder is checked as a step', async (t) => {
  const { dir, issues } = await issuesOf(t, {
    'exercise.yaml': exerciseWith('id: demo', 'title: "unterminated', 'steps: [one]'),
    'one.yaml': stepWith({ 14: '    kind: comand', 18: '    needs: [biulds]' }),
    'two.yaml': yaml(
      'id: two',
      'title: Two',
      'actions:',
      '  - run: out',
      '    image: elsewhere',
      'checks:',
      '  - id: x',
      '    title: x',
      '    kind: command',
      '    run: out',
      '    needs: [later]',
      '  - id: later',
      '    title: later',
      '    kind: file-exists',
      '    paths: [x]',
    ),
    'notes.txt': 'not a spec',
  });
  t.same(
    issues.map((found) => [found.file, found.line, found.col]),
    [
      [label(dir, 'exercise.yaml'), 5, 1],
      [label(dir, 'one.yaml'), 14, 11],
      [label(dir, 'two.yaml'), 11, 13],
    ],
    'without the order of the steps, each is checked alone: only what is wrong within it (a need of a later check of its own) is reported',
  );
  t.match(issues[2]!.message, /^needs check "later", which comes later in two/);
});

t.test('an unknown schemaVersion stops the reading: the shape of another version is not known', async (t) => {
  const { dir, issues } = await issuesOf(t, {
    'exercise.yaml': yaml('schemaVersion: 3', 'id: demo', 'title: Demo', 'steps: [one]', 'futureKey: 1'),
    'one.yaml': stepWith({ 14: '    kind: comand' }),
  });
  t.same(issues, [issue(dir, 'exercise.yaml', 1, 16, 'schemaVersion 3 is newer than this grade reads schemaVersion 1: upgrade grade to read this exercise')]);
});

t.test('a step file alone: in its exercise when one lists it, else on its own', async (t) => {
  const dir = t.testdir({
    exercise: {
      'exercise.yaml': exerciseWith('id: demo', 'title: Demo', 'steps: [one, two]'),
      'one.yaml': stepWith({ 14: '    kind: comand' }),
      'two.yaml': yaml(
        'id: two',
        'title: Two',
        'actions:',
        '  - run: out',
        '    image: app',
        'checks:',
        '  - id: x',
        '    title: x',
        '    kind: command',
        '    run: out',
        '    needs: [one/zz]',
      ),
      'stray.yaml': stepWith({ 1: 'id: stray' }),
    },
    future: { 'exercise.yaml': yaml('schemaVersion: 2', 'id: demo', 'title: Demo', 'steps: [one]'), 'one.yaml': stepWith({}) },
    alone: {
      'three.yaml': yaml(
        'id: three',
        'title: Three',
        'actions:',
        '  - run: out',
        '    image: elsewhere',
        'checks:',
        '  - id: x',
        '    title: x',
        '    kind: command',
        '    run: out',
        '    needs: [other/x, y]',
        '  - id: y',
        '    title: y',
        '    kind: file-exists',
        '    paths: [y]',
      ),
    },
  });
  const one = await inspectStepFile(path.join(dir, 'exercise/one.yaml'));
  t.same(
    one.issues.map((found) => [found.file, found.line, found.col]),
    [[label(dir, 'exercise/one.yaml'), 14, 11]],
    "only the file's own problems",
  );
  const two = await inspectStepFile(path.join(dir, 'exercise/two.yaml'));
  t.same(two.issues, [], 'step one does not parse: which checks it has is not known, and app may be its build');
  t.equal(two.step?.id, 'two');

  const stray = await inspectStepFile(path.join(dir, 'exercise/stray.yaml'));
  t.same(stray.issues, [
    issue(dir, 'exercise/stray.yaml', 1, 1, 'exercise.yaml beside it does not list this step: add stray to its steps, or it is never graded'),
  ]);

  t.same(
    (await inspectStepFile(path.join(dir, 'future/one.yaml'))).issues,
    [issue(dir, 'future/exercise.yaml', 1, 16, 'schemaVersion 2 is newer than this grade reads schemaVersion 1: upgrade grade to read this exercise')],
    'a step of an exercise of a version this grade does not read: that is the problem, not the step',
  );

  const alone = await inspectStepFile(path.join(dir, 'alone/three.yaml'));
  t.same(
    alone.issues.map((found) => [found.line, found.col, found.message]),
    [[11, 22, 'needs check "y", which comes later in three (or is this check: cyclic needs)']],
    'alone, names of other steps are not known; an order within the step is',
  );
});

t.test('sizes and durations are read with their units', async (t) => {
  const dir = caseDir(t, specCases.find((each) => each.name === 'sizes and durations with their units')!.files);
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
    'exercise.yaml': 'schemaVersion: 1\nid: two\ntitle: Two\nsteps: [first, second]\n',
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
