// The path-absent grader: what it probes in the built image, and the labels on its probe.
import t from 'tap';
import { pathAbsent } from '../../../graders/path-absent.js';
import { built, contextOf, failedBuild } from '../../support/graders.js';
import { FakeEngine } from '../../support/fake-engine.js';

t.test('path-absent', async (t) => {
  const engine = new FakeEngine().paths('grade-test-small:latest', ['/usr/bin/gcc', '/bin/sh']);
  const run = (paths: string[]) => pathAbsent.run({ image: 'small', paths }, contextOf({ small: built('grade-test-small:latest', 4_000_000) }, { engine }));

  t.same(await run(['/usr/bin/cc', '/usr/bin/clang']), { status: 'pass', message: 'small has none of /usr/bin/cc, /usr/bin/clang' });
  t.same(await run(['/usr/bin/gcc', '/usr/bin/cc', '/bin/sh']), {
    status: 'fail',
    message: 'small still contains /usr/bin/gcc, /bin/sh',
    expected: 'none of /usr/bin/gcc, /usr/bin/cc, /bin/sh',
    actual: '/usr/bin/gcc, /bin/sh',
  });
  t.same(
    engine.probes.map((probe) => [probe.image, probe.paths]),
    [
      ['grade-test-small:latest', ['/usr/bin/cc', '/usr/bin/clang']],
      ['grade-test-small:latest', ['/usr/bin/gcc', '/usr/bin/cc', '/bin/sh']],
    ],
    'the built image is probed by its ref',
  );

  const untouched = new FakeEngine();
  t.same(await pathAbsent.run({ image: 'small', paths: ['/x'] }, contextOf({ small: failedBuild('image small did not build') }, { engine: untouched })), {
    status: 'fail',
    message: 'image small did not build',
  });
  t.same(untouched.calls, [], 'nothing is probed for a failed build');
});

t.test("path-absent: the probe container carries the run's labels", async (t) => {
  // Regression (fixed): graders/path-absent.ts calls engine.pathsPresent(ref, paths) without labels, so the
  // probe container it creates has no grade.* labels and `grade clean` cannot find a leftover.
  const engine = new FakeEngine();
  await pathAbsent.run({ image: 'small', paths: ['/usr/bin/gcc'] }, contextOf({ small: built('small', 1) }, { engine }));
  t.match(engine.probes[0]?.labels, { 'grade.tool': 'grade' });
});
