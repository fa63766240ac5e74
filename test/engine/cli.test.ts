// The `grade` command against the real engine: the JSON contract on stdout, the exit status, and
// plain progress lines when not writing to a terminal.
import t from 'tap';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { realEngine, standInSolution, submissions } from '../support/engine.js';

const engine = await realEngine(t);

if (engine) {
  const offline = ['--build-network', 'none'];

  t.test('--reporter json prints exactly one document with the contract fields; exit 0 when all required checks pass', async (t) => {
    const dir = await standInSolution(t.testdir());
    const run = await runCli(['multi', '--dir', dir, '--reporter', 'json', ...offline]);
    t.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout);
    t.match(result, { exercise: 'multi', score: Number, maxScore: Number });
    t.equal(result.score, result.maxScore);
    t.same(
      result.steps.map((step: { id: string }) => step.id),
      ['compile-hello', 'large-small', 'target-stage', 'scratch-sleep'],
    );
    for (const step of result.steps) {
      t.match(step, { id: String, title: String, checks: Array });
      for (const check of step.checks) {
        t.match(check, { id: String, title: String, status: /^(pass|fail|skip|error)$/, points: Number, maxPoints: Number, message: String });
      }
    }
    t.match(run.stderr, /Score: 28\/28/, 'progress and summary go to stderr');
  });

  t.test('exit 1 when a required check fails; plain text without control codes when piped', async (t) => {
    const run = await runCli(['multi', '--dir', path.join(submissions, 'wrong-output'), ...offline], { env: { TERM: 'xterm-256color' } });
    t.equal(run.code, 1);
    t.notMatch(run.stdout, /\u001b/, 'no escape sequences');
    t.match(run.stdout, /FAIL 0\/2 {2}the program prints "Hello, world!"/);
    t.match(run.stdout, /hint: Print exactly "Hello, world!"/);
    t.match(run.stdout, /Score: \d+\/28: \d+ required checks? not passed yet/);
  });

  t.test('an API version the engine refuses exits 2 and says what to do', async (t) => {
    const run = await runCli(['multi', '--dir', path.join(submissions, 'kept-large')], { env: { DOCKER_API_VERSION: '1.99' } });
    t.equal(run.code, 2);
    t.match(run.stderr, /the Docker engine refused our API version: client version 1\.99 is too new/);
    t.match(run.stderr, /DOCKER_API_VERSION/);
    t.notMatch(run.stderr, /\n\s+at /, 'no stack trace');
  });
}
