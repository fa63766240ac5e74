// How each engine's differences are met (runner/engine/dockerode/dialect.ts), asked of the real
// engines: the main one and every extra engine of .ci/engines.sh that GRADE_ENGINES names (or,
// locally, that answers). On each: a program that does not exist is a start error, a memory hog is
// a memory kill, `top` lists a scratch container's program, the engine's own root entries are
// learned, an API version the engine does not serve is refused, and a build that times out in a
// busy loop really stops.
import t, { type Test } from 'tap';
import Docker from 'dockerode';
import { readdir, readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { EngineError, type DockerEngine, type Limits } from '../../runner/engine/engine.js';
import { DockerodeEngine } from '../../runner/engine/dockerode/index.js';
import { runCli } from '../support/cli.js';
import { realEngine, testLimits } from '../support/engine.js';
import { extraEngines } from '../support/engines.js';

t.setTimeout(10 * 60_000);

const main = await realEngine(t);
const LABEL = `grade.test.dialects=${process.pid}`;
const labels = { 'grade.test.dialects': String(process.pid) };

function context(files: Record<string, string>): Readable {
  const archive = pack();
  for (const [name, text] of Object.entries(files)) archive.entry({ name }, text);
  archive.finalize();
  return archive as unknown as Readable;
}

/** Host processes whose command line holds `marker` (every engine here runs on this machine). */
async function processesWith(marker: string): Promise<number> {
  let found = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (command.includes(marker)) found += 1;
  }
  return found;
}

async function until(condition: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return condition();
}

async function dialectChecks(t: Test, name: string, engine: DockerEngine, socketPath: string): Promise<void> {
  const limits: Limits = { ...testLimits, memoryBytes: 64 * 1024 * 1024, runTimeoutMs: 30_000 };
  const tag = `${name}-${process.pid}`;

  await t.test('a program that does not exist is a start error, not an engine fault', async (t) => {
    const outcome = await engine.run({ image: 'grade-fixture/runtime', name: `grade-test-missing-${tag}`, labels, limits, cmd: ['/no-such-program'] });
    t.equal(outcome.exitCode, null, 'never ran');
    t.match(outcome.startError, /no-such-program.*(no such file|not found)/is, 'the runtime says why');
  });

  await t.test('a program that outgrows the memory limit is a memory kill', async (t) => {
    const outcome = await engine.run({
      image: 'grade-fixture/runtime',
      name: `grade-test-oom-${tag}`,
      labels,
      limits,
      entrypoint: ['sh', '-c'],
      cmd: ['x=aaaaaaaaaaaaaaaa; while true; do x="$x$x"; done'],
    });
    t.equal(outcome.exitCode, 137, 'SIGKILLed');
    t.equal(outcome.oomKilled, true, 'by the memory limit');
    t.equal(outcome.timedOut, false, 'not by the grader');
  });

  const built = await engine.build({
    context: context({
      Dockerfile: 'FROM grade-fixture/runtime AS build\nFROM scratch\nCOPY --from=build /bin/busybox /busybox\nCMD ["/busybox", "sleep", "120"]\n',
    }),
    dockerfile: 'Dockerfile',
    limits,
  });
  t.ok(built.ok, `a scratch image builds: ${built.error ?? ''}`);
  if (!built.imageId) return;
  const started = await engine.start({ image: built.imageId, name: `grade-test-scratch-${tag}`, labels, limits });
  try {
    t.equal(started.startError, undefined, 'the scratch container starts');

    await t.test('top lists the program of a container that holds no ps', async (t) => {
      // Just started, the process may still be `runc init`: grading lets a container settle first.
      let listed = await engine.top(started.id);
      const column = () => Math.max(listed.titles.indexOf('CMD'), listed.titles.indexOf('COMMAND'));
      const shown = () => listed.processes.some((row) => row[column()]?.startsWith('/busybox sleep'));
      await until(async () => {
        listed = await engine.top(started.id);
        return shown();
      }, 10_000);
      t.ok(column() >= 0, `a command column among ${listed.titles.join(', ')}`);
      t.ok(shown(), `the program is listed: ${JSON.stringify(listed.processes)}`);
    });

    await t.test("the engine's own root entries are learned from an empty image", async (t) => {
      const own = await engine.engineRootEntries(labels);
      for (const entry of ['dev', 'etc', 'proc', 'sys']) t.ok(own.atStart.includes(entry), `${entry} is the engine's`);
      t.notOk(own.atStart.includes('busybox'), 'nothing of an image');
      if (name === 'podman') t.ok(own.atStart.includes('run'), 'Podman adds run for /run/.containerenv');
      const listed = await engine.exportListing(started.id);
      t.same(
        listed.filter((entry) => !own.atStart.includes(entry) && !own.atCreate.includes(entry)),
        ['busybox'],
        `the running container holds the engine's entries and the image's one: ${listed.join(' ')}`,
      );
      t.same(await engine.pathsPresent(built.imageId!, ['/run', '/busybox'], labels), ['/busybox'], 'the image itself holds no run');
    });
  } finally {
    await engine.removeContainer(started.id);
    await engine.removeImage(built.imageId);
  }

  await t.test('a build that times out in a busy loop stops on the engine', async (t) => {
    const marker = `grade-busy-${tag}-${Date.now()}`;
    const outcome = await engine.build({
      context: context({ Dockerfile: `FROM grade-fixture/runtime\nRUN while :; do :; done # ${marker}\n` }),
      dockerfile: 'Dockerfile',
      limits: { ...limits, buildTimeoutMs: 3000, cpus: 1 },
    });
    t.equal(outcome.timedOut, true, 'timed out');
    t.match(outcome.error, /timed out after 3 s/, outcome.error ?? 'no error');
    // Docker stops the step at once; Podman cannot, and the step's CPU limit (3 s) ends it.
    t.ok(await until(async () => (await processesWith(marker)) === 0, 30_000), 'no process of the step is left');
  });

  await t.test('grade doctor removes its probes and nothing else: every tagged image stays', async (t) => {
    const docker = new Docker({ socketPath });
    const tagged = async () =>
      (await docker.listImages())
        .flatMap((image) => image.RepoTags ?? [])
        .filter((tag) => tag !== '<none>:<none>')
        .sort();
    const before = await tagged();
    const run = await runCli(['doctor', 'multi', '--reporter', 'json'], { env: { DOCKER_HOST: `unix://${socketPath}` } });
    const report = JSON.parse(run.stdout) as { checks: { id: string; status: string; found: string }[] };
    t.match(
      report.checks.find((check) => check.id === 'builder'),
      { status: 'ok' },
      'the probe built',
    );
    // On the containerd store an image has no parent to hold it back: removing the probe's FROM by id deleted it.
    t.same(await tagged(), before, 'the base images it probed from are still there');
  });
}

if (main) {
  const { ready, broken, skipped } = await extraEngines();
  for (const { name, problem } of broken) t.test(name, async (t) => t.fail(`GRADE_ENGINES names ${name}, and it cannot be used: ${problem}`));
  for (const { name, problem } of skipped) t.test(name, { skip: problem }, async () => {});

  const engines = [
    { name: 'main', engine: main as DockerEngine, socketPath: '/var/run/docker.sock' },
    ...ready.map(({ name, engine, socketPath }) => ({ name, engine: engine as DockerEngine, socketPath })),
  ];
  for (const { name, engine, socketPath } of engines) await t.test(name, (t) => dialectChecks(t, name, engine, socketPath));

  t.test('an API version the engine does not serve is refused, whatever the engine', async (t) => {
    const saved = process.env.DOCKER_API_VERSION;
    t.teardown(() => {
      if (saved === undefined) delete process.env.DOCKER_API_VERSION;
      else process.env.DOCKER_API_VERSION = saved;
    });
    for (const { name, socketPath } of [{ name: 'main', socketPath: '/var/run/docker.sock' }, ...ready]) {
      process.env.DOCKER_API_VERSION = '1.99';
      const engine = new DockerodeEngine({ docker: new Docker({ socketPath, version: 'v1.99' }) });
      await t.rejects(engine.info(), EngineError, `${name} refuses 1.99`);
      await engine.info().catch((error: Error) => t.match(error.message, /1\.99 is too new/, `${name}: ${error.message}`));
    }
  });

  t.teardown(async () => {
    for (const { engine } of engines) {
      const left = await engine.listOurs(LABEL);
      for (const container of left.containers) await engine.removeContainer(container.id);
    }
  });
}
