// Files a submission hands the grader, on the real engine: a Dockerfile that is a FIFO, a link to
// /dev/zero, a 1.5 GB sparse file or a link to a file outside the submission each gets a clear
// failed check at once, in bounded memory, naming nothing outside; and `--dir` may be a link.
import { execFileSync } from 'node:child_process';
import { cp, readdir, readFile, realpath, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t, { type Test } from 'tap';
import type { DockerEngine, Limits } from '../../runner/engine/engine.js';
import { resolveLimits } from '../../runner/spec/limits.js';
import { exercisesRoot } from '../../runner/paths.js';
import type { ExerciseResult } from '../../runner/results.js';
import { grade, type RunEvent } from '../../runner/grading/run.js';
import { loadExercise } from '../../runner/spec/loader.js';
import { runCli } from '../support/cli.js';
import { faultSuite, realEngine, standInSolution, submissions, testLimits } from '../support/engine.js';
import { checkOf } from '../support/results.js';

const faults = faultSuite(t, import.meta.filename);

const engine = await realEngine(t);
const TOKEN = 'grade-secret-token-5be0f2c917';
const OUT = 'is a link out of the folder being graded; the grader reads only files inside it: copy the file in instead of linking to it';

const limits: Limits = resolveLimits({
  buildNetwork: 'none',
  runTimeoutMs: 5000,
  buildTimeoutMs: 60_000,
  memoryBytes: 256 * 1024 * 1024,
  outputBytes: 64 * 1024,
});

if (engine) {
  const exercise = await loadExercise(path.join(exercisesRoot, 'multi'));
  // The secret lies outside every submission folder, as a file of the grading machine would. The
  // folder (FIFO and sparse file included) is removed when the file ends.
  const root = t.testdir({ outside: { 'secret.txt': `FROM ${TOKEN}\nRUN echo ${TOKEN}\n` } });
  const secretFile = path.join(root, 'outside', 'secret.txt');

  async function gradeAndCheckClean(t: Test, dir: string, gradeLimits: Limits = limits): Promise<ExerciseResult> {
    const events: RunEvent[] = [];
    const result = await grade({ exercise, submissionDir: dir, engine: engine as DockerEngine, limits: gradeLimits, onEvent: (event) => events.push(event) });
    t.same(await (engine as DockerEngine).listOurs(`grade.run=${result.runId}`), { containers: [], images: [] }, 'nothing of this run is left behind');
    t.same(
      events.filter((event) => event.type === 'cleanup-problem'),
      [],
      'cleanup had no problem',
    );
    t.notOk(JSON.stringify(events).includes(TOKEN), 'no progress event carries the token');
    return result;
  }

  /** kept-large (a passing submission) with its Dockerfile replaced by `make`. */
  async function submissionWith(name: string, make: (dockerfile: string) => Promise<void>): Promise<string> {
    const dir = path.join(root, name);
    await rm(dir, { recursive: true, force: true });
    await cp(path.join(submissions, 'kept-large'), dir, { recursive: true });
    await rm(path.join(dir, 'Dockerfile'));
    await make(path.join(dir, 'Dockerfile'));
    return dir;
  }

  /** How large-builds (from Dockerfile.large, a plain file) ends: it passes unless the context is too big. */
  const largeBuilds = { status: 'pass' } as const;

  const hostileDockerfiles: {
    name: string;
    make: (dockerfile: string) => Promise<void>;
    reason: string | RegExp;
    large?: { status: string; message?: RegExp };
  }[] = [
    { name: 'a FIFO', make: async (file) => void execFileSync('mkfifo', [file]), reason: 'Dockerfile is a fifo (named pipe): not a regular file' },
    { name: 'a link to /dev/zero', make: (file) => symlink('/dev/zero', file), reason: `Dockerfile ${OUT}` },
    {
      name: 'a 1.5 GB sparse file',
      make: async (file) => {
        await writeFile(file, '');
        await truncate(file, 1_500_000_000);
      },
      reason: 'Dockerfile is 1.5GB, over the 1.05MB a Dockerfile may have',
      // The same file is part of every build context, and the packer refuses it by its size.
      large: { status: 'fail', message: /build context .* is larger than .* at Dockerfile/ },
    },
    { name: 'a link to a file outside holding a token', make: (file) => symlink(secretFile, file), reason: `Dockerfile ${OUT}` },
  ];

  for (const { name, make, reason, large = largeBuilds } of hostileDockerfiles) {
    // A hang is the bug under test: a timeout turns it into a failure instead of a stuck suite.
    t.test(`a Dockerfile that is ${name} fails its checks at once, in bounded memory`, { timeout: 300_000 }, async (t) => {
      faults.add();
      const dir = await submissionWith(name.replace(/[^a-z0-9]+/gi, '-'), make);
      const before = process.memoryUsage().rss;
      const result = await gradeAndCheckClean(t, dir);
      const grown = process.memoryUsage().rss - before;
      t.ok(grown < 200 * 1024 * 1024, `the grader grew by ${Math.round(grown / 1048576)} MiB`);

      for (const id of ['large-small/multi-stage', 'large-small/small-builds', 'target-stage/target-builds']) {
        t.match(checkOf(result, id), { status: 'fail', message: reason }, id);
      }
      t.match(checkOf(result, 'compile-hello/compiles-cleanly'), { status: /fail|skip/, message: reason }, 'the toolchain is read from the same Dockerfile');
      t.match(checkOf(result, 'large-small/large-builds'), large, 'Dockerfile.large, a plain file, is built as usual');
      t.equal(result.passed, false);
      t.notOk(JSON.stringify(result).includes(TOKEN), 'the token is nowhere in the result');
      t.notOk(JSON.stringify(result).includes(secretFile), 'nor is the path of the file outside');
    });
  }

  t.test('every report and both output streams of the CLI stay free of a file outside', { timeout: 300_000 }, async (t) => {
    faults.add();
    const dir = await submissionWith('cli-token', (file) => symlink(secretFile, file));
    const out = path.join(t.testdir({}), 'reports');
    const run = await runCli([
      'multi',
      '--dir',
      dir,
      '--build-network',
      'none',
      '--run-timeout',
      '5s',
      '--out',
      out,
      '--report',
      'tap,html,json,junit,gradescope,classroom',
    ]);
    t.equal(run.code, 1, run.stderr);
    t.match(run.stdout, `Dockerfile ${OUT}`);
    t.notOk(run.stdout.includes(TOKEN), 'stdout');
    t.notOk(run.stderr.includes(TOKEN), 'stderr');
    const written = await readdir(out);
    t.same(written.sort(), ['classroom.json', 'gradescope.json', 'junit.xml', 'report.html', 'report.tap', 'results.json']);
    for (const file of written) {
      const text = await readFile(path.join(out, file), 'utf8');
      t.notOk(text.includes(TOKEN), `${file} has no token`);
    }
  });

  t.test('--dir through a link grades the folder it points to: full marks, as the folder itself', { timeout: 900_000 }, async (t) => {
    faults.add();
    const base = t.testdir({});
    const solution = await standInSolution(path.join(base, 'solution'));
    const link = path.join(base, 'link-to-solution');
    await symlink(solution, link);

    const direct = await gradeAndCheckClean(t, solution, testLimits);
    const linked = await gradeAndCheckClean(t, link, testLimits);
    t.equal(direct.score, 28);
    t.equal(linked.score, 28, 'the link scores what the folder scores');
    t.equal(linked.maxScore, 28);
    const statuses = (result: ExerciseResult) => result.steps.flatMap((step) => step.checks.map((one) => `${step.id}/${one.id}: ${one.status}`));
    t.same(statuses(linked), statuses(direct));
    t.equal(linked.submission, await realpath(solution), 'the result names the folder graded');

    // As a student types it.
    const run = await runCli(['multi', '--dir', link, '--build-network', 'none', '--reporter', 'json']);
    t.equal(run.code, 0, run.stderr);
    t.match(JSON.parse(run.stdout), { score: 28, maxScore: 28, passed: true });
  });
}
