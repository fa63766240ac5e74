// The build-cached grader over the steps of a rebuild: which came from the cache.
import t from 'tap';
import { buildCached } from '../../../graders/build-cached.js';
import { built, contextOf, failedBuild } from '../../support/graders.js';
import { buildOutcome, buildStep } from '../../support/fake-engine.js';

t.test('build-cached', async (t) => {
  const fromCache = [
    buildStep(1, 'FROM alpine:3.5 AS build'),
    buildStep(2, 'RUN apk add --update alpine-sdk', true),
    buildStep(3, 'COPY hello.c /app', true),
    buildStep(4, 'RUN gcc -Wall hello.c -o bin/hello', true),
  ];
  const run = (steps: typeof fromCache) => buildCached.run({ image: 'stage' }, contextOf({ stage: built('stage', 1, { build: buildOutcome({ steps }) }) }));

  t.same(await run(fromCache), { status: 'pass', message: 'all 3 instructions after FROM came from the cache' });
  t.same(await run([fromCache[0]!, fromCache[1]!, fromCache[2]!, { ...fromCache[3]!, cached: false }]), {
    status: 'fail',
    message: '1 of 3 instructions were rebuilt instead of coming from the cache',
    expected: 'every step "Using cache"',
    actual: 'Step 4: RUN gcc -Wall hello.c -o bin/hello',
  });
  t.same(
    await run([...fromCache, buildStep(5, 'LABEL maintainer=alice')]),
    {
      status: 'fail',
      message: '1 of 4 instructions were rebuilt instead of coming from the cache',
      expected: 'every step "Using cache"',
      actual: 'Step 5: LABEL maintainer=alice',
    },
    "a LABEL of the student's own is graded",
  );
  t.same(
    await run([fromCache[0]!, buildStep(2, 'FROM alpine:3.5')]),
    { status: 'pass', message: 'all 0 instructions after FROM came from the cache' },
    'FROM steps are never "cached"',
  );
  const unknownDialect = await buildCached.run(
    { image: 'stage' },
    contextOf({ stage: built('stage', 1, { build: buildOutcome({ steps: [], log: '[1/2] STEP 2/6: RUN apk add\n--> Using cache 1a2b3c\n' }) }) }),
  );
  t.equal(unknownDialect.status, 'error', 'no recognised step is no evidence: not judged, never a pass');
  t.match(unknownDialect.message, /^the build output was not understood: no step was recognised/);
  t.equal(unknownDialect.logKind, 'build', 'the output it could not read is shown');
  t.same(await buildCached.run({ image: 'stage' }, contextOf({ stage: failedBuild('image stage did not build') })), {
    status: 'fail',
    message: 'image stage did not build',
  });
});
