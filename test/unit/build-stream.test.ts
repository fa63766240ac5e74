// The classic builder's stream, as recorded from dockerd 20.10 (test/fixtures/build-streams,
// made by record.sh there), and Podman 4.3's (record-podman.sh): each recording is read whole and split at awkward places (one byte at
// a time, through a multi-byte character), and must give the same steps, cache flags, image ids,
// error and log. The last tests replay recordings through DockerodeEngine.build over a local
// HTTP server that answers as the engine did, so the whole build path is covered without Docker.
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import Docker from 'dockerode';
import { parseBuildStream, type BuildStreamSummary } from '../../runner/engine/dockerode/build-stream.js';
import { DockerodeEngine } from '../../runner/engine/dockerode/index.js';
import { testLimits } from '../support/fake-engine.js';
import { packageRoot } from '../../runner/paths.js';

const folder = path.join(packageRoot, 'test/fixtures/build-streams');
const manifest = JSON.parse(readFileSync(path.join(folder, 'recordings.json'), 'utf8')) as {
  recordings: Record<string, { status: number; target: string; token: string }>;
};
const recorded = (name: string) => readFileSync(path.join(folder, `${name}.jsonl`));
const tokenOf = (name: string) => manifest.recordings[name]!.token;

/** The stream cut into pieces of `size` bytes. */
function pieces(stream: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < stream.length; at += size) chunks.push(stream.subarray(at, at + size));
  return chunks;
}

/** The stream cut before each of `positions`. */
function cutAt(stream: Buffer, positions: number[]): Buffer[] {
  const ends = [...positions.filter((at) => at > 0 && at < stream.length), stream.length];
  return ends.map((end, i) => stream.subarray(i ? ends[i - 1] : 0, end));
}

/** The same stream cut in several awkward ways, each of which must read the same as the whole. */
function splits(stream: Buffer): [string, Buffer[]][] {
  const tick = stream.indexOf('✓');
  return [
    ['one byte at a time', pieces(stream, 1)],
    ['7 bytes at a time', pieces(stream, 7)],
    [
      "one byte past each event's end",
      cutAt(
        stream,
        [...stream.entries()].filter(([, byte]) => byte === 0x0a).map(([at]) => at + 2),
      ),
    ],
    ...(tick > 0 ? [['inside the ✓', cutAt(stream, [tick + 1, tick + 2])] as [string, Buffer[]]] : []),
  ];
}

/** Each step as [index, instruction, cached, image id]. */
const stepsOf = (summary: BuildStreamSummary) => summary.steps.map((step) => [step.index, step.instruction, step.cached, step.imageId]);

function readsTheSameSplit(t: Test, name: string, whole: BuildStreamSummary) {
  for (const [how, chunks] of splits(recorded(name))) {
    t.same(Buffer.concat(chunks), recorded(name), `${how}: the pieces make the stream`);
    t.same(parseBuildStream(chunks), whole, `${how}: read as the whole stream`);
  }
}

const multiStage = (token: string) => [
  'FROM grade-fixture/toolchain:latest AS build',
  `LABEL grade.recording=${token}`,
  'WORKDIR /src',
  'COPY greeting.txt .',
  `RUN echo "building ${token}: héllo ✓" && cat greeting.txt > out.txt`,
  `RUN echo "a warning on stderr ${token}" >&2`,
  'FROM grade-fixture/runtime:latest',
  `LABEL grade.recording=${token}`,
  'COPY --from=build /src/out.txt /out.txt',
  'CMD ["cat", "/out.txt"]',
];
const multiStageIds = [
  '497edf3a2295',
  'c576ce9f64b7',
  '8ea18304ae28',
  'f26f9a6c9c91',
  'a1ab22477f10',
  'b32b6deb8f6d',
  '1cf92c0092c6',
  '9879bb7b438f',
  'e51829d940d3',
  '0d528d8b5607',
];
const multiStageImage = 'sha256:0d528d8b560722208b11e737bf31c33041d4638ac44228c890360bdca618fbca';

t.test('a fresh multi-stage build', async (t) => {
  const token = tokenOf('multi-stage-fresh');
  const summary = parseBuildStream([recorded('multi-stage-fresh')]);
  t.same(
    stepsOf(summary),
    multiStage(token).map((instruction, i) => [i + 1, instruction, false, multiStageIds[i]]),
  );
  t.equal(summary.imageId, multiStageImage, "the last aux.ID, the final stage, not the first stage's");
  t.equal(summary.error, undefined);
  t.same(summary.steps[4]!.output, [' ---> Running in 0af4d6d1dfb9', `building ${token}: héllo ✓`, 'Removing intermediate container 0af4d6d1dfb9']);
  t.same(
    summary.steps[5]!.output,
    [' ---> Running in 3e62b5f0d521', `a warning on stderr ${token}`, 'Removing intermediate container 3e62b5f0d521'],
    'stderr without its colour',
  );
  t.same(summary.steps[0]!.output, [], 'a FROM step prints only its image');
  t.notMatch(summary.log, /\u001b/, 'no colour codes in the log');
  t.match(summary.log, /^Step 1\/10 : FROM grade-fixture\/toolchain:latest AS build\n ---> 497edf3a2295\nStep 2\/10 : /);
  t.match(summary.log, `a warning on stderr ${token}\nRemoving intermediate container 3e62b5f0d521\n`);
  t.ok(
    summary.log.endsWith(
      'Step 10/10 : CMD ["cat", "/out.txt"]\n ---> Running in ff2f814154db\nRemoving intermediate container ff2f814154db\n ---> 0d528d8b5607\nSuccessfully built 0d528d8b5607\n',
    ),
  );
  readsTheSameSplit(t, 'multi-stage-fresh', summary);
});

t.test('the same build again, all from the cache', async (t) => {
  const summary = parseBuildStream([recorded('multi-stage-cached')]);
  t.same(
    stepsOf(summary),
    multiStage(tokenOf('multi-stage-fresh')).map((instruction, i) => [i + 1, instruction, !instruction.startsWith('FROM'), multiStageIds[i]]),
    'every step but FROM is cached, with the ids of the fresh build',
  );
  // The builder's closing line follows the last step's id, so it is read as that step's output.
  t.same(
    summary.steps.map((step) => step.output),
    [
      ...multiStage('')
        .slice(1)
        .map(() => []),
      ['Successfully built 0d528d8b5607'],
    ],
    'a cached step has no output of its own',
  );
  t.equal(summary.imageId, multiStageImage);
  t.equal(summary.error, undefined);
  t.match(summary.log, /^Step 2\/10 : LABEL .*\n ---> Using cache\n ---> c576ce9f64b7\n/m);
  readsTheSameSplit(t, 'multi-stage-cached', summary);
});

t.test('--target the first stage', async (t) => {
  const token = tokenOf('target-first-stage');
  t.equal(manifest.recordings['target-first-stage']!.target, 'build');
  const summary = parseBuildStream([recorded('target-first-stage')]);
  const ids = ['497edf3a2295', 'f2e18b360ec1', '4fdd140bd549', 'c4c5d68be240', '724315e9f3a2', '3aebc981a453'];
  t.same(
    stepsOf(summary),
    multiStage(token)
      .slice(0, 6)
      .map((instruction, i) => [i + 1, instruction, false, ids[i]]),
  );
  t.equal(summary.imageId, 'sha256:3aebc981a453c3642ae90179177ef2d3e958f1c99ac7adbb0be181d2d24b02e5');
  t.equal(summary.error, undefined);
  t.ok(summary.log.endsWith('Successfully built 3aebc981a453\n'));
  readsTheSameSplit(t, 'target-first-stage', summary);
});

t.test('a RUN that exits non-zero', async (t) => {
  const token = tokenOf('failing-run');
  const run = `RUN echo "about to fail ${token}" && echo "no such thing" >&2 && exit 3`;
  const error = `The command '/bin/sh -c echo "about to fail ${token}" && echo "no such thing" >&2 && exit 3' returned a non-zero code: 3`;
  const summary = parseBuildStream([recorded('failing-run')]);
  t.same(
    stepsOf(summary),
    [
      [1, 'FROM grade-fixture/runtime:latest', false, '1cf92c0092c6'],
      [2, `LABEL grade.recording=${token}`, false, '40defc110615'],
      [3, run, false, undefined],
    ],
    'the failing step is the last, and produced no image',
  );
  t.same(summary.steps[2]!.output, [
    ' ---> Running in f6b1a3a61398',
    'no such thing',
    `about to fail ${token}`,
    'Removing intermediate container f6b1a3a61398',
  ]);
  t.equal(summary.error, error, 'errorDetail.message');
  t.equal(summary.imageId, undefined);
  t.equal(
    summary.log,
    [
      'Step 1/4 : FROM grade-fixture/runtime:latest',
      ' ---> 1cf92c0092c6',
      `Step 2/4 : LABEL grade.recording=${token}`,
      ' ---> Running in ebccb8797972',
      'Removing intermediate container ebccb8797972',
      ' ---> 40defc110615',
      `Step 3/4 : ${run}`,
      ' ---> Running in f6b1a3a61398',
      'no such thing',
      `about to fail ${token}`,
      'Removing intermediate container f6b1a3a61398',
      error,
      '',
    ].join('\n'),
    "the whole log: the builder's text, uncoloured, then the error",
  );
  readsTheSameSplit(t, 'failing-run', summary);
});

t.test("caps on the log and on each step's output", async (t) => {
  const whole = parseBuildStream([recorded('multi-stage-fresh')]);
  for (const logChars of [0, 1, 100, 1000]) {
    const capped = parseBuildStream(pieces(recorded('multi-stage-fresh'), 3), { logChars });
    t.equal(capped.log, whole.log.slice(0, logChars), `log capped at ${logChars} characters`);
    t.same(capped.steps, whole.steps, 'the cap is on the log, not on the steps');
  }
  const failing = parseBuildStream([recorded('failing-run')], { logChars: 50 });
  t.equal(failing.log.length, 50);
  t.match(failing.error, /returned a non-zero code: 3$/, 'the error is kept when the log is full');
  const oneLine = parseBuildStream([recorded('multi-stage-fresh')], { stepOutputLines: 1 });
  t.same(
    oneLine.steps.map((step) => step.output),
    whole.steps.map((step) => step.output.slice(0, 1)),
  );
  t.same(stepsOf(oneLine), stepsOf(whole), 'cache flags and ids are read past the cap');
});

t.test('what is not a builder event is passed over', async (t) => {
  const summary = parseBuildStream([
    'not json\n',
    '{"stream":"Step 1/1 : FROM x"}\r\n{"stream":"\\n ---> 0123456789ab\\n"}\r\n',
    '{"status":"Downloading"}\n\n',
    '{"aux":{"ID":"sha256:ab"}}',
  ]);
  t.same(stepsOf(summary), [[1, 'FROM x', false, '0123456789ab']]);
  t.equal(summary.imageId, 'sha256:ab', 'a last event without its newline still counts');
  t.same(parseBuildStream([]), { steps: [], log: '', imageId: undefined, error: undefined }, 'an empty stream');
});

// Podman 4.3 (Buildah), recorded by record-podman.sh: the stand-in reference solution with a LABEL
// per stage. Buildah numbers the steps of each stage from 1 ("[2/2] STEP 1/4: FROM ..."): the
// parser counts across stages as the classic builder does, FROM included.
const standIn = (token: string) => [
  'FROM grade-fixture/toolchain:latest AS build',
  `LABEL grade.recording=${token}`,
  'RUN apk update &&     apk add --update alpine-sdk',
  'RUN mkdir /app',
  'WORKDIR /app',
  'COPY hello.c /app',
  'RUN mkdir bin',
  'RUN gcc -Wall hello.c -o bin/hello',
  'FROM grade-fixture/runtime:latest',
  `LABEL grade.recording=${token}`,
  'COPY --from=build /app/bin/hello /app/hello',
  'CMD /app/hello',
];
// Podman prints a step's image as 11 hex characters ("--> 559ff0e74ad"); FROM steps make none.
const standInIds = [
  undefined,
  '559ff0e74ad',
  'ef12b1ce9c1',
  '1d7d43aee94',
  '6a860597a78',
  '3d63730e49f',
  '1445e9e5ecf',
  '538ec848346',
  undefined,
  '469bfda84ce',
  'b7e4a16b3b8',
  'aa108ee6c31',
];
const standInImage = 'sha256:aa108ee6c31c2430f258d340d206829c9b5e3fb8c10ac741052a12c2934a8a81';

t.test('Podman: a fresh multi-stage build', async (t) => {
  t.match(manifest.recordings['podman-solution-fresh'], { engine: /^Podman Engine 4\.3\./ });
  const token = tokenOf('podman-solution-fresh');
  const summary = parseBuildStream([recorded('podman-solution-fresh')]);
  t.same(
    stepsOf(summary),
    standIn(token).map((instruction, i) => [i + 1, instruction, false, standInIds[i]]),
    'indexes across both stages, no step cached, each with its image',
  );
  t.equal(summary.imageId, standInImage, 'the aux.ID of the final stage');
  t.equal(summary.error, undefined);
  t.same(
    summary.steps[2]!.output,
    ['apk (offline stand-in): update - nothing to do', 'apk (offline stand-in): add --update alpine-sdk - nothing to do'],
    "a RUN's output",
  );
  t.same(summary.steps[11]!.output, ['Successfully built aa108ee6c31c'], 'neither "[2/2] COMMIT" nor the lone full image id is output');
  t.same(
    summary.steps.slice(3, 11).map((step) => step.output),
    standIn('')
      .slice(3, 11)
      .map(() => []),
  );
  t.match(summary.log, /^\[1\/2\] STEP 1\/8: FROM grade-fixture\/toolchain:latest AS build\n/);
  t.match(summary.log, /\n\[2\/2\] COMMIT\n--> aa108ee6c31\naa108ee6c31c[0-9a-f]{52}\nSuccessfully built aa108ee6c31c\n$/, 'the log keeps every line');
  readsTheSameSplit(t, 'podman-solution-fresh', summary);
});

t.test('Podman: the same build again, all from the cache', async (t) => {
  const summary = parseBuildStream([recorded('podman-solution-cached')]);
  t.same(
    stepsOf(summary),
    standIn(tokenOf('podman-solution-fresh')).map((instruction, i) => [i + 1, instruction, !instruction.startsWith('FROM'), standInIds[i]]),
    'every step but FROM is cached ("--> Using cache <id>"), with the ids of the fresh build',
  );
  t.same(
    summary.steps.map((step) => step.output),
    [
      ...standIn('')
        .slice(1)
        .map(() => []),
      ['Successfully built aa108ee6c31c'],
    ],
    'a cached step has no output of its own',
  );
  t.equal(summary.imageId, standInImage);
  t.equal(summary.error, undefined);
  t.match(summary.log, /^\[1\/2\] STEP 3\/8: RUN apk .*\n--> Using cache ef12b1ce9c15[0-9a-f]{52}\n--> ef12b1ce9c1\n/m);
  readsTheSameSplit(t, 'podman-solution-cached', summary);
});

t.test('Podman: --target build, one stage without the "[1/2]" prefix', async (t) => {
  t.equal(manifest.recordings['podman-target-build']!.target, 'build');
  const token = tokenOf('podman-target-build');
  const summary = parseBuildStream([recorded('podman-target-build')]);
  const ids = [undefined, '88ecf7043ae', '432098cdaf1', 'd292ca74137', 'd6f322fd61e', '97a10dc1779', '763a9c43aee', '3c9911604eb'];
  t.same(
    stepsOf(summary),
    standIn(token)
      .slice(0, 8)
      .map((instruction, i) => [i + 1, instruction, false, ids[i]]),
  );
  t.same(summary.steps[7]!.output, ['Successfully built 3c9911604eb2'], 'the last step: "COMMIT" and the lone image id are not output');
  t.equal(summary.imageId, 'sha256:3c9911604eb2e5582f436b9dfa1b2003c51954be57520ad1a70bceb802a77cae');
  t.equal(summary.error, undefined);
  t.match(summary.log, /^STEP 1\/8: FROM grade-fixture\/toolchain:latest AS build\n/);
  readsTheSameSplit(t, 'podman-target-build', summary);
});

t.test('Podman: older Buildah\'s "STEP N: " without totals, and each builder\'s lines read only in its own stream', async (t) => {
  const lines = (texts: string[]) => texts.map((stream) => `${JSON.stringify({ stream })}\n`);
  const older = parseBuildStream(
    lines(['STEP 1: FROM a AS build\n', 'STEP 2: RUN x\n', '--> 0123456789a\n', 'STEP 1: FROM b\n', 'STEP 2: CMD y\n', 'COMMIT\n', '--> ba9876543210\n']),
  );
  t.same(stepsOf(older), [
    [1, 'FROM a AS build', false, undefined],
    [2, 'RUN x', false, '0123456789a'],
    [3, 'FROM b', false, undefined],
    [4, 'CMD y', false, 'ba9876543210'],
  ]);
  t.same(older.steps[3]!.output, [], 'COMMIT is not output');
  const classic = parseBuildStream(
    lines(['Step 1/2 : FROM a\n', ' ---> 0123456789ab\n', 'Step 2/2 : RUN x\n', 'STEP 1: not a step\n', '--> 0123456789a\n', 'COMMIT\n']),
  );
  t.same(stepsOf(classic), [
    [1, 'FROM a', false, '0123456789ab'],
    [2, 'RUN x', false, undefined],
  ]);
  t.same(classic.steps[1]!.output, ['STEP 1: not a step', '--> 0123456789a', 'COMMIT'], "Buildah's lines in a classic build are a RUN's output");
  const buildah = parseBuildStream(lines(['STEP 1/2: FROM a\n', 'STEP 2/2: RUN x\n', 'Step 1/1 : not a step\n', ' ---> Using cache\n', '--> 0123456789a\n']));
  t.same(stepsOf(buildah), [
    [1, 'FROM a', false, undefined],
    [2, 'RUN x', false, '0123456789a'],
  ]);
  t.same(buildah.steps[1]!.output, ['Step 1/1 : not a step', ' ---> Using cache'], "and the classic builder's in a Buildah build");
});

// The engine, replayed: POST /build answers with the recorded status and body, in small chunks.
async function replayedEngine(t: Test, name: string) {
  const { status } = manifest.recordings[name]!;
  const body = recorded(name);
  const server = createServer((request, response) => {
    request.resume();
    if (request.url?.startsWith('/_ping')) return void response.end('OK');
    // What tells Podman from Docker (runner/engine/dockerode/dialect.ts).
    if (request.url?.startsWith('/info')) return void response.end(JSON.stringify(name.startsWith('podman') ? { BuildahVersion: '1.28.2' } : {}));
    if (!request.url?.startsWith('/build')) return void response.writeHead(404).end('{"message":"not recorded"}');
    request.on('end', async () => {
      response.writeHead(status, { 'Content-Type': 'application/json' });
      for (const chunk of pieces(body, 5)) {
        response.write(chunk);
        await new Promise((resolve) => setImmediate(resolve));
      }
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  return new DockerodeEngine({ docker: new Docker({ host: '127.0.0.1', port, protocol: 'http' }) });
}

const buildOf = (engine: DockerodeEngine) => engine.build({ context: Readable.from([Buffer.alloc(1024)]), dockerfile: 'Dockerfile', limits: testLimits });

t.test('DockerodeEngine.build over the replayed streams', async (t) => {
  const fresh = await buildOf(await replayedEngine(t, 'multi-stage-fresh'));
  t.match(fresh, { ok: true, imageId: multiStageImage, error: undefined, timedOut: false });
  t.same(fresh.steps, parseBuildStream([recorded('multi-stage-fresh')]).steps);

  const podman = await buildOf(await replayedEngine(t, 'podman-solution-cached'));
  t.match(podman, { ok: true, imageId: standInImage, error: undefined, timedOut: false }, 'Podman: no EngineError');
  t.same(podman.steps, parseBuildStream([recorded('podman-solution-cached')]).steps);
  t.equal(podman.steps.filter((step) => step.cached).length, 10, 'Podman: the cached steps reach the outcome');

  const failing = await buildOf(await replayedEngine(t, 'failing-run'));
  t.match(failing, { ok: false, imageId: undefined, error: /^The command .* returned a non-zero code: 3$/, timedOut: false });
  t.equal(failing.steps.at(-1)!.index, 3, 'the failing step is the last');
});

t.test('a misspelt instruction: the engine refuses the Dockerfile before building', async (t) => {
  t.equal(manifest.recordings['misspelt-instruction']!.status, 400, 'recorded as HTTP 400, not as a stream');
  const outcome = await buildOf(await replayedEngine(t, 'misspelt-instruction'));
  t.same(
    { ok: outcome.ok, error: outcome.error, steps: outcome.steps, log: outcome.log, imageId: outcome.imageId, timedOut: outcome.timedOut },
    { ok: false, error: 'dockerfile parse error line 3: unknown instruction: RUNN', steps: [], log: '', imageId: undefined, timedOut: false },
    'the engine\'s own message, without dockerode\'s "(HTTP code 400)" prefix',
  );
});
