// The HTML report: one self-contained page (inline CSS, no script, no network) that a student
// opens from file:// on a laptop or a phone to see the score, what to fix and how big the images are.
import { formatDuration, formatSize } from '../runner/text/format.js';
import { stepTotals, type CheckResult, type CheckStatus, type ExerciseResult, type ImageResult, type LogKind, type StepResult } from '../runner/results.js';
import { plainText } from '../runner/text/plain.js';
import { attr, escapeHtml, htmlPage, oneLine, percent, prose, readableDate, text } from './html-text.js';

/** A line diff is quadratic; past this many line pairs the two texts are shown side by side instead. */
const MAX_DIFF_CELLS = 1_000_000;

const STATUS: Record<CheckStatus, { icon: string; word: string }> = {
  pass: { icon: '✔', word: 'Passed' },
  fail: { icon: '✖', word: 'Failed' },
  skip: { icon: '–', word: 'Skipped' },
  error: { icon: '!', word: 'Error' },
};

// Logs get a name that says what they hold, so a student knows which one to read.
const LOG_LABEL: Record<LogKind, string> = {
  build: 'Build log',
  compiler: 'Compiler output',
  program: 'Program output',
};

export function htmlReport(result: ExerciseResult): string {
  const title = `${result.score} / ${result.maxScore} · ${oneLine(result.title)} · grade`;
  const main = [scoreSection(result), sizeSection(result), ...result.steps.map(stepSection)].join('\n');
  return htmlPage(title, CSS, main, footer(result));
}

function scoreSection(result: ExerciseResult): string {
  const required = result.steps.flatMap((step) => step.checks).filter((check) => check.required);
  const open = required.filter((check) => check.status !== 'pass');
  const verdict = result.passed
    ? `<p class="verdict verdict-pass"><span aria-hidden="true">✔</span> Passed</p>
<p class="verdict-note">Every required check passed.</p>`
    : `<p class="verdict verdict-fail"><span aria-hidden="true">✖</span> Not passed yet</p>
<p class="verdict-note">${open.length} required check${open.length === 1 ? '' : 's'} not passed yet${countsByStatus(open)}.</p>`;
  const ratio = result.maxScore > 0 ? result.score / result.maxScore : 0;
  return `<header class="summary">
<p class="exercise">Exercise <code>${text(result.exercise)}</code></p>
<h1>${text(result.title)}</h1>
<div class="scorecard">
<p class="score-line"><strong class="score">${result.score} / ${result.maxScore}</strong> <span class="score-unit">points</span></p>
<div class="meter" aria-hidden="true"><span style="width:${percent(ratio)}"></span></div>
${verdict}
</div>
<p class="submission">Submission: <code>${text(result.submissionId)}</code></p>
</header>`;
}

/** " (4 failed, 6 skipped)": why the required checks are open, in a fixed order. */
function countsByStatus(checks: CheckResult[]): string {
  const parts = (['fail', 'error', 'skip'] as const)
    .map((status) => [status, checks.filter((check) => check.status === status).length] as const)
    .filter(([, count]) => count > 0)
    .map(([status, count]) => `${count} ${status === 'error' ? (count === 1 ? 'error' : 'errors') : STATUS[status].word.toLowerCase()}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

/** The student's images against the bounds their checks set; the grader's helper images are not theirs to weigh. */
function sizeSection(result: ExerciseResult): string {
  const heading = '<h2>Image sizes</h2>';
  const images = result.images.filter((image) => !image.helper);
  if (images.length === 0) {
    return `<section class="sizes">${heading}<p>None of your images was built, so there are no sizes to compare.</p></section>`;
  }
  const bounds = [...new Set(images.flatMap((image) => (image.maxBytes === undefined ? [] : [image.maxBytes])))].sort((a, b) => a - b);
  const scaleMax = Math.max(1, ...bounds, ...images.map((image) => image.sizeBytes));
  const caption =
    bounds.length > 0
      ? 'What each of your images weighs, on a linear scale. A dashed line marks the most an image may weigh.'
      : 'What each of your images weighs, on a linear scale.';
  const axis = bounds.length > 0 ? `${boundAxis(bounds, scaleMax)}\n` : '';
  return `<section class="sizes">
${heading}
<figure>
<figcaption>${caption}</figcaption>
<div class="chart">
${axis}<ul class="chart-rows">
${images.map((image) => sizeRow(image, scaleMax)).join('\n')}
</ul>
</div>
</figure>
</section>`;
}

/** A fraction of the track closer than which two bound labels would overlap. */
const LABEL_GAP = 0.15;

/** The bounds' labels above the chart; one that would overlap the label before it goes a line higher. */
function boundAxis(bounds: number[], scaleMax: number): string {
  const lineEnds: number[] = [];
  const labels = bounds.map((bound) => {
    const at = bound / scaleMax;
    let line = lineEnds.findIndex((end) => at - end >= LABEL_GAP);
    if (line === -1) line = lineEnds.push(at) - 1;
    else lineEnds[line] = at;
    // Near the right edge the label would run off the track, so it hangs left of the line instead.
    const position = at > 0.5 ? `right:${percent(1 - at)}` : `left:${percent(at)}`;
    return `<span class="bound-label" style="${position};bottom:${line * 1.3}rem">${formatSize(bound)}</span>`;
  });
  return `<div class="chart-axis" aria-hidden="true" style="height:${lineEnds.length * 1.3 + 0.1}rem"><span class="track">${labels.join('')}</span></div>`;
}

function sizeRow(image: ImageResult, scaleMax: number): string {
  const over = image.maxBytes !== undefined && image.sizeBytes > image.maxBytes;
  const bound = image.maxBytes === undefined ? '' : `<span class="bound" style="left:${percent(image.maxBytes / scaleMax)}"></span>`;
  return `<li class="chart-row" data-image="${attr(image.name)}">
<span class="image-name">${text(image.name)}</span>
<span class="track" aria-hidden="true"><span class="bar${over ? ' bar-over' : ''}" style="width:${percent(image.sizeBytes / scaleMax)}"></span>${bound}</span>
<span class="image-bytes">${formatSize(image.sizeBytes)}</span>
</li>`;
}

function stepSection(step: StepResult): string {
  const { points: earned, maxPoints: possible } = stepTotals(step);
  const passed = step.checks.filter((check) => check.status === 'pass').length;
  const bonus = step.required ? '' : ' <span class="badge">Bonus</span>';
  return `<section class="step" data-step="${attr(step.id)}">
<div class="step-head">
<h2>${text(step.title)}${bonus}</h2>
<p class="step-points"><span class="points">${earned} / ${possible}</span> points · ${passed} of ${step.checks.length} checks passed${step.required ? '' : ' · adds points, never fails the exercise'}</p>
</div>
<ol class="checks">
${step.checks.map((check) => checkItem(step, check)).join('\n')}
</ol>
</section>`;
}

function checkItem(step: StepResult, check: CheckResult): string {
  const status = STATUS[check.status];
  const parts = [
    `<div class="check-head">
<span class="status status-${check.status}"><span aria-hidden="true">${status.icon}</span> ${status.word}</span>
<h3>${text(check.title)}</h3>
<span class="points">${check.points} / ${check.maxPoints} pt${check.maxPoints === 1 ? '' : 's'}</span>
</div>`,
  ];
  if (check.message) parts.push(`<p class="message">${prose(check.message)}</p>`);
  if (check.hint && check.status !== 'pass') parts.push(`<p class="hint"><strong>Hint:</strong> ${prose(check.hint)}</p>`);
  if (check.expected !== undefined || check.actual !== undefined) parts.push(comparison(check.expected, check.actual));
  if (check.log) {
    const log = plainText(check.log).replace(/\n$/, '');
    const lines = log.split('\n').length;
    // The output that explains a failure is what the student came for: shown open. A passed check's
    // log (a compiler's warnings it allowed) stays folded.
    parts.push(`<details class="log"${check.status === 'pass' ? '' : ' open'}>
<summary>${(check.logKind && LOG_LABEL[check.logKind]) ?? 'Log'} <span class="muted">(${lines} line${lines === 1 ? '' : 's'})</span></summary>
<pre>${escapeHtml(log)}</pre>
</details>`);
  }
  return `<li class="check check-${check.status}" data-check="${attr(`${step.id}/${check.id}`)}">
${parts.join('\n')}
</li>`;
}

/** Expected against actual: side by side for one-liners, a line diff for multi-line output. */
function comparison(expected: string | undefined, actual: string | undefined): string {
  const multiLine = (expected ?? '').includes('\n') || (actual ?? '').includes('\n');
  if (!multiLine || expected === undefined || actual === undefined) {
    const row = (label: string, value: string | undefined) =>
      value === undefined ? '' : `<dt>${label}</dt><dd>${multiLine ? `<pre>${text(value)}</pre>` : `<code>${text(value)}</code>`}</dd>`;
    return `<dl class="facts">${row('Expected', expected)}${row('Actual', actual)}</dl>`;
  }
  // A final newline on both sides is the usual end of output, not a line worth showing.
  const [shownExpected, shownActual] = [plainText(expected), plainText(actual)];
  const bothEnd = shownExpected.endsWith('\n') && shownActual.endsWith('\n');
  const lines = (value: string) => (bothEnd ? value.slice(0, -1) : value).split('\n');
  const diff = lineDiff(lines(shownExpected), lines(shownActual));
  if (diff === undefined) {
    return `<dl class="facts"><dt>Expected</dt><dd><pre>${text(expected)}</pre></dd><dt>Actual</dt><dd><pre>${text(actual)}</pre></dd></dl>`;
  }
  const rendered = diff.map(({ op, line }) => {
    const body = markTrailingSpace(line, op !== 'same');
    if (op === 'expected') return `<del class="diff-line"><span class="diff-mark">−</span>${body}</del>`;
    if (op === 'actual') return `<ins class="diff-line"><span class="diff-mark">+</span>${body}</ins>`;
    return `<span class="diff-line"><span class="diff-mark"> </span>${body}</span>`;
  });
  const note =
    expected !== actual && diff.every(({ op }) => op === 'same')
      ? '<p class="muted">The lines match; the texts differ only in line endings or control characters.</p>'
      : '';
  return `<div class="diff">
<p class="diff-legend"><span class="legend-expected">− only in expected</span> <span class="legend-actual">+ only in actual</span></p>
<pre>${rendered.join('')}</pre>
${note}
</div>`;
}

interface DiffLine {
  op: 'same' | 'expected' | 'actual';
  line: string;
}

/** The longest-common-subsequence line diff, expected lines before actual ones at each change. */
function lineDiff(expected: string[], actual: string[]): DiffLine[] | undefined {
  const n = expected.length;
  const m = actual.length;
  if (n * m > MAX_DIFF_CELLS) return undefined;
  // common[i][j]: length of the LCS of expected[i..] and actual[j..], filled from the end.
  const common = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    const row = common[i]!;
    const below = common[i + 1]!;
    for (let j = m - 1; j >= 0; j--) {
      row[j] = expected[i] === actual[j] ? below[j + 1]! + 1 : Math.max(below[j]!, row[j + 1]!);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (expected[i] === actual[j]) {
      out.push({ op: 'same', line: expected[i]! });
      i++;
      j++;
    } else if (common[i + 1]![j]! >= common[i]![j + 1]!) {
      out.push({ op: 'expected', line: expected[i++]! });
    } else {
      out.push({ op: 'actual', line: actual[j++]! });
    }
  }
  while (i < n) out.push({ op: 'expected', line: expected[i++]! });
  while (j < m) out.push({ op: 'actual', line: actual[j++]! });
  return out;
}

/** Trailing blanks are invisible, yet they are often the whole difference; tint them on changed lines. */
function markTrailingSpace(line: string, changed: boolean): string {
  const match = changed ? /[ \t]+$/.exec(line) : null;
  if (!match) return `${escapeHtml(line)}\n`;
  return `${escapeHtml(line.slice(0, match.index))}<span class="trailing-space" title="trailing whitespace">${escapeHtml(match[0])}</span>\n`;
}

function footer(result: ExerciseResult): string {
  const engine = result.engine
    ? `Docker ${text(result.engine.version)} <span class="muted">(API ${text(result.engine.apiVersion)}, ${text(result.engine.os)}/${text(result.engine.arch)})</span>`
    : 'unknown';
  return `<footer>
<dl>
<div><dt>Run</dt><dd><code>${text(result.runId)}</code></dd></div>
<div><dt>Grader</dt><dd>${text(result.grader.name)} ${text(result.grader.version)}</dd></div>
<div><dt>Engine</dt><dd>${engine}</dd></div>
<div><dt>Started</dt><dd><time datetime="${attr(result.startedAt)}">${text(readableDate(result.startedAt))}</time></dd></div>
<div><dt>Duration</dt><dd>${formatDuration(result.durationMs)}</dd></div>
</dl>
</footer>`;
}

const CSS = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--panel:#f6f8fa;--accent:#0969da;--bar:#0969da;--bound:#cf222e;
--pass:#116329;--pass-bg:#dafbe1;--fail:#a40e26;--fail-bg:#ffebe9;--skip:#59636e;--skip-bg:#eff2f5;--error:#7d4e00;--error-bg:#fff8c5;--code-bg:#eff2f5}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--panel:#151b23;--accent:#4493f8;--bar:#4493f8;--bound:#ff7b72;
--pass:#56d364;--pass-bg:#12261e;--fail:#ff8182;--fail-bg:#2d1214;--skip:#9198a1;--skip-bg:#212830;--error:#e3b341;--error-bg:#2b2111;--code-bg:#212830}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Helvetica,Arial,sans-serif;overflow-wrap:anywhere}
main,footer{max-width:56rem;margin:0 auto;padding:0 1rem}
h1{font-size:1.5rem;line-height:1.25;margin:.25rem 0 1rem}
h2{font-size:1.2rem;line-height:1.3;margin:0}
h3{font-size:1rem;margin:0;font-weight:600}
code,pre{font-family:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace;font-size:.875em}
code{background:var(--code-bg);border-radius:4px;padding:.05em .3em}
pre{margin:0;padding:.75rem;background:var(--panel);border:1px solid var(--line);border-radius:6px;overflow-x:auto;white-space:pre;overflow-wrap:normal;line-height:1.4}
.muted{color:var(--muted)}
.summary{padding:1.5rem 0 .5rem}
.exercise,.submission{margin:0;color:var(--muted)}
.scorecard{border:1px solid var(--line);border-radius:10px;padding:1rem 1.25rem;background:var(--panel);margin-bottom:.75rem}
.score-line{margin:0}
.score{font-size:clamp(2.5rem,10vw,3.5rem);line-height:1.1;font-variant-numeric:tabular-nums}
.score-unit{font-size:1.1rem;color:var(--muted)}
.meter{height:.5rem;border-radius:999px;background:var(--line);margin:.75rem 0;overflow:hidden}
.meter span{display:block;height:100%;background:var(--accent)}
.verdict{display:inline-block;margin:0;padding:.2rem .7rem;border-radius:999px;font-weight:700;font-size:1.1rem}
.verdict-pass{color:var(--pass);background:var(--pass-bg)}
.verdict-fail{color:var(--fail);background:var(--fail-bg)}
.verdict-note{margin:.4rem 0 0}
section{margin:1.5rem 0}
.sizes figure{margin:.5rem 0 0}
.sizes figcaption{color:var(--muted);margin-bottom:.75rem}
.chart-rows{list-style:none;margin:0;padding:0}
.chart-row,.chart-axis{display:grid;grid-template-columns:minmax(5rem,11rem) minmax(0,1fr) 4.5rem;gap:.25rem .75rem;align-items:center}
.chart-axis{height:1.4rem}
.chart-axis .track{grid-column:2;height:100%}
.chart-row{padding:.3rem 0;border-top:1px solid var(--line)}
.image-name{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9rem;min-width:0}
.image-bytes{text-align:right;font-variant-numeric:tabular-nums}
.track{position:relative;display:block;height:1.25rem;min-width:0}
.bar{position:absolute;left:0;top:0;bottom:0;min-width:3px;background:var(--bar);border-radius:0 3px 3px 0}
.bar-over{background:var(--bound)}
.bound{position:absolute;top:-.3rem;bottom:-.3rem;border-left:2px dashed var(--bound)}
.bound-label{position:absolute;bottom:0;padding:0 .3rem;font-size:.8rem;font-weight:600;color:var(--bound);white-space:nowrap}
.step{border-top:2px solid var(--line);padding-top:1rem}
.step-head h2{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem}
.step-points{margin:.25rem 0 .75rem;color:var(--muted)}
.step-points .points{color:var(--fg);font-weight:600}
.badge{font-size:.8rem;font-weight:600;padding:.1rem .5rem;border-radius:999px;border:1px solid var(--accent);color:var(--accent)}
.checks{list-style:none;margin:0;padding:0;display:grid;gap:.6rem}
.check{border:1px solid var(--line);border-left-width:4px;border-radius:6px;padding:.6rem .8rem;min-width:0}
.check-pass{border-left-color:var(--pass)}
.check-fail{border-left-color:var(--fail)}
.check-skip{border-left-color:var(--skip)}
.check-error{border-left-color:var(--error)}
.check-head{display:grid;grid-template-columns:auto minmax(0,1fr) auto;gap:.25rem .6rem;align-items:baseline}
.check-head .points{white-space:nowrap;color:var(--muted);font-variant-numeric:tabular-nums}
.status{font-size:.8rem;font-weight:700;padding:.05rem .45rem;border-radius:4px;white-space:nowrap;text-transform:uppercase;letter-spacing:.03em}
.status-pass{color:var(--pass);background:var(--pass-bg)}
.status-fail{color:var(--fail);background:var(--fail-bg)}
.status-skip{color:var(--skip);background:var(--skip-bg)}
.status-error{color:var(--error);background:var(--error-bg)}
.message{margin:.35rem 0 0}
.check-pass .message,.check-skip .message{color:var(--muted)}
.hint{margin:.4rem 0 0;padding:.4rem .6rem;border-radius:4px;background:var(--panel);border-left:3px solid var(--accent)}
.facts{display:grid;grid-template-columns:auto minmax(0,1fr);gap:.2rem .75rem;margin:.5rem 0 0}
.facts dt{color:var(--muted)}
.facts dd{margin:0;min-width:0}
.diff{margin-top:.5rem;min-width:0}
.diff-legend{margin:0 0 .25rem;font-size:.875rem;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
.legend-expected{color:var(--fail)}
.legend-actual{color:var(--pass)}
.diff pre{display:grid;grid-template-columns:minmax(100%,max-content)}
.diff-line{display:block;text-decoration:none}
del.diff-line{background:var(--fail-bg);color:var(--fail)}
ins.diff-line{background:var(--pass-bg);color:var(--pass)}
.diff-mark{display:inline-block;width:1.5ch;user-select:none}
.trailing-space{background:var(--bound);opacity:.5}
.log{margin-top:.5rem}
.log summary{cursor:pointer;color:var(--accent);font-weight:600}
.log pre{margin-top:.4rem}
footer{margin-top:2rem;padding-bottom:2rem;color:var(--muted);font-size:.875rem}
footer dl{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;margin:0;padding-top:1rem;border-top:1px solid var(--line)}
footer dt{font-weight:600}
footer dd{margin:0}
@media (max-width:30rem){
h1{font-size:1.3rem}
.chart-row{grid-template-columns:minmax(0,1fr) 4.5rem;grid-template-areas:"name name" "track size"}
.chart-row .image-name{grid-area:name}
.chart-row .track{grid-area:track}
.chart-row .image-bytes{grid-area:size}
.chart-axis{grid-template-columns:minmax(0,1fr) 4.5rem}
.chart-axis .track{grid-column:1}
.check-head{grid-template-columns:auto minmax(0,1fr)}
.check-head h3{grid-column:1 / -1;grid-row:2}
.check-head .points{grid-column:2;grid-row:1;text-align:right}
}
`;
