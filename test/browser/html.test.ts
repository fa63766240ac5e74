// The HTML report in a real browser: each recorded result and a hostile one render offline with no
// script running, every piece of submission text shows as literal text, the output that explains a
// failure is open, the size chart has a bar per image of the student's (none for the grader's
// helpers) and the bounds the results carry, and nothing scrolls sideways on a phone.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t, { type Test } from 'tap';
import type { Browser } from 'playwright-core';
import { formatSize } from '../../runner/text/format.js';
import { htmlReport } from '../../reports/html.js';
import type { CheckResult, ExerciseResult } from '../../runner/results.js';
import { packageRoot } from '../../runner/paths.js';
import { browserForFile, openFile, PHONE, type WatchedPage } from './chromium.js';

const fixturesDir = path.join(packageRoot, 'test/fixtures/results');
const screenshotPath = path.join(packageRoot, 'docs/report-sample.png');

const SCRIPT = `<script>document.title='pwned';window.pwned=1</script>`;
const IMG = `<img src=x onerror="window.pwned=1">`;
const SVG = `"><svg onload="window.pwned=1">`;
const SVG_SINGLE = `'><svg onload='window.pwned=1'>`;
// Would fetch over the network if it ever became markup; the request log must stay file-only.
const REMOTE = `<link rel=stylesheet href="http://127.0.0.1:9/x.css"></style><style>body{background:url(http://127.0.0.1:9/bg)}</style>`;
const CONTROLS = `bell\u0007 nul\u0000 esc\u001b[31mred\u001b[0m title\u001b]0;pwned\u0007 cr\rback\u0008 c1\u009b2J`;
const LONG_TOKEN = 'x'.repeat(400);
// The project compiles without the DOM library (it is a Node tool), so code that runs in the page
// is handed to page.evaluate as a string.

function check(overrides: Partial<CheckResult> & Pick<CheckResult, 'id' | 'title'>): CheckResult {
  return {
    kind: 'command',
    status: 'fail',
    points: 0,
    maxPoints: 1,
    required: true,
    message: '',
    source: { file: 'step.yaml', line: 1 },
    durationMs: 1,
    ...overrides,
  };
}

function hostileResult(): ExerciseResult {
  return {
    schemaVersion: 1,
    exercise: `multi${SVG}`,
    exerciseFolder: `multi${SVG}`,
    title: `Hostile </title></textarea> ${SCRIPT}`,
    score: 1,
    maxScore: 5,
    passed: false,
    steps: [
      {
        id: `step${SVG}`,
        title: `Step ${IMG}`,
        required: true,
        checks: [
          check({
            id: `check${SVG}`,
            title: `Title ${SVG}`,
            message: `Message ${SCRIPT} ${IMG} </textarea> ${REMOTE}`,
            hint: `Hint ${SVG_SINGLE} \`${SCRIPT}\` & more`,
            expected: `exit 0 ${SVG}`,
            actual: `exit 1 ${SVG_SINGLE}`,
            log: `Step 7: RUN make\n</pre></details>${SCRIPT}\n${CONTROLS}\n${'y'.repeat(500)}`,
            logKind: 'build',
          }),
          check({
            id: 'output',
            title: 'the program prints the greeting',
            message: `Control characters: ${CONTROLS}`,
            expected: `Hello, world!\nsame line\n${SCRIPT}\nend`,
            actual: `Hello, world!\n${IMG}\nsame line\nend  `,
            log: 'program output',
            logKind: 'program',
          }),
          check({
            id: 'warned',
            title: 'compiles, warnings allowed',
            status: 'pass',
            points: 1,
            message: 'compiled with 1 warning',
            log: 'hello.c:1: warning: x',
            logKind: 'compiler',
          }),
          check({ id: 'long', title: `A long word: ${LONG_TOKEN}`, status: 'pass', points: 1, message: LONG_TOKEN }),
          check({ id: 'error', title: 'an error', status: 'error', message: 'the grader broke' }),
        ],
        durationMs: 3,
      },
      {
        id: 'bonus',
        title: 'Optional bonus',
        required: false,
        checks: [check({ id: 'skipped', title: 'skipped check', status: 'skip', required: false, maxPoints: 1, message: 'skipped: nothing to do' })],
        durationMs: 1,
      },
    ],
    images: [
      { name: `toolchain${SVG}`, step: 'step', sizeBytes: 461_000_000, helper: true },
      { name: `small${SVG}`, step: 'step', sizeBytes: 4_139_497, maxBytes: 10_000_000, helper: false },
      { name: `large${IMG}`, step: `step${SVG_SINGLE}`, sizeBytes: 327_218_453, helper: false },
      { name: 'my-build-stage', step: 'step', sizeBytes: 327_218_453, helper: false },
      { name: 'sleep', step: 'bonus', sizeBytes: 16_016, maxBytes: 1_000, helper: false },
    ],
    submission: `/home/student/${SVG}/${LONG_TOKEN}`,
    submissionId: LONG_TOKEN,
    runId: `run${SVG}`,
    grader: { name: 'grade', version: `0.1.0${SVG_SINGLE}` },
    engine: { version: `20.10${IMG}`, apiVersion: '1.41', os: 'linux', arch: `amd64${SVG}` },
    startedAt: `not a date ${SVG}`,
    durationMs: 1234,
  };
}

/** The page title the report promises, so a script that retitles the page is caught. */
function expectedTitle(result: ExerciseResult): string {
  return `${result.score} / ${result.maxScore} · ${result.title} · grade`;
}

const opened = await browserForFile(t, 'grade-html-');
if (opened) {
  const { browser, dir } = opened;

  const fixtureNames = (await readdir(fixturesDir)).filter((name) => name.endsWith('.json')).sort();
  const fixtures = await Promise.all(
    fixtureNames.map(async (name) => ({ name, result: JSON.parse(await readFile(path.join(fixturesDir, name), 'utf8')) as ExerciseResult })),
  );

  for (const { name, result } of [...fixtures, { name: 'hostile', result: hostileResult() }]) {
    t.test(`${name}: the report`, async (t) => {
      const file = path.join(dir, `${path.basename(name, '.json')}.html`);
      await writeFile(file, htmlReport(result));
      await assertRenders(t, browser, file, result);
      await assertFitsPhone(t, browser, file);
    });
  }

  t.test('hostile text stays text', async (t) => {
    const result = hostileResult();
    const file = path.join(dir, 'hostile-text.html');
    await writeFile(file, htmlReport(result));
    const watched = await openFile(browser, file);
    t.teardown(() => watched.close());
    const { page } = watched;

    const body = await page.locator('body').innerText();
    for (const literal of [SCRIPT, IMG, '</textarea>', REMOTE]) t.ok(body.includes(literal), `the message shows ${literal} literally`);
    t.equal(await page.locator('h1').innerText(), result.title, 'the title shows its markup literally');
    t.equal(await page.locator('.check h3').first().innerText(), `Title ${SVG}`, 'a check title shows its markup literally');
    t.same(
      await page.locator('.image-name').allInnerTexts(),
      result.images.filter((image) => !image.helper).map((image) => image.name),
      'image names show literally',
    );
    t.equal(await page.locator('[data-check]').first().getAttribute('data-check'), `step${SVG}/check${SVG}`, 'quotes stay inside attributes');
    t.match(await page.locator('.hint').first().innerText(), `Hint ${SVG_SINGLE} ${SCRIPT} & more`, 'a backticked hint shows its markup as code');
    t.equal(await page.locator('footer time').getAttribute('datetime'), result.startedAt, 'the date attribute holds the raw text');

    const markup = await page.evaluate<unknown>(`({
      active: document.querySelectorAll('script, img, svg, iframe, object, embed, link[rel=stylesheet], base, form').length,
      styles: document.querySelectorAll('style').length,
      handlers: [...document.querySelectorAll('*')].flatMap((element) => element.getAttributeNames().filter((name) => name.startsWith('on'))),
    })`);
    t.same(markup, { active: 0, styles: 1, handlers: [] }, 'no element or handler came from the results');

    t.notMatch(body, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/, 'no control character reaches the page');
    t.match(body, 'Control characters: bell\uFFFD nul\uFFFD esc', 'control characters show as replacement characters');

    const log = await page.locator('details.log pre').first().innerText();
    t.ok(log.includes(`</pre></details>${SCRIPT}`), 'an open log shows its markup literally');

    // The multi-line expected/actual is shown as a line diff: each side's own lines are marked.
    const diff = page.locator('[data-check="step\\"><svg onload=\\"window.pwned=1\\">/output"] .diff');
    t.same(await diff.locator('del').allInnerTexts(), [`−${SCRIPT}\n`, '−end\n'], 'the lines only in expected');
    t.same(await diff.locator('ins').allInnerTexts(), [`+${IMG}\n`, '+end  \n'], 'the lines only in actual, trailing blanks kept');
    t.equal(await diff.locator('.trailing-space').count(), 1, 'trailing blanks are marked');
  });

  // scratch-dynamic shows every part: a chart of the student's images against their bounds, and a failure's output open.
  t.test('the scratch-dynamic report as a sample picture', async (t) => {
    const result = fixtures.find(({ name }) => name === 'scratch-dynamic.json')?.result;
    if (!result) throw new Error(`no scratch-dynamic.json in ${fixturesDir}`);
    const file = path.join(dir, 'sample.html');
    await writeFile(file, htmlReport(result));
    // A laptop-width page reads best in the README: the whole report in one moderate-height picture.
    const watched = await openFile(browser, file, { viewport: { width: 900, height: 1000 } });
    t.teardown(() => watched.close());
    // The picture is a documentation artefact: written on request, never as a side effect of a test run.
    if (process.env.UPDATE_SCREENSHOT === '1') {
      await mkdir(path.dirname(screenshotPath), { recursive: true });
      await watched.page.screenshot({ path: screenshotPath, fullPage: true });
      t.ok(existsSync(screenshotPath), `wrote ${path.relative(packageRoot, screenshotPath)}`);
    } else {
      t.pass('UPDATE_SCREENSHOT=1 rewrites the sample picture');
    }
  });
}

async function assertRenders(t: Test, browser: Browser, file: string, result: ExerciseResult): Promise<void> {
  const watched = await openFile(browser, file);
  t.teardown(() => watched.close());
  const { page } = watched;

  const score = page.locator('.score');
  t.ok(await score.isVisible(), 'the score is visible');
  t.equal(await score.innerText(), `${result.score} / ${result.maxScore}`, 'the score reads points of maximum');
  t.match(await page.locator('.verdict').innerText(), result.passed ? /^\W*Passed$/ : /^\W*Not passed yet$/, 'the verdict is in words');

  const checks = result.steps.flatMap((step) => step.checks);
  t.same(
    (await page.locator('.check .status').allInnerTexts()).map((status) => status.trim().toLowerCase()),
    checks.map((check) => ({ pass: '✔ passed', fail: '✖ failed', skip: '– skipped', error: '! error' })[check.status]),
    'every check has an icon and a word for its status',
  );
  t.equal(await page.locator('.badge').count(), result.steps.filter((step) => !step.required).length, 'bonus steps are badged');

  const logged = checks.filter((check) => check.log);
  t.equal(await page.locator('details.log').count(), logged.length, 'a block per log');
  t.same(
    await page.evaluate<unknown>(`[...document.querySelectorAll('details')].map((details) => details.open)`),
    logged.map((check) => check.status !== 'pass'),
    "the output that explains a failure is open; a passed check's log is folded",
  );
  const labels = { build: 'Build log', compiler: 'Compiler output', program: 'Program output' };
  t.same(
    (await page.locator('details.log summary').allInnerTexts()).map((summary) => summary.replace(/\s*\(.*$/, '')),
    logged.map((check) => (check.logKind ? labels[check.logKind] : 'Log')),
    'each log is named by its kind',
  );
  const failedLogs = page.locator('.check:not(.check-pass) details.log pre');
  for (let index = 0; index < (await failedLogs.count()); index++)
    t.ok(await failedLogs.nth(index).isVisible(), `failure log ${index + 1} is visible without a click`);

  const own = result.images.filter((image) => !image.helper);
  t.equal(await page.locator('.chart-rows .bar').count(), own.length, "one bar per image of the student's");
  const charted = await Promise.all((await page.locator('.chart-row').all()).map((row) => row.getAttribute('data-image')));
  t.same(
    charted,
    own.map((image) => image.name.replace(/\n/g, ' ')),
    'no helper image is charted',
  );
  t.same(
    await page.locator('.image-bytes').allInnerTexts(),
    own.map((image) => formatSize(image.sizeBytes)),
    'bars are labelled with their sizes',
  );
  const bounds = [...new Set(own.flatMap((image) => (image.maxBytes === undefined ? [] : [image.maxBytes])))].sort((a, b) => a - b);
  t.same(await page.locator('.chart-axis .bound-label').allInnerTexts(), bounds.map(formatSize), 'each bound the results carry is labelled, and no other');
  t.equal(await page.locator('.chart-row .bound').count(), own.filter((image) => image.maxBytes !== undefined).length, 'a bound line on each bounded image');
  t.equal(
    await page.locator('.chart-row .bar-over').count(),
    own.filter((image) => image.maxBytes !== undefined && image.sizeBytes > image.maxBytes).length,
    'a bar over its bound is marked',
  );
  t.match(await page.locator('footer').innerText(), result.runId, 'the footer names the run');

  await assertUntouched(t, watched, expectedTitle(result));
}

async function assertFitsPhone(t: Test, browser: Browser, file: string): Promise<void> {
  const watched = await openFile(browser, file, PHONE);
  t.teardown(() => watched.close());
  const { page } = watched;
  const width = () => page.evaluate<number>('document.documentElement.scrollWidth');
  t.ok((await width()) <= 390, 'no horizontal scrolling at 390 px');
  t.equal(await page.evaluate<string>('getComputedStyle(document.body).fontSize'), '16px', 'body text is 16 px');
  // Opened logs scroll inside their own block, never the page.
  await page.evaluate(`document.querySelectorAll('details').forEach((details) => (details.open = true))`);
  t.ok((await width()) <= 390, 'still none with every log open');
  t.same(watched.consoleErrors, [], 'no console error on a phone');
}

async function assertUntouched(t: Test, watched: WatchedPage, title: string): Promise<void> {
  const { page } = watched;
  t.equal(await page.evaluate<string>('typeof window.pwned'), 'undefined', 'window.pwned is undefined');
  t.equal(await page.title(), title, 'the title is the report title');
  t.same(watched.consoleErrors, [], 'no console error');
  t.same(watched.pageErrors, [], 'no page error');
  t.same(
    watched.requests.filter((url) => !url.startsWith('file:') && !url.startsWith('data:')),
    [],
    'no request leaves file: and data:',
  );
}
