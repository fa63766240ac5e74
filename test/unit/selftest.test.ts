// `grade selftest` without an engine: the --image map and the FROM lines it rewrites, expect.yaml
// read strictly, the verdict on fake results (caught, not caught, skipped, not judged) with its
// exit status, the matrix text, and the private copies a self-test grades.
import t from 'tap';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  buildStages,
  canonicalImage,
  ImageMapError,
  parseImageMap,
  parseImageMapping,
  substituteBaseImages,
  substituteInFolder,
} from '../../runner/authoring/base-images.js';
import { checkIdsOf, loadControls, parseExpectation, type Control, type Expectation } from '../../runner/authoring/controls.js';
import { conclusion, matrixLines, selftestText, verdictLines } from '../../runner/authoring/matrix.js';
import { scaffoldExercise } from '../../runner/authoring/scaffold.js';
import { runSelftest, SelftestError, withPrivateCopy } from '../../runner/authoring/selftest.js';
import { judgeControl, judgeReference, selftestReport } from '../../runner/authoring/verdict.js';
import { parseDockerfile } from '../../runner/dockerfile/parser.js';
import { exercisesRoot } from '../../runner/paths.js';
import type { CheckStatus, ExerciseResult } from '../../runner/results.js';
import { SpecError } from '../../runner/spec/shapes.js';
import { loadExercise } from '../../runner/spec/loader.js';
import { runCli } from '../support/cli.js';

const STANDINS = parseImageMap(['alpine:*=grade-fixture/runtime', 'alpine:*+build=grade-fixture/toolchain']);
const lines = (...each: string[]) => `${each.join('\n')}\n`;

t.test('an --image value is NAME=IMAGE or NAME+build=IMAGE, and is refused in one line otherwise', async (t) => {
  const plain = parseImageMapping('alpine:3.5=grade-fixture/runtime');
  t.match(plain, { written: 'alpine:3.5', build: false, to: 'grade-fixture/runtime' });
  t.ok(plain.matches('alpine:3.5'));
  t.ok(plain.matches('docker.io/library/alpine:3.5'), 'Docker Hub names are compared as Docker reads them');
  t.notOk(plain.matches('alpine:3.8'));
  t.notOk(plain.matches('alpine'), 'alpine is alpine:latest');
  const build = parseImageMapping('alpine:3.5+build=grade-fixture/toolchain');
  t.match(build, { written: 'alpine:3.5', build: true, to: 'grade-fixture/toolchain' });
  const wildcard = parseImageMapping('alpine:*=x/y');
  t.ok(wildcard.matches('alpine:3.8') && wildcard.matches('alpine'), '* matches any tag');
  t.notOk(wildcard.matches('alpinelinux/alpine:3.8'));
  t.ok(parseImageMapping('localhost:5000/team/base=x').matches('localhost:5000/team/base:latest'), 'a registry port is no tag');

  t.equal(canonicalImage('library/alpine'), 'alpine:latest');
  t.equal(canonicalImage('index.docker.io/library/debian:12'), 'debian:12');
  t.equal(canonicalImage('ghcr.io/owner/image@sha256:abc'), 'ghcr.io/owner/image@sha256:abc');

  const refused: [string, RegExp][] = [
    ['alpine:3.5', /^--image alpine:3\.5: expected NAME=IMAGE \(every stage\) or NAME\+build=IMAGE/],
    ['=grade-fixture/runtime', /no image name before "="/],
    ['alpine:3.5=', /no image after "=" to replace alpine:3\.5 by/],
    ['alpine 3.5=x', /"alpine 3\.5" is not an image name/],
    ['alpine=x y', /"x y" is not an image name/],
    ['alpine=x*', /"x\*" is not an image name/],
    ['scratch=grade-fixture/runtime', /scratch is no image and is never substituted/],
  ];
  for (const [value, message] of refused) {
    t.throws(() => parseImageMap([value]), { constructor: ImageMapError, message }, value);
  }
  t.throws(() => parseImageMap(['alpine:3.5=a', 'docker.io/library/alpine:3.5=b']), {
    message: '--image docker.io/library/alpine:3.5=b: docker.io/library/alpine:3.5 is mapped twice (also to a)',
  });
  t.equal(parseImageMap(['alpine:3.5=a', 'alpine:3.5+build=b']).length, 2, 'one name may map differently for build stages');
});

t.test('the reference Dockerfiles of multi are rewritten onto the stand-ins, stage by stage', async (t) => {
  const solution = await readFile(path.join(exercisesRoot, 'multi/solution/Dockerfile'), 'utf8');
  const done = substituteBaseImages(solution, STANDINS);
  t.equal(
    done.text,
    solution.replace('FROM alpine:3.5 AS build', 'FROM grade-fixture/toolchain AS build').replace(/^FROM alpine:3\.5$/m, 'FROM grade-fixture/runtime'),
  );
  t.same(done.substitutions, [
    { line: 1, from: 'alpine:3.5', to: 'grade-fixture/toolchain', build: true },
    { line: 10, from: 'alpine:3.5', to: 'grade-fixture/runtime', build: false },
  ]);
  t.same(done.notes, []);
  const scratch = await readFile(path.join(exercisesRoot, 'multi/solution/scratch/Dockerfile'), 'utf8');
  const exec = substituteBaseImages(scratch, STANDINS);
  t.match(exec.text, /^FROM grade-fixture\/toolchain AS build\n/, 'RUN ["apk", "add", ...] in exec form installs packages too');
  t.match(exec.text, /^FROM scratch$/m, 'scratch is never substituted');
});

t.test('every form of FROM keeps what is written around the image', async (t) => {
  const map = parseImageMap(['alpine:3.5=rt', 'alpine:3.5+build=tc', 'debian:12=deb']);
  const cases: [string, string, string][] = [
    ['lower case and as', lines('from alpine:3.5 as build', 'run apk add gcc', 'from alpine:3.5'), lines('from tc as build', 'run apk add gcc', 'from rt')],
    ['--platform kept', lines('FROM --platform=linux/amd64 alpine:3.5 AS Build', 'RUN gcc -v'), lines('FROM --platform=linux/amd64 tc AS Build', 'RUN gcc -v')],
    [
      'a stage named like an image is a stage',
      lines('FROM alpine:3.5 AS build', 'RUN make', 'FROM build'),
      lines('FROM tc AS build', 'RUN make', 'FROM build'),
    ],
    [
      'scratch stays',
      lines('FROM debian:12 AS build', 'RUN cc x.c', 'FROM scratch', 'COPY --from=build /a /a'),
      lines('FROM deb AS build', 'RUN cc x.c', 'FROM scratch', 'COPY --from=build /a /a'),
    ],
    ['a plain mapping serves build stages too', lines('FROM debian:12', 'RUN apt-get install -y gcc'), lines('FROM deb', 'RUN apt-get install -y gcc')],
    [
      'an image the map does not name stays',
      lines('FROM ubuntu:22.04', 'RUN apt-get install -y gcc'),
      lines('FROM ubuntu:22.04', 'RUN apt-get install -y gcc'),
    ],
    ['CRLF line endings stay', 'FROM alpine:3.5\r\nCMD ["x"]\r\n', 'FROM rt\r\nCMD ["x"]\r\n'],
    [
      'a FROM continued on the next line',
      lines('FROM --platform=linux/amd64 \\', '  # the base', '  alpine:3.5 AS base'),
      lines('FROM --platform=linux/amd64 \\', '  # the base', '  rt AS base'),
    ],
    ['docker.io/library names match', lines('FROM docker.io/library/alpine:3.5'), lines('FROM rt')],
    ['the escape directive', lines('# escape=`', 'FROM `', '  alpine:3.5'), lines('# escape=`', 'FROM `', '  rt')],
  ];
  for (const [name, input, output] of cases) t.equal(substituteBaseImages(input, map).text, output, name);
});

t.test('build stages: those that install or compile, and the stages they are built on', async (t) => {
  const stages = (text: string) => buildStages(parseDockerfile(text));
  t.same(stages(lines('FROM a AS base', 'FROM base AS build', 'RUN apk --no-cache add gcc', 'FROM a')), [true, true, false]);
  t.same(stages(lines('FROM a', 'RUN yum -y install gcc', 'FROM a', 'RUN dnf install x', 'FROM a', 'RUN echo gccx && ls /opt/ccache')), [true, true, false]);
  t.same(stages(lines('FROM a', 'RUN <<EOF', 'set -e', 'apt install -y build-essential', 'EOF', 'FROM a', 'RUN ["/usr/bin/gcc", "x.c"]')), [true, true]);
  t.same(stages(lines('FROM a', 'RUN apk update', 'CMD ["gcc"]')), [false], 'apk update installs nothing; CMD is not RUN');
  const map = parseImageMap(['alpine:3.5+build=tc']);
  t.equal(
    substituteBaseImages(lines('FROM alpine:3.5', 'CMD /app/hello'), map).text,
    lines('FROM alpine:3.5', 'CMD /app/hello'),
    'a +build mapping leaves runtime stages',
  );
});

t.test('what cannot be substituted is left as written, with a note saying why', async (t) => {
  const map = parseImageMap(['alpine:3.5=rt']);
  const viaArg = lines('ARG BASE=alpine:3.5', 'FROM ${BASE}', 'FROM $BASE AS two');
  const done = substituteBaseImages(viaArg, map, 'app/Dockerfile');
  t.equal(done.text, viaArg);
  t.same(done.notes, [
    'app/Dockerfile:2: FROM ${BASE} names its image through a variable: not substituted (write the image in the FROM line to map it)',
    'app/Dockerfile:3: FROM $BASE names its image through a variable: not substituted (write the image in the FROM line to map it)',
  ]);
  const broken = lines('FROM alpine:3.5', 'COPPY a b');
  const unparsed = substituteBaseImages(broken, map);
  t.equal(unparsed.text, broken);
  t.match(unparsed.notes, [/^Dockerfile: not substituted, it does not parse \(Dockerfile:2: unknown instruction "COPPY"/]);
  t.same(substituteBaseImages(broken, []), { text: broken, substitutions: [], notes: [] }, 'an empty map reads nothing');
});

t.test('every Dockerfile of a folder is rewritten in place; other files and links are not touched', async (t) => {
  const dir = t.testdir({
    Dockerfile: lines('FROM alpine:3.5 AS build', 'RUN apk add gcc', 'FROM alpine:3.5'),
    'Dockerfile.large': lines('FROM alpine:3.5', 'RUN gcc -v'),
    'hello.c': 'FROM alpine:3.5\n',
    scratch: { Dockerfile: lines('FROM alpine:3.8 AS build', 'RUN ["apk", "add", "gcc"]', 'FROM scratch') },
    outside: { Dockerfile: lines('FROM alpine:3.5') },
  });
  await symlink(path.join(dir, 'outside'), path.join(dir, 'linked'));
  await symlink(path.join(dir, 'outside', 'Dockerfile'), path.join(dir, 'scratch', 'Dockerfile.link'));
  const done = await substituteInFolder(path.join(dir), STANDINS);
  t.same(
    done.map((file) => [file.file, file.substitutions.map((one) => `${one.line}:${one.to}`)]),
    [
      ['Dockerfile', ['1:grade-fixture/toolchain', '3:grade-fixture/runtime']],
      ['Dockerfile.large', ['1:grade-fixture/toolchain']],
      ['outside/Dockerfile', ['1:grade-fixture/runtime']],
      ['scratch/Dockerfile', ['1:grade-fixture/toolchain']],
    ],
    'links are not followed; hello.c is no Dockerfile',
  );
  t.equal(await readFile(path.join(dir, 'hello.c'), 'utf8'), 'FROM alpine:3.5\n');
  t.equal(await readFile(path.join(dir, 'Dockerfile.large'), 'utf8'), lines('FROM grade-fixture/toolchain', 'RUN gcc -v'));
});

// ---- expect.yaml ----------------------------------------------------------------------------

const IDS = ['build/builds', 'build/prints', 'small/no-compiler', 'small/small-is-small'];

const issuesOf = (text: string) => {
  const parsed = parseExpectation(text, 'wrong/x/expect.yaml', IDS);
  return 'issues' in parsed ? parsed.issues.map((issue) => `${issue.file}:${issue.line}:${issue.col}: ${issue.message}`) : parsed;
};

t.test('expect.yaml names the checks a control must fail, in exercise order, and optionally othersPass', async (t) => {
  t.same(issuesOf(lines('# a comment', 'fails: [small/small-is-small, build/prints]')), {
    expectation: { fails: ['build/prints', 'small/small-is-small'], othersPass: false },
  });
  t.same(issuesOf(lines('fails:', '  - build/prints', 'othersPass: true')), { expectation: { fails: ['build/prints'], othersPass: true } });
});

t.test('expect.yaml is read strictly: every problem at file:line:column', async (t) => {
  t.same(issuesOf(lines('fails: [build/prints]', 'otherPass: true')), [
    'wrong/x/expect.yaml:2:1: unknown key "otherPass" (did you mean "othersPass"?); valid keys: fails, othersPass',
  ]);
  t.same(issuesOf(lines('fails:', '  - build/prints', '  - small/no-compilr')), [
    'wrong/x/expect.yaml:3:5: unknown check "small/no-compilr": did you mean "small/no-compiler"?',
  ]);
  t.same(issuesOf(lines('fails: [small-is-small]')), [
    'wrong/x/expect.yaml:1:9: unknown check "small-is-small" (a check is named step/check): did you mean "small/small-is-small"?',
  ]);
  t.same(issuesOf(lines('fails: [nothing/like-it]')), [`wrong/x/expect.yaml:1:9: unknown check "nothing/like-it": checks: ${IDS.join(', ')}`]);
  t.same(issuesOf(lines('fails: [build/prints, build/builds, build/prints]')), ['wrong/x/expect.yaml:1:37: check "build/prints" is listed twice']);
  t.same(issuesOf(lines('fails: []')), ['wrong/x/expect.yaml:1:8: expected at least 1 item(s)']);
  t.same(issuesOf(lines('fails: [build/prints]', 'othersPass: yes')), ['wrong/x/expect.yaml:2:13: expected true or false, found string "yes"']);
  t.same(issuesOf(''), ['wrong/x/expect.yaml:1:1: expected a mapping with keys fails, othersPass, found nothing']);
  t.same(issuesOf(lines('othersPass: true')), ['wrong/x/expect.yaml:1:1: missing key "fails" (a list of a check id step/check)']);
  t.match(issuesOf(lines('fails: [build/prints', 'othersPass: true')), [/^wrong\/x\/expect\.yaml:\d+:\d+: /]);
});

t.test('loadControls reads every wrong/<name>/expect.yaml, and names every problem of every control at once', async (t) => {
  const multi = await loadExercise(path.join(exercisesRoot, 'multi'));
  const shipped = await loadControls(multi.dir, checkIdsOf(multi));
  t.ok(shipped.length >= 6, `multi ships ${shipped.length} controls`);
  for (const name of ['single-stage', 'compiler-in-final', 'wrong-greeting', 'compile-warning', 'scratch-dynamic', 'scratch-extra-file']) {
    t.ok(
      shipped.some((control) => control.name === name),
      name,
    );
  }
  const dir = t.testdir({
    wrong: {
      good: { 'expect.yaml': 'fails: [build/prints]\n' },
      'no-expectation': { Dockerfile: 'FROM x\n' },
      typo: { 'expect.yaml': 'fails: [build/print]\n' },
      'README.md': 'not a control\n',
    },
  });
  const error = await loadControls(dir, IDS).catch((caught: unknown) => caught);
  t.type(error, SpecError);
  t.same(
    (error as SpecError).issues.map((issue) => `${path.basename(path.dirname(issue.file))} ${issue.line}:${issue.col} ${issue.message}`),
    [
      'no-expectation 1:1 missing: a control needs an expect.yaml naming the checks it must fail (fails: [step/check])',
      'typo 1:9 unknown check "build/print": did you mean "build/prints"?',
    ],
  );
  t.same(await loadControls(t.testdir({}), IDS), [], 'no wrong/ folder: no controls');
});

// ---- verdicts ---------------------------------------------------------------------------------

const exercise = {
  id: 'demo',
  steps: [
    {
      id: 'build',
      checks: [
        { id: 'builds', title: 'it builds' },
        { id: 'prints', title: 'it prints' },
      ],
    },
    {
      id: 'small',
      checks: [
        { id: 'no-compiler', title: 'no compiler' },
        { id: 'small-is-small', title: 'small' },
      ],
    },
  ],
};

/** A result of the demo exercise: every check passes, except those given; each is worth 1 point. */
function resultOf(statuses: Partial<Record<string, CheckStatus>> = {}, name = 'solution'): ExerciseResult {
  const steps = exercise.steps.map((step) => ({
    id: step.id,
    title: step.id,
    required: true,
    checks: step.checks.map((check) => {
      const status = statuses[`${step.id}/${check.id}`] ?? 'pass';
      return {
        id: check.id,
        title: check.title,
        kind: 'command',
        status,
        points: status === 'pass' ? 1 : 0,
        maxPoints: 1,
        required: true,
        message: status === 'pass' ? 'ok' : `${check.id} ${status}ed\nsecond line`,
        source: { file: `${step.id}.yaml`, line: 1 },
        durationMs: 0,
      };
    }),
    durationMs: 0,
  }));
  const checks = steps.flatMap((step) => step.checks);
  const score = checks.reduce((sum, check) => sum + check.points, 0);
  return {
    schemaVersion: 1,
    exercise: 'demo',
    exerciseFolder: 'demo',
    title: 'Demo',
    score,
    maxScore: checks.length,
    passed: score === checks.length,
    steps,
    images: [],
    submission: `/tmp/${name}`,
    submissionId: name,
    runId: 'r1',
    grader: { name: 'grade', version: '0.0.0' },
    startedAt: new Date(0).toISOString(),
    durationMs: 0,
  };
}

const ids = IDS;
const control = (name: string, expectation: Expectation, statuses: Partial<Record<string, CheckStatus>>) => ({
  name,
  expectation,
  result: resultOf(statuses, name),
});

t.test('a listed check catches its mistake only when it fails: passed is not caught, skipped shows nothing', async (t) => {
  const caught = judgeControl(
    ids,
    control('caught', { fails: ['small/no-compiler'], othersPass: false }, { 'small/no-compiler': 'fail', 'build/prints': 'fail' }),
  );
  t.equal(caught.verdict, 'ok');
  t.match(caught.cells, { 'small/no-compiler': { mark: 'caught', expected: 'fail' }, 'build/prints': { mark: 'none', expected: 'any', status: 'fail' } });
  t.equal(caught.summary, 'caught: small/no-compiler fails as expected');
  t.equal(caught.folder, 'wrong/caught');

  const missed = judgeControl(
    ids,
    control('missed', { fails: ['small/no-compiler', 'small/small-is-small'], othersPass: false }, { 'small/no-compiler': 'fail' }),
  );
  t.equal(missed.verdict, 'failed');
  t.equal(missed.cells['small/small-is-small']!.mark, 'not-caught');
  t.equal(missed.summary, 'NOT CAUGHT: small/small-is-small passed');

  const skipped = judgeControl(ids, control('skipped', { fails: ['build/prints'], othersPass: false }, { 'build/builds': 'fail', 'build/prints': 'skip' }));
  t.equal(skipped.verdict, 'failed');
  t.equal(skipped.cells['build/prints']!.mark, 'not-shown');
  t.equal(
    skipped.summary,
    'NOT CAUGHT: build/prints was skipped (prints skiped\\nsecond line): a skipped check does not show that it catches the mistake',
    'the message is kept on one line',
  );

  const strict = judgeControl(
    ids,
    control('strict', { fails: ['build/prints'], othersPass: true }, { 'build/prints': 'fail', 'small/small-is-small': 'fail' }),
  );
  t.equal(strict.verdict, 'failed');
  t.equal(strict.cells['small/small-is-small']!.mark, 'unexpected');
  t.match(strict.summary, /^NOT CAUGHT: small\/small-is-small failed \(.*\), though othersPass is true$/);
  const exact = judgeControl(ids, control('exact', { fails: ['build/prints'], othersPass: true }, { 'build/prints': 'fail' }));
  t.equal(exact.summary, 'caught: build/prints fails as expected, and every other check passes');

  const unjudged = judgeControl(ids, control('unjudged', { fails: ['build/prints'], othersPass: false }, { 'build/builds': 'error', 'build/prints': 'error' }));
  t.equal(unjudged.verdict, 'not-judged');
  t.equal(unjudged.cells['build/builds']!.mark, 'none', 'an unlisted check does not matter without othersPass');
  t.equal(unjudged.cells['build/prints']!.mark, 'not-judged');

  const waiting = judgeControl(ids, control('waiting', { fails: ['build/prints'], othersPass: false }, { 'build/builds': 'error', 'build/prints': 'skip' }));
  t.equal(waiting.verdict, 'not-judged', 'a skip beside a check not judged may wait on it: not judged, not "not shown"');
  t.equal(waiting.cells['build/prints']!.mark, 'not-judged');
});

t.test('the reference must get full marks: every check passed', async (t) => {
  const full = judgeReference(ids, { name: 'solution', result: resultOf() });
  t.equal(full.verdict, 'ok');
  t.equal(full.summary, 'full marks');
  const lost = judgeReference(ids, { name: 'solution', result: resultOf({ 'build/prints': 'fail', 'small/no-compiler': 'skip' }) });
  t.equal(lost.verdict, 'failed');
  t.equal(lost.summary, 'NOT FULL MARKS: build/prints failed (prints failed\\nsecond line); small/no-compiler was skipped (no-compiler skiped\\nsecond line)');
  const unjudged = judgeReference(ids, { name: 'solution', result: resultOf({ 'build/builds': 'error' }) });
  t.equal(unjudged.verdict, 'not-judged');
  const short = resultOf();
  short.score -= 1;
  t.equal(judgeReference(ids, { name: 'solution', result: short }).verdict, 'failed', 'a point short is not full marks');
});

t.test('exit status: 0 all as expected, 1 a control not caught or the reference short, 2 something not judged', async (t) => {
  const caught = control('a', { fails: ['build/prints'], othersPass: false }, { 'build/prints': 'fail' });
  const missed = control('b', { fails: ['small/no-compiler'], othersPass: false }, {});
  const unjudged = control('c', { fails: ['small/no-compiler'], othersPass: false }, { 'small/no-compiler': 'error' });
  const reference = { name: 'solution', result: resultOf() };
  const passed = selftestReport(exercise, reference, [caught]);
  t.equal(passed.exitCode, 0);
  t.equal(passed.passed, true);
  t.same(passed.uncaught, ['build/builds', 'small/no-compiler', 'small/small-is-small']);
  t.equal(selftestReport(exercise, reference, [caught, missed]).exitCode, 1);
  t.equal(selftestReport(exercise, { name: 'solution', result: resultOf({ 'build/builds': 'fail' }) }, [caught]).exitCode, 1);
  t.equal(selftestReport(exercise, reference, [caught, missed, unjudged]).exitCode, 2, 'not judged comes first, as for grading');
  t.equal(selftestReport(exercise, reference, []).exitCode, 0, 'no controls: the reference alone decides');
});

t.test('the matrix: a row per check, a column per submission, the expected cells marked', async (t) => {
  const report = selftestReport(exercise, { name: 'solution', result: resultOf() }, [
    control(
      'single-stage',
      { fails: ['small/no-compiler', 'small/small-is-small'], othersPass: false },
      { 'small/no-compiler': 'fail', 'small/small-is-small': 'skip' },
    ),
    control('wrong-greeting', { fails: ['build/prints'], othersPass: true }, { 'build/prints': 'fail' }),
    control('lucky', { fails: ['build/builds'], othersPass: false }, { 'build/prints': 'error' }),
  ]);
  t.same(matrixLines(report, 120), [
    'check                   solution    single-stage    wrong-greeting    lucky',
    'build/builds            pass        pass            pass            ! pass',
    'build/prints            pass        pass          ✖ FAIL              err',
    'small/no-compiler       pass      ✖ FAIL            pass              pass',
    'small/small-is-small    pass      ~ skip            pass              pass',
    '',
    '✖ expected to fail and failed (caught)   ! not as expected   ~ expected to fail but skipped (shows nothing)   ? not judged',
  ]);
  const narrow = matrixLines(report, 60);
  t.same(
    narrow.slice(0, 6),
    [
      'ref = solution/',
      '  1 = wrong/single-stage/',
      '  2 = wrong/wrong-greeting/',
      '  3 = wrong/lucky/',
      '',
      'check                   ref     1       2       3',
    ],
    'numbered when the names do not fit',
  );
  t.equal(narrow[6], 'build/builds            pass    pass    pass  ! pass');
  t.same(verdictLines(report), [
    'solution/ (4/4): full marks',
    'wrong/single-stage/ (2/4): NOT CAUGHT: small/small-is-small was skipped (small-is-small skiped\\nsecond line): a skipped check does not show that it catches the mistake',
    'wrong/wrong-greeting/ (3/4): caught: build/prints fails as expected, and every other check passes',
    'wrong/lucky/ (3/4): NOT CAUGHT: build/builds passed',
  ]);
  t.equal(conclusion(report), 'selftest demo: failed: 2 of 3 controls not caught: wrong/single-stage/, wrong/lucky/');
  const text = selftestText(report, 120);
  t.match(
    text,
    /\nwarning: no control shows that build\/builds catches anything\nwarning: no control shows that small\/small-is-small catches anything\n\nselftest demo: failed/,
  );
  t.notMatch(text, /warning: .*small\/no-compiler/, 'a check one control catches is shown at work');

  const good = selftestReport(exercise, { name: 'solution', result: resultOf() }, [
    control('one', { fails: ['build/prints', 'build/builds'], othersPass: false }, { 'build/prints': 'fail', 'build/builds': 'fail' }),
  ]);
  t.equal(conclusion(good), 'selftest demo: passed: the reference solution gets full marks and the control is caught');
  const alone = selftestText(selftestReport(exercise, { name: 'solution', result: resultOf() }, []), 120);
  t.match(
    alone,
    /\nwarning: no negative controls under wrong\/: nothing shows that the checks catch a mistake\n\nselftest demo: passed: the reference solution gets full marks\n$/,
  );
  const offline = selftestReport(exercise, { name: 'solution', result: resultOf({ 'build/builds': 'error' }) }, []);
  t.equal(conclusion(offline), 'selftest demo: not judged: the grading machine could not judge checks of solution/ (the cause is above)');
  t.match(matrixLines(offline, 120)[1], /^build\/builds\s+\? err$/);
});

// ---- the run ------------------------------------------------------------------------------------

t.test('each submission is graded on a private copy: base images mapped, no expect.yaml, removed afterwards', async (t) => {
  const multi = await loadExercise(path.join(exercisesRoot, 'multi'));
  const root = t.testdir({
    exercise: {
      solution: {
        Dockerfile: lines('FROM alpine:3.5 AS build', 'RUN apk add gcc', 'FROM alpine:3.5'),
        scratch: { Dockerfile: lines('FROM alpine:3.8', 'RUN gcc x.c') },
      },
      wrong: { 'single-stage': { Dockerfile: lines('FROM alpine:3.5', 'RUN apk add gcc'), 'expect.yaml': 'fails: [large-small/multi-stage]\n' } },
    },
    tmp: {},
  });
  const dir = path.join(root, 'exercise');
  const before = await readFile(path.join(dir, 'solution/Dockerfile'), 'utf8');
  const controls: Control[] = [
    { name: 'single-stage', dir: path.join(dir, 'wrong/single-stage'), expectation: { fails: ['large-small/multi-stage'], othersPass: false } },
  ];
  const seen: { name: string; dir: string; files: Record<string, string | undefined> }[] = [];
  const events: string[] = [];
  const { report, baseImages } = await runSelftest({
    exercise: { ...multi, dir },
    controls,
    imageMap: STANDINS,
    tmpRoot: path.join(root, 'tmp'),
    onEvent: (event) => events.push(event.type === 'note' ? `note ${event.text}` : `${event.type} ${event.folder}`),
    gradeCopy: async ({ dir: copy, name }) => {
      const read = async (file: string) => (existsSync(path.join(copy, file)) ? readFile(path.join(copy, file), 'utf8') : undefined);
      seen.push({
        name,
        dir: copy,
        files: { Dockerfile: await read('Dockerfile'), 'scratch/Dockerfile': await read('scratch/Dockerfile'), 'expect.yaml': await read('expect.yaml') },
      });
      // The demo's result stands in: only the copy matters here.
      return resultOf({}, name);
    },
  });
  t.same(
    seen.map((one) => [one.name, path.basename(one.dir), path.dirname(path.dirname(one.dir)) === path.join(root, 'tmp')]),
    [
      ['solution', 'solution', true],
      ['single-stage', 'single-stage', true],
    ],
  );
  t.equal(seen[0]!.files.Dockerfile, lines('FROM grade-fixture/toolchain AS build', 'RUN apk add gcc', 'FROM grade-fixture/runtime'));
  t.equal(seen[0]!.files['scratch/Dockerfile'], lines('FROM grade-fixture/toolchain', 'RUN gcc x.c'));
  t.equal(seen[1]!.files.Dockerfile, lines('FROM grade-fixture/toolchain', 'RUN apk add gcc'));
  t.equal(seen[1]!.files['expect.yaml'], undefined, "the control's expect.yaml is not part of the submission");
  t.equal(await readFile(path.join(dir, 'solution/Dockerfile'), 'utf8'), before, 'the exercise folder is only read');
  for (const one of seen) t.notOk(existsSync(one.dir), `${one.name}'s copy is removed`);
  t.same(events, ['grading solution', 'graded solution', 'grading wrong/single-stage', 'graded wrong/single-stage']);
  t.same(Object.keys(baseImages), ['solution', 'wrong/single-stage']);
  t.same(
    baseImages.solution!.map((file) => file.file),
    ['Dockerfile', 'scratch/Dockerfile'],
  );
  t.equal(report.controls[0]!.verdict, 'not-judged', 'the fake results carry no check of multi');

  const missing = await runSelftest({
    exercise: { ...multi, dir: path.join(root, 'tmp') },
    controls: [],
    imageMap: [],
    gradeCopy: async () => resultOf(),
  }).catch((error: unknown) => error);
  t.type(missing, SelftestError);
  t.match((missing as Error).message, /^multi has no reference solution: .*tmp\/solution is not a folder$/);
});

t.test('a copy is removed even when grading throws', async (t) => {
  const source = t.testdir({ Dockerfile: 'FROM alpine:3.5\n', 'expect.yaml': 'fails: [a/b]\n' });
  const tmp = path.join(source, '..', 'copies');
  await mkdir(tmp, { recursive: true });
  let copy = '';
  const failure = await withPrivateCopy(
    source,
    'x',
    [],
    async (dir) => {
      copy = dir;
      await writeFile(path.join(dir, 'made-by-grading'), '');
      throw new Error('engine gone');
    },
    tmp,
  ).catch((error: Error) => error.message);
  t.equal(failure, 'engine gone');
  t.notOk(existsSync(copy));
  t.notOk(existsSync(path.dirname(copy)), 'its temporary folder too');
});

t.test('grade selftest refuses what it cannot run in one line, exit 2, before asking any engine', async (t) => {
  const root = t.testdir();
  await scaffoldExercise(root, 'demo');
  // No engine answers there: each refusal must come before one is needed.
  const env = { DOCKER_HOST: `unix://${path.join(root, 'no-engine.sock')}` };
  const refuse = async (args: string[], stderr: RegExp) => {
    const run = await runCli(['selftest', ...args], { env });
    t.equal(run.code, 2, args.join(' '));
    t.match(run.stderr, stderr, args.join(' '));
    t.equal(run.stdout, '');
  };
  await refuse([], /^grade: name an exercise to self-test, e.g. `grade selftest multi`\n$/);
  await refuse(['demo', '--exercises', root, '--image', 'alpine'], /^grade: --image alpine: expected NAME=IMAGE \(every stage\) or NAME\+build=IMAGE/);
  await refuse(['demo', '--exercises', root, '--reporter', 'tap'], /^grade: --reporter tap: expected terminal or json\n$/);
  await refuse(['dmeo', '--exercises', root], /^grade: no exercise "dmeo" in .*: did you mean "demo"\?\n$/);
  const expectFile = path.join(root, 'demo/wrong/wrong-greeting/expect.yaml');
  await writeFile(expectFile, (await readFile(expectFile, 'utf8')).replace('hello-image/prints-hello', 'hello-image/prints-hallo'));
  await refuse(
    ['demo', '--exercises', root],
    /^grade: the exercise spec is invalid:\n.*expect\.yaml:4:9: unknown check "hello-image\/prints-hallo": did you mean "hello-image\/prints-hello"\?\n$/,
  );
  await rm(path.join(root, 'demo/wrong'), { recursive: true });
  await rm(path.join(root, 'demo/solution'), { recursive: true });
  await refuse(['demo', '--exercises', root], /^grade: demo has no reference solution: .*demo\/solution is not a folder\n$/);
});
