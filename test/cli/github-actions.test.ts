// `grade <exercise>` in GitHub Actions without an engine (the grading itself is in
// test/engine/github-actions.test.ts): what it prints before grading is fenced, the fence is
// closed when grading cannot start, and nothing is written to the summary or the step output.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { readWorkflowLog } from '../support/workflow-commands.js';

function githubEnv(dir: string) {
  return {
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_WORKSPACE: dir,
    GITHUB_STEP_SUMMARY: path.join(dir, 'summary.md'),
    GITHUB_OUTPUT: path.join(dir, 'output.txt'),
    DOCKER_HOST: 'unix:///nonexistent/docker.sock',
  };
}

t.test('no engine: the header is fenced, the fence is closed, and exit 2 says why', async (t) => {
  const dir = t.testdir({ 'summary.md': '', 'output.txt': '', 'bad\n::error::name': { 'hello.c': 'int main(void) { return 0; }\n' } });
  const submission = path.join(dir, 'bad\n::error::name');
  const run = await runCli(['multi', '--dir', submission], { env: githubEnv(dir), cwd: dir });
  t.equal(run.code, 2);
  t.match(run.stderr, /cannot reach the Docker engine/);
  const log = readWorkflowLog(run.stdout);
  t.match(run.stdout, /^::stop-commands::([0-9a-f]{32})\ngrade multi: /, 'the view starts inside a stopped region, with a 128-bit token');
  t.same(
    log.commands.map((command) => command.name),
    ['stop-commands', log.commands[0]!.data],
    'one region, closed with its token',
  );
  t.notOk(log.endsStopped, 'commands are on again when grade exits');
  t.ok(
    log.stoppedLines.some((line) => line.startsWith('submission: ')),
    "the submission's folder name is inside the region",
  );
  t.equal(await readFile(path.join(dir, 'summary.md'), 'utf8'), '', 'no summary without a grading');
  t.equal(await readFile(path.join(dir, 'output.txt'), 'utf8'), '', 'no step output');

  const again = await runCli(['multi', '--dir', submission], { env: githubEnv(dir), cwd: dir });
  t.not(readWorkflowLog(again.stdout).commands[0]!.data, log.commands[0]!.data, 'a new token every run');
});

t.test('a document on stdout stays the document alone', async (t) => {
  const dir = t.testdir({ 'summary.md': '', 'output.txt': '', sub: { 'hello.c': 'int main(void) { return 0; }\n' } });
  const run = await runCli(['multi', '--dir', path.join(dir, 'sub'), '--reporter', 'json'], { env: githubEnv(dir), cwd: dir });
  t.equal(run.code, 2);
  t.equal(run.stdout, '', 'no stop-commands line or half document on stdout');
  t.notMatch(run.stderr, /::/, 'and no view on stderr: with a document, GitHub mode shows none');
});
