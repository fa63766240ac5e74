// An engine that stops answering ends grading with exit 2 and advice, never as a fault of the
// submission, and signals always end the process. The stalled engines are the test's own: a TCP
// listener that accepts and never answers, and a second dockerd stopped with SIGSTOP.
import t, { type Test } from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startCli, runCli, type CliRun } from '../support/cli.js';
import { faultSuite, realEngine } from '../support/engine.js';
import { engineProxy } from '../support/engine-proxy.js';
import { secondEngineProblem, startSecondEngine, type SecondEngine } from '../support/second-engine.js';

const faults = faultSuite(t, import.meta.filename);

const STACK = /\n\s+at /;

/** A state folder of the test's own, so no grading here writes into the user's. */
const stateDir = await mkdtemp(path.join(tmpdir(), 'grade-state-'));
t.teardown(() => rm(stateDir, { recursive: true, force: true }));

async function submission(t: Test, files: Record<string, string>): Promise<string> {
  const dir = t.testdir(files);
  return dir;
}

/** A listener that accepts every connection and never says a word. */
async function silentListener(t: Test): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

function assertStalled(t: Test, run: CliRun, host: string): void {
  t.equal(run.code, 2, 'exit 2: grading was impossible');
  t.match(run.stderr, `grade: the Docker engine at ${host} stopped answering (`);
  t.match(run.stderr, /got no answer within \d+(\.\d+)? s\)/);
  t.match(run.stderr, /docker info/, 'advice: check docker info');
  t.match(run.stderr, /grade clean/, 'advice: grade clean');
  t.notMatch(run.stderr, STACK, 'no stack trace');
  t.notMatch(run.stderr, /internal error/);
}

t.test('a TCP endpoint that accepts and never answers', async (t) => {
  const port = await silentListener(t);
  const host = `tcp://127.0.0.1:${port}`;
  const dir = await submission(t, { 'hello.c': 'int main(void) { return 0; }\n' });
  const env = { DOCKER_HOST: host, GRADE_STATE_DIR: stateDir };

  t.test('ends grading with exit 2 past --engine-timeout', async (t) => {
    faults.add();
    const run = await runCli(['multi', '--dir', dir, '--engine-timeout', '3s'], { env, timeoutMs: 120_000 });
    assertStalled(t, run, host);
    t.match(run.stderr, 'GET /version got no answer within 3 s');
  });

  t.test('ends grading with exit 2 past the default engine timeout', async (t) => {
    faults.add();
    const run = await runCli(['multi', '--dir', dir], { env, timeoutMs: 180_000 });
    assertStalled(t, run, host);
    t.match(run.stderr, 'got no answer within 30 s');
  });

  t.test('ends grade clean the same way', async (t) => {
    faults.add();
    const run = await runCli(['clean', '--engine-timeout', '2s'], { env, timeoutMs: 120_000 });
    assertStalled(t, run, host);
  });
});

const main = await realEngine(t);
const problem = secondEngineProblem();
if (main && problem) {
  if (process.env.CI) throw new Error(`the stalled-engine tests cannot run in CI: ${problem}`);
  t.comment(`skipped the second-engine tests: ${problem}`);
}

if (main && !problem) {
  const second = await startSecondEngine(['grade-fixture/runtime:latest']);
  t.teardown(() => second.teardown());
  const env = { DOCKER_HOST: second.host, GRADE_STATE_DIR: stateDir };

  type Grading = ReturnType<typeof startCli> & { since: number };
  /** Grades on the second engine; `since` is when, for `underway`. */
  const grading = (args: string[]): Grading => ({ since: Date.now(), ...startCli(args, { env, timeoutMs: 300_000 }) });

  /**
   * Polls the second engine until a running container made since the grading started matches,
   * i.e. the build or run is under way. An earlier test's container may still run: its engine was stopped
   * as the run ended, and `resumed` removes it only once the engine answers again.
   */
  const underway = async (matches: (container: { Names: string[]; Command: string }) => boolean, { done, since }: Grading) => {
    let ended = false;
    void done.then(() => (ended = true));
    while (!ended) {
      const running = await second.docker.listContainers();
      if (running.some((container) => container.Created >= Math.floor(since / 1000) && matches(container))) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`grading ended before the container was seen: ${JSON.stringify(await done)}`);
  };

  /**
   * Resumes the engine after a test and waits until it answers again; then removes what the run
   * could not (its cleanup met a silent engine), so the next test starts from an empty engine.
   */
  const resumed = async (engine: SecondEngine) => {
    engine.resume();
    await engine.docker.ping();
    const left = await engine.docker.listContainers({ all: true });
    await Promise.all(
      left.map((container) =>
        engine.docker
          .getContainer(container.Id)
          .remove({ force: true })
          .catch(() => undefined),
      ),
    );
  };

  /** Whether the second engine has no compile container left, polled for up to `ms`. */
  const compileRemoved = async (ms: number) => {
    for (const until = Date.now() + ms; Date.now() < until; await new Promise((resolve) => setTimeout(resolve, 250))) {
      const left = await second.docker.listContainers({ all: true });
      if (!left.some((container) => container.Names.some((name) => name.endsWith('-compile')))) return true;
    }
    return false;
  };

  const hello = 'int main(void) { return 0; }\n';

  t.test('an engine stopped while a build is in progress', async (t) => {
    faults.add();
    const dir = await submission(t, {
      'hello.c': hello,
      Dockerfile:
        'FROM grade-fixture/runtime AS build\nRUN echo stalled-build && sleep 120\nCOPY hello.c /app/\n\nFROM grade-fixture/runtime\nCOPY --from=build /app/hello.c /app/\n',
    });
    const running = grading(['multi', '--dir', dir, '--build-network', 'none', '--engine-timeout', '5s']);
    await underway((container) => container.Command.includes('stalled-build'), running);
    second.stall();
    const run = await running.done;
    await resumed(second);
    assertStalled(t, run, second.host);
    t.match(run.stderr, 'pings during the build got no answer within 5 s');
    t.notMatch(run.stdout, /timed out/, 'not charged to the submission as a timeout');
    t.notMatch(run.stdout, /^Score:/m, 'no score: the submission was not graded');
  });

  t.test('an engine stopped while a container runs', async (t) => {
    faults.add();
    const dir = await submission(t, {
      'hello.c': hello,
      // The toolchain stage's "gcc" sleeps, so the compile container is still running when the engine stops.
      Dockerfile:
        "FROM grade-fixture/runtime AS build\nRUN printf '#!/bin/sh\\nsleep 120\\n' > /bin/gcc && chmod +x /bin/gcc\nCOPY hello.c /app/\n\n" +
        'FROM grade-fixture/runtime\nCOPY --from=build /app/hello.c /app/\n',
    });
    const running = grading(['multi', '--dir', dir, '--build-network', 'none', '--engine-timeout', '5s']);
    await underway((container) => container.Names.some((name) => name.endsWith('-compile')), running);
    second.stall();
    const run = await running.done;
    second.resume();
    t.ok(await compileRemoved(15_000), 'the removal sent to the silent engine is carried out once it answers again');
    await resumed(second);
    assertStalled(t, run, second.host);
    // Steps run side by side: a build of large-small, or a short request of another step, under way
    // beside the compile, may be the first to notice.
    t.match(run.stderr, /stopped answering \((pings during the run of grade-\w+-hello-compile|pings during the build|[A-Z]+ \/\S+) got no answer within 5 s\)/);
    t.notMatch(run.stdout, /timed out/, 'not charged to the submission as a timeout');
    t.notMatch(run.stdout, /^Score:/m);
  });

  t.test("a build or run timeout while the engine is silent is the engine's fault", async (t) => {
    faults.add();
    // The engine timeout is long here, so the build's or run's own timeout fires first.
    const build = await submission(t, {
      'hello.c': hello,
      Dockerfile: 'FROM grade-fixture/runtime AS build\nRUN echo timeout-build && sleep 120\nCOPY hello.c /app/\n',
    });
    let running = grading(['multi', '--dir', build, '--build-network', 'none', '--build-timeout', '10s', '--engine-timeout', '10m']);
    await underway((container) => container.Command.includes('timeout-build'), running);
    second.stall();
    let run = await running.done;
    await resumed(second);
    assertStalled(t, run, second.host);
    t.match(run.stderr, 'the build timed out, and a ping got no answer within 5 s');
    t.notMatch(run.stdout, /timed out/, 'not charged to the submission');

    const compile = await submission(t, {
      'hello.c': hello,
      Dockerfile: "FROM grade-fixture/runtime AS build\nRUN printf '#!/bin/sh\\nsleep 121\\n' > /bin/gcc && chmod +x /bin/gcc\nCOPY hello.c /app/\n",
    });
    running = grading(['multi', '--dir', compile, '--build-network', 'none', '--run-timeout', '5s', '--engine-timeout', '10m']);
    await underway((container) => container.Names.some((name) => name.endsWith('-compile')), running);
    second.stall();
    run = await running.done;
    await resumed(second);
    assertStalled(t, run, second.host);
    t.match(run.stderr, 'the run timed out, and a ping got no answer within 5 s');
    t.notMatch(run.stdout, /timed out/, 'not charged to the submission');
  });

  t.test('an engine that stops as it is asked to start a program: the run timeout still holds', async (t) => {
    faults.add();
    // No scratch folder: the only containers started are the runs, each under --run-timeout.
    const dir = await submission(t, {
      'hello.c': hello,
      Dockerfile: 'FROM grade-fixture/runtime AS build\nCOPY hello.c /app/\n\nFROM grade-fixture/runtime\nCOPY --from=build /app/hello.c /app/\n',
    });
    const startRequest = /^POST (?:\/v[\d.]+)?\/containers\/[^/]+\/start\b/;
    const host = await engineProxy(t, second.host.replace(/^unix:\/\//, ''), (request) => (startRequest.test(request) ? 'silence' : 'pass'));
    const run = await runCli(['multi', '--dir', dir, '--build-network', 'none', '--run-timeout', '5s', '--engine-timeout', '10m'], {
      env: { ...env, DOCKER_HOST: host },
      timeoutMs: 120_000,
    });
    await resumed(second);
    assertStalled(t, run, host);
    t.match(run.stderr, 'the run timed out, and a ping got no answer within 5 s', 'not the 10 min engine timeout');
    t.notMatch(run.stdout, /timed out/, 'not charged to the submission');
  });

  t.test('a signal ends grading whose engine is stopped', async (t) => {
    const stalledBuild = (tag: string) => ({
      'hello.c': hello,
      Dockerfile: `FROM grade-fixture/runtime AS build\nRUN echo ${tag} && sleep 120\nCOPY hello.c /app/\n`,
    });

    t.test('SIGTERM: cleanup is given a few seconds, then the process leaves saying grade clean', async (t) => {
      faults.add();
      const dir = await submission(t, stalledBuild('signal-once'));
      const running = grading(['multi', '--dir', dir, '--build-network', 'none', '--engine-timeout', '10m']);
      await underway((container) => container.Command.includes('signal-once'), running);
      second.stall();
      running.child.kill('SIGTERM');
      const run = await running.done;
      await resumed(second);
      t.equal(run.code, 143, run.stderr);
      t.match(run.stderr, /SIGTERM: stopping and removing what this run created/);
      t.match(run.stderr, /cleanup did not finish within 5 s .*run `grade clean`/);
      t.notMatch(run.stderr, STACK);
      // The advice works once the engine answers again.
      const cleaned = await runCli(['clean'], { env, timeoutMs: 120_000 });
      t.equal(cleaned.code, 0, cleaned.stderr);
      const left = await second.docker.listContainers({ all: true, filters: JSON.stringify({ label: ['grade.tool=grade'] }) });
      t.same(left, [], 'nothing of grade is left on the engine');
    });

    t.test('a second SIGINT leaves at once, saying grade clean', async (t) => {
      faults.add();
      const dir = await submission(t, stalledBuild('signal-twice'));
      const running = grading(['multi', '--dir', dir, '--build-network', 'none', '--engine-timeout', '10m']);
      await underway((container) => container.Command.includes('signal-twice'), running);
      second.stall();
      running.child.kill('SIGINT');
      await new Promise((resolve) => setTimeout(resolve, 500));
      running.child.kill('SIGINT');
      const run = await running.done;
      await resumed(second);
      t.equal(run.code, 130, run.stderr);
      t.match(run.stderr, /SIGINT again: stopped at once; .*run `grade clean`/);
      t.notMatch(run.stderr, /cleanup did not finish/, 'the second signal did not wait for the cleanup deadline');
      t.notMatch(run.stderr, STACK);
    });
  });
}
