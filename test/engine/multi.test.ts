// The multi exercise graded on the real engine: the reference solution gets full marks, and each
// fixture submission fails exactly the checks a teacher would fail it on.
import t, { type Test } from 'tap';
import path from 'node:path';
import { grade } from '../../runner/grading/run.js';
import type { ExerciseResult } from '../../runner/results.js';
import { loadExercise } from '../../runner/spec/loader.js';
import { exercisesRoot } from '../../runner/paths.js';
import { realEngine, standInSolution, submissions, testLimits } from '../support/engine.js';
import { checkOf } from '../support/results.js';

const engine = await realEngine(t);

if (engine) {
  const exercise = await loadExercise(path.join(exercisesRoot, 'multi'));

  const gradeDir = (dir: string) => grade({ exercise, submissionDir: dir, engine, limits: testLimits });

  /** Every check that did not pass, as `step/check: status`. */
  const notPassed = (result: ExerciseResult) =>
    Object.fromEntries(
      result.steps.flatMap((step) => step.checks.filter((check) => check.status !== 'pass').map((check) => [`${step.id}/${check.id}`, check.status])),
    );

  /** What a submission without the optional scratch folder gets for the bonus step. */
  const noScratch = {
    'scratch-sleep/sources-exist': 'fail',
    'scratch-sleep/from-scratch': 'fail',
    'scratch-sleep/sleep-builds': 'fail',
    'scratch-sleep/tiny': 'skip',
    'scratch-sleep/still-running': 'skip',
    'scratch-sleep/top-shows-sleep': 'skip',
    'scratch-sleep/root-listing': 'skip',
  };

  /** What a Dockerfile that does not build costs in the image steps, past compile-hello. */
  const dockerfileBroken = {
    'large-small/large-builds': 'fail',
    'large-small/small-builds': 'fail',
    'large-small/small-prints-hello': 'skip',
    'large-small/no-compiler': 'skip',
    'large-small/small-is-small': 'skip',
    'large-small/small-vs-large': 'skip',
    'target-stage/target-builds': 'fail',
    'target-stage/from-cache': 'skip',
    'target-stage/build-stage-hello': 'skip',
    'target-stage/bigger-than-small': 'skip',
    ...noScratch,
  };

  t.test('the reference solution, on offline stand-in base images, gets full marks', async (t) => {
    const dir = await standInSolution(t.testdir());
    const result = await gradeDir(dir);
    t.same(notPassed(result), {});
    t.equal(result.score, result.maxScore);
    t.equal(result.maxScore, 28);
    t.equal(result.passed, true);
    t.same(
      result.steps.map((step) => step.id),
      ['compile-hello', 'large-small', 'target-stage', 'scratch-sleep'],
    );
    const sizes = Object.fromEntries(result.images.map((image) => [image.name, image.sizeBytes]));
    t.ok(sizes.small! < 10e6, `small image ${sizes.small} bytes`);
    t.ok(sizes.sleep! < 1e6, `scratch image ${sizes.sleep} bytes`);
    t.match(checkOf(result, 'scratch-sleep/root-listing').message, 'dev etc proc sleep sys');

    const left = await engine.listOurs(`grade.run=${result.runId}`);
    t.same(left, { containers: [], images: [] }, 'nothing of this run is left behind');
  });

  const cases: { name: string; dir: string; expected: Record<string, string>; passed: boolean; also?: (t: Test, result: ExerciseResult) => void }[] = [
    {
      name: 'a compiler warning fails only the clean-compile check',
      dir: 'compile-warning',
      passed: false,
      expected: { 'compile-hello/compiles-cleanly': 'fail', ...noScratch },
      also: (t, result) => t.match(checkOf(result, 'compile-hello/compiles-cleanly').log, /unused variable/),
    },
    {
      name: 'a compile error shows the compiler error and the failing Dockerfile line',
      dir: 'compile-error',
      passed: false,
      expected: {
        'compile-hello/compiles-cleanly': 'fail',
        'compile-hello/prints-hello': 'skip',
        ...dockerfileBroken,
      },
      also: (t, result) => {
        t.match(checkOf(result, 'compile-hello/compiles-cleanly').log, /expected ';'/);
        t.match(checkOf(result, 'large-small/small-builds').message, /^Dockerfile:8: RUN gcc -Wall hello\.c -o bin\/hello failed/);
        t.match(checkOf(result, 'large-small/small-builds').log, /expected ';'/);
      },
    },
    {
      name: 'a missing hello.c fails where it is first needed',
      dir: 'missing-hello',
      passed: false,
      expected: {
        'compile-hello/hello-c-exists': 'fail',
        'compile-hello/compiles-cleanly': 'skip',
        'compile-hello/prints-hello': 'skip',
        ...dockerfileBroken,
      },
      also: (t, result) => t.match(checkOf(result, 'large-small/small-builds').message, /^Dockerfile:6: COPY hello\.c \/app failed/),
    },
    {
      name: 'the wrong greeting fails every output check',
      dir: 'wrong-output',
      passed: false,
      expected: {
        'compile-hello/prints-hello': 'fail',
        'large-small/small-prints-hello': 'fail',
        'target-stage/build-stage-hello': 'fail',
        ...noScratch,
      },
      also: (t, result) => t.equal(checkOf(result, 'compile-hello/prints-hello').actual, 'Hello, World\n'),
    },
    {
      name: 'a single-stage Dockerfile is large, holds the compiler and has no build stage',
      dir: 'single-stage',
      passed: false,
      expected: {
        'large-small/multi-stage': 'fail',
        'large-small/large-builds': 'fail',
        'large-small/no-compiler': 'fail',
        'large-small/small-is-small': 'fail',
        'large-small/small-vs-large': 'skip',
        'target-stage/target-builds': 'fail',
        'target-stage/from-cache': 'skip',
        'target-stage/build-stage-hello': 'skip',
        'target-stage/bigger-than-small': 'skip',
        ...noScratch,
      },
    },
    {
      name: 'a kept Dockerfile.large is the large image',
      dir: 'kept-large',
      passed: true,
      expected: noScratch,
      also: (t, result) => t.match(checkOf(result, 'large-small/large-builds').message, /Dockerfile\.large/),
    },
    {
      name: 'a final stage on the toolchain keeps the compiler and the size',
      dir: 'compiler-in-final',
      passed: false,
      expected: {
        'large-small/no-compiler': 'fail',
        'large-small/small-is-small': 'fail',
        'large-small/small-vs-large': 'fail',
        'target-stage/bigger-than-small': 'fail',
        ...noScratch,
      },
    },
    {
      name: 'unnamed stages copy with --from=0 but give --target build nothing to build',
      dir: 'unnamed-stage',
      passed: false,
      expected: {
        'large-small/large-builds': 'fail',
        'large-small/small-vs-large': 'skip',
        'target-stage/target-builds': 'fail',
        'target-stage/from-cache': 'skip',
        'target-stage/build-stage-hello': 'skip',
        'target-stage/bigger-than-small': 'skip',
        ...noScratch,
      },
      also: (t, result) => t.match(checkOf(result, 'target-stage/target-builds').message, 'has no stage named "build"'),
    },
    {
      name: 'a misspelt instruction is reported with its line',
      dir: 'broken-dockerfile',
      passed: false,
      expected: {
        'compile-hello/compiles-cleanly': 'skip',
        'compile-hello/prints-hello': 'skip',
        'large-small/multi-stage': 'fail',
        ...dockerfileBroken,
      },
      also: (t, result) => t.match(checkOf(result, 'large-small/small-builds').message, 'Dockerfile:4: unknown instruction "COPPY"'),
    },
    {
      name: 'a dynamically linked program in scratch exits at once, and the hint says why',
      dir: 'scratch-dynamic',
      passed: true,
      expected: {
        'scratch-sleep/still-running': 'fail',
        'scratch-sleep/top-shows-sleep': 'skip',
        'scratch-sleep/root-listing': 'skip',
      },
      also: (t, result) => {
        t.match(
          checkOf(result, 'scratch-sleep/still-running').message,
          'sleeper is not running: /sleep is in the image, but it is dynamically linked and the image has no C library or loader to run it',
        );
        t.match(checkOf(result, 'scratch-sleep/still-running').hint, /statically/);
        t.match(checkOf(result, 'scratch-sleep/still-running').log, /no such file or directory/);
      },
    },
    {
      name: 'a scratch folder beside the graded folder is found, and an extra file in its root fails the listing',
      dir: 'scratch-beside/multi',
      passed: true,
      expected: { 'scratch-sleep/root-listing': 'fail' },
      also: (t, result) => t.equal(checkOf(result, 'scratch-sleep/root-listing').actual, 'dev etc extra proc sleep sys'),
    },
  ];

  for (const { name, dir, expected, passed, also } of cases) {
    t.test(name, async (t) => {
      const result = await gradeDir(path.join(submissions, dir));
      t.same(notPassed(result), expected);
      t.equal(result.passed, passed);
      also?.(t, result);
      t.equal(
        result.score,
        result.steps.flatMap((step) => step.checks).reduce((sum, one) => sum + one.points, 0),
      );
      const left = await engine.listOurs(`grade.run=${result.runId}`);
      t.same(left, { containers: [], images: [] }, 'nothing of this run is left behind');
    });
  }
}
