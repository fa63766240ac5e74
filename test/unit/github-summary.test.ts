// The GitHub job summary, rendered back by a CommonMark renderer with GitHub's extensions on
// (tables, raw HTML, linked URLs): the score and the table are there, nothing a submission wrote
// turns into markup, a link, a mention or a table cell, and the summary stays within its size.
import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import MarkdownIt from 'markdown-it';
import { githubSummary, markdownText, preText, SUMMARY_MAX_BYTES } from '../../reports/github-summary.js';
import type { CheckResult, ExerciseResult } from '../../runner/results.js';
import { summarize } from '../../runner/results.js';

const root = path.resolve(import.meta.dirname, '../..');
const fixture = (name: string) => JSON.parse(readFileSync(path.join(root, 'test/fixtures/results', `${name}.json`), 'utf8')) as ExerciseResult;
const markdown = new MarkdownIt({ html: true, linkify: true });

// What a submission (a file name, program output, a build log) could use to forge markdown or HTML.
const HOSTILE = [
  'start',
  '| forged | cell | 99/99 |',
  '**bold** _em_ ~~struck~~ `code` ``` fence',
  '[link](https://evil.example/a) ![img](https://evil.example/i.png) <https://evil.example/auto>',
  'https://evil.example/bare www.evil.example mail@evil.example',
  '@octocat @github/security-team',
  '<script>alert(1)</script><img src=x onerror=alert(1)></pre></details></td><a href="https://evil.example">x</a>',
  '<!-- comment --> &amp; &lt; &#64;',
  '# heading',
  '- list item',
  '1. numbered',
  '> quote',
  '---',
  '    indented code',
  'trailing backslash \\',
  '\u001b[2J\u0007 lone \ud800 surrogate',
].join('\n');

function hostileResult(): ExerciseResult {
  const base = fixture('compile-error');
  const hostile = (check: CheckResult, index: number): CheckResult => ({
    ...check,
    title: `${HOSTILE} ${index}`,
    message: `${HOSTILE} message`,
    hint: `${HOSTILE} hint`,
    expected: HOSTILE,
    actual: HOSTILE,
    log: `${HOSTILE}\n`.repeat(3),
    logKind: 'program',
    ...(check.status === 'fail' ? { location: { file: `${HOSTILE}.c`, line: 3, column: 1 } } : {}),
  });
  const steps = base.steps.map((step) => ({ ...step, title: `${HOSTILE} step`, checks: step.checks.map(hostile) }));
  return { ...base, title: HOSTILE, steps, ...summarize(steps) };
}

/** The tags a rendered summary may hold: the grader's own, none from the submission. */
const ALLOWED_TAGS = new Set(['h2', 'h3', 'h4', 'p', 'strong', 'em', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'code', 'br', 'details', 'summary', 'pre']);
const tagsOf = (html: string) => [...html.matchAll(/<\/?([a-zA-Z][\w-]*)/g)].map((match) => match[1]!.toLowerCase());
/** The text of rendered HTML, entities decoded, as a reader sees it. */
const textOf = (html: string) =>
  html
    .replace(/<br>/g, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');

t.test('the score, a table of steps and checks, and what to fix', async (t) => {
  const result = fixture('compile-error');
  const summary = githubSummary(result);
  const html = markdown.render(summary);
  t.match(summary, new RegExp(`^## ❌ .*\\n\\n\\*\\*Score: ${result.score}/${result.maxScore}\\*\\*: \\d+ required checks? not passed`), 'the score first');
  const rows = [...html.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...row[1]!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((cell) => textOf(cell[1]!)),
  );
  const checks = result.steps.flatMap((step) => step.checks);
  t.equal(rows.length, 1 + result.steps.length + checks.length, 'a header, a row per step and a row per check');
  t.ok(
    rows.every((row) => row.length === 4),
    'every row has its four cells',
  );
  const checkRows = rows.filter((row) => row[2] !== '' && row[2] !== 'Result');
  t.same(
    checkRows.map((row) => [row[1], row[2], row[3]]),
    checks.map((check) => [
      check.title,
      { pass: 'passed', fail: 'failed', skip: 'skipped', error: 'not judged' }[check.status],
      `${check.points}/${check.maxPoints}`,
    ]),
    'each check: its title, status and points',
  );
  for (const check of checks.filter((each) => each.status !== 'pass')) {
    t.ok(textOf(html).includes(check.message), `${check.id}: its message`);
    if (check.hint) t.ok(textOf(html).includes(check.hint), `${check.id}: its hint`);
  }
  t.notOk(summary.includes(result.submission), "the grading machine's path is not in it");

  const passed = markdown.render(githubSummary(fixture('solution')));
  t.match(passed, /<h2>✅ /, 'a passed run says so');
  t.notMatch(passed, /What to fix/, 'and lists nothing to fix');
});

t.test('nothing from the submission becomes markup, a link, a mention or a table cell', async (t) => {
  const result = hostileResult();
  const summary = githubSummary(result);
  const html = markdown.render(summary);
  t.same(
    [...new Set(tagsOf(html))].filter((tag) => !ALLOWED_TAGS.has(tag)),
    [],
    'only the summary’s own tags',
  );
  t.notMatch(html, /<a |<img|<script|<ul|<ol|<li|<blockquote|<h1|<hr|<del|<s>/, 'no link, image, script, list, quote, heading or rule');
  const rows = [...html.matchAll(/<tr>([\s\S]*?)<\/tr>/g)];
  t.ok(
    rows.every((row) => [...row[1]!.matchAll(/<t[hd][^>]*>/g)].length === 4),
    'a | in a title adds no cell',
  );
  t.equal(rows.length, 1 + result.steps.length + result.steps.flatMap((step) => step.checks).length, 'and no row');
  const text = textOf(html);
  t.ok(text.includes('| forged | cell | 99/99 |'), 'the text reads back as written');
  t.ok(text.includes('[link](https://evil.example/a)') && text.includes('<script>alert(1)</script>'), 'links and tags as text');
  // GitHub links no @mention inside <pre> (a log, shown as code); everywhere else a word joiner follows each @.
  const outsideLogs = textOf(html.replace(/<pre>[\s\S]*?<\/pre>/g, ''));
  t.notMatch(outsideLogs, /@octocat|@github/, 'no @mention outside the logs');
  t.match(outsideLogs, /@\u2060octocat/, 'the @ is still there to read');
  t.equal((summary.match(/<details>/g) ?? []).length, (summary.match(/<\/details>/g) ?? []).length, 'every details block is closed');
  t.equal((html.match(/<pre>/g) ?? []).length, (html.match(/<\/pre>/g) ?? []).length, 'no </pre> from a log ends a block early');
  t.match(html, /<pre>\n[^<]*&lt;script&gt;/, 'a log keeps its markup as text');
  t.notMatch(summary, /[\u0000-\u0008\u000b-\u001f\u007f]/, 'no control characters');
});

t.test('markdownText and preText escape for their places', async (t) => {
  t.equal(markdownText('a|b'), 'a&#124;b');
  t.equal(markdownText('x\n\n  y'), 'x<br>y', 'line breaks become <br>, so the text stays one paragraph');
  t.equal(markdownText('x\ny', { oneLine: true }), 'x y', 'or spaces in a table cell');
  t.equal(markdownText('@me'), '&#64;&#8288;me');
  t.equal(markdownText('日本 ü'), '日本 ü', 'letters stay as they are');
  t.equal(preText('</pre> & <b>'), '&lt;/pre&gt; &amp; &lt;b&gt;');
});

t.test('the summary stays within its size, cut at whole sections with a note', async (t) => {
  const base = fixture('compile-error');
  // 60 failing checks, each with a 16 KiB log: about 1 MiB of logs.
  const checks: CheckResult[] = Array.from({ length: 60 }, (_, index) => ({
    ...base.steps[0]!.checks[1]!,
    id: `c${index}`,
    title: `check ${index}`,
    status: 'fail',
    points: 0,
    log: `${'x'.repeat(79)}\n`.repeat(210),
    logKind: 'build',
  }));
  const steps = [{ ...base.steps[0]!, checks }];
  const result = { ...base, steps, ...summarize(steps) };
  const summary = githubSummary(result);
  const size = Buffer.byteLength(summary);
  t.ok(size <= SUMMARY_MAX_BYTES, `at most ${SUMMARY_MAX_BYTES} bytes (${size})`);
  t.ok(size > SUMMARY_MAX_BYTES / 2, 'and it uses the room it has');
  t.match(
    summary,
    /_Not shown: \d+ checks that did not pass; a step summary holds at most 512 KiB here\. The job's log has everything\._\n$/,
    'a note says what was left out',
  );
  t.equal((summary.match(/<details>/g) ?? []).length, (summary.match(/<\/details>/g) ?? []).length, 'no section is cut in half');
  t.equal((summary.match(/^\| /gm) ?? []).length, 2 + 1 + 60, 'the whole table comes first');

  const tiny = githubSummary(result, { maxBytes: 2048 });
  t.ok(Buffer.byteLength(tiny) <= 2048, 'a smaller cap holds too');
  t.match(tiny, /Not shown: \d+ rows of the table and 60 checks that did not pass/, 'even the table is cut, saying so');
  t.match(tiny, /\*\*Score: 0\/\d+\*\*/, 'the score is always there');

  const longLog = githubSummary({ ...result, steps: [{ ...steps[0]!, checks: [{ ...checks[0]!, log: `first line\n${'y'.repeat(100)}\n`.repeat(1000) }] }] });
  t.match(longLog, /<pre>\n\.\.\. \(the start is not shown: the summary keeps the last 16 KiB\)\n/, 'one long log shows its end');
  t.notMatch(longLog, /first line\nfirst line/, '...not the whole log');
});
