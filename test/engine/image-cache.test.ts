// What grading leaves on the engine, for real: no tag and no image of the grader's own, the
// student's layers kept as the cache (a regrade adds no image), and `grade clean --cache` giving
// back every image gradings built, a large hostile layer included, and nothing else.
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import Docker from 'dockerode';
import { where } from '../../runner/engine/dockerode/index.js';
import { ImageLedger } from '../../runner/grading/image-ledger.js';
import { exercisesRoot } from '../../runner/paths.js';
import { grade } from '../../runner/grading/run.js';
import { loadExercise } from '../../runner/spec/loader.js';
import { runCli } from '../support/cli.js';
import { faultSuite, realEngine, standInSolution, testLimits } from '../support/engine.js';
import { checkOf } from '../support/results.js';

const faults = faultSuite(t, import.meta.filename);

const engine = await realEngine(t);

if (engine) {
  const docker = new Docker();
  const exercise = await loadExercise(path.join(exercisesRoot, 'multi'));
  const allImageIds = async () => new Set((await docker.listImages({ all: true })).map((image) => image.Id));
  const exists = async (id: string) =>
    docker
      .getImage(id)
      .inspect()
      .then(
        () => true,
        () => false,
      );

  t.test("grading leaves only the student's layers; a regrade adds none; clean --cache removes them all", async (t) => {
    faults.add();
    const state = path.join(t.testdirName, 'state');
    const ledger = ImageLedger.forEngine(where(), { GRADE_STATE_DIR: state });
    // A submission no other test builds, whose build stage writes a 64 MB layer.
    const dir = await standInSolution(path.join(t.testdirName, 'submission'));
    const token = randomBytes(6).toString('hex');
    const dockerfile = path.join(dir, 'Dockerfile');
    const text = await readFile(dockerfile, 'utf8');
    await writeFile(
      dockerfile,
      text.replace(/^(COPY hello\.c .*)$/m, `$1\nRUN echo ${token} > /token && dd if=/dev/zero of=/ballast bs=1M count=64 2>/dev/null`),
    );
    const before = await allImageIds();

    const first = await grade({ exercise, submissionDir: dir, engine, limits: testLimits, ledger });
    t.equal(first.score, first.maxScore, 'the submission still earns every point');
    const created = await ledger.read();
    t.ok(created.length >= 3, `the ledger holds the images the builds made (${created.length})`);
    for (const id of created) t.ok(await exists(id), `image ${id} exists`);
    const tagged = (await docker.listImages({ all: true })).flatMap((image) => image.RepoTags ?? []).filter((tag) => /^grade-[0-9a-f]{10}-/.test(tag));
    t.same(tagged, [], 'no grade-<run>- tag is left');
    t.same(await docker.listImages({ all: true, filters: JSON.stringify({ label: ['grade.tool'] }) }), [], 'no image carries a label of the grader');
    const ballast = await Promise.all(created.map((id) => docker.getImage(id).inspect()));
    t.ok(
      ballast.some((image) => image.Size >= 64 * 1024 * 1024),
      'the large layer is among the images recorded',
    );

    const second = await grade({ exercise, submissionDir: dir, engine, limits: testLimits, ledger });
    t.equal(second.score, first.score);
    t.same(await ledger.read(), created, 'a regrade of the unchanged submission creates no image');
    t.equal(checkOf(second, 'target-stage/from-cache').status, 'pass');

    const clean = await runCli(['clean', '--cache'], { env: { GRADE_STATE_DIR: state } });
    t.equal(clean.code, 0, clean.stderr);
    t.match(clean.stdout, new RegExp(`grade clean --cache: removed ${created.length} images gradings built`));
    for (const id of created) t.notOk(await exists(id), `image ${id} is gone`);
    const after = await allImageIds();
    t.same(
      [...before].filter((id) => !after.has(id)),
      [],
      'every image the engine held before grading is still there',
    );
    t.same(await ledger.read(), [], 'the ledger is empty');
  });

  t.test('clean --cache keeps an image someone tagged since: it is theirs now', async (t) => {
    faults.add();
    const state = path.join(t.testdirName, 'state');
    const ledger = ImageLedger.forEngine(where(), { GRADE_STATE_DIR: state });
    const dir = await standInSolution(path.join(t.testdirName, 'submission'));
    await writeFile(
      path.join(dir, 'hello.c'),
      `#include <stdio.h>\n/* ${randomBytes(6).toString('hex')} */\nint main (void) { printf ("Hello, world!\\n"); return 0; }\n`,
    );
    await grade({ exercise, submissionDir: dir, engine, limits: testLimits, ledger });
    const created = await ledger.read();
    const newest = created.at(-1)!;
    const repo = `grade-test-owned-${randomBytes(4).toString('hex')}`;
    await docker.getImage(newest).tag({ repo, tag: 'latest' });
    t.teardown(async () => {
      await docker
        .getImage(`${repo}:latest`)
        .remove()
        .catch(() => undefined);
      await runCli(['clean', '--cache'], { env: { GRADE_STATE_DIR: state } });
    });
    const clean = await runCli(['clean', '--cache'], { env: { GRADE_STATE_DIR: state } });
    t.equal(clean.code, 0, clean.stderr);
    t.match(clean.stdout, /kept \d+ that a container, a tag or another image still uses/);
    t.ok(await exists(`${repo}:latest`), 'the tagged image stays');
    t.ok((await ledger.read()).includes(newest), 'and stays in the ledger for a later clean');
  });
}
