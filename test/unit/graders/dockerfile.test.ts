// The dockerfile grader over real files: stage counts, the final stage, and files it must refuse.
import { execFileSync } from 'node:child_process';
import { truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { dockerfile } from '../../../graders/dockerfile.js';
import { contextOf } from '../../support/graders.js';

const MULTI = `FROM alpine:3.5 AS build
RUN apk add --update alpine-sdk
COPY hello.c /app/
RUN gcc -Wall /app/hello.c -o /app/hello

FROM alpine:3.5
COPY --from=build /app/hello /app/hello
CMD /app/hello
`;

t.test('dockerfile', async (t) => {
  const dir = t.testdir({
    Dockerfile: MULTI,
    'Dockerfile.single': 'FROM alpine:3.5\nRUN apk add gcc\nCMD /app/hello\n',
    'Dockerfile.scratch': 'FROM alpine:3.8\nRUN gcc -static sleep.c -o /sleep\n\nFROM SCRATCH\nCOPY --from=0 /sleep /sleep\n',
    'Dockerfile.broken': 'RUN echo before any FROM\n',
  });
  const run = (options: Partial<Parameters<typeof dockerfile.run>[0]>, dirLabel = '') =>
    dockerfile.run(
      { path: 'Dockerfile', minStages: undefined, finalFrom: undefined, finalCopiesFromStage: false, ...options },
      contextOf({}, { dir, dirLabel }),
    );

  t.same(await run({ minStages: 2, finalCopiesFromStage: true }), {
    status: 'pass',
    message: 'Dockerfile has 2 stages (build, alpine:3.5); the final stage copies from build',
  });
  t.same(await run({ path: 'Dockerfile.single', minStages: 2, finalCopiesFromStage: true }, 'multi/'), {
    status: 'fail',
    message:
      'multi/Dockerfile.single has 1 stage, needs at least 2 (one FROM per stage); its final stage (line 1) copies nothing from an earlier stage: use COPY --from=<stage>',
    actual: '1 stage (alpine:3.5)',
    location: { file: 'multi/Dockerfile.single', line: 1 },
  });
  t.same(await run({ finalFrom: 'scratch' }), {
    status: 'fail',
    message: 'Dockerfile its final stage starts FROM alpine:3.5 (line 6), not FROM scratch',
    actual: '2 stages (build, alpine:3.5)',
    location: { file: 'Dockerfile', line: 6 },
  });
  t.same(
    await run({ path: 'Dockerfile.scratch', minStages: 2, finalFrom: 'scratch', finalCopiesFromStage: true }),
    {
      status: 'pass',
      message: 'Dockerfile.scratch has 2 stages (alpine:3.8, SCRATCH); the final stage copies from stage 0',
    },
    'FROM is compared case-insensitively and COPY --from=0 counts',
  );
  t.same(await run({ path: 'Dockerfile.missing' }, 'scratch/'), { status: 'fail', message: 'scratch/Dockerfile.missing not found' });

  const broken = await run({ path: 'Dockerfile.broken' });
  t.equal(broken.status, 'fail');
  t.match(broken.message, /^Dockerfile\.broken\b.*:1: RUN comes before the first FROM; only ARG may appear before FROM$/, 'the parse error, with its line');
  t.same(broken.location, { file: 'Dockerfile.broken', line: 1 }, 'and its place in the submission');
  const inScratch = await run({ path: 'Dockerfile.broken' }, 'scratch/');
  t.same(inScratch.location, { file: 'scratch/Dockerfile.broken', line: 1 }, "a step folder's file is named from the submission");

  t.same(
    await dockerfile.run(
      { path: 'Dockerfile', minStages: 1, finalFrom: undefined, finalCopiesFromStage: false },
      contextOf({}, { dir: undefined, dirLabel: 'multi/' }),
    ),
    {
      status: 'fail',
      message: 'no folder to look in: multi/ does not exist',
    },
  );
});

t.test('dockerfile: a FIFO, a huge file or a link out of the folder is refused at once, naming nothing outside', async (t) => {
  const secret = 'token-3f9c1a77e5';
  const root = t.testdir({
    outside: { secret: `FROM ${secret}\n` },
    step: { 'Dockerfile.out': t.fixture('symlink', '../outside/secret'), 'Dockerfile.zero': t.fixture('symlink', '/dev/zero') },
  });
  const hostile = path.join(root, 'step');
  execFileSync('mkfifo', [path.join(hostile, 'Dockerfile.fifo')]);
  await writeFile(path.join(hostile, 'Dockerfile.huge'), '');
  await truncate(path.join(hostile, 'Dockerfile.huge'), 1024 * 1024 + 1);
  const inHostile = (file: string) =>
    dockerfile.run({ path: file, minStages: 1, finalFrom: undefined, finalCopiesFromStage: false }, contextOf({}, { dir: hostile, dirLabel: 'scratch/' }));
  t.same(
    await inHostile('Dockerfile.fifo'),
    { status: 'fail', message: 'scratch/Dockerfile.fifo is a fifo (named pipe): not a regular file' },
    'a FIFO is refused, not waited on',
  );
  t.same(await inHostile('Dockerfile.huge'), {
    status: 'fail',
    message: 'scratch/Dockerfile.huge is 1048577 bytes, over the 1048576 bytes a Dockerfile may have',
  });
  for (const file of ['Dockerfile.out', 'Dockerfile.zero']) {
    const verdict = await inHostile(file);
    t.same(verdict, {
      status: 'fail',
      message: `scratch/${file} is a link out of the folder being graded; the grader reads only files inside it: copy the file in instead of linking to it`,
    });
    t.notMatch(JSON.stringify(verdict), /token-|dev\/zero|outside|secret/, 'neither the target nor its content is shown');
  }
});
