// The workflow's grading step, run here as GitHub Actions runs it: the built `grade` with
// GITHUB_ACTIONS, GITHUB_STEP_SUMMARY, GITHUB_OUTPUT and GITHUB_WORKSPACE set, on the real
// engine. Its log is read back as the runner reads it (test/support/workflow-commands.ts).
import t, { type Test } from 'tap';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { markdownText } from '../../reports/github-summary.js';
import { packageRoot } from '../../runner/paths.js';
import type { ExerciseResult } from '../../runner/results.js';
import { runCli } from '../support/cli.js';
import { faultSuite, realEngine, submissions } from '../support/engine.js';
import { readWorkflowLog } from '../support/workflow-commands.js';

const engine = await realEngine(t);
// No registry is reachable: builds run without a network (test/support/engine.ts testLimits).
const offline = ['--build-network', 'none', '--run-timeout', '10s'];

/** A workspace as actions/checkout leaves it, and the files GitHub names for one step. */
async function workspace(t: Test) {
  const dir = t.testdir({ 'summary.md': '', 'output.txt': '' });
  const env = {
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_WORKSPACE: dir,
    GITHUB_STEP_SUMMARY: path.join(dir, 'summary.md'),
    GITHUB_OUTPUT: path.join(dir, 'output.txt'),
  };
  return { dir, env };
}

/** The step output `result`, decoded. */
async function stepOutput(file: string): Promise<string> {
  const line = (await readFile(file, 'utf8')).split('\n').find((each) => each.startsWith('result='));
  if (!line) throw new Error(`no result= line in ${file}`);
  return Buffer.from(line.slice('result='.length), 'base64').toString('utf8');
}

type ClassroomDocument = { max_score: number; tests: { score: number; status: string }[] };

if (engine) {
  const faults = faultSuite(t, import.meta.filename);

  t.test('a hostile submission: its workflow commands stay text; the summary, output and annotations are ours', async (t) => {
    // Each forged command the program prints (::error, ::add-mask::, ::set-output, a stop/resume pair, ::endgroup::, ##[error], a \r-hidden one).
    faults.add(7);
    const { dir, env } = await workspace(t);
    // The student's repository holds the exercise in multi/, with the optional part in multi/scratch/.
    await cp(path.join(packageRoot, 'test/fixtures/hostile/workflow-commands'), path.join(dir, 'multi'), { recursive: true });
    const reports = path.join(dir, 'reports');
    const run = await runCli(['multi', '--dir', 'multi', '--out', reports, '--report', 'json,classroom', ...offline], { cwd: dir, env });
    t.equal(run.code, 1, `a required check failed\n${run.stderr}`);

    const log = readWorkflowLog(run.stdout);
    t.notOk(log.endsStopped, 'the log ends with commands on again');
    const carriedOut = log.commands.map((command) => command.name);
    for (const forged of ['add-mask', 'set-output']) t.notOk(carriedOut.includes(forged), `no ${forged}`);
    t.notOk(
      log.commands.some((command) => /forged|secret|Zm9yZ2Vk|28\/28/.test(`${command.data} ${JSON.stringify(command.properties)}`)),
      'no command carries anything the program printed',
    );
    for (const forged of [
      '::error file=hello.c,line=1::forged error',
      '::add-mask::secret',
      '::set-output name=result::Zm9yZ2Vk',
      '::stop-commands::x',
      '::x::',
    ]) {
      t.ok(
        log.stoppedLines.some((line) => line.includes(forged)),
        `${forged} was printed, inside a stopped region`,
      );
    }
    t.ok(
      log.stoppedLines.some((line) => line.includes('##[error]forged legacy command')),
      'so was the ##[ line',
    );
    t.ok(
      log.stoppedLines.some((line) => /^ +\| +10 \| .*##\[set-output name=result\]Zm9yZ2Vk/.test(line)),
      'and the source line gcc quotes in its warning',
    );
    t.ok(
      log.stoppedLines.some((line) => line.includes('::notice::Score 28/28')),
      'and the command behind a carriage return',
    );
    // Every line is ours: a command the runner carries out, or text inside a stopped region.
    const lines = run.stdout.split(/\r\n|\r|\n/).filter((line) => line !== '');
    t.equal(lines.length, log.commands.length + log.stoppedLines.filter((line) => line !== '').length, 'no line of the view is outside a stopped region');
    t.same(
      log.commands.filter((command) => command.name === 'group').map((command) => command.data),
      [
        'hello.c compiles cleanly and prints the greeting',
        'A large single-stage image and a small multi-stage one',
        'The build stage on its own, from the cache',
        'Optional: an image FROM scratch (bonus)',
      ],
      'one group per step, opened and closed outside the stopped regions',
    );
    t.equal(carriedOut.filter((name) => name === 'endgroup').length, 4);

    const results = JSON.parse(await readFile(path.join(reports, 'results.json'), 'utf8')) as ExerciseResult;
    const errors = log.commands.filter((command) => command.name === 'error');
    t.same(
      errors.map((command) => command.properties),
      [{ file: 'multi/hello.c', line: '10', col: '9', title: 'gcc -Wall compiles hello.c without warnings' }],
      'an error annotation on the warning, at its file in the repository',
    );
    t.match(errors[0]!.data, /printed 1 warning\n\nHint: /, 'the message and the hint');
    const warnings = log.commands.filter((command) => command.name === 'warning');
    t.same(
      warnings.map((command) => [command.properties.file, command.properties.line]),
      [
        ['multi/scratch/Dockerfile', '6'],
        ['multi/scratch/Dockerfile', '6'],
      ],
      'the bonus step: warnings, at the line of scratch/Dockerfile that does not parse',
    );
    const notice = log.commands.at(-1)!;
    t.equal(notice.name, 'notice');
    t.match(notice.data, new RegExp(`^Score ${results.score}/${results.maxScore}: \\d+ required checks? not passed$`), 'the last line: the score');
    t.same(
      results.steps.flatMap((step) => step.checks).find((check) => check.id === 'compiles-cleanly')?.location,
      { file: 'hello.c', line: 10, column: 9 },
      'results.json: the location, relative to the submission',
    );

    const summary = await readFile(env.GITHUB_STEP_SUMMARY, 'utf8');
    t.match(summary, `**Score: ${results.score}/${results.maxScore}**`, 'the summary has the score');
    t.match(summary, /\| :-: \| --- \| --- \| --: \|\n/, 'and the table');
    t.ok(summary.includes(`| ❌ | ${markdownText('gcc -Wall compiles hello.c without warnings')} | failed | 0/2 |`), 'a row per check');
    t.match(summary, /<pre>\n[^<]*::add-mask::secret[^<]*<\/pre>/, "the program's output is shown as code");
    t.notMatch(summary, dir, "no path of the grading machine's");

    const decoded = await stepOutput(env.GITHUB_OUTPUT);
    t.equal(decoded, await readFile(path.join(reports, 'classroom.json'), 'utf8'), 'the step output decodes to classroom.json');
    const classroom = JSON.parse(decoded) as ClassroomDocument;
    const total = classroom.tests.reduce((sum, test) => sum + test.score, 0);
    t.equal(total, results.score, 'whose tests add up to the score');
    t.equal(classroom.max_score, results.maxScore, 'out of the maximum');
    const passed = classroom.tests.filter((test) => test.status === 'pass').length;
    t.equal((passed / classroom.tests.length) * classroom.max_score, results.score, "the reporter's figure in the log says the same");
  });

  t.test('a Dockerfile that does not parse: errors at its line, named from the submission when it is outside the workspace', async (t) => {
    const { dir, env } = await workspace(t);
    await writeFile(env.GITHUB_OUTPUT, 'earlier=1\n');
    const reports = path.join(dir, 'reports');
    const run = await runCli(['multi', '--dir', path.join(submissions, 'broken-dockerfile'), '--out', reports, '--report', 'junit', ...offline], {
      cwd: dir,
      env,
    });
    t.equal(run.code, 1, run.stderr);
    const log = readWorkflowLog(run.stdout);
    const errors = log.commands.filter((command) => command.name === 'error');
    t.ok(errors.length >= 3, `the checks of the broken Dockerfile are annotated (${errors.length})`);
    t.ok(
      errors.every((command) => command.properties.file === 'Dockerfile' && command.properties.line === '4'),
      'all on Dockerfile line 4, the COPPY',
    );
    t.match(errors.map((command) => command.data).join('\n'), /Dockerfile:4: unknown instruction "COPPY"/);
    t.match(
      await readFile(path.join(reports, 'junit.xml'), 'utf8'),
      /<testcase name="the small image builds" [^>]*file="Dockerfile" line="4">/,
      'JUnit carries the place too',
    );
    const output = await readFile(env.GITHUB_OUTPUT, 'utf8');
    t.match(output, /^earlier=1\nresult=[A-Za-z0-9+/=]+\n$/, 'the output file is appended to, one line');
  });
}
