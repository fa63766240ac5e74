// `grade selftest` on the real engine, through the built CLI: multi on the offline stand-in base
// images gets full marks and every control in exercises/multi/wrong is caught; a copy of multi
// whose size bound is raised to 1GB lets compiler-in-final through (exit 1, naming it); an
// exercise scaffolded by `grade new` self-tests green, and without the map its base image, which
// no registry here serves, is not judged (exit 2, with the --image advice).
import t, { type Test } from 'tap';
import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { exercisesRoot } from '../../runner/paths.js';
import type { SelftestReport } from '../../runner/authoring/verdict.js';
import { runCli } from '../support/cli.js';
import { realEngine } from '../support/engine.js';

const engine = await realEngine(t);

if (engine) {
  const work = t.testdir();
  // This file's own ledger: what its builds made is what its teardown removes.
  const env = { GRADE_STATE_DIR: path.join(work, 'state') };
  const standIns = ['--image', 'alpine:*=grade-fixture/runtime', '--image', 'alpine:*+build=grade-fixture/toolchain', '--build-network', 'none'];
  const selftest = (args: string[]) => runCli(['selftest', ...args], { env, timeoutMs: 900_000 });

  /** Nothing any grading of the self-test created is left on the engine. */
  const nothingLeft = async (t: Test, report: SelftestReport) => {
    for (const each of [report.reference, ...report.controls]) {
      t.same(await engine.listOurs(`grade.run=${each.runId}`), { containers: [], images: [] }, `nothing of ${each.folder} is left`);
    }
  };

  t.test('multi on the stand-ins: the solution gets full marks and every control is caught', async (t) => {
    const controls = (await readdir(path.join(exercisesRoot, 'multi/wrong'))).sort();
    t.ok(controls.length >= 6, `${controls.length} controls`);
    const run = await selftest(['multi', ...standIns, '--reporter', 'json']);
    t.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as SelftestReport & { baseImages: Record<string, { file: string }[]> };
    t.equal(report.reference.verdict, 'ok');
    t.equal(report.reference.score, 28);
    t.same(
      report.controls.map((control) => [control.name, control.verdict]),
      controls.map((name) => [name, 'ok']),
    );
    t.same(
      report.baseImages.solution!.map((file) => file.file),
      ['Dockerfile', 'scratch/Dockerfile'],
      'both Dockerfiles of the solution were mapped',
    );

    // The matrix is the view, on stderr beside the document.
    const matrix = run.stderr.split('\n');
    const rows = matrix.filter((line) => /^[a-z-]+\/[a-z-]+ {2}/.test(line));
    t.equal(rows.length, report.checks.length, 'a row per check');
    t.same(
      rows.filter((row) => /[!~?] (pass|FAIL|skip|err)/.test(row)),
      [],
      'no cell is other than expected',
    );
    const listed = report.controls.reduce((sum, control) => sum + control.expectation!.fails.length, 0);
    t.equal((run.stderr.match(/✖ FAIL/g) ?? []).length, listed, 'every listed check is marked caught');
    t.match(run.stderr, /^solution\/ \(28\/28\): full marks$/m);
    for (const name of controls) t.match(run.stderr, new RegExp(`^wrong/${name}/ \\(\\d+/28\\): caught: `, 'm'), name);
    t.match(run.stderr, /^warning: no control shows that target-stage\/from-cache catches anything$/m, 'a check no control shows at work is named');
    t.match(run.stderr, new RegExp(`^selftest multi: passed: the reference solution gets full marks and all ${controls.length} controls are caught$`, 'm'));
    await nothingLeft(t, report);
  });

  t.test('a weakened check lets its control through: exit 1, naming the control and the check', async (t) => {
    const root = path.join(work, 'weakened');
    const dir = path.join(root, 'multi');
    await cp(path.join(exercisesRoot, 'multi'), dir, { recursive: true });
    for (const name of await readdir(path.join(dir, 'wrong'))) if (name !== 'compiler-in-final') await rm(path.join(dir, 'wrong', name), { recursive: true });
    const spec = path.join(dir, 'large-small.yaml');
    const text = await readFile(spec, 'utf8');
    t.match(text, /^ {4}max: 10MB$/m);
    await writeFile(spec, text.replace(/^ {4}max: 10MB$/m, '    max: 1GB'));

    const run = await selftest(['multi', '--exercises', root, ...standIns]);
    t.equal(run.code, 1, run.stderr);
    t.match(run.stdout, /^large-small\/small-is-small {2,}pass {4,}! pass$/m, 'the cell is marked: expected to fail, passed');
    t.match(run.stdout, /^wrong\/compiler-in-final\/ \(25\/28\): NOT CAUGHT: large-small\/small-is-small passed$/m);
    t.match(run.stdout, /^selftest multi: failed: 1 of 1 control not caught: wrong\/compiler-in-final\/$/m);
    t.match(run.stdout, /^solution\/ \(28\/28\): full marks$/m, 'the reference is still fine');
  });

  t.test('an exercise made by grade new self-tests green on the stand-in; unmapped, its base image is not judged', async (t) => {
    const root = path.join(work, 'new');
    const made = await runCli(['new', 'hello-docker', '--exercises', root], { env });
    t.equal(made.code, 0, made.stderr);
    const run = await selftest(['hello-docker', '--exercises', root, '--image', 'alpine:3.19=grade-fixture/runtime', '--reporter', 'json']);
    t.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as SelftestReport;
    t.same(
      [report.reference, ...report.controls].map((each) => [each.folder, each.verdict, `${each.score}/${each.maxScore}`]),
      [
        ['solution', 'ok', '3/3'],
        ['wrong/wrong-greeting', 'ok', '1/3'],
      ],
    );
    t.same(report.uncaught, ['hello-image/image-builds'], 'the scaffold shows one check at work; the build check waits for a control');
    await nothingLeft(t, report);

    if (await engine.inspectImage('alpine:3.19')) {
      t.comment('alpine:3.19 is on this engine: the unmapped run would be judged; not tried');
      return;
    }
    const unmapped = await selftest(['hello-docker', '--exercises', root, '--build-network', 'none']);
    t.equal(unmapped.code, 2, unmapped.stdout);
    t.match(unmapped.stdout, /^solution\/ \(0\/3\): not judged: hello-image\/image-builds was not judged \(base image alpine:3\.19 is not on this machine/m);
    t.match(unmapped.stderr, /map it to a local one: --image NAME=IMAGE/);
  });

  t.teardown(async () => {
    // The layers this file's builds made, recorded in its own ledger.
    await runCli(['clean', '--cache'], { env });
  });
}
