// One real grading run writes all six report files; each is read back by a real parser (TAP,
// XML, JSON Schema) or by headless Chromium, and agrees with the run's own results.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Parser, type FinalResults } from 'tap-parser';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { packageRoot } from '../../runner/paths.js';
import type { ExerciseResult } from '../../runner/results.js';
import { chromiumInstalled, launchChromium, openFile } from '../browser/chromium.js';
import { runCli } from '../support/cli.js';
import { realEngine, submissions } from '../support/engine.js';

const engine = await realEngine(t);

if (engine) {
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
    t.same(final.failures.filter((failure) => failure.tapError), [], 'no TAP parse errors');
    t.match(tap, /^TAP version 14\n/);

    const xml = await read('junit.xml');
    t.equal(XMLValidator.validate(xml), true, 'junit.xml is well-formed');
    const junit = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml);
    t.match(junit.testsuites, { tests: String(checks.length), failures: String(count('fail')), errors: String(count('error')), skipped: String(count('skip')) });

    const gradescope = JSON.parse(await read('gradescope.json'));
    t.equal(gradescope.score, result.score);
    t.equal(gradescope.tests.length, checks.length);
    const classroom = JSON.parse(await read('classroom.json'));
    t.match(classroom, { version: 1, status: 'fail', max_score: result.maxScore });

    if (!chromiumInstalled()) {
      if (process.env.CI) throw new Error('Chromium is missing in CI: .ci/run installs Debian\'s chromium');
      t.comment('no chromium here to open report.html');
      return;
    }
    const browser = await launchChromium();
    t.teardown(() => browser.close());
    const page = await openFile(browser, path.join(out, 'report.html'));
    const text = await page.page.evaluate('document.body.innerText') as string;
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
