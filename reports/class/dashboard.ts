// The class dashboard, index.html of a gradebook folder: one self-contained page (inline CSS, no
// script, no network) that an instructor opens from file:// to see how the class scored, which
// checks most students fail and why, how big their images are, who copied whom, and every report.
import { type CheckStats, type ClassSummary, type ImageStats, REFERENCE_SOLUTION, type SubmissionRow } from '../../runner/class-results.js';
import { formatPercent, formatSize } from '../../runner/text/format.js';
import { singleLine } from '../../runner/text/plain.js';
import { attr, escapeHtml, htmlPage, oneLine, percent, readableDate, text } from '../html-text.js';

/** Past this many characters a message is cut: the dashboard is an overview, each report has the whole text. */
const MAX_MESSAGE_CHARS = 400;

export function classDashboard(summary: ClassSummary): string {
  const title = `${oneLine(summary.title)} · class gradebook · grade`;
  const main = [headerSection, histogramSection, checksSection, imagesSection, duplicatesSection, studentsSection].map((section) => section(summary));
  return htmlPage(title, CSS, main.join('\n'));
}

function headerSection(summary: ClassSummary): string {
  const rows = summary.submissions;
  const count = (status: SubmissionRow['status']) => rows.filter((row) => row.status === status).length;
  const graded = count('graded');
  const passed = rows.filter((row) => row.status === 'graded' && row.passed).length;
  const maxScore = maxScoreOf(summary);
  const tally: [string, string, string][] = [
    ['submissions', 'Submissions', String(rows.length - count('skipped'))],
    ['graded', 'Graded', String(graded)],
    ['passed', 'Passed', String(passed)],
    ['error', 'Errors', String(count('error'))],
    ['timed-out', 'Timed out', String(count('timed-out'))],
    ['skipped', 'Skipped', String(count('skipped'))],
    ['mean', 'Mean score', `${round(summary.scores.mean)} <span class="of">/ ${maxScore}</span>`],
    ['median', 'Median score', `${round(summary.scores.median)} <span class="of">/ ${maxScore}</span>`],
  ];
  const engine = summary.engine
    ? `Docker ${text(summary.engine.version)} (API ${text(summary.engine.apiVersion)}, ${text(summary.engine.os)}/${text(summary.engine.arch)})`
    : 'an unknown engine';
  const shard = summary.shard
    ? `<p class="shard">This gradebook holds shard ${summary.shard.index} of ${summary.shard.total} of the class; <code>grade merge</code> combines the shards into the whole class.</p>\n`
    : '';
  return `<header class="summary">
<p class="kicker">Class gradebook · exercise <code>${text(summary.exercise)}</code></p>
<h1>${text(summary.title)}</h1>
${shard}<dl class="tally">
${tally.map(([key, label, value]) => `<div data-tally="${key}"><dt>${label}</dt><dd>${value}</dd></div>`).join('\n')}
</dl>
<p class="meta">Graded by ${text(summary.grader.name)} ${text(summary.grader.version)} on ${engine} · generated <time datetime="${attr(summary.generatedAt)}">${text(readableDate(summary.generatedAt))}</time> · <a href="grades.csv">grades.csv</a> · <a href="class.json">class.json</a></p>
</header>`;
}

function histogramSection(summary: ClassSummary): string {
  const bins = summary.scores.histogram;
  const graded = bins.reduce((sum, bin) => sum + bin.count, 0);
  const tallest = Math.max(1, ...bins.map((bin) => bin.count));
  const items = bins.map((bin, index) => {
    const last = index === bins.length - 1;
    const range = `${round(bin.from)}–${round(bin.to)}`;
    const spoken = `${plural(bin.count, 'submission')} scored at least ${round(bin.from)} and ${last ? 'at most' : 'under'} ${round(bin.to)} points`;
    return `<li class="bin" data-from="${bin.from}" data-to="${bin.to}" data-count="${bin.count}">
<span class="bin-count" aria-hidden="true">${bin.count}</span>
<span class="bin-column" aria-hidden="true"><span class="bin-bar" style="height:${percent(bin.count / tallest)}"></span></span>
<span class="bin-range" aria-hidden="true">${range}</span>
<span class="visually-hidden">${spoken}</span>
</li>`;
  });
  const caption =
    graded === 0
      ? 'No submission was graded, so there are no scores to show.'
      : `How many of the ${plural(graded, 'graded submission')} scored in each tenth of 0–${maxScoreOf(summary)} points.`;
  return `<section class="scores" aria-labelledby="scores-heading">
<h2 id="scores-heading">Scores</h2>
<p class="lead">${caption}</p>
<ol class="histogram">
${items.join('\n')}
</ol>
</section>`;
}

/** The item analysis: the checks most students fail come first, each with what they were told. */
function checksSection(summary: ClassSummary): string {
  // Stable: checks with the same pass rate keep the summary's (spec) order.
  const checks = [...summary.checks].sort((a, b) => a.passRate - b.passRate);
  const graded = summary.submissions.filter((row) => row.status === 'graded').length;
  const open = graded === 0 ? checks : checks.filter((check) => check.passed < graded);
  const allPassed = graded === 0 ? [] : checks.filter((check) => check.passed >= graded);
  const list = open.length === 0 ? '' : `<ol class="items">\n${open.map(checkItem).join('\n')}\n</ol>`;
  const passedNote =
    allPassed.length === 0
      ? ''
      : `<p class="all-passed">Passed by every graded submission: ${allPassed.map((check) => `<span class="item-passed" data-check="${attr(`${check.step}/${check.check}`)}">${text(check.title)}</span>`).join(', ')}.</p>`;
  return `<section class="checks" aria-labelledby="checks-heading">
<h2 id="checks-heading">Checks, hardest first</h2>
<p class="lead">Each check's pass rate over the ${plural(graded, 'graded submission')}, lowest first, with the most common messages of those that did not pass it.</p>
${checks.length === 0 ? '<p>The exercise has no checks.</p>' : ''}${list}
${passedNote}
</section>`;
}

function checkItem(check: CheckStats): string {
  const id = `${check.step}/${check.check}`;
  const bonus = check.required ? '' : ' <span class="badge">Bonus</span>';
  const counts = [
    `<code>${text(id)}</code>`,
    `<span class="count-pass">${check.passed} passed</span>`,
    `<span${check.failed > 0 ? ' class="count-fail"' : ''}>${check.failed} failed</span>`,
    `<span>${check.skipped} skipped</span>`,
    `<span${check.errored > 0 ? ' class="count-error"' : ''}>${plural(check.errored, 'error')}</span>`,
    plural(check.maxPoints, 'point'),
  ].join(' · ');
  const messages =
    check.commonMessages.length === 0
      ? ''
      : `<ul class="messages" aria-label="Most common messages when it did not pass">
${check.commonMessages.map(({ message, count }) => `<li><span class="message-count">${count}<span class="visually-hidden"> ${count === 1 ? 'student' : 'students'}:</span></span><span class="message">${text(clip(message))}</span></li>`).join('\n')}
</ul>`;
  return `<li class="item" data-check="${attr(id)}" data-pass-rate="${check.passRate}">
<div class="item-head">
<h3>${text(check.title)}${bonus}</h3>
<span class="rate">${formatPercent(check.passRate)}<span class="visually-hidden"> passed</span></span>
</div>
<p class="counts">${counts}</p>
<div class="meter" aria-hidden="true"><span style="width:${percent(check.passRate)}"></span></div>
${messages}
</li>`;
}

/** Each student image's spread across the class against its bound; the grader's own helper images are not the students' work. */
function imagesSection(summary: ClassSummary): string {
  const heading = '<h2 id="images-heading">Image sizes across the class</h2>';
  const own = summary.images.filter((image) => !image.helper);
  const helpers = summary.images.filter((image) => image.helper);
  const helperNote =
    helpers.length === 0
      ? ''
      : `<p class="lead">Not shown: the grader's own helper images (${helpers.map((image) => `<code>${text(image.name)}</code>`).join(', ')}).</p>`;
  if (own.length === 0) {
    return `<section class="images" aria-labelledby="images-heading">
${heading}
<p>No submission built an image, so there are no sizes to compare.</p>
${helperNote}
</section>`;
  }
  return `<section class="images" aria-labelledby="images-heading">
${heading}
<p class="lead">For each image, the smallest, median and largest across the submissions that built it, on a scale of its own. A dashed line marks the most it may weigh.</p>
<ul class="sizes">
${own.map(imageRow).join('\n')}
</ul>
${helperNote}
</section>`;
}

function imageRow(image: ImageStats): string {
  const scaleMax = Math.max(1, image.maxBytes, image.boundBytes ?? 0);
  const over = image.boundBytes !== undefined && image.maxBytes > image.boundBytes;
  // Clamped so that a mark at the very top of the scale stays inside the strip.
  const at = (bytes: number) => `min(${percent(bytes / scaleMax)}, calc(100% - 4px))`;
  const bound = image.boundBytes === undefined ? '' : `<span class="bound" style="left:${at(image.boundBytes)}"></span>`;
  const figures: [string, string][] = [
    ['Smallest', formatSize(image.minBytes)],
    ['Median', formatSize(image.medianBytes)],
    ['Largest', formatSize(image.maxBytes)],
    ['Bound', image.boundBytes === undefined ? 'none' : formatSize(image.boundBytes)],
  ];
  return `<li class="size-row${over ? ' size-over' : ''}" data-image="${attr(image.name)}">
<p class="size-head"><code class="image-name">${text(image.name)}</code> <span class="muted">built by ${plural(image.count, 'submission')}</span>${over ? ' <span class="over-note">the largest is over the bound</span>' : ''}</p>
<span class="strip" aria-hidden="true"><span class="range" style="left:${at(image.minBytes)};width:max(4px, ${percent((image.maxBytes - image.minBytes) / scaleMax)})"></span><span class="median" style="left:${at(image.medianBytes)}"></span>${bound}</span>
<dl class="size-figures">${figures.map(([label, value]) => `<div><dt>${label}</dt><dd>${value}</dd></div>`).join('')}</dl>
</li>`;
}

function duplicatesSection(summary: ClassSummary): string {
  const items = summary.duplicates.map((group) => {
    const others = group.students.filter((student) => student !== group.of);
    if (group.of === REFERENCE_SOLUTION) {
      return `<li class="duplicate duplicate-reference" data-of="${attr(group.of)}">Identical to the exercise's reference solution: ${names(others)}</li>`;
    }
    return `<li class="duplicate" data-of="${attr(group.of)}">${name(group.of)}, copied by ${names(others)}</li>`;
  });
  const body = items.length === 0 ? '<p>No two submissions are identical.</p>' : `<ul class="duplicates">\n${items.join('\n')}\n</ul>`;
  return `<section class="duplicates-section" aria-labelledby="duplicates-heading">
<h2 id="duplicates-heading">Identical submissions</h2>
<p class="lead">Submissions whose graded files are the same once whitespace and comments are set aside; each group is named by its first student.</p>
${body}
</section>`;
}

function studentsSection(summary: ClassSummary): string {
  const rows = summary.submissions.map((row) => {
    const href = row.report === null ? undefined : reportHref(row.report);
    const student = href === undefined ? name(row.student) : `<a class="report-link" href="${attr(href)}">${name(row.student)}</a>`;
    const score = row.status === 'graded' ? `${row.score} / ${row.maxScore}` : '—';
    const duplicate =
      row.duplicateOf === null
        ? ''
        : `<span class="cell-label">Identical to </span>${row.duplicateOf === REFERENCE_SOLUTION ? 'the reference solution' : name(row.duplicateOf)}`;
    return `<tr data-student="${attr(singleLine(row.student))}" data-status="${row.status}">
<th scope="row">${student}</th>
<td class="status-cell">${statusBadge(row)}</td>
<td class="num">${score}</td>
<td class="duplicate-cell">${duplicate}</td>
<td class="message">${text(clip(row.message))}</td>
</tr>`;
  });
  return `<section class="students" aria-labelledby="students-heading">
<h2 id="students-heading">Students</h2>
<p class="lead">Every entry of the class folder; a name links to that student's report.</p>
<div class="table-wrap">
<table class="roster">
<thead><tr><th scope="col">Student</th><th scope="col">Status</th><th scope="col" class="num">Score</th><th scope="col">Identical to</th><th scope="col">Message</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
</div>
</section>`;
}

function statusBadge(row: SubmissionRow): string {
  if (row.status === 'graded') {
    return row.passed ? '<span class="status status-pass">Passed</span>' : '<span class="status status-fail">Not passed</span>';
  }
  const word = { error: 'Error', 'timed-out': 'Timed out', skipped: 'Skipped' }[row.status];
  return `<span class="status status-${row.status}">${word}</span>`;
}

/**
 * A report's path as a relative URL: each segment percent-encoded, so `#`, `?`, `%`, `:` and
 * blanks in a name stay part of it. A path that could leave the gradebook folder (`..`, `.`, an
 * empty segment, a leading `/`) or cannot be encoded gets no link at all.
 */
export function reportHref(report: string): string | undefined {
  const segments = report.split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) return undefined;
  try {
    return segments.map(encodeURIComponent).join('/');
  } catch {
    // encodeURIComponent throws on half a surrogate pair: such a name has no file to link to.
    return undefined;
  }
}

/** The exercise's points: the sum of its checks, which every graded row shares. */
function maxScoreOf(summary: ClassSummary): number {
  return summary.columns.reduce((sum, column) => sum + column.maxPoints, 0);
}

/** A student's name as it is, on one line: a newline in it shows as `\n`, never as a break. */
function name(student: string): string {
  return `<span class="name">${escapeHtml(singleLine(student))}</span>`;
}

function names(students: string[]): string {
  return students.map(name).join(', ');
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function round(value: number): number {
  return Number(value.toFixed(2));
}

/** Cut at a code point, never inside a surrogate pair. */
function clip(value: string): string {
  const points = Array.from(value);
  return points.length <= MAX_MESSAGE_CHARS ? value : `${points.slice(0, MAX_MESSAGE_CHARS).join('')}…`;
}

const CSS = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--panel:#f6f8fa;--accent:#0969da;--bar:#0969da;--bound:#cf222e;
--pass:#116329;--pass-bg:#dafbe1;--fail:#a40e26;--fail-bg:#ffebe9;--skip:#59636e;--skip-bg:#eff2f5;--error:#7d4e00;--error-bg:#fff8c5;--code-bg:#eff2f5}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--panel:#151b23;--accent:#4493f8;--bar:#4493f8;--bound:#ff7b72;
--pass:#56d364;--pass-bg:#12261e;--fail:#ff8182;--fail-bg:#2d1214;--skip:#9198a1;--skip-bg:#212830;--error:#e3b341;--error-bg:#2b2111;--code-bg:#212830}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Helvetica,Arial,sans-serif;overflow-wrap:anywhere}
main{max-width:64rem;margin:0 auto;padding:0 1rem 2rem}
h1{font-size:1.6rem;line-height:1.25;margin:.25rem 0 1rem}
h2{font-size:1.25rem;line-height:1.3;margin:0 0 .25rem}
h3{font-size:1rem;margin:0;font-weight:600}
code{font-family:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace;font-size:.875em;background:var(--code-bg);border-radius:4px;padding:.05em .3em}
a{color:var(--accent)}
.muted,.lead{color:var(--muted)}
.lead{margin:0 0 .75rem}
.visually-hidden{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
section{margin:2rem 0;padding-top:1rem;border-top:2px solid var(--line)}
.summary{padding:1.5rem 0 .5rem}
.kicker,.meta,.shard{margin:0;color:var(--muted)}
.shard{margin-bottom:.75rem;padding:.4rem .6rem;border-left:3px solid var(--accent);background:var(--panel)}
.tally{display:grid;grid-template-columns:repeat(auto-fit,minmax(6.5rem,1fr));gap:.5rem;margin:0 0 .75rem}
.tally div{border:1px solid var(--line);border-radius:8px;padding:.5rem .75rem;background:var(--panel)}
.tally dt{font-size:.85rem;color:var(--muted)}
.tally dd{margin:0;font-size:1.4rem;font-weight:600;font-variant-numeric:tabular-nums;white-space:nowrap}
.tally .of{font-size:.9rem;font-weight:400;color:var(--muted)}
.histogram{list-style:none;margin:0;padding:0;display:grid;grid-template-columns:repeat(10,minmax(0,1fr));gap:.4rem;align-items:start}
.bin{display:grid;grid-template-rows:auto 9rem auto;text-align:center;min-width:0}
.bin-count{font-weight:600;font-variant-numeric:tabular-nums}
.bin-column{display:flex;align-items:flex-end;border-bottom:1px solid var(--fg)}
.bin-bar{display:block;width:100%;background:var(--bar);border-radius:3px 3px 0 0}
.bin-range{font-size:.75rem;color:var(--muted);font-variant-numeric:tabular-nums;padding-top:.2rem}
.items{list-style:none;margin:0;padding:0;display:grid;gap:.5rem}
.item{border:1px solid var(--line);border-radius:8px;padding:.5rem .75rem;min-width:0}
.item-head{display:grid;grid-template-columns:minmax(0,1fr) auto;gap:.25rem 1rem;align-items:baseline}
.item-head h3{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem}
.rate{font-size:1.15rem;font-weight:700;font-variant-numeric:tabular-nums;white-space:nowrap}
.counts{margin:0 0 .3rem;font-size:.875rem;color:var(--muted);font-variant-numeric:tabular-nums}
.count-fail{color:var(--fail)}
.count-error{color:var(--error)}
.meter{height:.4rem;border-radius:999px;background:var(--fail-bg);overflow:hidden}
.meter span{display:block;height:100%;background:var(--pass)}
.messages{list-style:none;margin:.4rem 0 0;padding:0;font-size:.9rem}
.messages li{display:grid;grid-template-columns:2.5rem minmax(0,1fr);gap:.5rem;padding:.1rem 0}
.message-count{text-align:right;font-weight:600;font-variant-numeric:tabular-nums}
.all-passed{margin:.75rem 0 0;color:var(--muted)}
.item-passed{color:var(--pass);font-weight:600}
.badge{font-size:.8rem;font-weight:600;padding:.05rem .5rem;border-radius:999px;border:1px solid var(--accent);color:var(--accent)}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:.35rem .5rem;border-bottom:1px solid var(--line)}
thead th{font-size:.85rem;color:var(--muted);font-weight:600;border-bottom-width:2px}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.message{white-space:pre-line}
.sizes{list-style:none;margin:0;padding:0}
.size-row{padding:.6rem 0;border-bottom:1px solid var(--line)}
.size-head{margin:0 0 .35rem}
.over-note{color:var(--bound);font-weight:600}
.strip{position:relative;display:block;height:1rem;background:var(--panel);border:1px solid var(--line);border-radius:3px}
.range{position:absolute;top:0;bottom:0;max-width:100%;background:var(--bar);opacity:.55}
.median{position:absolute;top:-.25rem;bottom:-.25rem;width:3px;background:var(--fg)}
.bound{position:absolute;top:-.35rem;bottom:-.35rem;border-left:2px dashed var(--bound)}
.size-figures{display:flex;flex-wrap:wrap;gap:.25rem 1.5rem;margin:.4rem 0 0;font-size:.9rem}
.size-figures div{display:flex;gap:.4rem}
.size-figures dt{color:var(--muted)}
.size-figures dd{margin:0;font-variant-numeric:tabular-nums}
.duplicates{margin:0;padding-left:1.25rem}
.duplicates li{margin:.2rem 0}
.name{font-weight:600}
.table-wrap{overflow-x:auto}
.roster th[scope=row]{font-weight:400;min-width:9rem}
.cell-label{display:none}
.status{font-size:.8rem;font-weight:700;padding:.05rem .45rem;border-radius:4px;white-space:nowrap;text-transform:uppercase;letter-spacing:.03em}
.status-pass{color:var(--pass);background:var(--pass-bg)}
.status-fail{color:var(--fail);background:var(--fail-bg)}
.status-skipped{color:var(--skip);background:var(--skip-bg)}
.status-error,.status-timed-out{color:var(--error);background:var(--error-bg)}
@media (max-width:40rem){
h1{font-size:1.3rem}
.histogram{gap:.15rem}
.bin{grid-template-rows:auto 7rem auto}
.bin-range{font-size:.65rem}
.roster{font-size:.9rem}
.roster thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
.roster tr{display:grid;grid-template-columns:minmax(0,1fr) auto;gap:.15rem .75rem;padding:.5rem 0;border-bottom:1px solid var(--line)}
.roster th,.roster td{display:block;padding:0;border:0;min-width:0}
.roster .status-cell{grid-column:1}
.roster .num{grid-column:2;grid-row:1}
.roster .duplicate-cell,.roster .message{grid-column:1 / -1}
.roster .duplicate-cell:empty,.roster .message:empty{display:none}
.cell-label{display:inline}
}
@media print{
:root{color-scheme:light;--bg:#fff;--fg:#000;--muted:#444;--line:#bbb;--panel:#fff;--accent:#000;--bar:#555;--bound:#c00;
--pass:#116329;--pass-bg:#fff;--fail:#a40e26;--fail-bg:#eee;--skip:#444;--skip-bg:#fff;--error:#7d4e00;--error-bg:#fff;--code-bg:#fff}
body{font-size:10pt}
main{max-width:none;padding:0}
a{color:inherit;text-decoration:none}
.item,.size-row,.histogram,tr{break-inside:avoid}
h2{break-after:avoid}
.table-wrap{overflow:visible}
.bin-bar,.meter,.meter span,.range,.median,.bound{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
`;
