// `grade clean` on the real engine: it removes what a killed run left, found by label alone, and
// leaves the objects of a run that is still grading, on this machine or on another sharing the engine.
import t from 'tap';
import type { DockerEngine } from '../../runner/engine/engine.js';
import { cleanLeftovers } from '../../runner/grading/clean.js';
import { resolveLimits } from '../../runner/spec/limits.js';
import { LABEL, ownerOf } from '../../runner/grading/session.js';
import { realEngine } from '../support/engine.js';

const engine = (await realEngine(t)) as DockerEngine | undefined;

if (engine) {
  const limits = resolveLimits({});
  const labelsFor = (run: string, pid: number) => ({
    [LABEL.tool]: 'grade',
    [LABEL.run]: run,
    [LABEL.owner]: ownerOf(pid),
    [LABEL.exercise]: 'multi',
    [LABEL.submission]: 'clean-test',
  });

  t.test("a dead run's container goes; a live run's stays unless --all", async (t) => {
    // A pid far above any in use stands for a killed run; the test runner's parent is alive.
    const dead = await engine.start({
      image: 'grade-fixture/runtime',
      name: 'grade-cleantest-dead',
      labels: labelsFor('cleantestdead', 4_000_000),
      limits,
      cmd: ['sleep', '300'],
    });
    const live = await engine.start({
      image: 'grade-fixture/runtime',
      name: 'grade-cleantest-live',
      labels: labelsFor('cleantestlive', process.ppid),
      limits,
      cmd: ['sleep', '300'],
    });
    t.teardown(async () => {
      await engine.removeContainer(dead.id);
      await engine.removeContainer(live.id);
    });

    // Only this test's objects: other test files grade in parallel.
    const only = `${LABEL.submission}=clean-test`;
    const first = await cleanLeftovers(engine, { only });
    t.ok(first.removed.includes('container grade-cleantest-dead'), "the dead run's container is removed");
    t.ok(first.inUse.includes('container grade-cleantest-live'), "the live run's container is kept");
    t.same((await engine.listOurs(`${LABEL.run}=cleantestdead`)).containers, []);
    t.equal((await engine.listOurs(`${LABEL.run}=cleantestlive`)).containers.length, 1);

    const all = await cleanLeftovers(engine, { all: true, only });
    t.ok(all.removed.includes('container grade-cleantest-live'), '--all removes it too');
    t.same((await engine.listOurs(`${LABEL.run}=cleantestlive`)).containers, []);
  });

  t.test("another machine's run on a shared engine is kept until it is older than the bound", async (t) => {
    // A run on a CI runner or a colleague's laptop sharing this engine: its pid means nothing here.
    const labels = { ...labelsFor('cleantestother', 1), [LABEL.owner]: 'another-grading-host:1', [LABEL.submission]: 'clean-test-other' };
    const other = await engine.start({ image: 'grade-fixture/runtime', name: 'grade-cleantest-other', labels, limits, cmd: ['sleep', '300'] });
    t.teardown(() => engine.removeContainer(other.id));
    const only = `${LABEL.submission}=clean-test-other`;

    const young = await cleanLeftovers(engine, { only });
    t.same(young.inUse, ['container grade-cleantest-other'], 'a fresh container of another machine is taken for a run still grading');
    t.equal((await engine.listOurs(`${LABEL.run}=cleantestother`)).containers.length, 1);

    // Older than the bound (here a millisecond), the other machine's run is taken for dead.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const old = await cleanLeftovers(engine, { only, otherHostMs: 1 });
    t.same(old.removed, ['container grade-cleantest-other']);
    t.same((await engine.listOurs(`${LABEL.run}=cleantestother`)).containers, []);
  });
}
