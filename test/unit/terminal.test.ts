// TerminalView on a stream that is not a terminal: plain lines, no escape bytes unless colour is
// forced, a line per check with its points, the hint under each failure and the score at the end.
import { Writable } from 'node:stream';
import t from 'tap';
import { terminalCapabilities, TerminalView } from '../../reports/terminal.js';
import type { CheckResult, ExerciseResult, StepResult } from '../../runner/results.js';
import type { Step } from '../../runner/spec.js';

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

function stepOf(id: string, title: string, bonus = false): Step {
  return { id, title, dirs: ['.'], bonus, needs: [], actions: [], checks: [], file: `${id}.yaml` };
}

function check(id: string, extra: Partial<CheckResult>): CheckResult {
  return { id, title: id, kind: 'command', status: 'pass', points: 1, maxPoints: 1, required: true, message: 'ok', durationMs: 3, ...extra };
}

const LARGE_SMALL: StepResult = {
  id: 'large-small',
  title: 'A large and a small image',
  required: true,
  dir: '.',
  durationMs: 1200,
  checks: [
    check('multi-stage', { title: 'the Dockerfile has two stages', points: 2, maxPoints: 2, message: 'Dockerfile has 2 stages' }),
    check('small-is-small', {
      title: 'the small image is at most 10MB',
      status: 'fail',
      points: 0,
      message: 'small: 75MB is over the 10MB limit',
      log: 'Step 2: RUN apk add gcc\nOK: 75 MiB in 20 packages',
      hint: 'Copy only the compiled binary into a minimal base image.',
    }),
    check('small-vs-large', { title: 'the small image is at most 10 % of the large one', status: 'skip', points: 0, maxPoints: 2, message: 'skipped: image large did not build' }),
    check('no-compiler', { title: 'the small image holds no compiler', status: 'error', points: 0, message: 'the grader could not complete this check: socket hang up', hint: 'Ask your teacher.' }),
  ],
};

const SCRATCH: StepResult = {
  id: 'scratch-sleep',
  title: 'Optional: an image FROM scratch',
  required: false,
  durationMs: 30,
  checks: [check('tiny', { title: 'the scratch image is at most 1MB', status: 'fail', points: 0, message: `it printed \u001b[2J\u001b]0;pwned\u0007 and\rmore`, hint: 'Link it statically.' })],
};

function resultOf(steps: StepResult[], score: number, maxScore: number, passed: boolean): ExerciseResult {
  return {
    exercise: 'multi', title: 'Multi-Stage', score, maxScore, passed, steps, images: [], submission: '/home/alice/multi',
    runId: 'abc', grader: { name: 'grade', version: '0.1.0' }, startedAt: '2025-01-01T00:00:00.000Z', durationMs: 1300,
  };
}

function render(env: NodeJS.ProcessEnv): string {
  const stream = new Sink();
  const view = new TerminalView({ stream, env });
  const largeSmall = stepOf('large-small', 'A large and a small image');
  const scratch = stepOf('scratch-sleep', 'Optional: an image FROM scratch', true);
  view.header('multi', 'Multi-Stage', '/home/alice/multi');
  view.onEvent({ type: 'step-start', step: largeSmall, dirLabel: 'the submission folder' });
  view.onEvent({ type: 'activity', step: largeSmall, text: 'pulling alpine:3.5' });
  view.onEvent({ type: 'activity', step: largeSmall, text: 'pulling alpine:3.5: Downloading [==>   ]' });
  view.onEvent({ type: 'activity', step: largeSmall, text: 'building small from Dockerfile' });
  for (const result of LARGE_SMALL.checks) view.onEvent({ type: 'check', step: largeSmall, result });
  view.onEvent({ type: 'step-end', step: largeSmall, result: LARGE_SMALL });
  view.onEvent({ type: 'step-start', step: scratch, dirLabel: 'scratch/' });
  view.onEvent({ type: 'step-end', step: scratch, result: SCRATCH });
  view.onEvent({ type: 'cleanup-problem', text: 'image grade-abc-small:latest: conflict' });
  view.summary(resultOf([LARGE_SMALL, SCRATCH], 2, 7, false));
  view.stop();
  return stream.text;
}

const PLAIN = [
  'grade multi: Multi-Stage',
  'submission: /home/alice/multi',
  '',
  'A large and a small image',
  '  ... pulling alpine:3.5',
  '  ... building small from Dockerfile',
  'not done: A large and a small image  2/6',
  '  PASS 2/2  the Dockerfile has two stages',
  '  FAIL 0/1  the small image is at most 10MB',
  '      small: 75MB is over the 10MB limit',
  '      | Step 2: RUN apk add gcc',
  '      | OK: 75 MiB in 20 packages',
  '      hint: Copy only the compiled binary into a minimal base image.',
  '  SKIP 0/2  the small image is at most 10 % of the large one',
  '      skipped: image large did not build',
  '  ERR  0/1  the small image holds no compiler',
  '      the grader could not complete this check: socket hang up',
  '      hint: Ask your teacher.',
  '',
  'Optional: an image FROM scratch (bonus)',
  'not done: Optional: an image FROM scratch (bonus)  0/1',
  '  FAIL 0/1  the scratch image is at most 1MB',
  '      it printed  and',
  '      more',
  '      hint: Link it statically.',
  '',
  'warning: could not remove image grade-abc-small:latest: conflict',
  'Score: 2/7: 3 required checks not passed yet',
  '',
].join('\n');

t.test('a non-TTY stream with no colour variables gets plain text only', async (t) => {
  const text = render({});
  t.notMatch(text, /\u001b/, 'not a single ESC byte');
  t.notMatch(text, /[\u0080-\u009f\r]/, 'no C1 controls or carriage returns either');
  t.equal(text, PLAIN);
});

t.test('the summary of a passing run, and of one failing check', async (t) => {
  const passing = new Sink();
  new TerminalView({ stream: passing, env: {} }).summary(resultOf([{ ...LARGE_SMALL, checks: [LARGE_SMALL.checks[0]!] }, SCRATCH], 2, 3, true));
  t.equal(passing.text, 'Score: 2/3: every required check passed\n', 'bonus failures do not count');

  const one = new Sink();
  new TerminalView({ stream: one, env: {} }).summary(resultOf([{ ...LARGE_SMALL, checks: LARGE_SMALL.checks.slice(0, 2) }], 2, 3, false));
  t.equal(one.text, 'Score: 2/3: 1 required check not passed yet\n');
});

t.test('a step where every check passed is done, and its checks show no message', async (t) => {
  const stream = new Sink();
  const view = new TerminalView({ stream, env: {} });
  const step = stepOf('s', 'Step S');
  view.onEvent({ type: 'step-start', step, dirLabel: '' });
  view.onEvent({ type: 'step-end', step, result: { ...LARGE_SMALL, title: 'Step S', checks: [check('a', { title: 'first', message: 'hidden on pass', hint: 'never shown' })] } });
  t.equal(stream.text, 'Step S\ndone: Step S  1/1\n  PASS 1/1  first\n\n');
});

t.test('FORCE_COLOR=1 colours a non-TTY stream', async (t) => {
  const text = render({ FORCE_COLOR: '1' });
  t.match(text, /\u001b\[\d+m/, 'escape codes for colour');
  t.match(text, '\u001b[1mgrade multi: Multi-Stage\u001b[22m', 'a bold header');
  t.match(text, `  \u001b[32m✔\u001b[39m 2/2  the Dockerfile has two stages`, 'a green tick for a pass');
  t.match(text, `  \u001b[31m✖\u001b[39m 0/1  the small image is at most 10MB`, 'a red cross for a failure');
  t.match(text, '\u001b[36m      hint: Copy only the compiled binary into a minimal base image.\u001b[39m', 'a cyan hint');
  t.notMatch(text, /\u001b\[2J|\u001b\]0;/, 'the student\'s own escapes are still removed');
  t.equal(text.replace(/\u001b\[\d+m/g, '').split('\n').length, PLAIN.split('\n').length, 'the same lines, coloured');
});

t.test('NO_COLOR wins over FORCE_COLOR', async (t) => {
  t.equal(render({ FORCE_COLOR: '1', NO_COLOR: '1' }), PLAIN);
  t.equal(render({ NO_COLOR: '' , FORCE_COLOR: '1' }).includes('\u001b['), true, 'an empty NO_COLOR is not set');
  t.equal(render({ FORCE_COLOR: '0' }), PLAIN, 'FORCE_COLOR=0 forces nothing');
  t.equal(render({ FORCE_COLOR: 'false' }), PLAIN);
});

t.test('terminalCapabilities', async (t) => {
  t.same(terminalCapabilities({}, {}), { color: false, interactive: false });
  t.same(terminalCapabilities({ isTTY: true }, {}), { color: true, interactive: true });
  t.same(terminalCapabilities({ isTTY: true, columns: 0 }, {}), { color: true, interactive: false }, 'no width: no spinner');
  t.same(terminalCapabilities({ isTTY: true }, { CI: 'true' }), { color: true, interactive: false }, 'CI: colour, no spinner');
  t.same(terminalCapabilities({ isTTY: true }, { TERM: 'dumb' }), { color: false, interactive: false });
  t.same(terminalCapabilities({ isTTY: true }, { NO_COLOR: '1' }), { color: false, interactive: true });
  t.same(terminalCapabilities({ isTTY: false }, { FORCE_COLOR: '1' }), { color: true, interactive: false });
});
