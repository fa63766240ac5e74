// The class dashboard in a real browser, opened from file:// in a gradebook folder whose student
// reports exist: nothing is fetched, no script runs and hostile names show as text, the histogram
// and the item analysis say what the gradebook says, every student's link opens that student's
// report, and nothing scrolls sideways on a laptop or a phone.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { classDashboard } from '../../reports/class/dashboard.js';
import type { ClassSummary } from '../../runner/class-results.js';
import { packageRoot } from '../../runner/paths.js';
import { singleLine } from '../../runner/text/plain.js';
import { HOSTILE_NAMES, sampleClassSummary } from '../support/class-summary.js';
import { browserForFile, DESKTOP, openFile } from './chromium.js';

const screenshotPath = path.join(packageRoot, 'docs/class-dashboard.png');
const NARROW = { viewport: { width: 400, height: 800 }, isMobile: true, hasTouch: true };

/** A gradebook folder: index.html and, for each report the rows name, a page saying whose it is. */
async function writeGradebook(dir: string, summary: ClassSummary): Promise<string> {
  for (const [index, row] of summary.submissions.entries()) {
    if (row.report === null) continue;
    const file = path.join(dir, ...row.report.split('/'));
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, `<!DOCTYPE html><meta charset="utf-8"><title>report</title><p id="row">${index}</p>`);
  }
  const index = path.join(dir, 'index.html');
  await writeFile(index, classDashboard(summary));
  return index;
}

const opened = await browserForFile(t, 'grade-class-');
if (opened) {
  const { browser, dir } = opened;
  const summary = sampleClassSummary();
  const index = await writeGradebook(dir, summary);

  t.test('it renders offline, with no script, hostile names as text', async (t) => {
    const watched = await openFile(browser, index);
    t.teardown(() => watched.close());
    const { page } = watched;

    t.equal(await page.title(), `${summary.title} · class gradebook · grade`, 'the title is the gradebook title');
    t.same(
      watched.requests.filter((url) => !url.startsWith('file:') && !url.startsWith('data:')),
      [],
      'no request leaves file: and data:',
    );
    t.same(watched.consoleErrors, [], 'no console error');
    t.same(watched.pageErrors, [], 'no page error');
    t.equal(await page.evaluate<string>('typeof window.pwned'), 'undefined', 'no injected code ran');

    const markup = await page.evaluate<unknown>(`({
      active: document.querySelectorAll('script, img, svg, iframe, object, embed, link[rel=stylesheet], base, form').length,
      styles: document.querySelectorAll('style').length,
      handlers: [...document.querySelectorAll('*')].flatMap((element) => element.getAttributeNames().filter((name) => name.startsWith('on'))),
    })`);
    t.same(markup, { active: 0, styles: 1, handlers: [] }, 'no element or handler came from the gradebook');

    const shown = (await page.locator('.roster tbody th[scope=row]').allInnerTexts()).map((name) => name.trim());
    t.same(
      shown,
      summary.submissions.map((row) => singleLine(row.student)),
      'every student is listed by name, literally, in order',
    );
    for (const name of HOSTILE_NAMES) t.ok(shown.includes(singleLine(name)), `${JSON.stringify(name)} shows as text`);
    t.match(await page.locator('.roster').innerText(), '<script>alert(1)</script>', 'markup in a message shows as text');

    const tally = await page.evaluate<Record<string, string>>(
      `Object.fromEntries([...document.querySelectorAll('[data-tally]')].map((item) => [item.dataset.tally, item.querySelector('dd').innerText]))`,
    );
    const count = (status: string) => String(summary.submissions.filter((row) => row.status === status).length);
    t.same(
      [tally.graded, tally.error, tally['timed-out'], tally.skipped],
      [count('graded'), count('error'), count('timed-out'), count('skipped')],
      'the header counts graded, errors, timed out and skipped',
    );
  });

  t.test('the histogram shows the counts of the graded scores', async (t) => {
    const watched = await openFile(browser, index);
    t.teardown(() => watched.close());
    const { page } = watched;

    const shown = (await page.locator('.histogram .bin-count').allInnerTexts()).map(Number);
    t.same(
      shown,
      summary.scores.histogram.map((bin) => bin.count),
      'one bar per bin, labelled with its count',
    );
    // The same counts from the rows themselves: ten equal bins over 0..max, the last one closed.
    const maxScore = summary.columns.reduce((sum, column) => sum + column.maxPoints, 0);
    const counted = Array.from({ length: 10 }, () => 0);
    for (const row of summary.submissions) if (row.status === 'graded') counted[Math.min(9, Math.floor((row.score / maxScore) * 10))]!++;
    t.same(shown, counted, 'the counts are those of the graded rows');

    const heights = await page.evaluate<number[]>(`[...document.querySelectorAll('.bin-bar')].map((bar) => bar.getBoundingClientRect().height)`);
    const tallest = Math.max(...counted);
    counted.forEach((binCount, bin) => {
      if (binCount === tallest) t.ok(heights[bin]! > 100, `bin ${bin + 1}, the tallest, is drawn tall`);
      if (binCount === 0) t.equal(heights[bin], 0, `bin ${bin + 1}, empty, has no bar`);
      else t.ok(Math.abs(heights[bin]! / heights[counted.indexOf(tallest)]! - binCount / tallest) < 0.02, `bin ${bin + 1} is drawn to scale`);
    });
    const spoken = await page.locator('.histogram .visually-hidden').allInnerTexts();
    t.match(spoken[1], `${counted[1]} submission`, 'each bin says its count in words for a screen reader');
  });

  t.test('the checks appear in pass-rate order, with why they fail', async (t) => {
    const watched = await openFile(browser, index);
    t.teardown(() => watched.close());
    const { page } = watched;

    const shown = await page.evaluate<string[]>(`[...document.querySelectorAll('.item, .item-passed')].map((item) => item.dataset.check)`);
    const ordered = [...summary.checks].sort((a, b) => a.passRate - b.passRate);
    t.same(
      shown,
      ordered.map((check) => `${check.step}/${check.check}`),
      'every check, lowest pass rate first',
    );
    const rates = await page.evaluate<number[]>(`[...document.querySelectorAll('.item')].map((item) => Number(item.dataset.passRate))`);
    t.ok(
      rates.every((rate, i) => i === 0 || rates[i - 1]! <= rate),
      'pass rates never go down the list',
    );

    const hardest = ordered[0]!;
    const first = page.locator('.item').first();
    t.match(await first.locator('.rate').innerText(), /%/, 'the hardest check shows its pass rate');
    t.same(
      (await first.locator('.messages li').allInnerTexts()).map((line) => line.replace(/\s+/g, ' ').trim()),
      hardest.commonMessages.map(({ message, count }) => `${count} ${count === 1 ? 'student' : 'students'}: ${message}`.replace(/\s+/g, ' ')),
      'and its most common messages with their counts',
    );
  });

  t.test('each student link opens that student report', async (t) => {
    const watched = await openFile(browser, index);
    t.teardown(() => watched.close());
    const { page } = watched;

    const links = await page.evaluate<(string | null)[]>(
      `[...document.querySelectorAll('.roster tbody tr')].map((row) => row.querySelector('a.report-link')?.href ?? null)`,
    );
    t.equal(links.length, summary.submissions.length, 'a row per entry');
    const opened = await browser.newPage();
    t.teardown(() => opened.close());
    for (const [i, row] of summary.submissions.entries()) {
      const href = links[i];
      const label = JSON.stringify(row.student);
      if (row.report === null) {
        t.equal(href, null, `${label}: no report, no link`);
        continue;
      }
      if (!href) {
        t.fail(`${label}: no link to ${row.report}`);
        continue;
      }
      const target = fileURLToPath(href);
      t.equal(target, path.join(dir, ...row.report.split('/')), `${label}: the link resolves to ${JSON.stringify(row.report)}`);
      t.ok(existsSync(target), `${label}: the linked file exists`);
      await opened.goto(href);
      t.equal(await opened.locator('#row').innerText(), String(i), `${label}: the browser opens that student's report`);
    }

    await page.locator('a.report-link').first().click();
    await page.waitForURL(/report\.html$/);
    t.equal(await page.locator('#row').innerText(), String(summary.submissions.findIndex((row) => row.report !== null)), 'a click opens the report');
  });

  for (const [label, options, width] of [
    ['1280 px', DESKTOP, 1280],
    ['400 px', NARROW, 400],
  ] as const) {
    t.test(`nothing scrolls sideways at ${label}`, async (t) => {
      const watched = await openFile(browser, index, options);
      t.teardown(() => watched.close());
      const { page } = watched;
      t.ok((await page.evaluate<number>('document.documentElement.scrollWidth')) <= width, `the page is at most ${width} px wide`);
      t.equal(await page.evaluate<string>('getComputedStyle(document.body).fontSize'), '16px', 'body text is 16 px');
      t.same(watched.consoleErrors, [], 'no console error');
    });
  }

  t.test('it follows the colour scheme and prints dark on white', async (t) => {
    const watched = await openFile(browser, index, { ...DESKTOP, colorScheme: 'dark' });
    t.teardown(() => watched.close());
    const { page } = watched;
    const background = () => page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
    t.equal(await background(), 'rgb(13, 17, 23)', 'dark on a dark system');
    await page.emulateMedia({ media: 'print', colorScheme: 'dark' });
    t.equal(await background(), 'rgb(255, 255, 255)', 'white on paper, even from a dark system');
    t.equal(await page.evaluate<string>('getComputedStyle(document.body).color'), 'rgb(0, 0, 0)', 'black text on paper');
    t.equal(await page.evaluate<string>(`getComputedStyle(document.querySelector('.table-wrap')).overflowX`), 'visible', 'the roster is printed whole');
    const pdf = await page.pdf({ format: 'A4' });
    t.ok(pdf.subarray(0, 5).toString() === '%PDF-', 'it prints to a PDF');
  });

  // The README's picture: a class without the hostile names, written on request, never as a side effect of a test run.
  t.test('the dashboard as a sample picture', async (t) => {
    const pictureDir = await mkdtemp(path.join(os.tmpdir(), 'grade-class-picture-'));
    t.teardown(() => rm(pictureDir, { recursive: true, force: true }));
    const picture = await writeGradebook(pictureDir, sampleClassSummary({ hostile: false }));
    const watched = await openFile(browser, picture, DESKTOP);
    t.teardown(() => watched.close());
    if (process.env.UPDATE_SCREENSHOT === '1') {
      await mkdir(path.dirname(screenshotPath), { recursive: true });
      await watched.page.screenshot({ path: screenshotPath, fullPage: true });
      t.ok(existsSync(screenshotPath), `wrote ${path.relative(packageRoot, screenshotPath)}`);
    } else {
      t.pass('UPDATE_SCREENSHOT=1 rewrites the sample picture');
    }
  });
}
