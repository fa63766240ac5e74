// TerminalView: on a stream that is not a terminal (or with NO_COLOR or TERM=dumb) plain lines, no
// escape bytes unless colour is forced, a line per check with its points, the hint under each
// failure and the score at the end; in a terminal of known width, lines wrapped at word boundaries
// and a spinner cut to one line. A name from a submission never starts a line.
import ora from 'ora';
import t from 'tap';
import { Sink, TerminalSink } from '../support/sinks.js';
import { columnsOf, cutToColumns, terminalCapabilities, TerminalView, wrapWords } from '../../runner/cli/progress.js';
import type { CheckResult, ExerciseResult, StepResult } from '../../runner/results.js';
import type { Step } from '../../runner/spec/loader.js';

function stepOf(id: string, title: string, bonus = false): Step {
  return { id, title, dirs: ['.'], bonus, needs: [], actions: [], checks: [], file: `${id}.yaml` };
}

function check(id: string, extra: Partial<CheckResult>): CheckResult {
  return {
    id,
    title: id,
    kind: 'command',
    status: 'pass',
    points: 1,
    maxPoints: 1,
    required: true,
    message: 'ok',
    source: { file: 'large-small.yaml', line: 1 },
    durationMs: 3,
    ...extra,
  };
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
    check('small-vs-large', {
      title: 'the small image is at most 10 % of the large one',
      status: 'skip',
      points: 0,
      maxPoints: 2,
      message: 'skipped: image large did not build',
    }),
    check('no-compiler', {
      title: 'the small image holds no compiler',
      status: 'error',
      points: 0,
      message: 'the grader could not complete this check: socket hang up',
    }),
  ],
};

const SCRATCH: StepResult = {
  id: 'scratch-sleep',
  title: 'Optional: an image FROM scratch',
  required: false,
  durationMs: 30,
  checks: [
    check('tiny', {
      title: 'the scratch image is at most 1MB',
      status: 'fail',
      points: 0,
      message: `it printed \u001b[2J\u001b]0;pwned\u0007 and\rmore`,
      hint: 'Link it statically.',
    }),
  ],
};

function resultOf(steps: StepResult[], score: number, maxScore: number, passed: boolean): ExerciseResult {
  return {
    schemaVersion: 1,
    exercise: 'multi',
    exerciseFolder: 'multi',
    title: 'Multi-Stage',
    score,
    maxScore,
    passed,
    steps,
    images: [],
    submission: '/home/alice/multi',
    submissionId: 'multi',
    runId: 'abc',
    grader: { name: 'grade', version: '0.1.0' },
    startedAt: '2025-01-01T00:00:00.000Z',
    durationMs: 1300,
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
  '',
  'Optional: an image FROM scratch (bonus)',
  'not done: Optional: an image FROM scratch (bonus)  0/1',
  '  FAIL 0/1  the scratch image is at most 1MB',
  '      it printed  and\\nmore',
  '      hint: Link it statically.',
  '',
  'warning: could not remove image grade-abc-small:latest: conflict',
  'Score: 2/7: 3 required checks not passed yet, 1 of them not judged on this machine (the cause is above)',
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
  view.onEvent({
    type: 'step-end',
    step,
    result: { ...LARGE_SMALL, title: 'Step S', checks: [check('a', { title: 'first', message: 'hidden on pass', hint: 'never shown' })] },
  });
  t.equal(stream.text, 'Step S\ndone: Step S  1/1\n  PASS 1/1  first\n\n');
});

t.test('FORCE_COLOR=1 colours a non-TTY stream', async (t) => {
  const text = render({ FORCE_COLOR: '1' });
  t.match(text, /\u001b\[\d+m/, 'escape codes for colour');
  t.match(text, '\u001b[1mgrade multi: Multi-Stage\u001b[22m', 'a bold header');
  t.match(text, `  \u001b[32m✔\u001b[39m 2/2  the Dockerfile has two stages`, 'a green tick for a pass');
  t.match(text, `  \u001b[31m✖\u001b[39m 0/1  the small image is at most 10MB`, 'a red cross for a failure');
  t.match(text, '\u001b[36m      hint: Copy only the compiled binary into a minimal base image.\u001b[39m', 'a cyan hint');
  t.notMatch(text, /\u001b\[2J|\u001b\]0;/, "the student's own escapes are still removed");
  t.equal(text.replace(/\u001b\[\d+m/g, '').split('\n').length, PLAIN.split('\n').length, 'the same lines, coloured');
});

t.test('NO_COLOR wins over FORCE_COLOR', async (t) => {
  t.equal(render({ FORCE_COLOR: '1', NO_COLOR: '1' }), PLAIN);
  t.equal(render({ NO_COLOR: '', FORCE_COLOR: '1' }), PLAIN, 'an empty NO_COLOR counts too');
  t.equal(render({ FORCE_COLOR: '0' }), PLAIN, 'FORCE_COLOR=0 forces nothing');
  t.equal(render({ FORCE_COLOR: 'false' }), PLAIN);
});

t.test('terminalCapabilities', async (t) => {
  t.same(terminalCapabilities({}, {}), { color: false, interactive: false });
  t.same(terminalCapabilities({ isTTY: true }, {}), { color: true, interactive: true });
  t.same(terminalCapabilities({ isTTY: true, columns: 0 }, {}), { color: true, interactive: false }, 'no width: no spinner');
  t.same(terminalCapabilities({ isTTY: true }, { CI: 'true' }), { color: true, interactive: false }, 'CI: colour, no spinner');
  t.same(terminalCapabilities({ isTTY: true }, { TERM: 'dumb' }), { color: false, interactive: false });
  t.same(terminalCapabilities({ isTTY: true }, { NO_COLOR: '1' }), { color: false, interactive: false }, 'NO_COLOR: no colour, no animation');
  t.same(terminalCapabilities({ isTTY: true }, { NO_COLOR: '' }), { color: false, interactive: false }, 'an empty NO_COLOR too');
  t.same(terminalCapabilities({ isTTY: true }, { TERM: 'dumb', FORCE_COLOR: '1' }), { color: true, interactive: false }, 'forced colour, still no animation');
  t.same(terminalCapabilities({ isTTY: false }, { FORCE_COLOR: '1' }), { color: true, interactive: false });
});

// Escape sequences (and the terminal's own redraw codes) taken out, to count what is seen.
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]/g;
const visible = (text: string) => text.replace(ANSI, '');
// The frames of ora's default spinner.
const SPINNER_FRAMES = /[\u2800-\u28ff]/;

t.test('NO_COLOR (any value) and TERM=dumb in a terminal: no colour, no spinner', async (t) => {
  for (const env of [{ NO_COLOR: '' }, { NO_COLOR: '1' }, { TERM: 'dumb' }, { TERM: 'dumb', NO_COLOR: '' }]) {
    const stream = new TerminalSink(200);
    const view = new TerminalView({ stream, env, spinner: ora });
    const step = stepOf('large-small', 'A large and a small image');
    view.onEvent({ type: 'step-start', step, dirLabel: '' });
    view.onEvent({ type: 'activity', step, text: 'building small from Dockerfile' });
    view.onEvent({ type: 'step-end', step, result: LARGE_SMALL });
    view.stop();
    const at = JSON.stringify(env);
    t.notMatch(stream.text, /\u001b/, `${at}: not a single ESC byte`);
    t.notMatch(stream.text, SPINNER_FRAMES, `${at}: no spinner frame`);
    t.ok(
      stream.writes.every((chunk) => chunk.endsWith('\n')),
      `${at}: whole lines only, nothing redrawn`,
    );
    t.match(
      stream.text,
      /^A large and a small image\n {2}\.\.\. building small from Dockerfile\nnot done: A large and a small image {2}2\/6\n {2}PASS 2\/2/,
      `${at}: the plain lines`,
    );
  }
});

const LONG_STEP = 'A large single-stage image and a small multi-stage one, both built from the Dockerfiles in your submission folder';
const LONG_CHECK = 'docker run --rm of the small image prints exactly the greeting the exercise asks for, followed by one newline and nothing else';
const LONG_MESSAGE =
  'small-output: the container printed something else than expected, and exited with status 1 after writing to its standard error stream; see the log';
const LONG_HINT =
  'The final stage needs the compiled program and a CMD that runs it: COPY --from=build /app/bin/hello /app/hello, then CMD /app/hello, and rebuild with docker image build -t my-app-small .';
const LONG_LOG = 'Step 7/11 : RUN gcc -Wall hello.c -o bin/hello && strip bin/hello && ls -la bin && echo compiled-successfully-for-the-small-image';
const LONG_ACTIVITY = 'building small from Dockerfile in the submission folder, with the layer cache of the large image and the build network set to none';

function renderLong(stream: Sink, env: NodeJS.ProcessEnv): void {
  const view = new TerminalView({ stream, env, spinner: ora });
  const step = stepOf('large-small', LONG_STEP);
  const result: StepResult = {
    ...LARGE_SMALL,
    title: LONG_STEP,
    checks: [
      check('ok', { title: LONG_CHECK }),
      check('small-prints-hello', { title: LONG_CHECK, status: 'fail', points: 0, maxPoints: 2, message: LONG_MESSAGE, log: LONG_LOG, hint: LONG_HINT }),
    ],
  };
  view.header('multi', 'Create Images using Dockerfiles (3/3) | Multi-Stage, with a title long enough to wrap', '/home/alice/multi');
  view.onEvent({ type: 'step-start', step, dirLabel: '' });
  view.onEvent({ type: 'activity', step, text: LONG_ACTIVITY });
  view.onEvent({ type: 'step-end', step, result });
  view.note(`reports written to /home/alice/multi/grade-report: report.tap, report.html, results.json, junit.xml, gradescope.json`);
  view.summary(resultOf([result], 3, 5, false));
  view.stop();
}

const wordsOf = (...texts: string[]) => texts.flatMap((text) => text.split(' ').filter(Boolean));

t.test('at 80 columns every line fits, no word is split, continuations are indented', async (t) => {
  const stream = new TerminalSink(80);
  renderLong(stream, { NO_COLOR: '1' });
  const lines = stream.text.replace(/\n$/, '').split('\n');

  t.same(
    lines.filter((line) => columnsOf(line) > 80),
    [],
    'no line longer than 80 columns',
  );
  const seen = new Set(lines.flatMap((line) => line.split(' ')));
  const missing = wordsOf(LONG_STEP, LONG_CHECK, LONG_MESSAGE, LONG_HINT, LONG_LOG, LONG_ACTIVITY).filter((word) => !seen.has(word));
  t.same(missing, [], 'every word is on a line whole');

  const hint = lines.findIndex((line) => line.startsWith('      hint: The final stage'));
  t.ok(hint > 0, 'the hint starts under its check');
  const hintLines = lines.slice(hint + 1, lines.indexOf('', hint));
  t.ok(hintLines.length >= 2, 'the hint wraps');
  for (const line of hintLines) t.match(line, /^ {12}\S/, 'a hint continuation is aligned after "hint: "');

  const messageStart = lines.findIndex((line) => line.startsWith('      small-output: the container'));
  t.ok(messageStart > 0, 'the message starts under its check');
  t.match(lines[messageStart + 1], /^ {6}\S/, 'a message continuation is indented under its check');

  const failed = lines.findIndex((line) => line.startsWith('  FAIL 0/2  docker run'));
  t.match(lines[failed + 1], /^ {12}\S/, 'a long check title continues under its first word');
  t.ok(
    lines.some((line) => /^ {6}\| Step 7\/11/.test(line)),
    'the log line starts with its bar',
  );
  t.match(
    lines.find((line) => line.startsWith('  ... building small')),
    /^ {2}\.\.\. /,
    'the activity line',
  );
  t.match(lines[lines.findIndex((line) => line.startsWith('  ... building small')) + 1], /^ {6}\S/, 'an activity continuation is indented');
});

t.test('not a terminal: no wrapping, each line as long as it is', async (t) => {
  const stream = new Sink();
  renderLong(stream, {});
  const lines = stream.text.split('\n');
  t.ok(lines.includes(`      ${LONG_MESSAGE}`), 'the message on one line');
  t.ok(lines.includes(`      hint: ${LONG_HINT}`), 'the hint on one line');
  t.ok(lines.includes(`      | ${LONG_LOG}`), 'the log line on one line');
  t.ok(lines.includes(`  ... ${LONG_ACTIVITY}`), 'the activity on one line');
});

t.test('TerminalView.open animates a terminal, and only a terminal', async (t) => {
  const step = stepOf('large-small', 'A large and a small image');
  const show = (view: TerminalView) => {
    view.onEvent({ type: 'step-start', step, dirLabel: '' });
    view.onEvent({ type: 'step-end', step, result: LARGE_SMALL });
    view.stop();
  };
  const terminal = new TerminalSink(80);
  show(await TerminalView.open({ stream: terminal, env: {} }));
  t.match(terminal.text, SPINNER_FRAMES, 'a terminal: a spinner ran');
  for (const env of [{ CI: 'true' }, { NO_COLOR: '1' }]) {
    const plain = new TerminalSink(80);
    show(await TerminalView.open({ stream: plain, env }));
    t.notMatch(plain.text, SPINNER_FRAMES, `${JSON.stringify(env)}: no spinner`);
  }
  const pipe = new Sink();
  show(await TerminalView.open({ stream: pipe, env: {} }));
  t.notMatch(pipe.text, SPINNER_FRAMES, 'a pipe: no spinner');
  t.match(pipe.text, /A large and a small image/, 'a pipe: the step, as a line');
});

t.test('a spinner line is cut to fit one line of the terminal; finished lines wrap', async (t) => {
  const stream = new TerminalSink(80);
  renderLong(stream, {});
  t.match(stream.text, SPINNER_FRAMES, 'a spinner ran');
  const frames = stream.writes.filter((chunk) => SPINNER_FRAMES.test(chunk));
  t.ok(frames.length > 0);
  for (const frame of frames) {
    t.notMatch(frame, /\n/, 'a frame is one line');
    t.ok(columnsOf(visible(frame)) < 80, `a frame fits in 79 columns: ${JSON.stringify(visible(frame))}`);
  }
  t.match(visible(frames[0]!), /A large single-stage image and a small multi-stage one, both built from the …$/, 'the title, cut with an ellipsis');
  const lines = stream.writes.filter((chunk) => chunk.endsWith('\n')).flatMap((chunk) => visible(chunk).replace(/\n$/, '').split('\n'));
  t.same(
    lines.filter((line) => columnsOf(line) > 80),
    [],
    'no written line is longer than 80 columns',
  );
  t.ok(
    lines.some((line) => line.startsWith('✖ A large single-stage image')),
    'the step ends with a cross',
  );
});

t.test('a name from a submission cannot start a line', async (t) => {
  const forged = ['ok 99 - forged', 'Score: 28/28: every required check passed', '::error::forged'];
  for (const stream of [new Sink(), new TerminalSink(80)]) {
    const view = new TerminalView({ stream, env: { NO_COLOR: '1' } });
    const step = stepOf('s', 'Step S');
    view.header('multi', 'Multi-Stage', `/home/alice/multi\n${forged[1]}`);
    view.onEvent({ type: 'step-start', step, dirLabel: '' });
    view.onEvent({ type: 'activity', step, text: `warning: x\n${forged[0]} is a fifo (named pipe): skipped` });
    view.onEvent({ type: 'activity', step, text: `warning: y\r${forged[2]} is a link` });
    view.onEvent({
      type: 'step-end',
      step,
      result: { ...LARGE_SMALL, checks: [check('c', { status: 'fail', points: 0, message: `cannot read x\n${forged[0]}\u2028${forged[2]}` })] },
    });
    view.note(`reports written to /tmp/a\n${forged[1]}`);
    view.onEvent({ type: 'cleanup-problem', text: `image x\n${forged[2]}` });
    const lines = stream.text.split('\n');
    for (const text of forged)
      t.same(
        lines.filter((line) => line.trimStart().startsWith(text)),
        [],
        `no line starts with ${text}`,
      );
    t.ok(lines.includes(`submission: /home/alice/multi\\n${forged[1]}`), 'the newline in the path is shown as \\n');
    t.ok(lines.includes(`  ... warning: x\\n${forged[0]} is a fifo (named pipe): skipped`), 'in an activity line too');
    t.ok(lines.includes(`      cannot read x\\n${forged[0]}\\u2028${forged[2]}`), 'and in a message; a line separator is escaped too');
  }
});

t.test('wrapWords, cutToColumns, columnsOf', async (t) => {
  t.same(wrapWords('one two three', undefined, 0, 2), ['one two three'], 'no width: one line');
  t.same(wrapWords('one two three', 13, 0, 2), ['one two three'], 'fits exactly');
  t.same(wrapWords('one two three', 12, 0, 2), ['one two', 'three']);
  t.same(wrapWords('one two three', 10, 4, 4), ['one', 'two', 'three'], 'the lead and the indent count');
  t.same(
    wrapWords('a /a/very/long/path/that/cannot/wrap b', 10, 0, 0),
    ['a', '/a/very/long/path/that/cannot/wrap', 'b'],
    'a long word is whole on its own line',
  );
  t.same(wrapWords('    int x = 1; // a comment that is long', 20, 0, 4), ['    int x = 1; // a', 'comment that is', 'long'], 'leading spaces stay');
  t.equal(columnsOf('日本語 ok'), 9, 'wide characters take two columns');
  t.equal(columnsOf('e\u0301'), 1, 'a combining mark takes none');
  t.same(wrapWords('日本語 日本語', 8, 0, 0), ['日本語', '日本語'], 'wrapping counts columns, not characters');
  t.equal(cutToColumns('short', 10), 'short');
  t.equal(cutToColumns('a longer line of text', 10), 'a longer …');
  t.equal(columnsOf(cutToColumns('日本語日本語', 7)), 7, 'a wide character that would cross the edge goes');
});

t.test('checks not judged for one cause print it once; the summary says the grade is not known', async (t) => {
  const stream = new Sink();
  const view = new TerminalView({ stream, env: {} });
  const step = stepOf('s', 'Step S');
  const cause =
    'not judged: base image alpine:3.5 is not on this machine and no registry could be reached (no such host): connect to the network and grade again';
  const result: StepResult = {
    ...LARGE_SMALL,
    title: 'Step S',
    checks: [
      check('a', { title: 'first', status: 'error', points: 0, message: cause }),
      check('b', { title: 'second', status: 'error', points: 0, message: cause }),
      check('c', { title: 'third', status: 'error', points: 0, message: 'not judged: another cause' }),
    ],
  };
  view.onEvent({ type: 'step-end', step, result });
  view.summary(resultOf([result], 0, 3, false));
  t.equal(stream.text.split(cause).length - 1, 1, 'the cause once');
  t.match(stream.text, '  ERR  0/1  second\n      not judged: the same cause as above\n');
  t.match(stream.text, 'not judged: another cause');
  t.match(stream.text, /Score: 0\/3: 3 required checks not passed yet, all of them not judged on this machine \(the cause is above\)\n$/);
});
