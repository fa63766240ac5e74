// The image-builds grader over build outcomes, and the excerpt of a failed build's log.
import t from 'tap';
import { failureExcerpt, imageBuilds } from '../../../graders/image-builds.js';
import type { OutcomeByKind } from '../../../graders/outcomes.js';
import { built, contextOf, failedBuild } from '../../support/graders.js';
import { buildOutcome, buildStep } from '../../support/fake-engine.js';

t.test('image-builds', async (t) => {
  const run = (outcome: OutcomeByKind['build'], dirLabel = '') => imageBuilds.run({ image: 'small' }, contextOf({ small: outcome }, { dirLabel }));
  t.same(await run(built('small', 4_010_000)), { status: 'pass', message: 'built Dockerfile in 1.5 s: 4.01MB' });
  t.same(await run(built('stage', 189_000_000, { target: 'build', build: buildOutcome({ durationMs: 250 }) }), 'multi/'), {
    status: 'pass',
    message: 'built multi/Dockerfile (--target build) in 250 ms: 189MB',
  });

  const broken = buildOutcome({
    ok: false,
    steps: [
      buildStep(1, 'FROM alpine:3.5'),
      buildStep(2, 'RUN gcc -Wall hello.c -o bin/hello', false, [
        ' ---> Running in 0123456789ab',
        'hello.c:4:3: error: expected declaration',
        'Removing intermediate container 0123456789ab',
      ]),
    ],
    error: "The command '/bin/sh -c gcc -Wall hello.c -o bin/hello' returned a non-zero code: 1",
  });
  t.same(await run(failedBuild('Dockerfile:2: RUN gcc -Wall hello.c -o bin/hello failed: returned a non-zero code: 1', broken)), {
    status: 'fail',
    message: 'Dockerfile:2: RUN gcc -Wall hello.c -o bin/hello failed: returned a non-zero code: 1',
    log: "Step 2: RUN gcc -Wall hello.c -o bin/hello\nhello.c:4:3: error: expected declaration\nThe command '/bin/sh -c gcc -Wall hello.c -o bin/hello' returned a non-zero code: 1",
    logKind: 'build',
  });
  t.same(await run(failedBuild('no Dockerfile to build small from')), { status: 'fail', message: 'no Dockerfile to build small from' });

  const noSteps = buildOutcome({ ok: false, steps: [], log: Array.from({ length: 25 }, (_, index) => `line ${index + 1}`).join('\n') });
  t.equal(
    failureExcerpt(noSteps),
    ['... (5 earlier lines not shown)', ...Array.from({ length: 20 }, (_, index) => `line ${index + 6}`)].join('\n'),
    'without steps, the end of the log',
  );
});
