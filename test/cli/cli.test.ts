// The `grade` command without an engine: help, version, listing, and every way it refuses to
// grade (bad arguments, an invalid spec, no engine) with exit 2 and a message, never a stack.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { packageRoot } from '../../runner/paths.js';
import { runCli } from '../support/cli.js';

const { version } = JSON.parse(await readFile(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string };

t.test('--help and --version', async (t) => {
  const help = await runCli(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /Usage: grade <exercise>/);
  t.match(help.stdout, /Exit status: 0 .* 1 .* 2/);
  const shown = await runCli(['--version']);
  t.equal(shown.code, 0);
  t.equal(shown.stdout, `${version}\n`);
});

t.test('grade list shows the multi exercise and its steps', async (t) => {
  const listed = await runCli(['list']);
  t.equal(listed.code, 0);
  t.match(listed.stdout, /^multi {2}Create Images using Dockerfiles \(3\/3\) \| Multi-Stage$/m);
  for (const step of ['compile-hello', 'large-small', 'target-stage', 'scratch-sleep']) t.match(listed.stdout, new RegExp(`^  ${step} `, 'm'));
  t.match(listed.stdout, /scratch-sleep .*\(bonus\)/);
});

t.test('bad arguments exit 2 with one line that says what is wrong', async (t) => {
  for (const [args, message] of [
    [[], /^grade: name an exercise/],
    [['multi', '--reporter', 'xml'], /^grade: --reporter xml: expected one of terminal, json, tap$/],
    [['nope'], /^grade: no exercise "nope" .*exercises: multi\)$/],
    [['mutli'], /^grade: no exercise "mutli" .*: did you mean "multi"\?$/],
    [['lsit'], /^grade: no exercise "lsit" .*: did you mean "list"\?$/],
    [['multi', '--run-timeout', 'soon'], /^grade: --run-timeout soon: expected a duration/],
    [['multi', '--frobnicate'], /^grade: unknown option --frobnicate \(grade --help lists the options\)$/],
    [['multi', '--dri', '.'], /^grade: unknown option --dri \(did you mean --dir\?\)$/],
    [['multi', '--memroy=1GiB'], /^grade: unknown option --memroy \(did you mean --memory\?\)$/],
    [['multi', '-x'], /^grade: unknown option -x \(grade --help lists the options\)$/],
    [['multi', '--dir'], /^grade: --dir needs a value$/],
    [['multi', '--reporter'], /^grade: --reporter needs a value$/],
    [['multi', '--dir', '--keep'], /^grade: --dir needs a value: --keep looks like an option \(to mean it as the value, write --dir=--keep\)$/],
    [['multi', '--keep=yes'], /^grade: --keep takes no value/],
    [['multi', 'extra'], /^grade: unexpected argument: extra$/],
    [['multi', '--dir', '/nonexistent/submission'], /^grade: --dir \/nonexistent\/submission: no such folder$/],
  ] as const) {
    const run = await runCli([...args]);
    const at = `grade ${args.join(' ')}`;
    t.equal(run.code, 2, `${at}: exit 2`);
    t.match(run.stderr.replace(/\n$/, ''), message, at);
    t.equal(run.stderr.split('\n').length, 2, `${at}: one line`);
    t.equal(run.stdout, '');
    t.notMatch(run.stderr, /\n\s+at |Error:|ERR_PARSE_ARGS|To specify/, `${at}: no stack trace, nothing from Node's parser`);
  }
});

t.test('an invalid spec exits 2 naming file, line and column', async (t) => {
  const root = t.testdir({
    broken: {
      'exercise.yaml': 'id: broken\ntitle: Broken\nsteps: [one]\n',
      'one.yaml': 'id: one\ntitle: One\nchecks:\n  - id: a\n    title: A\n    kind: file-exist\n    paths: [x]\n',
    },
  });
  const run = await runCli(['broken', '--exercises', root]);
  t.equal(run.code, 2);
  t.match(run.stderr, /one\.yaml:6:11: unknown check kind "file-exist" \(did you mean "file-exists"\?\)/);
  t.notMatch(run.stderr, /\n\s+at /);
});

t.test('no engine reachable exits 2 and says how to start one', async (t) => {
  const dir = t.testdir({ 'hello.c': 'int main(void) { return 0; }\n' });
  for (const reporter of ['terminal', 'json']) {
    const run = await runCli(['multi', '--dir', dir, '--reporter', reporter], { env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
    t.equal(run.code, 2);
    t.match(run.stderr, /cannot reach the Docker engine at unix:\/\/\/nonexistent\/docker\.sock/);
    t.match(run.stderr, /Start Docker/);
    t.notMatch(run.stderr, /\n\s+at /);
    if (reporter === 'json') t.equal(run.stdout, '', 'no half JSON document on stdout');
  }
});
