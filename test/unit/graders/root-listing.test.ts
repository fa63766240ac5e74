// The root-listing grader: the helper that lists /proc/1/root, and the container export it falls
// back to.
import t from 'tap';
import type { RunOutcome } from '../../../runner/engine/engine.js';
import { rootListing } from '../../../graders/root-listing.js';
import { built, contextOf, failedBuild, startedContainer } from '../../support/graders.js';
import { captured, FakeEngine } from '../../support/fake-engine.js';

t.test('root-listing with a helper that lists /proc/1/root', async (t) => {
  const engine = new FakeEngine().onRun(
    { image: 'grade-test-sleep-tools:latest' },
    { stdout: captured('.\n..\n.dockerenv\n.hidden\ndev\netc\nproc\nsleep\nsys\n') },
  );
  const outcomes = { sleeper: startedContainer('c1'), 'sleep-tools': built('grade-test-sleep-tools:latest', 7_000_000) };
  const run = (equals: string[], hidden = false) =>
    rootListing.run({ container: 'sleeper', equals, helperImage: 'sleep-tools', hidden }, contextOf(outcomes, { engine }));

  t.same(
    await run(['sys', 'sleep', 'proc', 'etc', 'dev']),
    { status: 'pass', message: 'the root of sleeper holds exactly dev etc proc sleep sys' },
    '.dockerenv and hidden entries are left out',
  );
  t.match(engine.runs[0], {
    image: 'grade-test-sleep-tools:latest',
    name: 'grade-test-ls-root-1',
    labels: { 'grade.tool': 'grade' },
    entrypoint: ['ls'],
    cmd: ['-1a', '/proc/1/root'],
    pidOf: 'c1',
    keepCapabilities: true,
  });
  t.same(
    await run(['dev', 'etc', 'proc', 'sleep', 'sys'], true),
    {
      status: 'fail',
      message: 'the root of sleeper also holds .hidden',
      expected: 'dev etc proc sleep sys',
      actual: '.hidden dev etc proc sleep sys',
    },
    'hidden: true shows hidden entries, but never .dockerenv',
  );
  t.same(await run(['dev', 'etc', 'proc', 'sleep', 'sys', 'tmp']), {
    status: 'fail',
    message: 'the root of sleeper lacks tmp',
    expected: 'dev etc proc sleep sys tmp',
    actual: 'dev etc proc sleep sys',
  });
  t.notOk(engine.methods().includes('exportListing'), 'the export is not read when the helper worked');
});

t.test('root-listing falls back to the container export', async (t) => {
  const listing = ['.dockerenv', 'bin', 'dev', 'etc', 'lib', 'proc', 'sys'];
  const withHelper = (answer: Partial<RunOutcome>) => {
    const engine = new FakeEngine().onRun({ image: 'tools' }, answer).container('c1', { listing });
    return { engine, context: contextOf({ sleeper: startedContainer('c1'), 'sleep-tools': built('tools', 1) }, { engine }) };
  };
  const expectedFail = {
    status: 'fail',
    message: 'the root of sleeper also holds bin, lib and lacks sleep',
    expected: 'dev etc proc sleep sys',
    actual: 'bin dev etc lib proc sys',
  };
  const options = { container: 'sleeper', equals: ['dev', 'etc', 'proc', 'sleep', 'sys'], helperImage: 'sleep-tools', hidden: false };

  const failing = withHelper({ exitCode: 2, stderr: captured('ls: /proc/1/root: Permission denied\n') });
  t.same(await rootListing.run(options, failing.context), expectedFail, 'the helper exited non-zero');
  t.same(failing.engine.methods(), ['inspectContainer', 'run', 'exportListing', 'engineRootEntries'], "unexpected entries: the engine's own are asked for");

  const truncated = withHelper({ stdout: captured('dev\netc\n', { truncated: true, bytes: 5_000_000 }) });
  t.same(await rootListing.run(options, truncated.context), expectedFail, 'the helper output was cut');
  t.same(truncated.engine.methods(), ['inspectContainer', 'run', 'exportListing', 'engineRootEntries']);

  const noTools = new FakeEngine().container('c1', { listing });
  t.same(
    await rootListing.run(
      options,
      contextOf({ sleeper: startedContainer('c1'), 'sleep-tools': failedBuild('image sleep-tools did not build') }, { engine: noTools }),
    ),
    expectedFail,
  );
  t.same(noTools.methods(), ['inspectContainer', 'exportListing', 'engineRootEntries'], 'no helper from a failed build');

  const noHelper = new FakeEngine().container('c1', { listing: ['dev', 'etc', 'proc', 'sleep', 'sys', '.dockerenv'] });
  t.same(await rootListing.run({ ...options, helperImage: undefined }, contextOf({ sleeper: startedContainer('c1') }, { engine: noHelper })), {
    status: 'pass',
    message: 'the root of sleeper holds exactly dev etc proc sleep sys',
  });
  t.same(rootListing.uses(options), [
    { kind: 'start', name: 'sleeper' },
    { kind: 'build', name: 'sleep-tools', reportsFailure: true },
  ]);

  const stopped = new FakeEngine().container('c1', { state: { running: false, exitCode: 139 } });
  t.same(await rootListing.run(options, contextOf({ sleeper: startedContainer('c1') }, { engine: stopped })), {
    status: 'fail',
    message: 'sleeper is not running (exit code 139), so its root cannot be listed',
  });
});

t.test("what the engine adds at start (Podman's run) is left out only when the image lacks it", async (t) => {
  const options = { container: 'sleeper', equals: ['dev', 'etc', 'proc', 'sleep', 'sys'], helperImage: undefined, hidden: false };
  const podman = (imageHolds: string[]) =>
    new FakeEngine()
      .rootEntries({ atCreate: [], atStart: ['dev', 'etc', 'proc', 'run', 'sys'] })
      .container('c1', { listing: ['dev', 'etc', 'proc', 'run', 'sleep', 'sys'] })
      .paths('sleep-ref', imageHolds);
  const engine = podman(['/sleep']);
  t.same(await rootListing.run(options, contextOf({ sleeper: startedContainer('c1') }, { engine })), {
    status: 'pass',
    message: 'the root of sleeper holds exactly dev etc proc sleep sys',
  });
  t.match(engine.probes, [{ image: 'sleep-ref', paths: ['/run'], labels: { 'grade.tool': 'grade' } }], 'only run, added at start, is looked for in the image');
  t.match(
    await rootListing.run(options, contextOf({ sleeper: startedContainer('c1') }, { engine: podman(['/sleep', '/run']) })),
    { status: 'fail', message: 'the root of sleeper also holds run' },
    'an image that holds run itself fails on Podman as on Docker',
  );
  const docker = new FakeEngine().container('c1', { listing: ['dev', 'etc', 'proc', 'run', 'sleep', 'sys'] });
  t.match(await rootListing.run(options, contextOf({ sleeper: startedContainer('c1') }, { engine: docker })), {
    status: 'fail',
    message: 'the root of sleeper also holds run',
  });
  t.same(docker.probes, [], 'Docker adds no run: the image is not asked');
});
