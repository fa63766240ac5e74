// Which steps of a run wait for which, how many run at once, what a failure does to the others,
// that builds of one folder take turns, and that the student hears the steps in the spec's order
// however they interleave.
import path from 'node:path';
import t from 'tap';
import { StepEvents, runSteps, stepPrerequisites } from '../../runner/grading/schedule.js';
import { GradingSession } from '../../runner/grading/session.js';
import { FakeEngine } from '../support/fake-engine.js';
import type { RunEvent } from '../../runner/grading/run.js';
import { loadExercise, type Step } from '../../runner/spec/loader.js';
import { packageRoot } from '../../runner/paths.js';

const multi = await loadExercise(path.join(packageRoot, 'exercises/multi'));
const asLists = (sets: Set<number>[]) => sets.map((set) => [...set].sort());

t.test('multi: the build stage on its own waits for large-small; the other steps wait for none', async (t) => {
  t.same(
    multi.steps.map((step) => step.id),
    ['compile-hello', 'large-small', 'target-stage', 'scratch-sleep'],
  );
  t.same(asLists(stepPrerequisites(multi.steps)), [[], [], [1], []]);
});

t.test('a step waits for the steps whose images, programs and containers it uses, and for those it needs', async (t) => {
  const step = (id: string, fields: Partial<Step>): Step => ({
    id,
    title: id,
    dirs: ['.'],
    bonus: false,
    needs: [],
    actions: [],
    checks: [],
    file: `${id}.yaml`,
    ...fields,
  });
  const build = multi.steps[1]!.actions[0]!; // build: small
  const run = multi.steps[1]!.actions[2]!; // run: small-output, image: small
  const usesSmall = multi.steps[1]!.checks.find((check) => check.id === 'small-is-small')!;
  const steps = [
    step('makes', { actions: [build] }),
    step('runs', { actions: [run] }),
    step('checks', { checks: [usesSmall] }),
    step('needs', { needs: [{ value: 'makes', step: 'makes', at: undefined as never }] }),
    step('alone', {}),
  ];
  t.same(asLists(stepPrerequisites(steps)), [[], [0], [0], [0], []]);
});

/** A step whose end the test decides: `finish(i)` or `fail(i, error)`. */
function controlledSteps(count: number) {
  const started: number[] = [];
  const gates = Array.from({ length: count }, () => {
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<void>((yes, no) => {
      resolve = yes;
      reject = no;
    });
    return { promise, resolve, reject };
  });
  let aborted = 0;
  const run = (prerequisites: Set<number>[], atOnce: number) =>
    runSteps(
      prerequisites,
      atOnce,
      async (index) => {
        started.push(index);
        await gates[index]!.promise;
      },
      () => aborted++,
    );
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return {
    started,
    run,
    settle,
    finish: (index: number) => gates[index]!.resolve(),
    fail: (index: number, error: Error) => gates[index]!.reject(error),
    aborts: () => aborted,
  };
}

t.test('steps start once their prerequisites end, at most atOnce at a time', async (t) => {
  const steps = controlledSteps(4);
  const all = steps.run([new Set(), new Set([0]), new Set([1]), new Set()], 2);
  await steps.settle();
  t.same(steps.started, [0, 3], 'the first step and the independent one');
  steps.finish(3);
  await steps.settle();
  t.same(steps.started, [0, 3], 'step 1 still waits for step 0');
  steps.finish(0);
  await steps.settle();
  t.same(steps.started, [0, 3, 1]);
  steps.finish(1);
  await steps.settle();
  t.same(steps.started, [0, 3, 1, 2]);
  steps.finish(2);
  await all;
  t.equal(steps.aborts(), 0);
});

t.test('one at a time: the spec order', async (t) => {
  const steps = controlledSteps(3);
  const all = steps.run([new Set(), new Set(), new Set()], 1);
  for (const index of [0, 1, 2]) {
    await steps.settle();
    t.same(steps.started, [0, 1, 2].slice(0, index + 1));
    steps.finish(index);
  }
  await all;
});

t.test('a failing step aborts the others, and the run throws its error only once they have ended', async (t) => {
  const steps = controlledSteps(3);
  let settled = false;
  const all = steps.run([new Set(), new Set([0]), new Set()], 2).finally(() => {
    settled = true;
  });
  await steps.settle();
  const cause = new Error('the engine stopped answering');
  steps.fail(0, cause);
  await steps.settle();
  t.equal(steps.aborts(), 1, 'abort called once');
  t.notOk(steps.started.includes(1), 'what waited for the failed step never starts');
  t.notOk(settled, 'the run waits for the step still running');
  steps.fail(2, new Error('interrupted'));
  await t.rejects(all, cause, 'the first failure is thrown');
  t.equal(steps.aborts(), 1);
});

t.test('a step that does not end once aborted is not waited for past the grace', async (t) => {
  const cause = new Error('the engine stopped answering');
  const never = new Promise<void>(() => {});
  // The grace's timer keeps no process alive (a stalled engine must not): this test's interval does.
  const alive = setInterval(() => {}, 1000);
  t.teardown(() => clearInterval(alive));
  const started = Date.now();
  const all = runSteps(
    [new Set(), new Set()],
    2,
    (index) => (index === 0 ? Promise.reject(cause) : never),
    () => {},
    50,
  );
  await t.rejects(all, cause);
  t.ok(Date.now() - started >= 45, 'the grace was given');
});

const step = (id: string) => ({ id, title: id }) as Step;
const start = (id: string): RunEvent => ({ type: 'step-start', step: step(id), dirLabel: '' });
const activity = (id: string, text: string): RunEvent => ({ type: 'activity', step: step(id), text });

t.test('events come in step order: a step running ahead is held until the steps before it end', async (t) => {
  const heard: string[] = [];
  const events = new StepEvents<RunEvent>(3, (event) =>
    heard.push(`${'step' in event ? event.step.id : ''} ${event.type}${event.type === 'activity' ? ` ${event.text}` : ''}`),
  );
  events.emit(0, start('a'));
  events.emit(2, start('c'));
  events.emit(2, activity('c', 'pulling alpine: 1 MB'));
  events.emit(2, activity('c', 'pulling alpine: 2 MB'));
  events.emit(2, activity('c', 'building sleep'));
  t.same(heard, ['a step-start'], 'the later step is held');
  events.emit(0, activity('a', 'building small'));
  events.end(0);
  t.same(heard, ['a step-start', 'a activity building small'], 'step 1 has not started: step 2 still held');
  events.emit(1, start('b'));
  events.end(2);
  events.emit(1, activity('b', 'running'));
  events.end(1);
  t.same(heard, [
    'a step-start',
    'a activity building small',
    'b step-start',
    'b activity running',
    'c step-start',
    'c activity pulling alpine: 2 MB',
    'c activity building sleep',
  ]);
});

t.test('builds of one folder take turns; builds of two folders do not wait for each other', async (t) => {
  const session = new GradingSession(new FakeEngine(), 'multi', 'alice');
  const order: string[] = [];
  const build = async (dir: string, name: string, ms: number) => {
    const end = await session.buildTurn(dir);
    order.push(`${name} starts`);
    await new Promise((resolve) => setTimeout(resolve, ms));
    order.push(`${name} ends`);
    end();
  };
  await Promise.all([build('/s', 'toolchain', 30), build('/s', 'small', 1), build('/s/scratch', 'sleep', 1), build('/s', 'large', 1)]);
  t.same(order, ['toolchain starts', 'sleep starts', 'sleep ends', 'toolchain ends', 'small starts', 'small ends', 'large starts', 'large ends']);
});
