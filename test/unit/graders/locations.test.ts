// Where a failure points in the student's files (CheckResult.location): a compiler's first
// diagnostic in a file of the submission, the Dockerfile instruction a build failed at, named
// from the submission folder whatever the step's folder.
import t from 'tap';
import { compilerDiagnostics, compiles } from '../../../graders/compiles.js';
import { imageBuilds, instructionLineOfStep } from '../../../graders/image-builds.js';
import type { OutcomeByKind } from '../../../graders/outcomes.js';
import { locationIn } from '../../../graders/types.js';
import { parseDockerfile } from '../../../runner/dockerfile/parser.js';
import { buildOutcome, buildStep, captured, runOutcome } from '../../support/fake-engine.js';
import { contextOf, failedBuild } from '../../support/graders.js';

const HELLO = '#include <stdio.h>\n\nint main (void)\n{\n    int unused;\n    printf ("Hello, world!\\n");\n    return 0;\n}\n';

t.test('locationIn names a file of the step folder from the submission, with /', async (t) => {
  t.same(locationIn('', 'Dockerfile', 4), { file: 'Dockerfile', line: 4 });
  t.same(locationIn('scratch/', 'Dockerfile', 2, 7), { file: 'scratch/Dockerfile', line: 2, column: 7 });
  t.same(locationIn('../scratch/', './Dockerfile', 1), { file: '../scratch/Dockerfile', line: 1 }, 'a step folder beside the submission');
});

t.test('compilerDiagnostics reads gcc and clang lines and passes over the rest', async (t) => {
  const output = [
    'hello.c: In function ‘main’:',
    'hello.c:5:9: warning: unused variable ‘unused’ [-Wunused-variable]',
    '    5 |     int unused;',
    '      |         ^~~~~~',
    'In file included from hello.c:1:',
    '/usr/include/stdio.h:30:10: fatal error: bits/libc-header-start.h: No such file or directory',
    'src/util.c:12: error: old-style diagnostic without a column',
    'hello.c:7:1: note: declared here',
    "/usr/bin/ld: hello.o: in function `main': hello.c:(.text+0x1a): undefined reference to `foo'",
  ].join('\n');
  t.same(compilerDiagnostics(output), [
    { file: 'hello.c', line: 5, column: 9, severity: 'warning' },
    { file: '/usr/include/stdio.h', line: 30, column: 10, severity: 'fatal error' },
    { file: 'src/util.c', line: 12, severity: 'error' },
    { file: 'hello.c', line: 7, column: 1, severity: 'note' },
  ]);
});

t.test('compiles points at the first diagnostic in a file of the submission', async (t) => {
  const dir = t.testdir({ 'hello.c': HELLO, src: { 'util.c': 'int x;\n' } });
  const compiled = (stderr: string, exitCode = 0): OutcomeByKind['compile'] => ({
    ok: true,
    image: 'toolchain',
    command: ['gcc', '-Wall', 'hello.c', '-o', 'hello'],
    compiler: runOutcome({ exitCode, stderr: captured(stderr) }),
    binaryPath: '/grade/work/hello',
  });
  const run = (outcome: OutcomeByKind['compile'], dirLabel = '', at: { dir?: string } = { dir }) =>
    compiles.run({ compile: 'hello', warnings: 'forbid' }, contextOf({ hello: outcome }, { ...at, dirLabel }));

  const warning = await run(compiled("hello.c: In function 'main':\nhello.c:5:9: warning: unused variable 'unused' [-Wunused-variable]\n"));
  t.equal(warning.status, 'fail');
  t.same(warning.location, { file: 'hello.c', line: 5, column: 9 }, 'the warning, with its column');

  const inScratch = await run(compiled('hello.c:5:9: warning: unused variable\n'), 'scratch/');
  t.same(inScratch.location, { file: 'scratch/hello.c', line: 5, column: 9 }, "a step folder's file is named from the submission");

  const failed = await run(compiled('hello.c:5:9: warning: unused variable\nsrc/util.c:1:5: error: expected identifier\n', 1));
  t.same(failed.location, { file: 'src/util.c', line: 1, column: 5 }, 'a failed compile points at its first error, not the warning before it');

  const header = await run(compiled('/usr/include/stdio.h:30:10: fatal error: missing.h: No such file\nhello.c:1:10: note: in this include\n', 1));
  t.same(header.location, { file: 'hello.c', line: 1, column: 10 }, "a system header is not the student's: the next diagnostic in their files is");

  const made = await run(compiled('generated.c:3:1: error: nothing here\n../outside.c:2:1: error: outside\n', 1));
  t.equal(made.location, undefined, 'a file the submission does not hold, or one outside it, is no place');

  const noDir = await run(compiled('hello.c:5:9: warning: unused variable\n'), '', {});
  t.equal(noDir.location, undefined, 'no folder, no place');

  const clean = await run(compiled(''));
  t.same(clean, { status: 'pass', message: 'gcc -Wall hello.c -o hello compiled without warnings' }, 'a pass has no location');
});

t.test('image-builds points at the failing instruction, a parse error or a remote ADD', async (t) => {
  const dockerfile =
    'ARG BASE=alpine\nFROM $BASE AS build\n# a comment\nRUN apk add gcc\nCOPY hello.c .\nRUN gcc -Wall hello.c \\\n  -o hello\n\nFROM alpine\nCOPY --from=build /hello /hello\n';
  const dir = t.testdir({
    Dockerfile: dockerfile,
    'Dockerfile.typo': 'FROM alpine\nCOPPY hello.c /app\n',
    'Dockerfile.remote': 'FROM alpine\nADD https://example.com/x /x\n',
  });
  const run = (outcome: OutcomeByKind['build'], dirLabel = '', at: { dir?: string } = { dir }) =>
    imageBuilds.run({ image: 'small' }, contextOf({ small: outcome }, { ...at, dirLabel }));
  const failedAt = (index: number, instruction: string) =>
    buildOutcome({
      ok: false,
      steps: [buildStep(1, 'ARG BASE=alpine'), buildStep(2, 'FROM $BASE AS build'), buildStep(index, instruction)],
      error: "The command '/bin/sh -c gcc' returned a non-zero code: 1",
    });

  t.equal(instructionLineOfStep(parseDockerfile(dockerfile), 5), 6, 'step 5 is the instruction on line 6 (the ARG before FROM counts)');
  const compileStep = await run(failedBuild('Dockerfile:6: RUN gcc failed', failedAt(5, 'RUN gcc -Wall hello.c -o hello')));
  t.same(compileStep.location, { file: 'Dockerfile', line: 6 }, 'the RUN that failed, where it starts');
  const fromScratch = await run(failedBuild('scratch/Dockerfile:4: RUN apk add gcc failed', failedAt(3, 'RUN apk add gcc')), 'scratch/');
  t.same(fromScratch.location, { file: 'scratch/Dockerfile', line: 4 }, 'in a step folder');

  const typo = await run({ ok: false, reason: 'Dockerfile.typo:2: unknown instruction "COPPY"', dockerfile: 'Dockerfile.typo' });
  t.same(typo.location, { file: 'Dockerfile.typo', line: 2 }, 'a Dockerfile that does not parse: the line its error names');
  const remote = await run({ ok: false, reason: 'Dockerfile.remote:2: ADD of a remote URL', dockerfile: 'Dockerfile.remote' });
  t.same(remote.location, { file: 'Dockerfile.remote', line: 2 }, 'a refused remote ADD: its line');

  const missing = await run({ ok: false, reason: 'no Dockerfile.gone to build small from', dockerfile: 'Dockerfile.gone' });
  t.equal(missing.location, undefined, 'no Dockerfile, no place');
  const unreachable = await run({ ok: false, reason: 'base image x is not on this machine', dockerfile: 'Dockerfile', environment: true });
  t.equal(unreachable.location, undefined, "the grading machine's fault points at nothing of the student's");
  const timedOut = await run(failedBuild('Dockerfile: build timed out', buildOutcome({ ok: false, timedOut: true, steps: [buildStep(3, 'RUN apk add gcc')] })));
  t.equal(timedOut.location, undefined, 'a build that ran out of time: no instruction is to blame');
  const noDir = await run(failedBuild('Dockerfile:6: RUN gcc failed', failedAt(5, 'RUN gcc')), '', {});
  t.equal(noDir.location, undefined, 'no folder, no place');
});
