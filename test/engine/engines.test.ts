// The engine matrix (issue 11): on each extra engine of .ci/engines.sh, the reference solution and
// every fixture submission get, check by check, the verdicts the main engine gives them. CI names
// the engines in GRADE_ENGINES and fails on one that does not answer; locally, the extra engines
// that answer are used and the others skipped.
import t from 'tap';
import { access, readdir } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { DockerEngine, Limits, OurObjects } from '../../runner/engine/engine.js';
import { grade } from '../../runner/grading/run.js';
import { exercisesRoot, packageRoot } from '../../runner/paths.js';
import type { ExerciseResult } from '../../runner/results.js';
import { loadExercise } from '../../runner/spec/loader.js';
import { singleLine } from '../../runner/text/plain.js';
import { realEngine, standInSolution, submissions, testLimits } from '../support/engine.js';
import Docker from 'dockerode';
import { dialectOf } from '../../runner/engine/dockerode/dialect.js';
import { extraEngines } from '../support/engines.js';
import { checksById } from '../support/results.js';

/**
 * Hostile submissions run for 10 s (5 s in the hostile suite: here four engines share two cores,
 * and a compile on Podman has taken over 5 s); only those built to hang a build get its 10 s build
 * timeout, as an honest build under this load can take longer than that.
 */
const hostileLimits = (name: string): Limits => ({ ...testLimits, runTimeoutMs: 10_000, ...(name.startsWith('build-') ? { buildTimeoutMs: 10_000 } : {}) });
const hostileRoot = path.join(packageRoot, 'test/fixtures/hostile');

// Four engines grade every submission side by side: about 150 s alone on two cores, Podman (never
// warm) the longest; cold engines and the rest of the suite beside it may take it past the
// suite's 900 s per file, and CI has 90 minutes.
t.setTimeout(30 * 60_000);

const main = await realEngine(t);

if (main) {
  const exercise = await loadExercise(path.join(exercisesRoot, 'multi'));
  const { ready, broken, skipped } = await extraEngines();

  for (const { name, problem } of broken) {
    t.test(`${name} answers and holds the fixture images`, async (t) => {
      t.fail(`GRADE_ENGINES names ${name}, and it cannot grade: ${problem}`);
    });
  }
  for (const { name, problem } of skipped) t.test(name, { skip: problem }, async () => {});

  if (ready.length) {
    const exists = (file: string) =>
      access(file).then(
        () => true,
        () => false,
      );

    /** Each fixture submission's graded folder: itself, or its exercise folder where it holds others beside it. */
    const fixtures: { name: string; dir: string }[] = [];
    const entries = (await readdir(submissions, { withFileTypes: true })).filter((entry) => entry.isDirectory());
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const dir = path.join(submissions, entry.name);
      if (await exists(path.join(dir, 'Dockerfile'))) fixtures.push({ name: entry.name, dir });
      else if (await exists(path.join(dir, exercise.id))) fixtures.push({ name: `${entry.name}/${exercise.id}`, dir: path.join(dir, exercise.id) });
      else throw new Error(`${dir} holds neither a Dockerfile nor a ${exercise.id} folder: say in test/engine/engines.test.ts which folder is graded`);
    }
    // The hostile submissions (hangs, floods, fork and memory bombs, forged output, a build that
    // never ends), under the hostile suite's tight limits so that each ends in seconds.
    const hostile = (await readdir(hostileRoot, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory())
      .map((entry) => ({ name: `hostile/${entry.name}`, dir: path.join(hostileRoot, entry.name), limits: hostileLimits(entry.name) }))
      .sort((a, b) => a.name.localeCompare(b.name));
    // One stand-in folder for every engine: grading only reads it.
    const reference = { name: 'the reference solution (stand-in)', dir: await standInSolution(t.testdir()) };
    const graded: { name: string; dir: string; limits?: Limits }[] = [reference, ...fixtures, ...hostile];

    type Graded = { result: ExerciseResult; left: OurObjects } | { error: string } | { notGraded: string };

    /**
     * A build step that sleeps past the build timeout cannot be stopped on an engine that does not
     * cancel builds (Podman 4.3): it runs on, and when it ends in a multi-stage build the service
     * panics (Buildah's stage executor, a nil content summary on the cancel path: buildah#7092, open)
     * and every later request of the run fails. A step that spins is ended by its CPU limit and is
     * graded there (hostile/build-spin); the sleeping one is graded on the engines that cancel.
     */
    const stopsBuilds = async (socketPath: string) => dialectOf(await new Docker({ socketPath }).info()).cancelsBuilds;
    const crashesOn = 'hostile/build-hang';

    const gradeOn = async (engine: DockerEngine, dir: string, limits = testLimits): Promise<Graded> => {
      try {
        // One step at a time on each engine: four engines already share two cores, and a step's
        // verdict is what is compared here (steps side by side are tested on the main engine).
        const result = await grade({ exercise, submissionDir: dir, engine, limits, stepsAtOnce: 1 });
        return { result, left: await engine.listOurs(`grade.run=${result.runId}`) };
      } catch (error) {
        return { error: (error as Error).stack ?? String(error) };
      }
    };

    /** One submission at a time on one engine; prints the engine's time, which CI logs keep. */
    const gradeAll = async (label: string, engine: DockerEngine, cancelsBuilds = true): Promise<Graded[]> => {
      const started = performance.now();
      const outcomes: Graded[] = [];
      for (const submission of graded) {
        if (submission.name === crashesOn && !cancelsBuilds) {
          console.log(`# engine matrix: ${label}: ${crashesOn} not graded: the engine cannot stop a sleeping build step, and crashes when it ends`);
          outcomes.push({ notGraded: 'the engine cannot stop a sleeping build step' });
          continue;
        }
        outcomes.push(await gradeOn(engine, submission.dir, submission.limits));
      }
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(`# engine matrix: ${label}: ${graded.length} submissions graded in ${seconds} s`);
      return outcomes;
    };

    // The engines grade side by side; the main engine's verdicts, computed once, are the reference.
    const [onMain, ...onExtra] = await Promise.all([
      gradeAll('main engine', main),
      ...ready.map(async ({ name, engine, info, socketPath }) =>
        gradeAll(`${name} (${info.version}, API ${info.apiVersion})`, engine, await stopsBuilds(socketPath)),
      ),
    ]);

    /** Every check whose verdict differs, as `step/check` -> what each engine said. */
    const differences = (expected: ExerciseResult, found: ExerciseResult, engineName: string) => {
      const want = checksById(expected);
      const got = checksById(found);
      const differ: Record<string, string> = {};
      for (const id of new Set([...Object.keys(want), ...Object.keys(got)])) {
        const [a, b] = [want[id], got[id]];
        if (a?.status === b?.status) continue;
        const said = (check: typeof a, where: string) => `${check?.status ?? 'absent'} on ${where}${check ? ` (${singleLine(check.message)})` : ''}`;
        differ[id] = `${said(a, 'the main engine')}, ${said(b, engineName)}`;
      }
      return differ;
    };

    t.test('main engine: every submission is graded, the reference with full marks', async (t) => {
      graded.forEach((submission, index) => {
        const outcome = onMain[index]!;
        if ('notGraded' in outcome) {
          t.fail(`${submission.name} was not graded on the main engine`);
          return;
        }
        if ('error' in outcome) {
          t.fail(`${submission.name} could not be graded on the main engine: ${outcome.error}`);
          return;
        }
        if (submission === reference) t.equal(outcome.result.score, outcome.result.maxScore, `${submission.name}: full marks`);
        t.same(outcome.left, { containers: [], images: [] }, `${submission.name}: nothing of the run is left behind`);
      });
    });

    ready.forEach(({ name }, engineIndex) => {
      t.test(`${name}: every submission gets the main engine's verdicts`, async (t) => {
        graded.forEach((submission, index) => {
          t.test(submission.name, async (t) => {
            const expected = onMain[index]!;
            const found = onExtra[engineIndex]![index]!;
            if ('notGraded' in found) {
              t.equal(submission.name, crashesOn, `only ${crashesOn} is left out: ${found.notGraded}`);
              return;
            }
            if ('notGraded' in expected) return t.fail('the main engine did not grade it');
            if ('error' in found) return t.fail(`grading on ${name} failed: ${found.error}`);
            if ('error' in expected) return t.fail('the main engine could not grade it, so there is nothing to compare with');
            t.same(differences(expected.result, found.result, name), {}, 'every check has the verdict the main engine gave');
            if (submission === reference) {
              t.equal(found.result.score, found.result.maxScore, `full marks on ${name}`);
              t.equal(found.result.passed, true);
            }
            t.same(found.left, { containers: [], images: [] }, 'nothing of the run is left behind');
          });
        });
      });
    });
  }
}
