// GitHub Actions mode, read back as the runner reads a log (test/support/workflow-commands.ts):
// annotations escaped, ordered and limited; every line the view writes inside a stop-commands
// region and every line of ours outside one; the summary appended; the step output decoding to
// classroom.json, within what an environment variable can hold.
import t from 'tap';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { classroomReport } from '../../reports/classroom.js';
import {
  annotationCommand,
  annotationsOf,
  classroomOutput,
  escapeData,
  escapeProperty,
  GithubActionsRun,
  githubActionsRun,
  githubSettings,
  MAX_ANNOTATIONS_PER_KIND,
  OUTPUT_MAX_CHARS,
  repositoryPath,
  scoreNotice,
  WorkflowLog,
} from '../../runner/cli/github-actions.js';
import type { RunEvent } from '../../runner/grading/run.js';
import type { CheckResult, ExerciseResult, StepResult } from '../../runner/results.js';
import { summarize } from '../../runner/results.js';
import type { Step } from '../../runner/spec/loader.js';
import { cliPath } from '../support/cli.js';
import { readWorkflowLog } from '../support/workflow-commands.js';

interface WorkflowStep {
  id?: string;
  run?: string;
  uses?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  env: Record<string, string>;
  jobs: Record<string, { name?: string; 'runs-on': string; steps: WorkflowStep[] }>;
}

const root = path.resolve(import.meta.dirname, '../..');
const fixture = (name: string) => JSON.parse(readFileSync(path.join(root, 'test/fixtures/results', `${name}.json`), 'utf8')) as ExerciseResult;

/** What a submission's program might print to take over the workflow. */
const FORGED = [
  '::error file=hello.c,line=1::forged error',
  '  ::add-mask::secret',
  '::set-output name=result::forged',
  '::stop-commands::x',
  '::x::',
  '::endgroup::',
  '::group::forged group',
  'text ##[error]forged legacy command',
  '::notice::Score 28/28',
].join('\n');

function check(id: string, status: CheckResult['status'], required: boolean, location?: CheckResult['location']): CheckResult {
  return {
    id,
    title: `check ${id}`,
    kind: 'k',
    status,
    points: status === 'pass' ? 1 : 0,
    maxPoints: 1,
    required,
    message: `message of ${id}`,
    source: { file: 's.yaml', line: 1 },
    ...(location ? { location } : {}),
    durationMs: 1,
  };
}

function resultOf(steps: StepResult[], submission = '/work/repo/multi'): ExerciseResult {
  return { ...fixture('solution'), steps, ...summarize(steps), submission };
}

const stepOf = (id: string, required: boolean, checks: CheckResult[]): StepResult => ({ id, title: `Step ${id}`, required, checks, durationMs: 1 });

/** A sink that keeps what was written, as one log. */
function logSink() {
  let text = '';
  return {
    write(chunk: string) {
      text += chunk;
      return true;
    },
    get text() {
      return text;
    },
  };
}

t.test('escaping follows the runner: data %, CR, LF; properties also : and ,', async (t) => {
  t.equal(escapeData('100% done\nnext'), '100%25 done%0Anext');
  t.equal(escapeData('a\r\nb\rc'), 'a%0Ab%0Ac', 'a carriage return is a line break, as the terminal view shows it');
  t.equal(escapeProperty('a:b,c%d\ne'), 'a%3Ab%2Cc%25d%0Ae');
  t.equal(escapeData('\u001b[31mred\u001b[0m'), 'red', 'terminal escapes go');
  const line = annotationCommand({ level: 'error', file: 'dir,line=9/x:y.c', line: 3, column: 7, title: 'a, b: c', message: 'first\n::error::forged\r%0A' });
  t.equal(line, '::error file=dir%2Cline=9/x%3Ay.c,line=3,col=7,title=a%2C b%3A c::first%0A::error::forged%0A%250A');
  t.notMatch(line, /[\r\n]/, 'one line, whatever the text');
  const read = readWorkflowLog(line);
  t.same(
    read.commands.map((command) => [command.name, command.properties, command.data]),
    [['error', { file: 'dir,line=9/x:y.c', line: '3', col: '7', title: 'a, b: c' }, 'first\n::error::forged\n%0A']],
  );
});

t.test('annotations: failures with a place, required first, then the spec order, ten of a kind', async (t) => {
  const at = (line: number) => ({ file: 'Dockerfile', line });
  const steps = [
    stepOf('bonus-early', false, [check('b1', 'fail', false, at(1))]),
    stepOf(
      'main',
      true,
      Array.from({ length: 12 }, (_, index) => check(`r${index}`, 'fail', true, at(index + 10))),
    ),
    stepOf('more', true, [
      check('no-place', 'fail', true),
      check('passed', 'pass', true, at(99)),
      check('skipped', 'skip', true, at(98)),
      check('not-judged', 'error', true, at(97)),
    ]),
    stepOf(
      'bonus',
      false,
      Array.from({ length: 11 }, (_, index) => check(`b${index + 2}`, 'fail', false, { file: 'scratch/Dockerfile', line: index + 1, column: 2 })),
    ),
  ];
  const annotations = annotationsOf(resultOf(steps), (location) => `multi/${location.file}`);
  const errors = annotations.filter((annotation) => annotation.level === 'error');
  const warnings = annotations.filter((annotation) => annotation.level === 'warning');
  t.equal(errors.length, MAX_ANNOTATIONS_PER_KIND, 'ten errors');
  t.equal(warnings.length, MAX_ANNOTATIONS_PER_KIND, 'ten warnings');
  t.same(
    annotations.map((annotation) => annotation.level),
    [...Array(10).fill('error'), ...Array(10).fill('warning')],
    'errors (required steps) before warnings (bonus), whatever the step order',
  );
  t.same(
    errors.map((annotation) => annotation.line),
    Array.from({ length: 10 }, (_, index) => index + 10),
    'the first ten required failures, in the spec order',
  );
  t.same(
    warnings.map((annotation) => annotation.file).slice(0, 2),
    ['multi/Dockerfile', 'multi/scratch/Dockerfile'],
    'bonus failures in the spec order, at their files',
  );
  t.same(warnings[1], { level: 'warning', file: 'multi/scratch/Dockerfile', line: 1, column: 2, title: 'check b2 (bonus)', message: 'message of b2' });
  t.notOk(
    annotations.some((annotation) => /no-place|passed|skipped|not-judged/.test(annotation.title)),
    'only failures that point at a line',
  );
  const hinted = annotationsOf(resultOf([stepOf('s', true, [{ ...check('h', 'fail', true, at(4)), hint: 'try this' }])]), (location) => location.file);
  t.equal(hinted[0]!.message, 'message of h\n\nHint: try this', 'the hint follows the message');
});

t.test('an annotation names the file as the repository does', async (t) => {
  const workspace = '/home/runner/work/repo/repo';
  t.equal(repositoryPath(`${workspace}`, { file: 'hello.c', line: 1 }, workspace), 'hello.c', 'the submission is the repository');
  t.equal(repositoryPath(`${workspace}/multi`, { file: 'Dockerfile', line: 1 }, workspace), 'multi/Dockerfile', 'a folder of it');
  t.equal(repositoryPath(`${workspace}/multi`, { file: '../scratch/Dockerfile', line: 1 }, workspace), 'scratch/Dockerfile', 'a step folder beside it');
  t.equal(repositoryPath('/tmp/elsewhere', { file: 'hello.c', line: 1 }, workspace), 'hello.c', 'outside the workspace: relative to the submission');
  t.equal(repositoryPath(`${workspace}/multi`, { file: 'hello.c', line: 1 }, undefined), 'hello.c', 'no workspace: relative to the submission');
});

t.test('GitHub mode only where GitHub Actions says so', async (t) => {
  t.equal(githubSettings({}), undefined);
  t.equal(githubSettings({ GITHUB_ACTIONS: 'false' }), undefined);
  t.same(githubSettings({ GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: '/s', GITHUB_OUTPUT: '', GITHUB_WORKSPACE: '/w' }), {
    summaryFile: '/s',
    outputFile: undefined,
    workspace: '/w',
  });
  t.equal(githubActionsRun({}, 'terminal', logSink()), undefined, 'no run object outside GitHub Actions');
});

t.test('WorkflowLog: text inside a stopped region, commands outside, a new token each time', async (t) => {
  const sink = logSink();
  let tokens = 0;
  const log = new WorkflowLog(sink, () => `token${++tokens}`);
  log.text(`${FORGED}\n`);
  log.text('more\n');
  t.ok(log.stopped);
  log.command('::group::ours');
  log.text(`${FORGED}\n`);
  log.resume();
  log.resume();
  t.equal(
    sink.text,
    `::stop-commands::token1\n${FORGED}\nmore\n::token1::\n::group::ours\n::stop-commands::token2\n${FORGED}\n::token2::\n`,
    'one stop and one resume per region; resuming twice writes nothing',
  );
  const read = readWorkflowLog(sink.text);
  t.same(
    read.commands.map((command) => command.name),
    ['stop-commands', 'token1', 'group', 'stop-commands', 'token2'],
    'the runner carries out ours alone',
  );
  t.equal(read.stoppedLines.filter((line) => line.includes('forged')).length, 2 * FORGED.split('\n').filter((line) => line.includes('forged')).length);
  t.notOk(read.endsStopped);
});

function events(result: ExerciseResult): RunEvent[] {
  return result.steps.flatMap((stepResult) => {
    const step = {
      id: stepResult.id,
      title: stepResult.title,
      bonus: !stepResult.required,
      dirs: ['.'],
      needs: [],
      actions: [],
      checks: [],
      file: 's.yaml',
    } as unknown as Step;
    return [
      { type: 'step-start', step, dirLabel: '' } as const,
      { type: 'activity', step, text: FORGED } as const,
      ...stepResult.checks.map((result) => ({ type: 'check', step, result }) as const),
      { type: 'step-end', step, result: stepResult } as const,
    ];
  });
}

t.test('a run in terminal mode: the view fenced, steps grouped, then the summary, the output and our annotations', async (t) => {
  const dir = t.testdir({ summary: '# an earlier step wrote this\n', output: 'other=1\n' });
  const result = fixture('compile-error');
  const located = result.steps[0]!.checks.find((each) => each.status === 'fail')!;
  located.location = { file: 'hello.c', line: 5, column: 9 };
  const forgedResult = { ...result, submission: path.join(dir, 'multi') };
  const sink = logSink();
  let tokens = 0;
  const run = new GithubActionsRun(
    sink,
    { summaryFile: path.join(dir, 'summary'), outputFile: path.join(dir, 'output'), workspace: dir },
    'terminal',
    () => `tok${++tokens}en`,
  );
  // The view writes through its stream; here it writes each event's forged text, as a program's output would be.
  const view = (event: RunEvent) => {
    run.viewStream.write(`${event.type}: ${event.type === 'activity' ? event.text : ''}\n`);
  };
  run.viewStream.write(`header ${FORGED}\n`);
  for (const event of events(forgedResult)) run.onEvent(event, view);
  run.viewStream.write(`Score: ${FORGED}\n`);
  await run.finish(forgedResult);

  const read = readWorkflowLog(sink.text);
  const names = read.commands.map((command) => command.name);
  t.notOk(read.endsStopped, 'the log ends with commands on');
  t.notOk(
    read.commands.some(
      (command) =>
        /forged|secret/.test(`${command.data}${Object.values(command.properties).join()}`) || command.name === 'add-mask' || command.name === 'set-output',
    ),
    'no forged line is carried out',
  );
  for (const line of FORGED.split('\n')) {
    t.ok(
      read.stoppedLines.some((stopped) => stopped.includes(line.trim())),
      `${JSON.stringify(line)} is text`,
    );
  }
  t.same(names.filter((name) => name === 'group' || name === 'endgroup').length, 2 * result.steps.length, 'a group per step');
  t.same(
    read.commands.filter((command) => command.name === 'group').map((command) => command.data),
    result.steps.map((step) => `${step.title}${step.required ? '' : ' (bonus)'}`),
    'named by the steps',
  );
  const stops = read.commands.filter((command) => command.name === 'stop-commands').map((command) => command.data);
  t.equal(new Set(stops).size, stops.length, 'each region has its own token');
  const annotation = read.commands.find((command) => command.name === 'error');
  t.same(annotation?.properties, { file: 'multi/hello.c', line: '5', col: '9', title: located.title }, 'the annotation points at the file in the workspace');
  t.equal(names.at(-1), 'notice', 'the notice with the score comes last');
  t.match(read.commands.at(-1)!.data, new RegExp(`^Score ${result.score}/${result.maxScore}: \\d+ required checks? not passed$`));

  const summary = await readFile(path.join(dir, 'summary'), 'utf8');
  t.ok(summary.startsWith('# an earlier step wrote this\n'), 'the summary is appended, not written over');
  t.match(summary, `**Score: ${result.score}/${result.maxScore}**`);
  const output = await readFile(path.join(dir, 'output'), 'utf8');
  t.ok(output.startsWith('other=1\n'), 'the output file is appended to');
  const value = /^result=([A-Za-z0-9+/=]+)\n$/m.exec(output)?.[1];
  t.ok(value, 'result=<base64> on one line');
  t.equal(Buffer.from(value!, 'base64').toString('utf8'), classroomReport(forgedResult), 'which decodes to classroom.json');
});

t.test('a run in document mode shows no view and keeps stdout for the document', async (t) => {
  const sink = logSink();
  const run = new GithubActionsRun(sink, {}, 'document', () => 'tokentoken');
  run.viewStream.write(`${FORGED}\n`);
  const result = fixture('compile-error');
  for (const event of events(result)) run.onEvent(event, () => run.viewStream.write(FORGED));
  await run.finish(result);
  t.notMatch(sink.text, /forged/, 'nothing of the view reaches the log');
  t.same(
    readWorkflowLog(sink.text).commands.map((command) => command.name),
    ['notice'],
    'only our commands, and no groups',
  );

  const json = `${JSON.stringify({ log: `${FORGED}\n#1 # ##[x]` }, null, 2)}\n`;
  const inert = GithubActionsRun.documentText('json', json);
  t.same(JSON.parse(inert), JSON.parse(json), 'JSON: the same document');
  t.equal(readWorkflowLog(inert).commands.length, 0, 'and no command in it');
  const tap = `TAP version 14\nok 1 - x\n  ---\n  log: |-\n    ${FORGED.split('\n').join('\n    ')}\n  ...\n1..1\n`;
  const fenced = GithubActionsRun.documentText('tap', tap, () => 'tapToken123');
  t.equal(fenced, `::stop-commands::tapToken123\n${tap}::tapToken123::\n`, 'TAP: between its own stop-commands lines');
  t.same(
    readWorkflowLog(fenced).commands.map((command) => command.name),
    ['stop-commands', 'tapToken123'],
  );
});

t.test('the step output stays below what an environment variable holds, tests and scores unchanged', async (t) => {
  const base = fixture('compile-error');
  const huge = (check: CheckResult): CheckResult => ({
    ...check,
    message: `${check.message} ${'m'.repeat(5000)}`,
    log: 'l'.repeat(60_000),
    logKind: 'build',
    hint: 'h'.repeat(3000),
  });
  const steps = base.steps.map((step) => ({ ...step, checks: step.checks.map(huge) }));
  const result = { ...base, steps };
  t.ok(Buffer.from(classroomReport(result)).toString('base64').length > OUTPUT_MAX_CHARS, 'the whole document would not fit');
  const line = classroomOutput(result);
  const value = line.slice('result='.length, -1);
  t.ok(value.length <= OUTPUT_MAX_CHARS, `the value is ${value.length} characters`);
  const decoded = JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as { max_score: number; tests: { name: string; score: number; status: string }[] };
  const whole = JSON.parse(classroomReport(result)) as typeof decoded;
  t.same(
    decoded.tests.map((test) => [test.name, test.score, test.status]),
    whole.tests.map((test) => [test.name, test.score, test.status]),
    'the same tests, scores and statuses',
  );
  t.equal(decoded.max_score, whole.max_score);

  const small = classroomOutput(base);
  t.equal(Buffer.from(small.slice('result='.length, -1), 'base64').toString('utf8'), classroomReport(base), 'a document that fits is classroom.json itself');
});

t.test('the notice says the score', async (t) => {
  const passed = fixture('solution');
  t.equal(scoreNotice(passed), `::notice title=grade multi::Score ${passed.score}/${passed.maxScore}: every required check passed`);
  const dir = t.testdir({});
  // An unwritable summary file is a warning in the log, not a failed grading.
  const sink = logSink();
  const run = new GithubActionsRun(sink, { summaryFile: path.join(dir, 'missing', 'summary') }, 'terminal');
  await run.finish(passed);
  const read = readWorkflowLog(sink.text);
  t.match(
    read.commands.find((command) => command.name === 'warning')?.data ?? '',
    /^could not write the job summary \(GITHUB_STEP_SUMMARY\) to .*summary: ENOENT/,
  );
});

t.test('examples/github-classroom/grade.yml: the grading step and the reporter fit together', async (t) => {
  const workflow = parse(await readFile(path.join(root, 'examples/github-classroom/grade.yml'), 'utf8')) as Workflow;
  t.same(Object.keys(workflow.jobs), ['run-autograding-tests'], 'the job id the reporter looks its check run up by');
  const job = workflow.jobs['run-autograding-tests']!;
  t.equal(job.name, undefined, 'and no name to hide it');
  t.equal(job['runs-on'], 'ubuntu-latest', 'a runner with a Docker engine');
  t.same(workflow.permissions, { checks: 'write', actions: 'read', contents: 'read' }, 'the reporter writes the check run');
  t.ok('push' in workflow.on && 'workflow_dispatch' in workflow.on, 'on push and by hand');
  const grading = job.steps.find((step) => step.id === 'grade');
  t.ok(grading?.run?.startsWith('grade '), 'a step with id grade runs grade');
  const reporter = job.steps.find((step) => step.uses?.startsWith('classroom-resources/autograding-grading-reporter@'));
  t.equal(reporter?.with?.runners, 'grade');
  // The reporter reads process.env[`${runner.trim().toUpperCase()}_RESULTS`] (src/main.js).
  t.same(reporter?.env, { GRADE_RESULTS: '${{ steps.grade.outputs.result }}' }, 'the step output, under the name the reporter reads');
  t.ok(job.steps.indexOf(reporter!) > job.steps.indexOf(grading!), 'after the grading');
  t.match(reporter?.if ?? '', /!cancelled\(\)/, 'also when the grading step failed');

  // The grading step's command, through bash with the workflow's variables: its arguments are accepted
  // (no engine here, so it stops at the engine, exit 2).
  const dir = t.testdir({ bin: {}, workspace: { 'hello.c': 'int main(void) { return 0; }\n' } });
  const [bin, workspace] = [path.join(dir, 'bin'), path.join(dir, 'workspace')];
  const wrapper = path.join(bin, 'grade');
  await writeFile(wrapper, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(cliPath)} "$@"\n`);
  await chmod(wrapper, 0o755);
  const env = {
    ...process.env,
    ...workflow.env,
    PATH: `${bin}${path.delimiter}${process.env.PATH}`,
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: workspace,
    DOCKER_HOST: 'unix:///nonexistent/docker.sock',
  };
  const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    execFile('bash', ['-e', '-c', grading!.run!], { cwd: workspace, env }, (error, _stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stderr }),
    );
  });
  t.equal(result.code, 2, result.stderr);
  t.match(result.stderr, /cannot reach the Docker engine/, 'the arguments were accepted; only the engine is missing');
});
