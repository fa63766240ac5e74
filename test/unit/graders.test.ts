// Every grader kind called directly, with a hand-made CheckContext: the outcomes its actions left
// and a FakeEngine for what it asks Docker. Each case checks the verdict a student would read.
import { execFileSync } from 'node:child_process';
import { truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { buildCached } from '../../graders/build-cached.js';
import { abnormalEnd, command, startErrorHint } from '../../graders/command.js';
import { compiles } from '../../graders/compiles.js';
import { containerRunning } from '../../graders/container-running.js';
import { dockerfile } from '../../graders/dockerfile.js';
import { fileExists } from '../../graders/file-exists.js';
import { failureExcerpt, imageBuilds } from '../../graders/image-builds.js';
import { imageSize } from '../../graders/image-size.js';
import { formatSize } from '../../runner/text/format.js';
import type { OutputMatcher } from '../../graders/output-matcher.js';
import { pathAbsent } from '../../graders/path-absent.js';
import { processList } from '../../graders/process-list.js';
import { rootListing } from '../../graders/root-listing.js';
import type { CheckContext } from '../../graders/types.js';
import type { BuildOutcome, RunOutcome } from '../../runner/engine/engine.js';
import type { BuiltImage, FailedBuild, Outcome, OutcomeByKind } from '../../graders/outcomes.js';
import { compilePattern } from '../../runner/spec/shapes.js';
import { loadExercise } from '../../runner/spec/loader.js';
import { buildOutcome, buildStep, captured, FakeEngine, runOutcome, testLimits } from '../support/fake-engine.js';

const LINKER_HINT = 'The program or its dynamic loader is missing from the image. A binary copied into a scratch or minimal image must be linked statically (gcc -static).';

function contextOf(
  outcomes: Record<string, Outcome>,
  options: { engine?: FakeEngine; dir?: string; dirLabel?: string } = {},
): CheckContext {
  let helpers = 0;
  return {
    engine: options.engine ?? new FakeEngine(),
    limits: testLimits,
    dir: options.dir,
    dirLabel: options.dirLabel ?? '',
    signal: new AbortController().signal,
    outcome: <K extends keyof OutcomeByKind>(_kind: K, name: string) => {
      const outcome = outcomes[name];
      if (!outcome) throw new Error(`the test gave no outcome for ${name}`);
      return outcome as OutcomeByKind[K];
    },
    helper: (purpose) => ({ name: `grade-test-${purpose}-${++helpers}`, labels: { 'grade.tool': 'grade', 'grade.run': 'test' } }),
  };
}

function built(ref: string, sizeBytes: number, extra: Partial<BuiltImage> = {}): BuiltImage {
  return { ok: true, ref, id: `sha256:${ref}`, sizeBytes, dockerfile: 'Dockerfile', build: buildOutcome(), ...extra };
}

const failedBuild = (reason: string, build?: BuildOutcome): FailedBuild => ({ ok: false, reason, dockerfile: 'Dockerfile', build });

const finished = (commandLine: string[], run: Partial<RunOutcome>): OutcomeByKind['run'] => ({ ok: true, image: 'img', command: commandLine, run: runOutcome(run) });

const startedContainer = (id: string, startError?: string): OutcomeByKind['start'] => ({ ok: true, id, image: 'sleep-ref', startError });

// ---- file-exists --------------------------------------------------------------------------

t.test('file-exists', async (t) => {
  const dir = t.testdir({
    'hello.c': 'int main(void) { return 0; }\n',
    src: { 'lib.c': '' },
    link: t.fixture('symlink', 'hello.c'),
    'src-link': t.fixture('symlink', 'src'),
    'out-link': t.fixture('symlink', '/etc/hostname'),
    'out-folder': t.fixture('symlink', '/etc'),
  });
  const run = (paths: string[], type: 'file' | 'folder', dirLabel = '') => fileExists.run({ paths, type }, contextOf({}, { dir, dirLabel }));

  t.same(await run(['hello.c'], 'file'), { status: 'pass', message: 'found hello.c' });
  t.same(await run(['hello.c', 'src/lib.c'], 'file', 'multi/'), { status: 'pass', message: 'found multi/hello.c, multi/src/lib.c' });
  t.same(await run(['src'], 'folder'), { status: 'pass', message: 'found src' });
  t.same(await run(['hello.c', 'sleep.c'], 'file', 'scratch/'), { status: 'fail', message: 'scratch/sleep.c not found', expected: 'hello.c, sleep.c' });
  t.same(await run(['src'], 'file'), { status: 'fail', message: 'src is a folder, not a regular file', expected: 'src' });
  t.same(await run(['hello.c'], 'folder'), { status: 'fail', message: 'hello.c is a file, not a folder', expected: 'hello.c' });
  t.same(await run(['link', 'src-link/lib.c'], 'file'), { status: 'pass', message: 'found link, src-link/lib.c' }, 'a link to a file inside the folder is that file');
  t.same(await run(['src-link'], 'folder'), { status: 'pass', message: 'found src-link' }, 'and a link to a folder inside is that folder');
  t.same(await run(['out-link', 'gone.c'], 'file'), {
    status: 'fail',
    message: 'out-link is a link out of the folder being graded; the grader reads only files inside it: copy the file in instead of linking to it; gone.c not found',
    expected: 'out-link, gone.c',
  }, 'a link out of the folder is not the file');
  t.same(await run(['out-folder'], 'folder'), {
    status: 'fail',
    message: 'out-folder is a link out of the folder being graded; the grader reads only files inside it: copy the file in instead of linking to it',
    expected: 'out-folder',
  });
  const through = await run(['out-folder/hostname', 'out-folder/no-such-file'], 'file');
  t.equal(through.status, 'fail');
  t.equal(
    through.message,
    ['hostname', 'no-such-file'].map((name) => `out-folder/${name} goes through out-folder, a link out of the folder being graded; the grader reads only files inside it`).join('; '),
    'a linked folder out of the step folder: the same words whether the file exists out there or not',
  );

  const nowhere = await fileExists.run({ paths: ['hello.c'], type: 'file' }, contextOf({}, { dir: undefined, dirLabel: 'scratch/ or ../scratch/' }));
  t.same(nowhere, { status: 'fail', message: 'no folder to look in: scratch/ or ../scratch/ does not exist' });
});

// ---- dockerfile ---------------------------------------------------------------------------

const MULTI = `FROM alpine:3.5 AS build
RUN apk add --update alpine-sdk
COPY hello.c /app/
RUN gcc -Wall /app/hello.c -o /app/hello

FROM alpine:3.5
COPY --from=build /app/hello /app/hello
CMD /app/hello
`;

t.test('dockerfile', async (t) => {
  const dir = t.testdir({
    Dockerfile: MULTI,
    'Dockerfile.single': 'FROM alpine:3.5\nRUN apk add gcc\nCMD /app/hello\n',
    'Dockerfile.scratch': 'FROM alpine:3.8\nRUN gcc -static sleep.c -o /sleep\n\nFROM SCRATCH\nCOPY --from=0 /sleep /sleep\n',
    'Dockerfile.broken': 'RUN echo before any FROM\n',
  });
  const run = (options: Partial<Parameters<typeof dockerfile.run>[0]>, dirLabel = '') =>
    dockerfile.run({ path: 'Dockerfile', minStages: undefined, finalFrom: undefined, finalCopiesFromStage: false, ...options }, contextOf({}, { dir, dirLabel }));

  t.same(await run({ minStages: 2, finalCopiesFromStage: true }), {
    status: 'pass',
    message: 'Dockerfile has 2 stages (build, alpine:3.5); the final stage copies from build',
  });
  t.same(await run({ path: 'Dockerfile.single', minStages: 2, finalCopiesFromStage: true }, 'multi/'), {
    status: 'fail',
    message: 'multi/Dockerfile.single has 1 stage, needs at least 2 (one FROM per stage); its final stage (line 1) copies nothing from an earlier stage: use COPY --from=<stage>',
    actual: '1 stage (alpine:3.5)',
  });
  t.same(await run({ finalFrom: 'scratch' }), {
    status: 'fail',
    message: 'Dockerfile its final stage starts FROM alpine:3.5 (line 6), not FROM scratch',
    actual: '2 stages (build, alpine:3.5)',
  });
  t.same(await run({ path: 'Dockerfile.scratch', minStages: 2, finalFrom: 'scratch', finalCopiesFromStage: true }), {
    status: 'pass',
    message: 'Dockerfile.scratch has 2 stages (alpine:3.8, SCRATCH); the final stage copies from stage 0',
  }, 'FROM is compared case-insensitively and COPY --from=0 counts');
  t.same(await run({ path: 'Dockerfile.missing' }, 'scratch/'), { status: 'fail', message: 'scratch/Dockerfile.missing not found' });

  const broken = await run({ path: 'Dockerfile.broken' });
  t.equal(broken.status, 'fail');
  t.match(broken.message, /^Dockerfile\.broken\b.*:1: RUN comes before the first FROM; only ARG may appear before FROM$/, 'the parse error, with its line');

  t.same(await dockerfile.run({ path: 'Dockerfile', minStages: 1, finalFrom: undefined, finalCopiesFromStage: false }, contextOf({}, { dir: undefined, dirLabel: 'multi/' })), {
    status: 'fail',
    message: 'no folder to look in: multi/ does not exist',
  });
});

t.test('dockerfile: a FIFO, a huge file or a link out of the folder is refused at once, naming nothing outside', async (t) => {
  const secret = 'token-3f9c1a77e5';
  const root = t.testdir({
    outside: { secret: `FROM ${secret}\n` },
    step: { 'Dockerfile.out': t.fixture('symlink', '../outside/secret'), 'Dockerfile.zero': t.fixture('symlink', '/dev/zero') },
  });
  const hostile = path.join(root, 'step');
  execFileSync('mkfifo', [path.join(hostile, 'Dockerfile.fifo')]);
  await writeFile(path.join(hostile, 'Dockerfile.huge'), '');
  await truncate(path.join(hostile, 'Dockerfile.huge'), 1024 * 1024 + 1);
  const inHostile = (file: string) =>
    dockerfile.run({ path: file, minStages: 1, finalFrom: undefined, finalCopiesFromStage: false }, contextOf({}, { dir: hostile, dirLabel: 'scratch/' }));
  t.same(await inHostile('Dockerfile.fifo'), { status: 'fail', message: 'scratch/Dockerfile.fifo is a fifo (named pipe): not a regular file' }, 'a FIFO is refused, not waited on');
  t.same(await inHostile('Dockerfile.huge'), { status: 'fail', message: 'scratch/Dockerfile.huge is 1048577 bytes, over the 1048576 bytes a Dockerfile may have' });
  for (const file of ['Dockerfile.out', 'Dockerfile.zero']) {
    const verdict = await inHostile(file);
    t.same(verdict, { status: 'fail', message: `scratch/${file} is a link out of the folder being graded; the grader reads only files inside it: copy the file in instead of linking to it` });
    t.notMatch(JSON.stringify(verdict), /token-|dev\/zero|outside|secret/, 'neither the target nor its content is shown');
  }
});

// ---- compiles -----------------------------------------------------------------------------

t.test('compiles', async (t) => {
  const gcc = ['gcc', '-Wall', 'hello.c', '-o', 'hello'];
  const compiled = (compiler: Partial<RunOutcome>): OutcomeByKind['compile'] => ({ ok: true, image: 'toolchain', command: gcc, compiler: runOutcome(compiler), binaryPath: '/grade/work/hello' });
  const run = (outcome: OutcomeByKind['compile'], warnings: 'forbid' | 'allow' = 'forbid') => compiles.run({ compile: 'hello', warnings }, contextOf({ hello: outcome }));
  const warning = "hello.c:3:1: warning: return type defaults to 'int' [-Wimplicit-int]";

  t.same(await run(compiled({})), { status: 'pass', message: 'gcc -Wall hello.c -o hello compiled without warnings' });
  t.same(await run(compiled({ stderr: captured(`${warning}\n    3 | main() {}\n`) })), {
    status: 'fail',
    message: 'gcc -Wall hello.c -o hello printed 1 warning',
    log: `${warning}\n    3 | main() {}`,
    expected: 'no warnings',
    actual: warning,
  });
  t.same(await run(compiled({ stderr: captured(`${warning}\n${warning}\n`) }), 'allow'), { status: 'pass', message: 'gcc -Wall hello.c -o hello compiled with 2 warning(s)' });
  t.same(await run(compiled({ exitCode: 1, stderr: captured("hello.c:4:3: error: expected ';' before '}' token\n") })), {
    status: 'fail',
    message: 'gcc -Wall hello.c -o hello failed (exit 1)',
    log: "hello.c:4:3: error: expected ';' before '}' token",
    actual: 'exit 1',
    expected: 'exit 0',
  });
  t.same(await run(compiled({ exitCode: null, timedOut: true })), { status: 'fail', message: 'gcc -Wall hello.c -o hello timed out after 10 s' });
  t.same(await run(compiled({ exitCode: null, startError: 'exec: "gcc": executable file not found in $PATH' })), {
    status: 'fail',
    message: 'could not start the compiler: exec: "gcc": executable file not found in $PATH',
  });
  t.same(await run({ ok: false, reason: 'the compiler runs in toolchain, which did not build: no Dockerfile' }), {
    status: 'fail',
    message: 'the compiler runs in toolchain, which did not build: no Dockerfile',
  });
});

// ---- image-builds -------------------------------------------------------------------------

t.test('image-builds', async (t) => {
  const run = (outcome: OutcomeByKind['build'], dirLabel = '') => imageBuilds.run({ image: 'small' }, contextOf({ small: outcome }, { dirLabel }));
  t.same(await run(built('small', 4_010_000)), { status: 'pass', message: 'built Dockerfile in 1.5 s: 4.01MB' });
  t.same(await run(built('stage', 189_000_000, { target: 'build', build: buildOutcome({ durationMs: 250 }) }), 'multi/'), {
    status: 'pass',
    message: 'built multi/Dockerfile (--target build) in 250 ms: 189MB',
  });

  const broken = buildOutcome({
    ok: false,
    steps: [
      buildStep(1, 'FROM alpine:3.5'),
      buildStep(2, 'RUN gcc -Wall hello.c -o bin/hello', false, [
        ' ---> Running in 0123456789ab',
        'hello.c:4:3: error: expected declaration',
        'Removing intermediate container 0123456789ab',
      ]),
    ],
    error: "The command '/bin/sh -c gcc -Wall hello.c -o bin/hello' returned a non-zero code: 1",
  });
  t.same(await run(failedBuild('Dockerfile:2: RUN gcc -Wall hello.c -o bin/hello failed: returned a non-zero code: 1', broken)), {
    status: 'fail',
    message: 'Dockerfile:2: RUN gcc -Wall hello.c -o bin/hello failed: returned a non-zero code: 1',
    log: "Step 2: RUN gcc -Wall hello.c -o bin/hello\nhello.c:4:3: error: expected declaration\nThe command '/bin/sh -c gcc -Wall hello.c -o bin/hello' returned a non-zero code: 1",
  });
  t.same(await run(failedBuild('no Dockerfile to build small from')), { status: 'fail', message: 'no Dockerfile to build small from', log: undefined });

  const noSteps = buildOutcome({ ok: false, steps: [], log: Array.from({ length: 25 }, (_, index) => `line ${index + 1}`).join('\n') });
  t.equal(failureExcerpt(noSteps), ['... (5 earlier lines not shown)', ...Array.from({ length: 20 }, (_, index) => `line ${index + 6}`)].join('\n'), 'without steps, the end of the log');
});

// ---- command ------------------------------------------------------------------------------

t.test('command: exit code and stdout/stderr matchers', async (t) => {
  const run = (outcome: OutcomeByKind['run'], options: { exitCode?: number; stdout?: OutputMatcher; stderr?: OutputMatcher } = {}) =>
    command.run({ run: 'out', exitCode: options.exitCode ?? 0, stdout: options.stdout, stderr: options.stderr }, contextOf({ out: outcome }));
  const hello = finished(['/app/hello'], { stdout: captured('Hello, world!\n') });

  t.same(await run(hello, { stdout: { equals: 'Hello, world!\n' } }), { status: 'pass', message: '/app/hello exited 0 and printed "Hello, world!\\n" in 12 ms' });
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
  t.same(await run(finished(['/app/hello'], { exitCode: 3, stdout: captured('partial\n'), stderr: captured('fatal\n') }), { stdout: { contains: 'partial' } }), {
    status: 'fail',
    message: '/app/hello exited with 3, expected 0',
    expected: 'exit 0',
    actual: 'exit 3',
    log: 'partial\n\nfatal',
  }, 'the exit code is checked first, with both streams as evidence');
  t.same(await run(finished(['false'], { exitCode: 1 }), { exitCode: 1 }), { status: 'pass', message: 'false exited 1 in 12 ms' });
  t.same(await run(finished(['true'], {}), { exitCode: 2 }), { status: 'fail', message: 'true exited with 0, expected 2', expected: 'exit 2', actual: 'exit 0', log: undefined });
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
  const run = (outcome: Partial<RunOutcome>) => command.run({ run: 'out', exitCode: 0, stdout: { equals: 'x' }, stderr: undefined }, contextOf({ out: finished(['/sleep'], outcome) }));
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
  t.equal((await run(finished(['/app/hello'], { stdout: captured(`${'a'.repeat(1 << 20)}!`) }), { stdout: matcher })).status, 'fail', 'a whole MiB of output too');
  t.throws(() => compilePattern('(a)\\1'), /invalid escape sequence/, 'backreferences cannot run in linear time: refused');
  t.throws(() => compilePattern('x'.repeat(1001)), /longer than 1000 characters/);
});

t.test('command: a matches pattern in the shipped spec rejects extra lines', async (t) => {
  // Regression (fixed): regex() in runner/spec/shapes.ts compiles with the `m` flag, so the shipped
  // `matches: "^Hello, world!\\n?$"` (hint: print exactly "Hello, world!") also passes
  // output with more lines before or after it.
  const exercise = await loadExercise(path.resolve(import.meta.dirname, '../../exercises/multi'));
  const check = exercise.steps[0]!.checks.find((found) => found.id === 'prints-hello')!;
  const context = contextOf({ 'hello-output': finished(['/grade/work/hello'], { stdout: captured('Hello, world!\nGoodbye!\n') }) });
  t.equal((await check.run(context)).status, 'fail');
});

// ---- image-size ---------------------------------------------------------------------------

t.test('image-size: absolute bounds, at the edges', async (t) => {
  const run = (sizeBytes: number, bounds: { max?: number; min?: number }) =>
    imageSize.run({ image: 'small', max: bounds.max, min: bounds.min, ratioTo: undefined, maxRatio: undefined, minRatio: undefined }, contextOf({ small: built('small', sizeBytes) }));

  t.same(await run(10_000_000, { max: 10_000_000 }), { status: 'pass', message: 'small is 10MB', expected: '<= 10MB', actual: '10MB' });
  t.equal((await run(10_000_001, { max: 10_000_000 })).status, 'fail', 'one byte over the max fails');
  t.same(await run(12_500_000, { max: 10_000_000 }), { status: 'fail', message: 'small: 12.5MB is over the 10MB limit', expected: '<= 10MB', actual: '12.5MB' });
  t.equal((await run(1_000_000, { min: 1_000_000 })).status, 'pass', 'exactly the min passes');
  t.equal((await run(999_999, { min: 1_000_000 })).status, 'fail', 'one byte under the min fails');
  t.same(await run(999_000, { min: 1_000_000, max: 2_000_000 }), { status: 'fail', message: 'small: 999kB is under the 1MB minimum', expected: '<= 2MB and >= 1MB', actual: '999kB' });
  t.same(await run(500, { min: 1_000 }), { status: 'fail', message: 'small: 500B is under the 1kB minimum', expected: '>= 1kB', actual: '500B' });
  t.same(await run(128_000, {}), { status: 'pass', message: 'small is 128kB', expected: '', actual: '128kB' });
  t.same(
    await imageSize.run({ image: 'small', max: 1, min: undefined, ratioTo: undefined, maxRatio: undefined, minRatio: undefined }, contextOf({ small: failedBuild('image small did not build') })),
    { status: 'fail', message: 'image small did not build' },
  );
});

t.test('formatSize carries into the next unit when rounding reaches 1000', async (t) => {
  // Regression (fixed): runner/text/format.ts formatSize rounds after choosing the unit, so 999,999 bytes read
  // "1000kB" (docker image ls says 1MB) and image-size says "1000kB is under the 1MB minimum".
  t.equal(formatSize(999_999), '1MB');
  t.equal(formatSize(999_600_000), '1GB');
});

t.test('formatSize otherwise writes sizes as docker image ls does', async (t) => {
  t.equal(formatSize(0), '0B');
  t.equal(formatSize(999), '999B');
  t.equal(formatSize(1000), '1kB');
  t.equal(formatSize(4_012_345), '4.01MB');
  t.equal(formatSize(189_000_000), '189MB');
  t.equal(formatSize(1_048_576), '1.05MB');
});

t.test('image-size: ratio to another image, at the edges', async (t) => {
  const run = (small: number, large: number, ratios: { maxRatio?: number; minRatio?: number; max?: number }) =>
    imageSize.run(
      { image: 'small', max: ratios.max, min: undefined, ratioTo: 'large', maxRatio: ratios.maxRatio, minRatio: ratios.minRatio },
      contextOf({ small: built('small', small), large: built('large', large) }),
    );

  t.same(await run(1_000_000, 10_000_000, { maxRatio: 0.1 }), {
    status: 'pass',
    message: 'small is 1MB, 10 % of large (10MB)',
    expected: '<= 10 % of large',
    actual: '1MB, 10 % of large (10MB)',
  }, 'exactly the max ratio passes');
  t.equal((await run(1_000_001, 10_000_000, { maxRatio: 0.1 })).status, 'fail', 'a byte over the ratio fails');
  t.same(await run(4_010_000, 189_000_000, { maxRatio: 0.1, max: 10_000_000 }), {
    status: 'pass',
    message: 'small is 4.01MB, 2.12 % of large (189MB)',
    expected: '<= 10MB and <= 10 % of large',
    actual: '4.01MB, 2.12 % of large (189MB)',
  });
  t.same(await run(75_000_000, 189_000_000, { maxRatio: 0.1, max: 10_000_000 }), {
    status: 'fail',
    message: 'small: 75MB is over the 10MB limit; it is 39.7 % of large (189MB), more than 10 %',
    expected: '<= 10MB and <= 10 % of large',
    actual: '75MB, 39.7 % of large (189MB)',
  });
  t.same(await run(5_000_000, 100_000_000, { minRatio: 0.25 }), {
    status: 'fail',
    message: 'small: it is 5 % of large (100MB), less than 25 %',
    expected: '>= 25 % of large',
    actual: '5MB, 5 % of large (100MB)',
  });
  t.equal((await run(25_000_000, 100_000_000, { minRatio: 0.25 })).status, 'pass', 'exactly the min ratio passes');

  const otherFailed = await imageSize.run(
    { image: 'small', max: undefined, min: undefined, ratioTo: 'large', maxRatio: 0.1, minRatio: undefined },
    contextOf({ small: built('small', 1), large: failedBuild('Dockerfile.large:3: RUN make failed') }),
  );
  t.same(otherFailed, { status: 'fail', message: 'Dockerfile.large:3: RUN make failed' });
  t.same(imageSize.uses({ image: 'small', max: undefined, min: undefined, ratioTo: 'large', maxRatio: 0.1, minRatio: undefined }), [
    { kind: 'build', name: 'small' },
    { kind: 'build', name: 'large' },
  ]);
});

// ---- path-absent --------------------------------------------------------------------------

t.test('path-absent', async (t) => {
  const engine = new FakeEngine().paths('grade-test-small:latest', ['/usr/bin/gcc', '/bin/sh']);
  const run = (paths: string[]) => pathAbsent.run({ image: 'small', paths }, contextOf({ small: built('grade-test-small:latest', 4_000_000) }, { engine }));

  t.same(await run(['/usr/bin/cc', '/usr/bin/clang']), { status: 'pass', message: 'small has none of /usr/bin/cc, /usr/bin/clang' });
  t.same(await run(['/usr/bin/gcc', '/usr/bin/cc', '/bin/sh']), {
    status: 'fail',
    message: 'small still contains /usr/bin/gcc, /bin/sh',
    expected: 'none of /usr/bin/gcc, /usr/bin/cc, /bin/sh',
    actual: '/usr/bin/gcc, /bin/sh',
  });
  t.same(engine.probes.map((probe) => [probe.image, probe.paths]), [
    ['grade-test-small:latest', ['/usr/bin/cc', '/usr/bin/clang']],
    ['grade-test-small:latest', ['/usr/bin/gcc', '/usr/bin/cc', '/bin/sh']],
  ], 'the built image is probed by its ref');

  const untouched = new FakeEngine();
  t.same(await pathAbsent.run({ image: 'small', paths: ['/x'] }, contextOf({ small: failedBuild('image small did not build') }, { engine: untouched })), { status: 'fail', message: 'image small did not build' });
  t.same(untouched.calls, [], 'nothing is probed for a failed build');
});

t.test('path-absent: the probe container carries the run\'s labels', async (t) => {
  // Regression (fixed): graders/path-absent.ts calls engine.pathsPresent(ref, paths) without labels, so the
  // probe container it creates has no grade.* labels and `grade clean` cannot find a leftover.
  const engine = new FakeEngine();
  await pathAbsent.run({ image: 'small', paths: ['/usr/bin/gcc'] }, contextOf({ small: built('small', 1) }, { engine }));
  t.match(engine.probes[0]?.labels, { 'grade.tool': 'grade' });
});

// ---- build-cached -------------------------------------------------------------------------

t.test('build-cached', async (t) => {
  const fromCache = [
    buildStep(1, 'FROM alpine:3.5 AS build'),
    buildStep(2, 'RUN apk add --update alpine-sdk', true),
    buildStep(3, 'COPY hello.c /app', true),
    buildStep(4, 'RUN gcc -Wall hello.c -o bin/hello', true),
  ];
  const run = (steps: typeof fromCache) => buildCached.run({ image: 'stage' }, contextOf({ stage: built('stage', 1, { build: buildOutcome({ steps }) }) }));

  t.same(await run(fromCache), { status: 'pass', message: 'all 3 instructions after FROM came from the cache' });
  t.same(await run([fromCache[0]!, fromCache[1]!, fromCache[2]!, { ...fromCache[3]!, cached: false }]), {
    status: 'fail',
    message: '1 of 3 instructions were rebuilt instead of coming from the cache',
    expected: 'every step "Using cache"',
    actual: 'Step 4: RUN gcc -Wall hello.c -o bin/hello',
  });
  t.same(await run([...fromCache, buildStep(5, 'LABEL maintainer=alice')]), {
    status: 'fail',
    message: '1 of 4 instructions were rebuilt instead of coming from the cache',
    expected: 'every step "Using cache"',
    actual: 'Step 5: LABEL maintainer=alice',
  }, 'a LABEL of the student\'s own is graded');
  t.same(await run([fromCache[0]!, buildStep(2, 'FROM alpine:3.5')]), { status: 'pass', message: 'all 0 instructions after FROM came from the cache' }, 'FROM steps are never "cached"');
  t.same(await buildCached.run({ image: 'stage' }, contextOf({ stage: failedBuild('image stage did not build') })), { status: 'fail', message: 'image stage did not build' });

});

// ---- a program whose dynamic loader is missing ------------------------------------------

t.test('a dynamically linked program in an image without its C library is named as such', async (t) => {
  const dynamicMessage = (what: string, program: string) => `${what}: ${program} is in the image, but it is dynamically linked and the image has no C library or loader to run it`;
  const hint = /Link the program statically \(gcc -static .*\), or start the final stage FROM a base image that has the C library/;

  // CMD /app/hello in a final stage without libc: the shell says "not found", exit 127.
  const engine = new FakeEngine().paths('img', ['/app/hello']);
  const shell = finished([], { exitCode: 127, stderr: captured('/bin/sh: /app/hello: not found\n') });
  const run = (outcome: OutcomeByKind['run'], on = engine) => command.run({ run: 'out', exitCode: 0, stdout: undefined, stderr: undefined }, contextOf({ out: outcome }, { engine: on }));
  t.match(await run(shell), { status: 'fail', message: dynamicMessage("the image's default command could not run", '/app/hello'), hint, log: '/bin/sh: /app/hello: not found' });
  t.match(engine.probes.at(-1), { image: 'img', paths: ['/app/hello'], labels: { 'grade.tool': 'grade' } }, 'the probe container carries the run\'s labels');
  t.match(await run(finished(['/bin/sh', '-c', '/app/hello'], { exitCode: 127, stderr: captured('/bin/sh: 1: /app/hello: not found\n') })), { message: /\/app\/hello is in the image, but it is dynamically linked/ }, 'dash words it with a line number');

  // The program really is missing: the old words stay, "exited with 127".
  const empty = new FakeEngine();
  t.match(await run(shell, empty), { status: 'fail', message: "the image's default command exited with 127, expected 0" });

  // CMD ["/sleep"] in scratch: runc cannot exec it.
  const scratch = new FakeEngine().paths('sleep-ref', ['/sleep']).container('died', {
    state: { running: false, status: 'exited', exitCode: 1 },
    logs: { stdout: captured(''), stderr: captured('exec /sleep: no such file or directory\n') },
  });
  const running = (id: string, startError?: string) => containerRunning.run({ container: 'sleeper' }, contextOf({ sleeper: startedContainer(id, startError) }, { engine: scratch }));
  t.match(await running('died'), { status: 'fail', message: dynamicMessage('sleeper is not running', '/sleep'), hint });
  t.match(await running('never', 'exec /sleep: no such file or directory'), { status: 'fail', message: dynamicMessage('sleeper could not start', '/sleep'), hint });
  t.match(await run(finished(['/sleep'], { exitCode: null, startError: 'exec /sleep: no such file or directory' }), new FakeEngine().paths('img', ['/sleep'])), { message: dynamicMessage('/sleep could not run', '/sleep'), hint });
});

// ---- container-running --------------------------------------------------------------------

t.test('container-running', async (t) => {
  const engine = new FakeEngine()
    .container('up', { state: { running: true } })
    .container('died', {
      state: { running: false, status: 'exited', exitCode: 127 },
      logs: { stdout: captured(''), stderr: captured('exec /sleep: no such file or directory\n') },
    })
    .container('oom', { state: { running: false, status: 'exited', exitCode: 137, oomKilled: true, error: 'OOM' } });
  const run = (id: string, startError?: string) => containerRunning.run({ container: 'sleeper' }, contextOf({ sleeper: startedContainer(id, startError) }, { engine }));

  t.same(await run('up'), { status: 'pass', message: 'sleeper is running' });
  t.same(await run('died'), {
    status: 'fail',
    message: 'sleeper is not running: it exited with code 127',
    expected: 'running',
    actual: 'exited',
    log: 'exec /sleep: no such file or directory',
    hint: LINKER_HINT,
  });
  t.same(await run('oom'), {
    status: 'fail',
    message: 'sleeper is not running: it killed for using too much memory (OOM)',
    expected: 'running',
    actual: 'exited',
    log: undefined,
    hint: undefined,
  });
  t.same(await run('never', 'exec /sleep: no such file or directory'), { status: 'fail', message: 'sleeper could not start: exec /sleep: no such file or directory', hint: LINKER_HINT });
  t.same(await containerRunning.run({ container: 'sleeper' }, contextOf({ sleeper: { ok: false, reason: 'image sleep did not build' } }, { engine })), {
    status: 'fail',
    message: 'image sleep did not build',
  });
  t.same(engine.methods(), ['inspectContainer', 'inspectContainer', 'logs', 'pathsPresent', 'inspectContainer', 'logs', 'pathsPresent'], 'logs only for containers that stopped; the image is probed only for a program "not found"');
});

// ---- process-list -------------------------------------------------------------------------

t.test('process-list', async (t) => {
  const titles = ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'];
  const row = (cmd: string) => ['root', '4242', '4221', '0', '10:00', '?', '00:00:00', cmd];
  const engine = new FakeEngine()
    .container('plain', { top: { titles, processes: [row('/sleep')] } })
    .container('args', { top: { titles, processes: [row('/bin/sh -c /sleep'), row('/sleep 1000')] } })
    .container('relative', { top: { titles, processes: [row('sleep')] } })
    .container('ps', { top: { titles: ['PID', 'USER', 'TIME', 'COMMAND'], processes: [['1', 'root', '0:00', '/sleep']] } })
    .container('empty', { top: { titles, processes: [] } })
    .container('stopped', { state: { running: false, exitCode: 1 } });
  const run = (id: string) => processList.run({ container: 'sleeper', command: '/sleep' }, contextOf({ sleeper: startedContainer(id) }, { engine }));

  t.same(await run('plain'), { status: 'pass', message: 'docker top sleeper shows /sleep' });
  t.same(await run('args'), { status: 'pass', message: 'docker top sleeper shows /sleep' }, 'the command with arguments counts');
  t.same(await run('ps'), { status: 'pass', message: 'docker top sleeper shows /sleep' }, 'a COMMAND column counts as well');
  t.same(await run('relative'), { status: 'fail', message: 'docker top sleeper does not show /sleep', expected: '/sleep', actual: 'sleep' });
  t.same(await run('empty'), { status: 'fail', message: 'docker top sleeper does not show /sleep', expected: '/sleep', actual: '(no processes)' });
  t.same(await run('stopped'), { status: 'fail', message: 'sleeper is not running (exit code 1), so it has no processes to list' });
  t.notOk(engine.calls.some((call) => call.method === 'top' && call.arg === 'stopped'), 'no docker top of a stopped container');
});

// ---- root-listing -------------------------------------------------------------------------

t.test('root-listing with a helper that lists /proc/1/root', async (t) => {
  const engine = new FakeEngine().onRun({ image: 'grade-test-sleep-tools:latest' }, { stdout: captured('.\n..\n.dockerenv\n.hidden\ndev\netc\nproc\nsleep\nsys\n') });
  const outcomes = { sleeper: startedContainer('c1'), 'sleep-tools': built('grade-test-sleep-tools:latest', 7_000_000) };
  const run = (equals: string[], hidden = false) => rootListing.run({ container: 'sleeper', equals, helperImage: 'sleep-tools', hidden }, contextOf(outcomes, { engine }));

  t.same(await run(['sys', 'sleep', 'proc', 'etc', 'dev']), { status: 'pass', message: 'the root of sleeper holds exactly dev etc proc sleep sys' }, '.dockerenv and hidden entries are left out');
  t.match(engine.runs[0], {
    image: 'grade-test-sleep-tools:latest',
    name: 'grade-test-ls-root-1',
    labels: { 'grade.tool': 'grade' },
    entrypoint: ['ls'],
    cmd: ['-1a', '/proc/1/root'],
    pidOf: 'c1',
    keepCapabilities: true,
  });
  t.same(await run(['dev', 'etc', 'proc', 'sleep', 'sys'], true), {
    status: 'fail',
    message: 'the root of sleeper also holds .hidden',
    expected: 'dev etc proc sleep sys',
    actual: '.hidden dev etc proc sleep sys',
  }, 'hidden: true shows hidden entries, but never .dockerenv');
  t.same(await run(['dev', 'etc', 'proc', 'sleep', 'sys', 'tmp']), {
    status: 'fail',
    message: 'the root of sleeper lacks tmp',
    expected: 'dev etc proc sleep sys tmp',
    actual: 'dev etc proc sleep sys',
  });
  t.notOk(engine.methods().includes('exportListing'), 'the export is not read when the helper worked');
});

t.test('root-listing falls back to the container export', async (t) => {
  const listing = ['.dockerenv', 'bin', 'dev', 'etc', 'lib', 'proc', 'sys'];
  const withHelper = (answer: Partial<RunOutcome>) => {
    const engine = new FakeEngine().onRun({ image: 'tools' }, answer).container('c1', { listing });
    return { engine, context: contextOf({ sleeper: startedContainer('c1'), 'sleep-tools': built('tools', 1) }, { engine }) };
  };
  const expectedFail = {
    status: 'fail',
    message: 'the root of sleeper also holds bin, lib and lacks sleep',
    expected: 'dev etc proc sleep sys',
    actual: 'bin dev etc lib proc sys',
  };
  const options = { container: 'sleeper', equals: ['dev', 'etc', 'proc', 'sleep', 'sys'], helperImage: 'sleep-tools', hidden: false };

  const failing = withHelper({ exitCode: 2, stderr: captured('ls: /proc/1/root: Permission denied\n') });
  t.same(await rootListing.run(options, failing.context), expectedFail, 'the helper exited non-zero');
  t.same(failing.engine.methods(), ['inspectContainer', 'run', 'exportListing']);

  const truncated = withHelper({ stdout: captured('dev\netc\n', { truncated: true, bytes: 5_000_000 }) });
  t.same(await rootListing.run(options, truncated.context), expectedFail, 'the helper output was cut');
  t.same(truncated.engine.methods(), ['inspectContainer', 'run', 'exportListing']);

  const noTools = new FakeEngine().container('c1', { listing });
  t.same(await rootListing.run(options, contextOf({ sleeper: startedContainer('c1'), 'sleep-tools': failedBuild('image sleep-tools did not build') }, { engine: noTools })), expectedFail);
  t.same(noTools.methods(), ['inspectContainer', 'exportListing'], 'no helper from a failed build');

  const noHelper = new FakeEngine().container('c1', { listing: ['dev', 'etc', 'proc', 'sleep', 'sys', '.dockerenv'] });
  t.same(await rootListing.run({ ...options, helperImage: undefined }, contextOf({ sleeper: startedContainer('c1') }, { engine: noHelper })), {
    status: 'pass',
    message: 'the root of sleeper holds exactly dev etc proc sleep sys',
  });
  t.same(rootListing.uses(options), [{ kind: 'start', name: 'sleeper' }, { kind: 'build', name: 'sleep-tools', reportsFailure: true }]);

  const stopped = new FakeEngine().container('c1', { state: { running: false, exitCode: 139 } });
  t.same(await rootListing.run(options, contextOf({ sleeper: startedContainer('c1') }, { engine: stopped })), {
    status: 'fail',
    message: 'sleeper is not running (exit code 139), so its root cannot be listed',
  });
});
