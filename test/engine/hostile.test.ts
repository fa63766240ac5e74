// Hostile and broken submissions on the real engine: each is graded within its limits, gets the
// verdict it deserves with a message saying why, cannot forge a result, and leaves nothing behind.
import t, { type Test } from 'tap';
import { cp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DockerEngine, Limits } from '../../runner/engine/engine.js';
import { resolveLimits } from '../../runner/spec/limits.js';
import { exercisesRoot, packageRoot } from '../../runner/paths.js';
import type { ExerciseResult } from '../../runner/results.js';
import { grade, type RunEvent } from '../../runner/grading/run.js';
import { loadExercise } from '../../runner/spec/loader.js';
import { plainText } from '../../runner/text/plain.js';
import { runCli, startCli } from '../support/cli.js';
import { faultSuite, realEngine, submissions } from '../support/engine.js';
import { checkOf } from '../support/results.js';
import { engineProxy } from '../support/engine-proxy.js';
import Docker from 'dockerode';
import { DockerodeEngine } from '../../runner/engine/dockerode/index.js';

const hostile = path.join(packageRoot, 'test/fixtures/hostile');
const engine = await realEngine(t);

/** Tight limits keep the suite short; the defaults are documented in the README. */
const limits: Limits = resolveLimits({
  buildNetwork: 'none',
  runTimeoutMs: 5000,
  buildTimeoutMs: 20_000,
  memoryBytes: 256 * 1024 * 1024,
  outputBytes: 64 * 1024,
});

const faults = faultSuite(t, import.meta.filename);

if (engine) {
  const exercise = await loadExercise(path.join(exercisesRoot, 'multi'));

  async function gradeAndCheckClean(t: Test, dir: string, overrides: Partial<Limits> = {}): Promise<{ result: ExerciseResult; events: RunEvent[] }> {
    faults.add();
    const events: RunEvent[] = [];
    const result = await grade({
      exercise,
      submissionDir: dir,
      engine: engine as DockerEngine,
      limits: { ...limits, ...overrides },
      onEvent: (event) => events.push(event),
    });
    const left = await (engine as DockerEngine).listOurs(`grade.run=${result.runId}`);
    t.same(left, { containers: [], images: [] }, 'nothing of this run is left behind');
    t.same(
      events.filter((event) => event.type === 'cleanup-problem'),
      [],
      'cleanup had no problem',
    );
    return { result, events };
  }

  const outputChecks = ['compile-hello/prints-hello', 'large-small/small-prints-hello', 'target-stage/build-stage-hello'];

  t.test('a program that never ends is killed at the run timeout', async (t) => {
    const { result } = await gradeAndCheckClean(t, path.join(hostile, 'hang'));
    for (const id of outputChecks) {
      t.match(checkOf(result, id), { status: 'fail', message: /timed out after 5 s and was killed/, hint: /finish/ }, id);
    }
  });

  t.test('a flood of output is cut at the cap, marked, and costs the grader no memory', async (t) => {
    const before = process.memoryUsage().rss;
    const { result } = await gradeAndCheckClean(t, path.join(hostile, 'flood'));
    for (const id of outputChecks) t.match(checkOf(result, id), { status: 'fail', message: /timed out/ }, id);
    const grown = process.memoryUsage().rss - before;
    t.ok(grown < 200 * 1024 * 1024, `the grader grew by ${Math.round(grown / 1048576)} MiB`);
    t.ok(JSON.stringify(result).length < 2 * 1024 * 1024, 'the result stays small');
  });

  t.test('a fork bomb hits the pids limit and is killed at the timeout', async (t) => {
    const { result } = await gradeAndCheckClean(t, path.join(hostile, 'fork-bomb'));
    for (const id of outputChecks) t.match(checkOf(result, id), { status: 'fail', message: /timed out/ }, id);
  });

  t.test('a memory bomb is reported as killed for memory', async (t) => {
    const { result } = await gradeAndCheckClean(t, path.join(hostile, 'memory-bomb'));
    for (const id of outputChecks) t.match(checkOf(result, id), { status: 'fail', message: /killed for using more memory than allowed/ }, id);
  });

  t.test('forged output fails, and cannot reach the terminal as control codes', async (t) => {
    const { result } = await gradeAndCheckClean(t, path.join(hostile, 'forged-output'));
    for (const id of outputChecks) t.equal(checkOf(result, id).status, 'fail', id);
    t.equal(result.passed, false);
    const run = await runCli(['multi', '--dir', path.join(hostile, 'forged-output'), '--build-network', 'none', '--run-timeout', '5s']);
    faults.add();
    t.equal(run.code, 1);
    t.notMatch(run.stdout, /[\u001b\u009b\u0007]/, 'no escape or bell reaches the terminal');
    t.notMatch(run.stdout, /^Score: 28\/28/m, 'the forged score line never starts a line');
    t.match(run.stdout, /^Score: \d+\/28: \d+ required checks? not passed yet$/m);
  });

  t.test('output that is not UTF-8 is shown with replacement characters', async (t) => {
    const { result } = await gradeAndCheckClean(t, path.join(hostile, 'binary-output'));
    const printed = checkOf(result, 'compile-hello/prints-hello');
    t.equal(printed.status, 'fail');
    t.match(printed.actual, /\ufffd.*Hello, world!/s);
  });

  t.test('a build that never ends is stopped at the build timeout', async (t) => {
    const { result } = await gradeAndCheckClean(t, path.join(hostile, 'build-hang'), { buildTimeoutMs: 10_000 });
    t.match(checkOf(result, 'large-small/small-builds'), { status: 'fail', message: /build timed out after 10 s and was stopped/ });
  });

  t.test('ADD of a remote URL is refused before anything is sent', async (t) => {
    const { result } = await gradeAndCheckClean(t, path.join(hostile, 'remote-add'));
    t.match(checkOf(result, 'large-small/small-builds'), {
      status: 'fail',
      message: /^Dockerfile:4: ADD of a remote URL \(https:\/\/example\.com\/hello\.c\) is not allowed/,
    });
  });

  t.test('a program that is not a binary gets "exec format error" and a hint', async (t) => {
    const { result } = await gradeAndCheckClean(t, path.join(hostile, 'exec-format'));
    t.match(checkOf(result, 'large-small/small-prints-hello'), { status: 'fail', message: /exec format error/, hint: /not a program this machine can run/ });
  });

  t.test('a link out of the folder is reported and sent as a link, never followed', async (t) => {
    const dir = path.join(t.testdirName, 'escaping-link');
    // A run stopped half way leaves the folder, link and all: start afresh.
    await rm(dir, { recursive: true, force: true });
    await mkdir(t.testdirName, { recursive: true });
    await cp(path.join(submissions, 'kept-large'), dir, { recursive: true });
    await symlink('/etc/shadow', path.join(dir, 'host-secrets'));
    // The link is what is tested here, not the time limits: under load, a 5 s compile can fail.
    const { result, events } = await gradeAndCheckClean(t, dir, { runTimeoutMs: 60_000, buildTimeoutMs: 120_000 });
    // The scratch step is a bonus this submission does not do.
    const failed = result.steps
      .filter((step) => step.required)
      .flatMap((step) => step.checks.filter((check) => check.status !== 'pass').map((check) => `${step.id}/${check.id}: ${check.message}`));
    t.same(failed, [], 'the link does not stop grading: every required check passes');
    t.equal(result.passed, true);
    t.ok(events.some((event) => event.type === 'activity' && /host-secrets is a link to \/etc\/shadow, outside the build context/.test(event.text)));
  });

  t.test('a container removal the engine refuses is tried again by the cleanup, and grading goes on', async (t) => {
    faults.add();
    // A busy engine still killing a container's processes answers its removal with a 500.
    let refused = 0;
    const removal = /^DELETE (?:\/v[\d.]+)?\/containers\//;
    const mainSocket = process.env.DOCKER_HOST?.startsWith('unix://') ? process.env.DOCKER_HOST.slice('unix://'.length) : '/var/run/docker.sock';
    const host = await engineProxy(t, mainSocket, (request) =>
      removal.test(request) && refused++ === 0
        ? { status: 500, message: 'could not kill: tried to kill container, but did not receive an exit event' }
        : 'pass',
    );
    const proxied = new DockerodeEngine({ docker: new Docker({ socketPath: host.replace(/^unix:\/\//, '') }) });
    const events: RunEvent[] = [];
    const result = await grade({
      exercise,
      submissionDir: path.join(submissions, 'kept-large'),
      engine: proxied,
      limits: { ...limits, runTimeoutMs: 60_000, buildTimeoutMs: 120_000 },
      onEvent: (event) => events.push(event),
    });
    t.ok(refused > 0, 'the engine refused a removal');
    t.equal(result.passed, true, 'the refused removal does not stop grading');
    t.same(await (engine as DockerEngine).listOurs(`grade.run=${result.runId}`), { containers: [], images: [] }, 'the cleanup removed it');
    t.same(
      events.filter((event) => event.type === 'cleanup-problem'),
      [],
      'cleanup had no problem',
    );
  });

  t.test('a Dockerfile that is not text, a context over its limit, a base image that cannot be pulled', async (t) => {
    const binary = path.join(t.testdirName, 'binary');
    await mkdir(binary, { recursive: true });
    await writeFile(path.join(binary, 'hello.c'), '#include <stdio.h>\nint main (void) { printf ("Hello, world!\\n"); return 0; }\n');
    await writeFile(path.join(binary, 'Dockerfile'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x00, 0xff, 0xfe]));
    let { result } = await gradeAndCheckClean(t, binary);
    t.match(checkOf(result, 'large-small/small-builds'), { status: 'fail', message: /^Dockerfile.*not a text file/ });
    t.match(checkOf(result, 'large-small/multi-stage'), { status: 'fail', message: /not a text file/ });

    const crowded = path.join(t.testdirName, 'crowded');
    await cp(path.join(submissions, 'kept-large'), crowded, { recursive: true });
    for (let index = 0; index < 12; index++) await writeFile(path.join(crowded, `notes-${index}.txt`), 'x');
    ({ result } = await gradeAndCheckClean(t, crowded, { contextFiles: 10 }));
    t.match(checkOf(result, 'large-small/small-builds'), { status: 'fail', message: /has more than 10 files \(limit 10\)/ });

    const offline = path.join(t.testdirName, 'offline');
    await cp(path.join(submissions, 'kept-large'), offline, { recursive: true });
    await writeFile(path.join(offline, 'Dockerfile'), 'FROM grade-fixture/not-on-this-machine:1.0 AS build\nCOPY hello.c /\n');
    ({ result } = await gradeAndCheckClean(t, offline));
    t.match(checkOf(result, 'large-small/small-builds'), {
      status: 'error',
      message: /^not judged: base image grade-fixture\/not-on-this-machine:1\.0 is not on this machine and no registry could be reached/,
      hint: undefined,
    });
  });

  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    t.test(`${signal} during grading stops it, cleans up and exits ${code}`, async (t) => {
      faults.add();
      const dir = path.join(t.testdirName, `interrupted-${signal.toLowerCase()}`);
      await mkdir(t.testdirName, { recursive: true });
      await cp(path.join(hostile, 'hang'), dir, { recursive: true });
      const label = `grade.submission=interrupted-${signal.toLowerCase()}`;
      const running = startCli(['multi', '--dir', dir, '--build-network', 'none', '--run-timeout', '120s']);
      // Wait until a container of this run exists (a build step or a run), then interrupt.
      for (let waited = 0; waited < 120; waited++) {
        if ((await (engine as DockerEngine).listOurs(label)).containers.length > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      running.child.kill(signal);
      const run = await running.done;
      t.equal(run.code, code, plainText(run.stderr));
      t.match(run.stderr, /stopping and removing what this run created/);
      t.same(await (engine as DockerEngine).listOurs(label), { containers: [], images: [] }, 'nothing left behind');
    });
  }
}
