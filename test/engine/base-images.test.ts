// Base images and C libraries on the real engine: a base image no registry can provide is the
// grading machine's problem (not judged, exit 2, one message, no hint for the student); one the
// registry says does not exist is the student's (a failed check naming it); a dynamically linked
// program in an image without its C library is named as such.
import t from 'tap';
import { cp, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { exercisesRoot, packageRoot } from '../../runner/paths.js';
import type { CheckResult, ExerciseResult } from '../../runner/results.js';
import { grade } from '../../runner/grading/run.js';
import { loadExercise } from '../../runner/spec/loader.js';
import { runCli } from '../support/cli.js';
import { faultSuite, realEngine, standInSolution, submissions, testLimits } from '../support/engine.js';
import { checkOf } from '../support/results.js';

const faults = faultSuite(t, import.meta.filename);

const engine = await realEngine(t);

if (engine) {
  const exercise = await loadExercise(path.join(exercisesRoot, 'multi'));
  const offline = ['--build-network', 'none'];
  const checks = (result: ExerciseResult): CheckResult[] => result.steps.flatMap((step) => step.checks);

  t.test("the seed's own files offline: alpine:3.5 cannot be had, so nothing that needs it is judged; exit 2", async (t) => {
    faults.add();
    const dir = path.join(t.testdirName, 'seed');
    await cp(path.join(packageRoot, 'exercises/multi/solution'), dir, { recursive: true });
    const run = await runCli(['multi', '--dir', dir, '--reporter', 'json', ...offline]);
    t.equal(run.code, 2, 'a required check could not be judged');
    const result = JSON.parse(run.stdout) as ExerciseResult;
    const unjudged = checks(result).filter((one) => one.status === 'error');
    t.ok(unjudged.length >= 9, `${unjudged.length} checks not judged`);
    for (const one of unjudged) {
      // The scratch part of the seed starts from alpine:3.8.
      const image = one.id === 'sleep-builds' || one.id === 'tiny' || one.id === 'still-running' ? 'alpine:3\\.8' : 'alpine:3\\.5';
      t.match(
        one.message,
        new RegExp(
          `^not judged: base image ${image} is not on this machine and no registry could be reached \\(.*\\): connect to the network and grade again, or make the image available with \`docker pull ${image}\` \\(online\\) or \`docker load\`$`,
        ),
        one.id,
      );
      t.equal(one.hint, undefined, `${one.id}: no hint about the student's Dockerfile`);
    }
    t.equal(checkOf(result, 'compile-hello/hello-c-exists').status, 'pass', 'what needs no image is judged');
    t.equal(checkOf(result, 'large-small/multi-stage').status, 'pass');
    for (const one of checks(result).filter((found) => found.status === 'skip')) t.equal(one.hint, undefined);

    const terminal = await runCli(['multi', '--dir', dir, ...offline]);
    t.equal(terminal.code, 2);
    t.notMatch(terminal.stdout, /hint: Name the first stage/, 'no hint that does not fit the cause');
    for (const image of ['alpine:3.5', 'alpine:3.8']) {
      t.equal(
        terminal.stdout.split(`base image ${image} is not on this machine and no registry could be reached`).length - 1,
        1,
        `the cause is printed once for ${image}`,
      );
    }
    t.match(
      terminal.stdout,
      /^Score: 5\/28: \d+ required checks not passed yet, \d+ of them not judged on this machine \(the cause is above\)$/m,
      'the summary says the grade is not known',
    );
  });

  t.test("a base image the registry says does not exist is the student's typo: a failed check naming it", async (t) => {
    faults.add();
    // A registry on loopback that knows no image: the engine trusts 127.0.0.0/8 over plain HTTP.
    const registry = http.createServer((request, response) => {
      const headers = { 'Content-Type': 'application/json', 'Docker-Distribution-API-Version': 'registry/2.0' };
      if (request.url === '/v2/') {
        response.writeHead(200, headers).end('{}');
        return;
      }
      response.writeHead(404, headers).end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: {} }] }));
    });
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
    t.teardown(() => new Promise<void>((resolve) => registry.close(() => resolve())));
    const image = `127.0.0.1:${(registry.address() as AddressInfo).port}/library/alpnie:3.5`;

    const dir = path.join(t.testdirName, 'typo');
    await cp(path.join(submissions, 'kept-large'), dir, { recursive: true });
    const dockerfile = path.join(dir, 'Dockerfile');
    await writeFile(dockerfile, (await readFile(dockerfile, 'utf8')).replace(/^FROM grade-fixture\/toolchain AS build$/m, `FROM ${image} AS build`));
    const result = await grade({ exercise, submissionDir: dir, engine, limits: testLimits });
    const builds = checkOf(result, 'large-small/small-builds');
    t.match(builds, {
      status: 'fail',
      message: `base image ${image} does not exist in its registry (manifest for ${image} not found: manifest unknown: manifest unknown)`,
      hint: `Check the FROM line: is ${image} spelt right, with a tag that exists? \`docker pull ${image}\` shows what the registry says.`,
    });
    t.notOk(
      checks(result).some((one) => one.status === 'error'),
      'everything is judged',
    );
    t.equal(result.passed, false);
  });

  t.test('a dynamically linked hello in a final image without a C library: the message names the cause', async (t) => {
    faults.add();
    const dir = await standInSolution(path.join(t.testdirName, 'no-libc'));
    const dockerfile = path.join(dir, 'Dockerfile');
    const text = await readFile(dockerfile, 'utf8');
    // The runtime stand-in is static busybox plus glibc: take glibc away.
    await writeFile(dockerfile, text.replace(/^FROM grade-fixture\/runtime$/m, 'FROM grade-fixture/runtime\nRUN rm -rf /lib/x86_64-linux-gnu /lib64'));
    const result = await grade({ exercise, submissionDir: dir, engine, limits: testLimits });
    t.match(checkOf(result, 'large-small/small-prints-hello'), {
      status: 'fail',
      message:
        "the image's default command could not run: /app/hello is in the image, but it is dynamically linked and the image has no C library or loader to run it",
      hint: /^Link the program statically \(gcc -static \.\.\.\), or start the final stage FROM a base image that has the C library/,
      log: /\/app\/hello: not found/,
    });
    const left = await engine.listOurs(`grade.run=${result.runId}`);
    t.same(left, { containers: [], images: [] }, 'the probe container is removed too');
  });
}
