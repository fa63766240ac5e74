// The classic builder's stream, as recorded from dockerd 20.10 (test/fixtures/build-streams,
// made by record.sh there): each recording is read whole and split at awkward places (one byte at
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
import type { Limits } from '../../runner/engine/engine.js';
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

// The engine, replayed: POST /build answers with the recorded status and body, in small chunks.
async function replayedEngine(t: Test, name: string) {
  const { status } = manifest.recordings[name]!;
  const body = recorded(name);
  const server = createServer((request, response) => {
    request.resume();
    if (request.url?.startsWith('/_ping')) return void response.end('OK');
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

const limits: Limits = {
  runTimeoutMs: 30_000,
  buildTimeoutMs: 60_000,
  memoryBytes: 512 * 1024 * 1024,
  pids: 256,
  cpus: 1,
  outputBytes: 64 * 1024,
  buildNetwork: 'none',
  contextBytes: 1024 * 1024,
  contextFiles: 100,
};
const buildOf = (engine: DockerodeEngine) => engine.build({ context: Readable.from([Buffer.alloc(1024)]), dockerfile: 'Dockerfile', limits });

t.test('DockerodeEngine.build over the replayed streams', async (t) => {
  const fresh = await buildOf(await replayedEngine(t, 'multi-stage-fresh'));
  t.match(fresh, { ok: true, imageId: multiStageImage, error: undefined, timedOut: false });
  t.same(fresh.steps, parseBuildStream([recorded('multi-stage-fresh')]).steps);

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
