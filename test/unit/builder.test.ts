// Which builder answered: the classic builder's recordings (test/fixtures/build-streams) pass as
// before; BuildKit's stream (its moby.buildkit.trace messages, built here as the engine encodes
// them), a refusal of version=1, and a successful build without a step line become an EngineError
// with advice, not a grade; Podman's Buildah stream is recognised and left to the build output's
// reader. The last tests answer DockerodeEngine.build from a local HTTP server, as the engine would.
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import Docker from 'dockerode';
import { parseBuildStream } from '../../runner/engine/dockerode/build-stream.js';
import { BuilderWitness, ClassicBuilderMissing, classicBuilderRefusal } from '../../runner/engine/dockerode/builder.js';
import { DockerodeEngine } from '../../runner/engine/dockerode/index.js';
import { EngineError } from '../../runner/engine/engine.js';
import { testLimits } from '../support/fake-engine.js';
import { packageRoot } from '../../runner/paths.js';

const folder = path.join(packageRoot, 'test/fixtures/build-streams');
const recorded = (name: string) => readFileSync(path.join(folder, `${name}.jsonl`));
const RECORDINGS = ['multi-stage-fresh', 'multi-stage-cached', 'target-first-stage', 'failing-run'];

// Protocol Buffers, as much as a StatusResponse needs: length-delimited fields and a bool.
const varint = (value: number): number[] => (value < 0x80 ? [value] : [(value & 0x7f) | 0x80, ...varint(value >>> 7)]);
const field = (number: number, bytes: Buffer) => Buffer.from([...varint((number << 3) | 2), ...varint(bytes.length), ...bytes]);
const text = (number: number, value: string) => field(number, Buffer.from(value));
const flag = (number: number) => Buffer.from([number << 3, 1]);

/** A moby.buildkit.trace event: a StatusResponse with one vertex (digest 1, name 3, cached 4) and its log (vertex 1, msg 4). */
function trace(digest: string, name: string, cached: boolean, log?: string): string {
  const vertex = Buffer.concat([text(1, digest), text(3, name), ...(cached ? [flag(4)] : [])]);
  const logs = log === undefined ? [] : [field(3, Buffer.concat([text(1, digest), text(4, log)]))];
  const status = Buffer.concat([field(1, vertex), ...logs]);
  return `${JSON.stringify({ id: 'moby.buildkit.trace', aux: status.toString('base64') })}\n`;
}

const digest = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const IMAGE = 'sha256:0d528d8b560722208b11e737bf31c33041d4638ac44228c890360bdca618fbca';

/** What Docker 23+ answers to version=2 without a session: traces, then the image id. */
const buildKitStream = [
  trace(digest(1), '[internal] load build definition from Dockerfile', false),
  trace(digest(2), '[1/2] FROM grade-fixture/runtime:latest', true),
  trace(digest(3), '[2/2] RUN echo hi', false, 'hi\n'),
  `${JSON.stringify({ id: 'moby.image.id', aux: { ID: IMAGE } })}\n`,
].join('');

/** BuildKit failing without a session, as it does for a Dockerfile with a syntax line. */
const buildKitNoSession = [
  trace(digest(1), 'resolve image config for docker.io/docker/dockerfile:1', false),
  `${JSON.stringify({
    errorDetail: { message: 'failed to solve with frontend dockerfile.v0: failed to solve with frontend gateway.v0: no active sessions' },
    error: 'failed to solve with frontend dockerfile.v0: failed to solve with frontend gateway.v0: no active sessions',
  })}\n`,
].join('');

/** Podman 4's compat API: Buildah's own lines, then the image id as the classic builder gives it. */
const podmanStream = [
  '[1/2] STEP 1/3: FROM grade-fixture/toolchain:latest AS build\n',
  '--> Using cache 497edf3a2295aaaa\n',
  '[2/2] STEP 1/2: FROM grade-fixture/runtime:latest\n',
  '[2/2] STEP 2/2: CMD ["cat", "/out.txt"]\n',
  '--> 0d528d8b5607\n',
]
  .map((line) => `${JSON.stringify({ stream: line })}\n`)
  .concat([`${JSON.stringify({ aux: { ID: IMAGE } })}\n`, `${JSON.stringify({ stream: 'Successfully built 0d528d8b5607\n' })}\n`])
  .join('');

/** A stream cut into pieces of `size` bytes. */
function pieces(stream: Buffer | string, size: number): Buffer[] {
  const bytes = Buffer.from(stream);
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return chunks;
}

/** Feeds the witness as build.ts does; returns the error it stopped on, or the one from end(), and the kind. */
function witnessed(chunks: Buffer[], stopped?: string) {
  const witness = new BuilderWitness();
  for (const chunk of chunks) {
    const early = witness.push(chunk);
    if (early) return { kind: witness.kind, error: early, early: true };
  }
  const summary = parseBuildStream(chunks);
  return { kind: witness.kind, error: witness.end(summary, stopped), early: false };
}

t.test("the classic builder's recordings: classic, whatever the split, and nothing to refuse", async (t) => {
  for (const name of RECORDINGS) {
    for (const size of [1, 7, 4096]) {
      const seen = witnessed(pieces(recorded(name), size));
      t.same(seen, { kind: 'classic', error: undefined, early: false }, `${name} in pieces of ${size}`);
    }
  }
});

t.test('BuildKit: its first trace stops the build with an EngineError that says so and what to do', async (t) => {
  for (const size of [1, 13, 100_000]) {
    const seen = witnessed(pieces(buildKitStream, size));
    t.equal(seen.kind, 'buildkit', `pieces of ${size}`);
    t.ok(seen.early, 'seen while the stream runs, not at its end');
    t.ok(seen.error instanceof ClassicBuilderMissing);
    t.ok(seen.error instanceof EngineError, 'an EngineError: exit 2, not a grade');
  }
  const { error } = witnessed(pieces(buildKitStream, 100_000));
  t.match(
    error!.message,
    /answered the build with BuildKit \(a moby\.buildkit\.trace message\), not the classic builder grade asked for \(API build version 1\)/,
  );
  t.match(error!.advice, /DOCKER_BUILDKIT=0 docker build \./);
  t.match(error!.advice, /point DOCKER_HOST at a Docker Engine that has it/);
  t.equal(error!.builder, 'buildkit');

  const noSession = witnessed(pieces(buildKitNoSession, 5));
  t.equal(noSession.kind, 'buildkit', 'a BuildKit failure is the engine, not the Dockerfile');
  t.ok(noSession.error instanceof ClassicBuilderMissing);

  const idOnly = witnessed([Buffer.from(`${JSON.stringify({ id: 'moby.image.id', aux: { ID: IMAGE } })}\n`)]);
  t.equal(idOnly.kind, 'buildkit', 'moby.image.id before any classic step is BuildKit too');
  t.equal(idOnly.error!.builder, 'buildkit');
});

t.test('a successful build with no classic step: an EngineError that keeps the image id for cleanup', async (t) => {
  const stream = [{ stream: 'building, somehow\n' }, { aux: { ID: IMAGE } }].map((event) => `${JSON.stringify(event)}\n`).join('');
  const seen = witnessed(pieces(stream, 3));
  t.equal(seen.kind, 'unknown');
  t.notOk(seen.early, 'known only at the end');
  t.ok(seen.error instanceof ClassicBuilderMissing);
  t.match(seen.error!.message, /built the image, but its answer is not the classic builder's: no "Step N\/M" line in it/);
  t.equal(seen.error!.imageId, IMAGE, 'the image it built, for the caller to remove');
  t.equal(seen.error!.builder, 'unknown');
});

t.test('what proves nothing is not an engine problem: a failed or cut-off build stays the build outcome', async (t) => {
  const failed = `${JSON.stringify({ errorDetail: { message: 'Error processing tar file(exit status 1): unexpected EOF' }, error: 'unexpected EOF' })}\n`;
  t.same(witnessed(pieces(failed, 4)), { kind: 'unknown', error: undefined, early: false }, 'an error before any step');
  t.same(witnessed([], 'build timed out after 60 s and was stopped'), { kind: 'unknown', error: undefined, early: false }, 'a timeout');
  const cut = pieces(recorded('multi-stage-fresh'), 1).slice(0, 20);
  t.same(witnessed(cut, 'grading was interrupted'), { kind: 'unknown', error: undefined, early: false }, 'an interrupt before the first step');
  t.same(witnessed([]), { kind: 'unknown', error: undefined, early: false }, 'an empty stream');
  const squashed = Buffer.concat([recorded('multi-stage-fresh'), Buffer.from(`${JSON.stringify({ id: 'moby.image.id', aux: { ID: IMAGE } })}\n`)]);
  t.same(witnessed([squashed]), { kind: 'classic', error: undefined, early: false }, 'moby.image.id after classic steps (--squash) stays classic');
});

t.test("Podman's Buildah stream: recognised, and left to the build output's reader", async (t) => {
  for (const size of [1, 9, 100_000]) {
    t.same(witnessed(pieces(podmanStream, size)), { kind: 'buildah', error: undefined, early: false }, `pieces of ${size}`);
  }
  const older = `${JSON.stringify({ stream: 'STEP 1: FROM alpine\n' })}\n${JSON.stringify({ aux: { ID: IMAGE } })}\n`;
  t.equal(witnessed([Buffer.from(older)]).kind, 'buildah', 'older Buildah: "STEP 1: "');
});

t.test('a refusal of version=1 before the stream is an EngineError; other refusals are not', async (t) => {
  const refusal = (statusCode: number, message: string) =>
    Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message}`), { statusCode, json: { message } });
  for (const [status, message] of [
    [400, 'invalid version 1'],
    [500, 'invalid version "1"'],
    [400, 'the legacy builder has been removed: use BuildKit'],
    [501, 'classic builder is not supported on this daemon'],
    [400, 'builder version 1 is not supported'],
  ] as const) {
    const error = classicBuilderRefusal(refusal(status, message));
    t.ok(error instanceof ClassicBuilderMissing, message);
    t.equal(
      error?.message.endsWith(`refused the classic builder (API build version 1) with HTTP ${status}: ${message}`),
      true,
      'names the status and the message',
    );
    t.match(error?.advice, /DOCKER_BUILDKIT=0/);
  }
  for (const message of [
    'dockerfile parse error line 3: unknown instruction: RUNN',
    'Cannot locate specified Dockerfile: Dockerfile',
    'client version 1.45 is too new. Maximum supported API version is 1.41',
  ]) {
    t.equal(classicBuilderRefusal(refusal(400, message)), undefined, message);
  }
  t.equal(classicBuilderRefusal(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), undefined, 'a transport failure');
  t.equal(classicBuilderRefusal(undefined), undefined);
});

// The engine, answered from here: POST /build gets `status` and `body` in small pieces, then ends
// (or, with `hold`, stays open until the client goes away).
async function answeringEngine(t: Test, status: number, body: string, hold = false) {
  let closed: (early: boolean) => void = () => {};
  const answered: { closedEarly: Promise<boolean>; query?: URLSearchParams } = { closedEarly: new Promise((resolve) => (closed = resolve)) };
  let open: ServerResponse | undefined;
  const server = createServer((request, response) => {
    request.resume();
    if (request.url?.startsWith('/_ping')) return void response.end('OK');
    if (request.url?.startsWith('/info')) return void response.end('{}');
    if (!request.url?.includes('/build')) return void response.writeHead(404).end('{"message":"not answered here"}');
    answered.query = new URL(request.url, 'http://engine').searchParams;
    request.on('end', async () => {
      response.on('close', () => closed(!response.writableEnded));
      response.writeHead(status, { 'Content-Type': 'application/json' });
      for (const chunk of pieces(body, 11)) {
        response.write(chunk);
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (!hold) return void response.end();
      open = response;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    open?.end();
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as AddressInfo;
  return { engine: new DockerodeEngine({ docker: new Docker({ host: '127.0.0.1', port, protocol: 'http' }) }), answered };
}

const buildOf = (engine: DockerodeEngine) => engine.build({ context: Readable.from([Buffer.alloc(1024)]), dockerfile: 'Dockerfile', limits: testLimits });

t.test('DockerodeEngine.build: the classic recordings build as before, asking for version 1', async (t) => {
  const { engine, answered } = await answeringEngine(t, 200, recorded('multi-stage-cached').toString());
  const outcome = await buildOf(engine);
  t.match(outcome, { ok: true, imageId: IMAGE, error: undefined, timedOut: false });
  t.equal(outcome.steps.length, 10);
  t.equal(answered.query?.get('version'), '1', 'the classic builder, named');
});

t.test('DockerodeEngine.build: BuildKit is an EngineError, and the request is closed at its first trace', async (t) => {
  const { engine, answered } = await answeringEngine(t, 200, buildKitStream, true);
  const error = await buildOf(engine).catch((caught: unknown) => caught);
  t.ok(error instanceof ClassicBuilderMissing);
  t.ok(error instanceof EngineError, 'exit 2, with advice');
  t.match((error as EngineError).advice, /DOCKER_BUILDKIT=0 docker build \./);
  t.equal(await answered.closedEarly, true, 'the client went away while BuildKit was still answering: the engine cancels the build');

  const noSession = await answeringEngine(t, 200, buildKitNoSession);
  await t.rejects(buildOf(noSession.engine), ClassicBuilderMissing, "BuildKit's own failure is not the student's build error");
});

t.test('DockerodeEngine.build: an engine refusing version 1 is an EngineError; a refused Dockerfile is a failed build', async (t) => {
  const { engine } = await answeringEngine(t, 400, '{"message":"invalid version 1"}');
  await t.rejects(buildOf(engine), {
    name: 'ClassicBuilderMissing',
    message: /refused the classic builder \(API build version 1\) with HTTP 400: invalid version 1$/,
  });

  const misspelt = await answeringEngine(t, 400, recorded('misspelt-instruction').toString());
  t.match(await buildOf(misspelt.engine), { ok: false, error: 'dockerfile parse error line 3: unknown instruction: RUNN' });
});

t.test('DockerodeEngine.build: Podman builds, with its image id; no EngineError', async (t) => {
  const { engine } = await answeringEngine(t, 200, podmanStream);
  t.match(await buildOf(engine), { ok: true, imageId: IMAGE, error: undefined });
});
