// The command grader over run outcomes: exit codes, stdout/stderr matchers, truncated output,
// runs that did not end by themselves and programs the image cannot start.
import path from 'node:path';
import t from 'tap';
import { abnormalEnd, command, startErrorHint } from '../../../graders/command.js';
import type { OutputMatcher } from '../../../graders/output-matcher.js';
import type { OutcomeByKind } from '../../../graders/outcomes.js';
import type { RunOutcome } from '../../../runner/engine/engine.js';
import { compilePattern } from '../../../runner/spec/shapes.js';
import { graderOf } from '../../../graders/index.js';
import { loadExercise } from '../../../runner/spec/loader.js';
import { contextOf, DYNAMIC_HINT, dynamicMessage, finished, LINKER_HINT } from '../../support/graders.js';
import { captured, FakeEngine, runOutcome } from '../../support/fake-engine.js';

t.test('command: exit code and stdout/stderr matchers', async (t) => {
  const run = (outcome: OutcomeByKind['run'], options: { exitCode?: number; stdout?: OutputMatcher; stderr?: OutputMatcher } = {}) =>
    command.run({ run: 'out', exitCode: options.exitCode ?? 0, stdout: options.stdout, stderr: options.stderr }, contextOf({ out: outcome }));
  const hello = finished(['/app/hello'], { stdout: captured('Hello, world!\n') });

  t.same(await run(hello, { stdout: { equals: 'Hello, world!\n' } }), {
    status: 'pass',
    message: '/app/hello exited 0 and printed "Hello, world!\\n" in 12 ms',
  });
  t.same(await run(hello, { stdout: { equals: 'Hello, world!' } }), {
    status: 'fail',
    message: '/app/hello printed "Hello, world!\\n" on stdout, expected "Hello, world!"',
    expected: 'Hello, world!',
    actual: 'Hello, world!\n',
  });
  t.same(await run(hello, { stdout: { contains: 'world' } }), { status: 'pass', message: '/app/hello exited 0 and printed "Hello, world!\\n" in 12 ms' });
  t.same(await run(hello, { stdout: { contains: 'World' } }), {
    status: 'fail',
    message: '/app/hello printed "Hello, world!\\n" on stdout, expected text containing "World"',
    expected: 'text containing "World"',
    actual: 'Hello, world!\n',
  });
  t.equal((await run(hello, { stdout: { matches: compilePattern('^Hello, world!\\n?$') } })).status, 'pass');
  t.same(await run(hello, { stdout: { matches: compilePattern('^Goodbye') } }), {
    status: 'fail',
    message: '/app/hello printed "Hello, world!\\n" on stdout, expected text matching /^Goodbye/',
    expected: 'text matching /^Goodbye/',
    actual: 'Hello, world!\n',
  });
  t.same(await run(finished([], { stderr: captured('oops\n') }), { stderr: { equals: '' } }), {
    status: 'fail',
    message: `the image's default command printed "oops\\n" on stderr, expected ""`,
    expected: '',
    actual: 'oops\n',
  });
  t.same(
    await run(finished(['/app/hello'], { exitCode: 3, stdout: captured('partial\n'), stderr: captured('fatal\n') }), { stdout: { contains: 'partial' } }),
    {
      status: 'fail',
      message: '/app/hello exited with 3, expected 0',
      expected: 'exit 0',
      actual: 'exit 3',
      log: 'partial\n\nfatal',
      logKind: 'program',
    },
    'the exit code is checked first, with both streams as evidence',
  );
  t.same(await run(finished(['false'], { exitCode: 1 }), { exitCode: 1 }), { status: 'pass', message: 'false exited 1 in 12 ms' });
  t.same(await run(finished(['true'], {}), { exitCode: 2 }), {
    status: 'fail',
    message: 'true exited with 0, expected 2',
    expected: 'exit 2',
    actual: 'exit 0',
  });
  t.same(await run({ ok: false, reason: 'image small did not build' }), { status: 'fail', message: 'image small did not build' });
});

t.test('command: a truncated stream never equals, and says where it was cut', async (t) => {
  const flood = finished(['yes'], { stdout: captured('y\ny\n', { bytes: 2_000_000, truncated: true }) });
  const run = (stdout: OutputMatcher) => command.run({ run: 'out', exitCode: 0, stdout, stderr: undefined }, contextOf({ out: flood }));
  t.same(await run({ equals: 'y\ny\n' }), {
    status: 'fail',
    message: 'yes printed "y\\ny\\n" on stdout (cut at 4 of 2000000 bytes), expected "y\\ny\\n"',
    expected: 'y\ny\n',
    actual: 'y\ny\n',
  });
  t.equal((await run({ contains: 'y\ny' })).status, 'pass', 'what was kept can still contain the text');
});

t.test('command: the cut of a truncated stream is counted in bytes', async (t) => {
  // Regression (fixed): graders/command.ts reports `captured.text.length` (UTF-16 units) as bytes.
  const accents = finished(['cat'], { stdout: captured('éééé', { bytes: 100, truncated: true }) });
  const verdict = await command.run({ run: 'out', exitCode: 0, stdout: { equals: 'x' }, stderr: undefined }, contextOf({ out: accents }));
  t.match(verdict.message, '(cut at 8 of 100 bytes)');
});

t.test('command: runs that did not end by themselves', async (t) => {
  const run = (outcome: Partial<RunOutcome>) =>
    command.run({ run: 'out', exitCode: 0, stdout: { equals: 'x' }, stderr: undefined }, contextOf({ out: finished(['/sleep'], outcome) }));
  t.same(await run({ exitCode: null, startError: 'exec /sleep: no such file or directory' }), {
    status: 'fail',
    message: '/sleep could not start: exec /sleep: no such file or directory',
    hint: LINKER_HINT,
  });
  t.same(await run({ exitCode: 137, timedOut: true }), {
    status: 'fail',
    message: '/sleep timed out after 10 s and was killed',
    hint: 'The program must finish by itself: look for a loop that never ends, or a read from input that never comes.',
  });
  t.same(await run({ exitCode: 137, oomKilled: true }), {
    status: 'fail',
    message: '/sleep was killed for using more memory than allowed',
    hint: 'Look for memory allocated in a loop and never freed.',
  });
  t.equal(abnormalEnd(runOutcome({ timedOut: true }), 'x', 500)?.message, 'x timed out after 500 ms and was killed');
  t.equal(abnormalEnd(runOutcome(), 'x', 500), undefined);
});

t.test('startErrorHint words the usual exec failures', async (t) => {
  t.equal(startErrorHint('exec /sleep: no such file or directory'), LINKER_HINT, 'a dynamically linked binary in scratch');
  t.match(startErrorHint('exec /app/hello: exec format error'), /another CPU architecture.*#! line/);
  t.equal(startErrorHint('exec /app/hello: permission denied'), 'The file is not executable: check its mode (chmod +x) in the Dockerfile.');
  t.equal(startErrorHint('OCI runtime create failed: unknown'), undefined);
});

t.test('command: a pattern that backtracks catastrophically cannot stall matching', async (t) => {
  // `^(a+)+$` against 40 a's and a "!" takes 2^40 steps in a backtracking engine (V8's included):
  // the process spins, deaf to signals. RE2 matches in time linear in the output.
  const run = (outcome: OutcomeByKind['run'], options: { stdout: OutputMatcher }) =>
    command.run({ run: 'out', exitCode: 0, stdout: options.stdout, stderr: undefined }, contextOf({ out: outcome }));
  const matcher: OutputMatcher = { matches: compilePattern('^(a+)+$') };
  t.same(await run(finished(['/app/hello'], { stdout: captured(`${'a'.repeat(40)}!`) }), { stdout: matcher }), {
    status: 'fail',
    message: `/app/hello printed "${'a'.repeat(40)}!" on stdout, expected text matching /^(a+)+$/`,
    expected: 'text matching /^(a+)+$/',
    actual: `${'a'.repeat(40)}!`,
  });
  t.equal(
    (await run(finished(['/app/hello'], { stdout: captured(`${'a'.repeat(1 << 20)}!`) }), { stdout: matcher })).status,
    'fail',
    'a whole MiB of output too',
  );
  t.throws(() => compilePattern('(a)\\1'), /invalid escape sequence/, 'backreferences cannot run in linear time: refused');
  t.throws(() => compilePattern('x'.repeat(1001)), /longer than 1000 characters/);
});

t.test('command: a matches pattern in the shipped spec rejects extra lines', async (t) => {
  // Regression (fixed): regex() in runner/spec/shapes.ts compiles with the `m` flag, so the shipped
  // `matches: "^Hello, world!\\n?$"` (hint: print exactly "Hello, world!") also passes
  // output with more lines before or after it.
  const exercise = await loadExercise(path.resolve(import.meta.dirname, '../../../exercises/multi'));
  const check = exercise.steps[0]!.checks.find((found) => found.id === 'prints-hello')!;
  const context = contextOf({ 'hello-output': finished(['/grade/work/hello'], { stdout: captured('Hello, world!\nGoodbye!\n') }) });
  t.equal((await graderOf(check.kind).run(check.options, context)).status, 'fail');
});

t.test('command: a dynamically linked program in an image without its C library is named as such', async (t) => {
  const hint = DYNAMIC_HINT;

  // CMD /app/hello in a final stage without libc: the shell says "not found", exit 127.
  const engine = new FakeEngine().paths('img', ['/app/hello']);
  const shell = finished([], { exitCode: 127, stderr: captured('/bin/sh: /app/hello: not found\n') });
  const run = (outcome: OutcomeByKind['run'], on = engine) =>
    command.run({ run: 'out', exitCode: 0, stdout: undefined, stderr: undefined }, contextOf({ out: outcome }, { engine: on }));
  t.match(await run(shell), {
    status: 'fail',
    message: dynamicMessage("the image's default command could not run", '/app/hello'),
    hint,
    log: '/bin/sh: /app/hello: not found',
  });
  t.match(engine.probes.at(-1), { image: 'img', paths: ['/app/hello'], labels: { 'grade.tool': 'grade' } }, "the probe container carries the run's labels");
  t.match(
    await run(finished(['/bin/sh', '-c', '/app/hello'], { exitCode: 127, stderr: captured('/bin/sh: 1: /app/hello: not found\n') })),
    { message: /\/app\/hello is in the image, but it is dynamically linked/ },
    'dash words it with a line number',
  );

  // The program really is missing: the old words stay, "exited with 127".
  const empty = new FakeEngine();
  t.match(await run(shell, empty), { status: 'fail', message: "the image's default command exited with 127, expected 0" });

  // CMD ["/sleep"] in scratch: runc cannot exec it.
  t.match(
    await run(finished(['/sleep'], { exitCode: null, startError: 'exec /sleep: no such file or directory' }), new FakeEngine().paths('img', ['/sleep'])),
    { message: dynamicMessage('/sleep could not run', '/sleep'), hint },
  );
});
