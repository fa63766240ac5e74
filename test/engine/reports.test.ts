// One real grading run writes all six report files; each is read back by a real parser (TAP,
// XML, JSON Schema) or by headless Chromium, and agrees with the run's own results. Real runs of
// the stand-in solution and of a broken submission carry the whole contract the reports draw from.
import t, { type Test } from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Parser, type FinalResults } from 'tap-parser';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { packageRoot } from '../../runner/paths.js';
import type { ExerciseResult } from '../../runner/results.js';
import { chromiumInstalled, launchChromium, openFile } from '../browser/chromium.js';
import { runCli } from '../support/cli.js';
import { realEngine, standInSolution, submissions, testLimits } from '../support/engine.js';
import { checkOf } from '../support/results.js';
import { grade } from '../../runner/grading/run.js';
import { loadExercise } from '../../runner/spec/loader.js';
import { exercisesRoot } from '../../runner/paths.js';
import { classroomReport } from '../../reports/classroom.js';
import { htmlReport } from '../../reports/html.js';

const engine = await realEngine(t);

/** The report page's charted images, and which check's logs are open, read in Chromium. */
async function readHtml(
  t: Test,
  file: string,
): Promise<{ charted: (string | null)[]; boundLabels: string[]; openLogs: (string | null)[]; closedLogs: (string | null)[] } | undefined> {
  if (!chromiumInstalled()) {
    if (process.env.CI) throw new Error("Chromium is missing in CI: .ci/run installs Debian's chromium");
    t.comment('no chromium here to open the report');
    return undefined;
  }
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const { page, close } = await openFile(browser, file);
  t.teardown(close);
  const attributes = async (selector: string, name: string) => Promise.all((await page.locator(selector).all()).map((element) => element.getAttribute(name)));
  return {
    charted: await attributes('.chart-row', 'data-image'),
    boundLabels: await page.locator('.chart-axis .bound-label').allInnerTexts(),
    openLogs: await attributes('.check:has(details.log[open])', 'data-check'),
    closedLogs: await attributes('.check:has(details.log:not([open]))', 'data-check'),
  };
}

if (engine) {
  const exercise = await loadExercise(path.join(exercisesRoot, 'multi'));
  const schema = JSON.parse(await readFile(path.join(packageRoot, 'reports/results.schema.json'), 'utf8')) as object;
  const validate = new Ajv2020({ allErrors: true }).compile(schema);

  t.test('a real run of the stand-in solution carries the whole contract', async (t) => {
    const dir = await standInSolution(path.join(t.testdirName, 'my submission'));
    const result = await grade({ exercise, submissionDir: dir, engine, limits: testLimits });
    t.ok(validate(result), JSON.stringify(validate.errors));
    t.equal(result.passed, true, 'the solution passes');
    t.equal(result.schemaVersion, 1);
    t.equal(result.submission, dir, 'submission is the path graded');
    t.equal(result.submissionId, 'my submission', "submissionId is the folder's name, not a path");
    t.equal(result.exerciseFolder, 'multi');

    // Each check's source is where the loader found it, relative to the exercise folder, and that
    // line of the spec starts the check.
    for (const step of exercise.steps) {
      for (const check of step.checks) {
        const got = checkOf(result, `${step.id}/${check.id}`);
        t.same(got.source, { file: `${step.id}.yaml`, line: check.source.line }, `${step.id}/${check.id}: source`);
        const specLines = (await readFile(path.join(exercisesRoot, 'multi', got.source.file), 'utf8')).split('\n');
        t.match(specLines[got.source.line - 1], new RegExp(`^\\s*- id: ${check.id}$`), `${step.id}/${check.id}: line ${got.source.line} starts the check`);
      }
    }

    const images = Object.fromEntries(result.images.map((image) => [image.name, image]));
    t.same(
      result.images
        .filter((image) => image.helper)
        .map((image) => image.name)
        .sort(),
      ['sleep-tools', 'toolchain'],
      'the toolchain builds (part: toolchain) are helpers',
    );
    t.same(
      Object.fromEntries(result.images.filter((image) => image.maxBytes !== undefined).map((image) => [image.name, image.maxBytes])),
      { small: 10_000_000, sleep: 1_000_000 },
      "the size checks' bounds are on their images (large-small.yaml small-is-small, scratch-sleep.yaml tiny)",
    );
    t.ok(images.small!.sizeBytes <= images.small!.maxBytes!, 'small is within its bound');

    const classroom = JSON.parse(classroomReport(result)) as { tests: { filename: string; line_no: number }[] };
    const checks = result.steps.flatMap((step) => step.checks);
    t.same(
      classroom.tests.map((test) => [test.filename, test.line_no]),
      // One test per point, so the reporter's passed/total and the score agree.
      checks.flatMap((check) => Array.from({ length: check.maxPoints }, () => [`multi/${check.source.file}`, check.source.line])),
      "classroom filename and line_no are the spec's",
    );
    t.ok(
      classroom.tests.every((test) => test.line_no > 0),
      'no line_no 0',
    );

    const file = path.join(t.testdirName, 'solution.html');
    await writeFile(file, htmlReport(result));
    const html = await readHtml(t, file);
    if (!html) return;
    t.same(
      html.charted,
      result.images.filter((image) => !image.helper).map((image) => image.name),
      "the chart shows the student's images",
    );
    t.notOk(html.charted.includes('toolchain') || html.charted.includes('sleep-tools'), 'and no helper image');
    t.same(html.boundLabels, ['1MB', '10MB'], "the bounds drawn are the results' bounds");
  });

  t.test("a real failure names its log's kind and shows it open", async (t) => {
    const result = await grade({ exercise, submissionDir: path.join(submissions, 'compile-error'), engine, limits: testLimits });
    t.ok(validate(result), JSON.stringify(validate.errors));
    t.match(checkOf(result, 'compile-hello/compiles-cleanly'), { status: 'fail', logKind: 'compiler', log: /error/ }, "the compiler's output");
    t.match(checkOf(result, 'large-small/large-builds'), { status: 'fail', logKind: 'build', log: /Step \d+/ }, "the build's output");
    const logged = result.steps.flatMap((step) =>
      step.checks.filter((check) => check.log !== undefined).map((check) => ({ id: `${step.id}/${check.id}`, check })),
    );
    t.ok(logged.length > 0);
    t.ok(
      logged.every(({ check }) => check.logKind !== undefined),
      'every log has its kind',
    );
    t.same(
      result.images.filter((image) => !image.helper),
      [],
      "no image of the student's was built",
    );

    const file = path.join(t.testdir(), 'compile-error.html');
    await writeFile(file, htmlReport(result));
    const html = await readHtml(t, file);
    if (!html) return;
    t.same(
      html.openLogs,
      logged.filter(({ check }) => check.status !== 'pass').map(({ id }) => id),
      "every failure's output is open",
    );
    t.same(
      html.closedLogs,
      logged.filter(({ check }) => check.status === 'pass').map(({ id }) => id),
      "only a passed check's log is folded",
    );
    t.same(html.charted, [], 'the toolchain the grader built is not charted');
  });

  t.test('--out DIR writes tap, html, json, junit, gradescope and classroom reports from one run', async (t) => {
    const out = path.join(t.testdirName, 'reports');
    const run = await runCli(['multi', '--dir', path.join(submissions, 'compile-warning'), '--build-network', 'none', '--out', out, '--reporter', 'json']);
    t.equal(run.code, 1, run.stderr);
    const result = JSON.parse(run.stdout) as ExerciseResult;
    const read = (file: string) => readFile(path.join(out, file), 'utf8');
    const checks = result.steps.flatMap((step) => step.checks);
    const count = (status: string) => checks.filter((check) => check.status === status).length;

    t.same(JSON.parse(await read('results.json')), result, 'results.json is the stdout document');
    const ajv = new Ajv2020({ allErrors: true });
    const validate = ajv.compile(JSON.parse(await readFile(path.join(packageRoot, 'reports/results.schema.json'), 'utf8')));
    t.ok(validate(result), JSON.stringify(validate.errors));

    const tap = await read('report.tap');
    const final = await new Promise<FinalResults>((resolve) => {
      const parser = new Parser({ strict: true }, resolve);
      parser.end(tap);
    });
    t.equal(final.plan.end, result.steps.length, 'one TAP subtest per step');
    t.same(
      final.failures.filter((failure) => failure.tapError),
      [],
      'no TAP parse errors',
    );
    t.match(tap, /^TAP version 14\n/);

    const xml = await read('junit.xml');
    t.equal(XMLValidator.validate(xml), true, 'junit.xml is well-formed');
    const junit = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml);
    t.match(junit.testsuites, {
      tests: String(checks.length),
      failures: String(count('fail')),
      errors: String(count('error')),
      skipped: String(count('skip')),
    });

    const gradescope = JSON.parse(await read('gradescope.json'));
    t.equal(gradescope.score, result.score);
    t.equal(gradescope.tests.length, checks.length);
    const classroom = JSON.parse(await read('classroom.json'));
    t.match(classroom, { version: 1, status: 'fail', max_score: result.maxScore });

    if (!chromiumInstalled()) {
      if (process.env.CI) throw new Error("Chromium is missing in CI: .ci/run installs Debian's chromium");
      t.comment('no chromium here to open report.html');
      return;
    }
    const browser = await launchChromium();
    t.teardown(() => browser.close());
    const page = await openFile(browser, path.join(out, 'report.html'));
    const text = (await page.page.evaluate('document.body.innerText')) as string;
    t.match(text, new RegExp(`${result.score}\\s*/\\s*${result.maxScore}`), 'the score is shown');
    t.same(page.consoleErrors, [], 'no console error');
    t.same(page.pageErrors, []);
    await page.close();
  });

  t.test('--report picks files; an unknown name exits 2', async (t) => {
    const out = path.join(t.testdirName, 'some');
    const bad = await runCli(['multi', '--dir', path.join(submissions, 'kept-large'), '--out', out, '--report', 'tap,pdf']);
    t.equal(bad.code, 2);
    t.match(bad.stderr, /--report tap,pdf: expected a comma-separated choice of tap,html,json,junit,gradescope,classroom/);
  });
}
