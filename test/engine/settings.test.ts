// Wrong settings get exit 2 and one message naming the value and the fix, never a stack trace:
// a DOCKER_HOST that is no engine or no host, a malformed one, a malformed API version, and limits
// outside their bounds, refused before the engine sees them.
import t, { type Test } from 'tap';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exercisesRoot } from '../../runner/paths.js';
import { runCli, type CliRun } from '../support/cli.js';
import { faultSuite, realEngine, standInSolution } from '../support/engine.js';

const faults = faultSuite(t, import.meta.filename);

const STACK = /\n\s+at /;
const stateDir = await mkdtemp(path.join(tmpdir(), 'grade-state-'));
t.teardown(() => rm(stateDir, { recursive: true, force: true }));

/** A web server that answers every request 404, counting them. */
async function webServer(t: Test): Promise<{ host: string; requests: () => number }> {
  let requests = 0;
  const server = http.createServer((_, response) => {
    requests++;
    response.writeHead(404, { 'content-type': 'text/plain' });
    response.end('404 page not found\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { host: `tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}`, requests: () => requests };
}

function refused(t: Test, run: CliRun, message: string | RegExp): void {
  t.equal(run.code, 2, 'exit 2');
  t.match(run.stderr, message);
  t.notMatch(run.stderr, STACK, 'no stack trace');
  t.notMatch(run.stderr, /internal error/);
}

const run = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { env: { GRADE_STATE_DIR: stateDir, ...env }, timeoutMs: 120_000 });

t.test('DOCKER_HOST that is not a Docker engine', async (t) => {
  faults.add();
  const web = await webServer(t);
  const dir = t.testdir({});
  const result = await run(['multi', '--dir', dir], { DOCKER_HOST: web.host });
  refused(t, result, `grade: the service at ${web.host} answered, but not as a Docker engine (HTTP 404 to GET /version: 404 page not found)`);
  t.match(result.stderr, /Point DOCKER_HOST at a Docker engine/);
});

t.test('DOCKER_HOST naming a host that does not resolve', async (t) => {
  faults.add();
  const result = await run(['multi', '--dir', t.testdir({})], { DOCKER_HOST: 'tcp://no-such-host.invalid:2375' });
  refused(
    t,
    result,
    /grade: DOCKER_HOST=tcp:\/\/no-such-host\.invalid:2375 names host no-such-host\.invalid, which does not resolve \((ENOTFOUND|EAI_AGAIN)\)/,
  );
});

t.test('a malformed DOCKER_HOST says which schemes work', async (t) => {
  faults.add();
  for (const [host, why] of [
    ['banana://x', 'banana:// is not a scheme Docker uses'],
    ['tcp://', 'it names no host'],
  ]) {
    const result = await run(['multi', '--dir', t.testdir({})], { DOCKER_HOST: host });
    refused(t, result, `grade: DOCKER_HOST=${host} is not an engine address: ${why}`);
    t.match(result.stderr, /unix:\/\/.*tcp:\/\/.*ssh:\/\/.*npipe:\/\/.* on Windows/);
    t.equal(result.stdout, '', 'refused before anything is shown');
  }
});

t.test('a malformed DOCKER_API_VERSION is refused before any request', async (t) => {
  faults.add();
  const web = await webServer(t);
  const result = await run(['multi', '--dir', t.testdir({})], { DOCKER_HOST: web.host, DOCKER_API_VERSION: 'banana' });
  refused(t, result, 'grade: DOCKER_API_VERSION=banana: expected a version such as 1.41');
  t.equal(web.requests(), 0);
});

t.test('limits outside their bounds are refused before the engine sees them, in one line', async (t) => {
  faults.add();
  const web = await webServer(t);
  const dir = t.testdir({});
  for (const [flag, value, message] of [
    ['--memory', '0', '--memory 0 is below the minimum of 64MiB'],
    ['--memory', '1MB', '--memory 1MB is below the minimum of 64MiB'],
    ['--memory', '20GiB', '--memory 20GiB is above the maximum of 16GiB'],
    ['--output-limit', '0', '--output-limit 0 is below the minimum of 1KiB'],
    ['--cpus', '100', '--cpus 100 is above the maximum of 64'],
    ['--pids', '8', '--pids 8 is below the minimum of 16'],
    ['--run-timeout', '11m', '--run-timeout 11m is above the maximum of 10m'],
    ['--build-timeout', '1s', '--build-timeout 1s is below the minimum of 10s'],
    ['--engine-timeout', '100ms', '--engine-timeout 100ms is below the minimum of 1s'],
  ] as const) {
    const result = await run(['multi', '--dir', dir, flag, value], { DOCKER_HOST: web.host });
    refused(t, result, `grade: ${message} (`);
    t.match(result.stderr, new RegExp(`: use ${flag} \\S+ or (more|less)\\n$`), 'says what to write instead');
    t.equal(result.stderr.trim().split('\n').length, 1, `${flag} ${value}: one line`);
  }
  t.equal(web.requests(), 0, 'no request reached the engine');
});

t.test('limits in a spec outside their bounds are spec errors at their line', async (t) => {
  faults.add();
  const base = t.testdir({ exercises: {}, submission: {} });
  const root = path.join(base, 'exercises');
  await cp(path.join(exercisesRoot, 'multi'), path.join(root, 'multi'), { recursive: true });
  const specFile = path.join(root, 'multi', 'exercise.yaml');
  const spec = await readFile(specFile, 'utf8');
  t.match(spec, /^limits:\n/m);
  await writeFile(specFile, spec.replace(/^limits:\n/m, 'limits:\n  memory: 0\n  output: 0\n'));
  const result = await run(['multi', '--dir', path.join(base, 'submission'), '--exercises', root]);
  refused(t, result, /exercise\.yaml:\d+:\d+: memory 0 is below the minimum of 64MiB \(.*\): use memory: 64MiB or more/);
  t.match(result.stderr, /exercise\.yaml:\d+:\d+: output 0 is below the minimum of 1KiB/);
});

const engine = await realEngine(t);
if (engine) {
  const { cpus } = await engine.info();

  t.test(
    'more CPUs than the engine has: lowered to what it has, with one note',
    { skip: !cpus || cpus >= 64 ? `the engine has ${cpus} CPUs` : false },
    async (t) => {
      faults.add();
      const asked = cpus! + 1;
      const result = await run(['multi', '--dir', t.testdir({}), '--cpus', String(asked)]);
      t.equal(result.code, 1, 'graded: the empty submission fails, nothing crashed');
      const note = `cpus ${asked}: the engine has ${cpus} CPU${cpus === 1 ? '' : 's'}; using ${cpus}`;
      t.equal(result.stdout.split(note).length - 1, 1, 'the note is printed once');
      t.notMatch(result.stderr, STACK);
    },
  );

  t.test('the minimum memory is enough to build and grade the reference solution', async (t) => {
    faults.add();
    await mkdir(t.testdirName, { recursive: true });
    const dir = await standInSolution(path.join(t.testdirName, 'solution'));
    const result = await run(['multi', '--dir', dir, '--build-network', 'none', '--memory', '64MiB']);
    t.equal(result.code, 0, result.stdout);
    t.match(result.stdout, /^Score: 28\/28/m);
  });
}
