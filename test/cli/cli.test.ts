// The `grade` command without an engine: help, version, listing, and every way it refuses to
// grade (bad arguments, an invalid spec, no engine) with exit 2 and a message, never a stack.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../../runner/paths.js';
import { flagRows } from '../../runner/spec/limit-table.js';
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
  t.equal(shown.stderr, '');
});

t.test('--help lists every command and every flag of the limits table, with its help', async (t) => {
  const help = await runCli(['--help']);
  t.match(help.stdout, /^ {7}grade list \[options\] +list the exercises/m);
  t.match(help.stdout, /^ {7}grade clean \[options\] +remove containers/m);
  for (const [, row] of flagRows()) t.match(help.stdout, `--${row.flag} `, `--${row.flag}`);
  t.match(help.stdout, /^ {2}--memory SIZE +memory per container and build, swap not allowed \(default 512MiB\)$/m);
  const clean = await runCli(['clean', '--help']);
  t.equal(clean.code, 0);
  t.match(clean.stdout, /^Usage: grade clean \[options\]/);
  t.match(clean.stdout, /^ {2}--cache +also every image/m);
  t.notMatch(clean.stdout, /--memory/, "only the command's own options");
});

t.test('--help and --version load neither the engine, the spec loader, the graders nor the reports', async (t) => {
  // A module hook that names every file of ours that is loaded.
  const dir = t.testdir({
    'hooks.mjs': `export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (resolved.url.startsWith('file:')) process.stderr.write('loaded ' + resolved.url + '\\n');
  return resolved;
}\n`,
    'register.mjs': "import { register } from 'node:module';\nregister(new URL('./hooks.mjs', import.meta.url));\n",
  });
  const nodeOptions = ['--import', pathToFileURL(path.join(dir, 'register.mjs')).href];
  for (const args of [['--version'], ['--help'], ['clean', '--help']]) {
    const run = await runCli(args, { nodeOptions });
    t.equal(run.code, 0);
    const loaded = run.stderr.split('\n').filter((line) => line.startsWith('loaded '));
    t.ok(
      loaded.some((line) => line.includes('/dist/runner/cli/main.js')),
      'the hook saw the entry',
    );
    t.same(
      loaded.filter((line) =>
        /dockerode|\/runner\/(grading|submission|dockerfile)\/|\/runner\/spec\/(loader|shapes)|\/graders\/|\/reports\/|\/yaml\//.test(line),
      ),
      [],
      `grade ${args.join(' ')}`,
    );
  }
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
    [['list', '--cache'], /^grade: unknown option --cache \(grade list --help lists the options\)$/],
    [['clean', '--cahce'], /^grade: unknown option --cahce \(did you mean --cache\?\)$/],
    [['clean', '--engine-timeout'], /^grade: --engine-timeout needs a value$/],
    [['clean', 'now'], /^grade: unexpected argument: now$/],
    [['multi', '--memory', '1MB'], /^grade: --memory 1MB is below the minimum of 64MiB \(.*\): use --memory 64MiB or more$/],
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
      'exercise.yaml': 'schemaVersion: 1\nid: broken\ntitle: Broken\nsteps: [one]\n',
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

t.test('grade --exercises DIR list: the folder may be named before the command, too', async (t) => {
  const root = t.testdir({
    tiny: {
      'exercise.yaml': 'schemaVersion: 1\nid: tiny\ntitle: Tiny\nsteps: [one]\n',
      'one.yaml': 'id: one\ntitle: One\nchecks:\n  - id: a\n    title: A\n    kind: file-exists\n    paths: [x]\n',
    },
  });
  for (const args of [
    ['--exercises', root, 'list'],
    ['list', '--exercises', root],
  ]) {
    const run = await runCli(args);
    t.equal(run.code, 0, args.join(' '));
    t.match(run.stdout, /^tiny {2}Tiny$/m, `${args.join(' ')}: the given folder is listed`);
    t.notMatch(run.stdout, /^multi /m);
  }
});

t.test('a reader that goes away (grade list | head -1) ends grade quietly', async (t) => {
  const { spawn } = await import('node:child_process');
  const { cliPath } = await import('../support/cli.js');
  const child = spawn(process.execPath, [cliPath, 'list'], { cwd: packageRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // Close the pipe before grade writes: every write then fails with EPIPE.
  child.stdout.destroy();
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.equal(code, 0);
  t.equal(stderr, '', 'no stack trace, no message');
});
