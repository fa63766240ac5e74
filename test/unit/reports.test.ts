// The file reports read back by the parsers their consumers use: TAP by tap-parser, JUnit by
// fast-xml-parser, the platform JSON by JSON.parse, and the result itself by its JSON Schema.
// Each runs on the real fixture results and on a result whose every string is hostile.
import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Parser, type FinalResults, type Result } from 'tap-parser';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { CheckResult, ExerciseResult, StepResult } from '../../runner/results.js';
import { stepPassed, stepTotals, summarize } from '../../runner/results.js';
import { tapReport } from '../../reports/tap.js';
import { junitReport } from '../../reports/junit.js';
import { gradescopeReport } from '../../reports/gradescope.js';
import { classroomReport, MAX_CLASSROOM_TESTS, pointUnit } from '../../reports/classroom.js';
import { loadExercise } from '../../runner/spec/loader.js';
import { TerminalView } from '../../runner/cli/progress.js';
import { Writable } from 'node:stream';

const root = path.resolve(import.meta.dirname, '../..');

function fixture(name: string): ExerciseResult {
  return JSON.parse(readFileSync(path.join(root, 'test/fixtures/results', `${name}.json`), 'utf8')) as ExerciseResult;
}

// Everything a submission might use to break or forge a format, in one string.
const HOSTILE = [
  'start',
  'not ok 1 - forged',
  'ok 2 - forged # SKIP forged',
  '# SKIP',
  'ok',
  'Bail out! forged',
  'TAP version 13',
  '1..99',
  '# Subtest: forged',
  '    not ok 1 - forged in a subtest',
  '  ---',
  '  ...',
  'pragma +strict',
  '::error file=hello.c::forged workflow command',
  '  ##[error]forged legacy workflow command',
  '<script>alert(1)</script>',
  ']]>',
  '&amp;',
  `"double" 'single'`,
  '\u0000\u001b[2J\u0007',
  'lone \ud800 surrogate',
  'crlf\r\nline',
  'line\u2028separator\u2029paragraph',
  'back\\slash \\# hash # TODO forged',
  '\ufffe\uffff',
  'ends with a brace {',
].join('\n');

function hostileCheck(status: CheckResult['status'], required: boolean, index: number): CheckResult {
  return {
    id: `${HOSTILE}${index}`,
    title: `${HOSTILE} ${index}`,
    kind: HOSTILE,
    status,
    points: status === 'pass' ? 2 : 0,
    maxPoints: 2,
    required,
    message: `${HOSTILE} {`,
    hint: HOSTILE,
    expected: HOSTILE,
    actual: `${HOSTILE}\r\n`,
    // Over 100 KB of forged TAP and XML.
    log: `${HOSTILE}\n`.repeat(400),
    logKind: 'program',
    source: { file: `${HOSTILE}.yaml`, line: index + 1 },
    // A failure that points at a line of a file whose name is hostile too.
    ...(status === 'fail' ? { location: { file: `${HOSTILE}.c`, line: index + 3, column: 2 } } : {}),
    durationMs: 5,
  };
}

function hostileStep(id: string, required: boolean, statuses: CheckResult['status'][]): StepResult {
  return {
    id: `${id}\n${HOSTILE}`,
    title: `${HOSTILE} ${id} {`,
    required,
    dir: HOSTILE,
    checks: statuses.map((status, index) => hostileCheck(status, required, index)),
    durationMs: 12,
  };
}

function hostileResult(): ExerciseResult {
  const steps = [
    hostileStep('required', true, ['pass', 'fail', 'skip', 'error']),
    hostileStep('bonus', false, ['pass', 'fail', 'skip']),
    hostileStep('bonus-error', false, ['error']),
    hostileStep('empty', true, []),
  ];
  return {
    schemaVersion: 1,
    exercise: HOSTILE,
    exerciseFolder: HOSTILE,
    title: HOSTILE,
    ...summarize(steps),
    steps,
    images: [
      { name: HOSTILE, step: HOSTILE, sizeBytes: 1, maxBytes: 1, helper: false },
      { name: HOSTILE, step: HOSTILE, sizeBytes: 2, helper: true },
    ],
    submission: HOSTILE,
    submissionId: HOSTILE,
    runId: HOSTILE,
    grader: { name: 'grade', version: HOSTILE },
    engine: { version: HOSTILE, apiVersion: HOSTILE, os: HOSTILE, arch: HOSTILE },
    startedAt: '2026-11-26T15:44:17.102Z',
    durationMs: 40,
  };
}

const results: [string, ExerciseResult][] = [
  ['solution', fixture('solution')],
  ['compile-error', fixture('compile-error')],
  ['scratch-dynamic', fixture('scratch-dynamic')],
  ['hostile', hostileResult()],
];

const allChecks = (result: ExerciseResult) => result.steps.flatMap((step) => step.checks);
const countOf = (checks: CheckResult[], status: CheckResult['status']) => checks.filter((check) => check.status === status).length;
const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

t.test('the fixture results cover every status, bonus failures and logs', async (t) => {
  const checks = results.flatMap(([, result]) => allChecks(result));
  for (const status of ['pass', 'fail', 'skip', 'error'] as const) t.ok(countOf(checks, status) > 0, `some check has status ${status}`);
  t.ok(
    checks.some((check) => !check.required && check.status === 'fail'),
    'a bonus check fails',
  );
  t.ok(
    checks.some((check) => check.log !== undefined && check.status === 'fail'),
    'a failure carries a log',
  );
  const hostile = hostileResult();
  t.ok(Buffer.byteLength(allChecks(hostile)[0]!.log!) > 100_000, 'a hostile log is over 100 KB');
});

// ---------------------------------------------------------------------------------------------
// TAP

interface TapStream {
  asserts: Result[];
  comments: string[];
  extra: string[];
  children: TapStream[];
  final: FinalResults | null;
  parser: Parser;
}

function observe(parser: Parser): TapStream {
  const stream: TapStream = { asserts: [], comments: [], extra: [], children: [], final: null, parser };
  parser.on('assert', (result: Result) => stream.asserts.push(result));
  parser.on('comment', (comment: string) => stream.comments.push(comment));
  parser.on('extra', (extra: string) => stream.extra.push(extra));
  parser.on('child', (child: Parser) => stream.children.push(observe(child)));
  parser.on('complete', (final: FinalResults) => (stream.final = final));
  return stream;
}

function parseTap(tap: string): TapStream {
  // Strict: any line that is not TAP is a parse error rather than noise.
  const parser = new Parser({ strict: true });
  const stream = observe(parser);
  parser.end(tap);
  return stream;
}

/** How a check should read back: its status as TAP's ok / skip / todo. */
function expectedPoint(check: CheckResult) {
  return {
    ok: check.status === 'pass' || check.status === 'skip',
    skip: check.status === 'skip',
    // A bonus failure is expected to be possible: TODO, so it does not fail the stream.
    todo: check.status === 'fail' && !check.required,
  };
}

/** A step's test point is ok exactly when the step passed: every check passed, bonus or not. */
function expectedStepOk(step: StepResult): boolean {
  return step.checks.every((check) => check.status === 'pass');
}

/** A bonus step that did not pass is TODO, so it cannot fail the stream, unless it holds an error. */
function expectedStepTodo(step: StepResult): boolean {
  return !step.required && !expectedStepOk(step) && step.checks.every((check) => check.status !== 'error');
}

/** What TAP makes of the subtest's own points: skips are ok, bonus failures TODO, errors not ok. */
function expectedSubtestOk(step: StepResult): boolean {
  return step.checks.every((check) => check.status !== 'error' && !(check.status === 'fail' && check.required));
}

function parseErrors(stream: TapStream): unknown[] {
  const own = stream.final?.failures.filter((failure) => failure.tapError) ?? [];
  return [...own, ...stream.children.flatMap(parseErrors)];
}

const YAML_KEYS = /^(id|kind|status|message|expected|actual|hint|log|points|maxPoints|durationMs|required):/;
const TAP_LINE =
  /^(TAP version 14|1\.\.\d+(?: # no (?:steps|checks))?|# Subtest: .*|# score: [\d.]+\/[\d.]+|# bonus: these checks add points but never fail the run|(?:not )?ok \d+ - .*)$/;

/**
 * Walks the stream as a TAP reader would and returns every line that starts with anything but a
 * fixed TAP prefix or, inside a YAML block, a fixed key or deeper indentation.
 */
function linesNotOurs(tap: string): string[] {
  const strays: string[] = [];
  let yamlIndent: string | null = null;
  for (const line of tap.replace(/\n$/, '').split('\n')) {
    if (yamlIndent !== null) {
      if (line === `${yamlIndent}...`) yamlIndent = null;
      else if (line !== '' && !(line.startsWith(`${yamlIndent}  `) || YAML_KEYS.test(line.slice(yamlIndent.length)))) strays.push(line);
      continue;
    }
    const [, nesting = '', body = ''] = /^((?: {4})*)(.*)$/.exec(line) ?? [];
    if (body === '  ---') yamlIndent = `${nesting}  `;
    else if (!TAP_LINE.test(body)) strays.push(line);
  }
  return strays;
}

for (const [name, result] of results) {
  t.test(`TAP for ${name}`, async (t) => {
    const tap = tapReport(result);
    t.equal(tapReport(result), tap, 'the same result writes the same stream');
    t.match(tap, /^TAP version 14\n/, 'starts with the version line');
    t.same(linesNotOurs(tap), [], 'no line starts with text from the result');

    const stream = parseTap(tap);
    t.ok(stream.final, 'the parser completed');
    t.same(parseErrors(stream), [], 'no parse errors at any level');
    t.same(stream.extra, [], 'no non-TAP lines');
    t.equal(stream.final?.bailout, false, 'no bail out');
    t.same(stream.comments, [`# score: ${result.score}/${result.maxScore}\n`], 'the only top-level comment is the score');
    t.same(
      stream.final?.plan,
      { start: 1, end: result.steps.length, skipAll: result.steps.length === 0, skipReason: '', comment: '' },
      'one planned test point per step',
    );

    t.equal(stream.asserts.length, result.steps.length, 'one top-level test point per step');
    t.equal(stream.children.length, result.steps.length, 'one subtest per step');
    t.equal(stream.final?.pass, result.steps.filter(expectedStepOk).length, 'top-level ok count');
    t.equal(stream.final?.fail, result.steps.filter((step) => !expectedStepOk(step)).length, 'top-level not ok count, TODO included');
    t.equal(stream.final?.todo, result.steps.filter(expectedStepTodo).length, 'a bonus step that did not pass is TODO');
    t.equal(
      stream.final?.ok,
      result.steps.every((step) => expectedStepOk(step) || expectedStepTodo(step)),
      'the stream passes when every step is ok or a bonus TODO',
    );

    result.steps.forEach((step, stepIndex) => {
      const point = stream.asserts[stepIndex]!;
      const child = stream.children[stepIndex]!;
      t.equal(point.id, stepIndex + 1, `step ${stepIndex + 1} is test point ${stepIndex + 1}`);
      t.equal(point.ok, expectedStepOk(step), `step ${stepIndex + 1} ok`);
      t.equal(point.name, child.parser.name, `step ${stepIndex + 1}: the test point closes the subtest of the same name`);
      t.notOk(point.skip, `step ${stepIndex + 1} is never skipped`);
      t.equal(Boolean(point.todo), expectedStepTodo(step), `step ${stepIndex + 1}: TODO exactly for a bonus step that did not pass`);
      t.equal(point.diag?.points, sum(step.checks.map((check) => check.points)), `step ${stepIndex + 1} points in its YAML`);
      t.equal(point.diag?.required, step.required, `step ${stepIndex + 1} says whether it is required`);
      t.equal(
        child.comments.some((comment) => /^# bonus/.test(comment.trim())),
        !step.required,
        `step ${stepIndex + 1} says # bonus only when it is one`,
      );
      t.equal(child.final?.ok, expectedSubtestOk(step), `step ${stepIndex + 1}: the subtest's own points`);

      t.equal(child.asserts.length, step.checks.length, `step ${stepIndex + 1}: one test point per check`);
      t.equal(child.final?.plan.end, step.checks.length, `step ${stepIndex + 1}: planned`);
      t.equal(child.final?.skip, countOf(step.checks, 'skip'), `step ${stepIndex + 1}: skip count`);
      t.equal(child.final?.todo, step.checks.filter((check) => expectedPoint(check).todo).length, `step ${stepIndex + 1}: todo count`);
      t.equal(child.final?.fail, countOf(step.checks, 'fail') + countOf(step.checks, 'error'), `step ${stepIndex + 1}: not ok count`);
      t.equal(child.children.length, 0, `step ${stepIndex + 1}: no forged subtest`);
      t.same(child.extra, [], `step ${stepIndex + 1}: no non-TAP lines`);

      step.checks.forEach((check, checkIndex) => {
        const assert = child.asserts[checkIndex]!;
        const at = `step ${stepIndex + 1} check ${checkIndex + 1} (${check.status})`;
        const expected = expectedPoint(check);
        t.equal(assert.id, checkIndex + 1, `${at}: numbered in order`);
        t.equal(assert.ok, expected.ok, `${at}: ok`);
        t.equal(Boolean(assert.skip), expected.skip, `${at}: skip`);
        t.equal(Boolean(assert.todo), expected.todo, `${at}: todo`);
        t.ok(assert.name.endsWith(`(${check.points}/${check.maxPoints})`), `${at}: the description ends with the points`);
        t.equal(assert.diag?.status, check.status, `${at}: status in the YAML`);
        t.equal(assert.diag?.points, check.points, `${at}: points in the YAML`);
        t.equal(assert.diag?.maxPoints, check.maxPoints, `${at}: maxPoints in the YAML`);
        t.equal(assert.diag?.durationMs, check.durationMs, `${at}: durationMs in the YAML`);
        if (name !== 'hostile') {
          // Plain text survives exactly: names, skip reasons, messages and logs.
          t.equal(assert.name, `${check.title} (${check.points}/${check.maxPoints})`, `${at}: description`);
          t.equal(assert.diag?.message, check.message, `${at}: message`);
          t.equal(assert.diag?.log, check.log, `${at}: log`);
          t.equal(assert.diag?.expected, check.expected, `${at}: expected`);
          t.equal(assert.diag?.hint, check.hint, `${at}: hint`);
          if (check.status === 'skip') t.equal(assert.skip, check.message.replace(/^skipped: /, ''), `${at}: the skip reason is the message`);
        }
      });
    });
  });
}

t.test('TAP keeps hostile text as inert text', async (t) => {
  const result = hostileResult();
  const tap = tapReport(result);
  const stream = parseTap(tap);
  const child = stream.children[0]!;
  const failed = child.asserts[1]!;
  const skipped = child.asserts[2]!;

  t.notMatch(tap, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/, 'no control character or Unicode line break in the stream');
  t.notMatch(tap, /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/, 'no lone surrogate');
  t.match(failed.name, /^start not ok 1 - forged ok 2 - forged # SKIP forged # SKIP ok Bail out! forged/, 'a title is one line, its # kept as text');
  t.match(failed.name, /back\\slash \\# hash # TODO forged/, 'backslashes and hashes read back as written');
  t.notOk(failed.todo, 'a # TODO in a required check title is not a directive');
  t.match(skipped.skip, /^start not ok 1 - forged/, 'a skip reason is the message, on one line');
  t.notMatch(String(skipped.skip), /\{$/, 'a skip reason cannot end in { and open a buffered subtest');

  const log = String(failed.diag?.log);
  t.ok(log.length > 100_000, 'the whole log is in the YAML block');
  t.equal(log.split('not ok 1 - forged\n').length - 1, 400, 'every forged line is in the log, as text');
  t.match(log, /crlf\nline/, 'CRLF becomes a newline');
  t.match(log, /line\nseparator\nparagraph/, 'U+2028 and U+2029 become newlines');
  t.notMatch(log, /\u001b|\u0000|\u0007/, 'escape sequences and controls are gone');
  t.match(String(failed.diag?.message), /<script>alert\(1\)<\/script>\n\]\]>\n&amp;\n"double" 'single'/, 'markup and quotes are text');
  t.match(String(failed.diag?.actual), /\n$/, 'a trailing newline survives as a kept block scalar');

  const bonus = stream.children[1]!;
  t.equal(bonus.asserts[1]?.todo, 'bonus', 'a failing bonus check is TODO bonus');
  t.equal(stream.asserts[1]?.ok, false, 'a bonus step with a failure is not ok, as the terminal says');
  t.equal(stream.asserts[1]?.todo, 'bonus', 'and TODO bonus, so it does not fail the stream');
  t.equal(stream.asserts[2]?.ok, false, 'a bonus step with an error is not ok');
  t.notOk(stream.asserts[2]?.todo, 'and not TODO: the grader could not judge it');
  t.same(stream.children[3]?.final?.plan, { start: 1, end: 0, skipAll: true, skipReason: 'no checks', comment: 'no checks' }, 'an empty step plans 1..0');
});

t.test('TAP names a step the same in its subtest and its test point', async (t) => {
  const result = fixture('solution');
  const step = result.steps[0]!;
  const tricky = { ...result, steps: [{ ...step, title: ' a # b \\ c {  ' }] };
  const stream = parseTap(tapReport(tricky));
  t.equal(stream.asserts[0]?.name, 'a # b \\ c', 'test point name, unescaped and without the trailing brace');
  t.equal(stream.children[0]?.parser.name, 'a # b \\ c', 'subtest name');
});

// ---------------------------------------------------------------------------------------------
// JUnit

type XmlNode = Record<string, unknown>;

function parseJunit(xml: string): XmlNode {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseAttributeValue: false,
    parseTagValue: false,
    trimValues: false,
    isArray: (tag) => ['testsuite', 'testcase', 'property'].includes(tag),
    // The hostile log holds thousands of escaped characters; the defaults guard against entity
    // bombs, which a report with no DOCTYPE cannot contain.
    processEntities: { enabled: true, maxTotalExpansions: Infinity, maxExpandedLength: Infinity },
    htmlEntities: true,
  });
  return parser.parse(xml) as XmlNode;
}

const attr = (node: XmlNode, name: string) => node[`@_${name}`];
const children = (node: XmlNode, tag: string) => (node[tag] ?? []) as XmlNode[];
// Indentation between elements is text to the parser; anything else there would be a leak.
const looseText = (node: XmlNode) => String(node['#text'] ?? '').trim();

for (const [name, result] of results) {
  t.test(`JUnit for ${name}`, async (t) => {
    const xml = junitReport(result);
    t.equal(junitReport(result), xml, 'the same result writes the same document');
    t.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites /, 'declaration, then testsuites');
    t.equal(XMLValidator.validate(xml), true, 'well-formed');
    t.notMatch(xml, /[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u, 'no character XML 1.0 forbids');
    t.notMatch(xml, /<!\[CDATA\[|<script>/, 'no CDATA section and no raw markup from the result');
    // Attribute-value normalization turns a raw line break or tab into a space; references survive.
    t.notMatch(xml, /<[^>]*[\n\t][^>]*>/, 'no raw line break or tab inside a tag');

    const document = parseJunit(xml);
    t.same(
      Object.keys(document).filter((key) => key !== '?xml'),
      ['testsuites'],
      'one root element, nothing beside it',
    );
    const suites = document.testsuites as XmlNode;
    const checks = allChecks(result);
    t.equal(attr(suites, 'tests'), String(checks.length), 'tests');
    t.equal(attr(suites, 'failures'), String(countOf(checks, 'fail')), 'failures');
    t.equal(attr(suites, 'errors'), String(countOf(checks, 'error')), 'errors');
    t.equal(attr(suites, 'skipped'), String(countOf(checks, 'skip')), 'skipped');
    t.equal(attr(suites, 'time'), (result.durationMs / 1000).toFixed(3), 'time in seconds');
    t.equal(looseText(suites), '', 'no text between suites');

    const suiteNodes = children(suites, 'testsuite');
    t.equal(suiteNodes.length, result.steps.length, 'one testsuite per step');
    result.steps.forEach((step, stepIndex) => {
      const suite = suiteNodes[stepIndex]!;
      const at = `step ${stepIndex + 1}`;
      t.equal(attr(suite, 'tests'), String(step.checks.length), `${at}: tests`);
      t.equal(attr(suite, 'failures'), String(countOf(step.checks, 'fail')), `${at}: failures`);
      t.equal(attr(suite, 'errors'), String(countOf(step.checks, 'error')), `${at}: errors`);
      t.equal(attr(suite, 'skipped'), String(countOf(step.checks, 'skip')), `${at}: skipped`);
      t.equal(attr(suite, 'time'), (step.durationMs / 1000).toFixed(3), `${at}: time`);
      t.equal(looseText(suite), '', `${at}: no text between testcases`);
      const properties = children(suite.properties as XmlNode, 'property');
      t.same(
        properties.map((property) => [attr(property, 'name'), attr(property, 'value')]),
        [
          ['required', String(step.required)],
          ['passed', String(stepPassed(step))],
          ['points', String(sum(step.checks.map((check) => check.points)))],
          ['maxPoints', String(sum(step.checks.map((check) => check.maxPoints)))],
        ],
        `${at}: properties`,
      );

      const cases = children(suite, 'testcase');
      t.equal(cases.length, step.checks.length, `${at}: one testcase per check`);
      step.checks.forEach((check, checkIndex) => {
        const testcase = cases[checkIndex]!;
        const where = `${at} check ${checkIndex + 1} (${check.status})`;
        const outcome = ['failure', 'error', 'skipped'].filter((tag) => tag in testcase);
        const wanted = { pass: [], fail: ['failure'], error: ['error'], skip: ['skipped'] }[check.status];
        t.same(outcome, wanted, `${where}: the child says the status`);
        t.equal(looseText(testcase), '', `${where}: nothing loose in the testcase`);
        t.equal(attr(testcase, 'time'), (check.durationMs / 1000).toFixed(3), `${where}: time`);
        t.equal(attr(testcase, 'line'), String(check.location?.line ?? check.source.line), `${where}: line, in the student's file or else the spec`);
        const detail = (testcase.failure ?? testcase.error) as XmlNode | undefined;
        if (name === 'hostile') return;
        if (detail) t.equal(attr(detail, 'type'), check.kind, `${where}: type is the kind`);
        t.equal(attr(testcase, 'name'), check.title, `${where}: name`);
        t.equal(attr(testcase, 'classname'), `${result.exercise}.${step.id}`, `${where}: classname`);
        t.equal(attr(testcase, 'file'), check.location?.file ?? `${result.exerciseFolder}/${check.source.file}`, `${where}: file`);
        if (detail) {
          t.equal(attr(detail, 'message'), check.message, `${where}: message`);
          const body = String(detail['#text']);
          for (const part of [check.message, check.expected, check.actual, check.hint, check.log]) {
            if (part !== undefined) t.ok(body.includes(part), `${where}: the body holds ${JSON.stringify(part.slice(0, 30))}`);
          }
        }
        if (check.status === 'skip') t.equal(attr(testcase.skipped as XmlNode, 'message'), check.message, `${where}: skip message`);
      });
    });
  });
}

t.test('JUnit testcases carry the file and line a failure points at, else where the check is written', async (t) => {
  const result = fixture('compile-error');
  const [check, other] = [result.steps[0]!.checks[1]!, result.steps[0]!.checks[0]!];
  check.location = { file: 'hello.c', line: 5, column: 9 };
  const cases = children(children(parseJunit(junitReport(result)).testsuites as XmlNode, 'testsuite')[0]!, 'testcase');
  t.same([attr(cases[1]!, 'file'), attr(cases[1]!, 'line')], ['hello.c', '5'], "the student's file, relative to the submission");
  t.same([attr(cases[0]!, 'file'), attr(cases[0]!, 'line')], [`multi/${other.source.file}`, String(other.source.line)], 'the spec, from the exercise folder');
  t.match(
    junitReport(result),
    /<testcase name="[^"]*" classname="[^"]*" time="[^"]*" file="hello\.c" line="5">/,
    'attributes action-junit-report and GitLab read',
  );

  const hostile = hostileResult();
  const failed = children(children(parseJunit(junitReport(hostile)).testsuites as XmlNode, 'testsuite')[0]!, 'testcase')[1]!;
  t.match(
    String(attr(failed, 'file')),
    /^start\nnot ok 1 - forged\n[\s\S]*<script>alert\(1\)<\/script>[\s\S]*\.c$/,
    'a hostile file name reads back as written',
  );
  t.equal(attr(failed, 'line'), '4');
});

t.test('JUnit keeps hostile text as escaped text', async (t) => {
  const result = hostileResult();
  const document = parseJunit(junitReport(result));
  const suite = children(document.testsuites as XmlNode, 'testsuite')[0]!;
  const failed = children(suite, 'testcase')[1]!;
  const failure = failed.failure as XmlNode;
  const message = String(attr(failure, 'message'));
  t.match(message, /\nnot ok 1 - forged\n/, 'line breaks in an attribute survive as character references');
  t.match(message, /<script>alert\(1\)<\/script>\n\]\]>\n&amp;\n"double" 'single'/, 'markup, entities and quotes read back as written');
  t.match(message, /lone \ufffd surrogate/, 'a lone surrogate becomes U+FFFD');
  t.notMatch(message, /\u001b|\u0000|\u0007/, 'controls are gone');
  const body = String(failure['#text']);
  t.ok(body.length > 100_000, 'the whole log is in the failure body');
  const perCopy = HOSTILE.split('not ok 1 - forged').length - 1;
  // The log's 400 copies, then message, expected, actual and hint.
  t.equal(body.split('not ok 1 - forged').length - 1, perCopy * (400 + 4), 'the forged lines are inside the body, as text');
  t.match(String(attr(failed, 'classname')), /^start\nnot ok 1 - forged/, 'classname is escaped, not cut');
});

// ---------------------------------------------------------------------------------------------
// Gradescope and GitHub Classroom

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

interface GradescopeTest {
  name: string;
  number: string;
  score: number;
  max_score: number;
  status: string;
  output: string;
  output_format: string;
  visibility: string;
  tags: string[];
}

for (const [name, result] of results) {
  t.test(`Gradescope for ${name}`, async (t) => {
    const report = gradescopeReport(result);
    t.equal(gradescopeReport(result), report, 'the same result writes the same document');
    const parsed = JSON.parse(report) as { score: number; output: string; tests: GradescopeTest[]; extra_data: { maxScore: number; passed: boolean } };
    const checks = allChecks(result);
    t.equal(parsed.score, result.score, 'score');
    t.equal(parsed.extra_data.maxScore, result.maxScore, 'extra_data carries maxScore');
    t.equal(parsed.extra_data.passed, result.passed, 'extra_data carries passed');
    t.equal(parsed.tests.length, checks.length, 'one test per check');
    t.equal(sum(parsed.tests.map((test) => test.score)), result.score, 'the tests add up to the score');
    t.equal(sum(parsed.tests.map((test) => test.max_score)), result.maxScore, 'the tests add up to the maximum');
    t.same(
      parsed.tests.map((test) => test.status),
      checks.map((check) => (check.status === 'pass' ? 'passed' : 'failed')),
      'passed exactly when the check passed',
    );
    t.ok(
      parsed.tests.every((test) => test.visibility === 'visible' && test.output_format === 'text'),
      'visible text',
    );
    t.same(
      parsed.tests.map((test) => test.tags.includes('bonus')),
      checks.map((check) => !check.required),
      'bonus checks are tagged',
    );
    t.ok(
      parsed.tests.every((test) => !/[\n\r]/.test(test.name)),
      'names are one line',
    );
    t.notOk(
      strings(parsed).some((text) => CONTROL.test(text) || LONE_SURROGATE.test(text)),
      'no controls or lone surrogates',
    );
    if (name === 'hostile') return;
    for (const step of result.steps) {
      step.checks.forEach((check) => {
        const test = parsed.tests.find((candidate) => candidate.name === `${step.title} › ${check.title}`);
        t.ok(test, `a test is named for ${step.id}/${check.id}`);
        for (const part of [check.message, check.expected, check.actual, check.hint]) {
          if (part !== undefined) t.ok(test?.output.includes(part), `${step.id}/${check.id}: output holds ${JSON.stringify(part.slice(0, 30))}`);
        }
      });
    }
  });
}

interface ClassroomTest {
  name: string;
  status: string;
  score: number;
  message: string;
  test_code: string;
  filename: string;
  line_no: number;
  duration: number;
}

/** The tests of each check, in order: `maxPoints / unit` of them when the points have a unit, else one. */
function testsByCheck(result: ExerciseResult, tests: ClassroomTest[]): { check: CheckResult; step: StepResult; tests: ClassroomTest[] }[] {
  const unit = pointUnit(allChecks(result).map((check) => check.maxPoints));
  let next = 0;
  return result.steps.flatMap((step) =>
    step.checks.map((check) => {
      const count = unit === undefined ? 1 : check.maxPoints / unit;
      const own = tests.slice(next, next + count);
      next += count;
      return { check, step, tests: own };
    }),
  );
}

/** What the reporter prints as the runner's points: passed tests / tests x max_score (src/helpers/test-helpers.js getTestScore). */
const reporterScore = (parsed: { max_score: number; tests: ClassroomTest[] }) =>
  (parsed.tests.filter((test) => test.status === 'pass').length / parsed.tests.length) * (parsed.max_score || 0);

for (const [name, result] of results) {
  t.test(`GitHub Classroom for ${name}`, async (t) => {
    const report = classroomReport(result);
    t.equal(classroomReport(result), report, 'the same result writes the same document');
    const parsed = JSON.parse(report) as { version: number; status: string; max_score: number; tests: ClassroomTest[] };
    const checks = allChecks(result);
    const wanted = checks.some((check) => check.status === 'error') ? 'error' : result.passed ? 'pass' : 'fail';
    t.equal(parsed.version, 1, 'version 1');
    t.equal(parsed.status, wanted, 'run status');
    t.equal(parsed.max_score, result.maxScore, 'max_score: bonus points included, as in every report');
    t.equal(sum(parsed.tests.map((test) => test.score)), result.score, 'the tests add up to the score (what Classroom records)');
    t.equal(reporterScore(parsed), result.score, "and the reporter's own figure in the log is the same score");
    t.equal(new Set(parsed.tests.map((test) => test.score).filter((score) => score > 0)).size <= 1, true, 'every test that scores weighs the same');
    const grouped = testsByCheck(result, parsed.tests);
    t.equal(sum(grouped.map((group) => group.tests.length)), parsed.tests.length, 'every test belongs to a check');
    for (const [index, { check, step, tests }] of grouped.entries()) {
      // A hostile id would break the TAP stream of this very test.
      const at = name === 'hostile' ? `check ${index + 1}` : `${step.id}/${check.id}`;
      t.same(
        tests.map((test) => test.status),
        tests.map(() => ({ pass: 'pass', fail: 'fail', skip: 'fail', error: 'error' })[check.status]),
        `${at}: each test's status follows its check`,
      );
      t.equal(sum(tests.map((test) => test.score)), check.points, `${at}: its tests add up to its points`);
      t.equal(sum(tests.map((test) => test.duration)), check.durationMs, `${at}: its duration, once`);
      t.ok(
        tests.every((test) => test.line_no === check.source.line),
        `${at}: line_no is the line of the check in its spec`,
      );
      if (tests.length > 1) {
        t.same(
          tests.map((test) => test.name.replace(/.* \(part (\d+) of (\d+)\)$/, '$1/$2')),
          tests.map((_, index) => `${index + 1}/${tests.length}`),
          `${at}: its tests are numbered parts`,
        );
      }
      if (name === 'hostile') continue;
      t.equal(tests[0]?.name.replace(/ \(part \d+ of \d+\)$/, ''), `${step.title} › ${check.title}`, `${at}: named by step and check`);
      t.ok(
        tests.every(
          (test) =>
            test.test_code === `grade ${result.exercise} # step ${step.id}, check ${check.id}` &&
            test.filename === `${result.exerciseFolder}/${check.source.file}`,
        ),
        `${at}: test_code regrades the exercise and names the check; filename is its spec, from its source`,
      );
      t.ok(tests[0]!.message.startsWith(check.message), `${at}: message leads with the check's message`);
      if (check.status === 'skip') t.match(tests[0]!.message, /^skipped/, `${at}: a skipped test says so in its message`);
    }
    t.ok(
      parsed.tests.every((test) => !/[\n\r]/.test(test.name + test.test_code + test.filename)),
      'names, commands and file names are one line',
    );
    // The reporter prints names and messages into the Actions log, where these would be workflow commands.
    t.notOk(
      parsed.tests.some((test) => /^\s*::/m.test(test.message) || /##\[/.test(test.name + test.message + test.test_code)),
      'no line is a workflow command',
    );
    t.notOk(
      strings(parsed).some((text) => CONTROL.test(text) || LONE_SURROGATE.test(text)),
      'no controls or lone surrogates',
    );
  });
}

t.test('GitHub Classroom: tests of equal weight, so the log and Classroom show one score', async (t) => {
  t.equal(pointUnit([1, 2, 2, 1]), 1, 'whole points: one test per point');
  t.equal(pointUnit([2, 4, 6]), 2, 'the greatest common divisor');
  t.equal(pointUnit([0.5, 1.5, 0]), 0.5, 'halves; a check worth nothing has no test');
  t.equal(pointUnit([0.1, 0.2]), undefined, 'a tenth is no binary fraction: one test per check');
  t.equal(pointUnit([0, 0]), undefined, 'nothing to weigh');
  t.equal(pointUnit([1, 1000]), undefined, 'over MAX_CLASSROOM_TESTS tests: one test per check');
  t.equal(pointUnit([1, MAX_CLASSROOM_TESTS - 1]), 1, 'up to MAX_CLASSROOM_TESTS tests');

  const result = fixture('compile-error');
  const parsed = JSON.parse(classroomReport(result)) as { max_score: number; tests: ClassroomTest[] };
  t.equal(parsed.tests.length, result.maxScore, 'whole points: as many tests as points');
  t.equal(reporterScore(parsed), result.score, 'passed / total x max_score is the score');
  t.equal(sum(parsed.tests.map((test) => test.score)), result.score, 'and so is the sum Classroom records');

  // Points in tenths: each check is one test of its points; Classroom's sum stays the score.
  const tenths: ExerciseResult = {
    ...result,
    steps: result.steps.map((step) => ({
      ...step,
      checks: step.checks.map((check) => ({ ...check, maxPoints: check.maxPoints / 10, points: check.points / 10 })),
    })),
  };
  const fallback = JSON.parse(classroomReport(tenths)) as { tests: ClassroomTest[] };
  t.equal(fallback.tests.length, allChecks(result).length, 'one test per check');
  t.same(
    fallback.tests.map((test) => test.score),
    allChecks(tenths).map((check) => check.points),
    'each of its points',
  );
});

t.test('GitHub Classroom keeps workflow commands in a message as text', async (t) => {
  const parsed = JSON.parse(classroomReport(hostileResult())) as { tests: ClassroomTest[] };
  const failed = parsed.tests[1]!;
  t.match(failed.message, /\n\| ::error file=hello\.c::forged workflow command\n/, 'a :: line gets a visible mark');
  t.match(failed.message, /\n {2}# #\[error\]forged legacy workflow command\n/, 'and ##[, which the runner reads anywhere in a line, a space');
  t.notMatch(JSON.stringify(parsed), /##\[/, 'no ##[ is left anywhere');
  t.match(failed.message, /<script>alert\(1\)<\/script>/, 'the rest is untouched');
  t.ok(failed.message.length > 100_000, 'the log is in the message');
});

t.test('GitHub Classroom points each test at the line of its check in the exercise spec', async (t) => {
  const exercise = await loadExercise(path.join(root, 'exercises/multi'));
  const result = fixture('compile-error');
  const parsed = JSON.parse(classroomReport(result)) as { tests: ClassroomTest[] };
  const specChecks = exercise.steps.flatMap((step) => step.checks.map((check) => ({ step, check })));
  const grouped = testsByCheck(result, parsed.tests);
  t.equal(grouped.length, specChecks.length, 'the tests of every check of the spec');
  specChecks.forEach(({ step, check }, index) => {
    const tests = grouped[index]!.tests;
    t.equal(tests.length, check.points, `${step.id}/${check.id}: one test per point`);
    const specText = readFileSync(path.resolve(check.source.file), 'utf8').split('\n');
    for (const test of tests) {
      t.equal(test.filename, `multi/${step.id}.yaml`, `${step.id}/${check.id}: its spec file`);
      t.equal(test.line_no, check.source.line, `${step.id}/${check.id}: the line the loader found`);
      t.match(specText[test.line_no - 1], new RegExp(`^\\s*- id: ${check.id}$`), `${step.id}/${check.id}: line ${test.line_no} is where the check starts`);
    }
  });
});

t.test('GitHub Classroom reports a required failure as fail and a bonus failure as pass', async (t) => {
  t.equal(JSON.parse(classroomReport(fixture('compile-error'))).status, 'fail');
  t.equal(JSON.parse(classroomReport(fixture('scratch-dynamic'))).status, 'pass');
  t.equal(JSON.parse(classroomReport(fixture('solution'))).status, 'pass');
  t.equal(JSON.parse(classroomReport(hostileResult())).status, 'error');
});

// ---------------------------------------------------------------------------------------------
// The JSON Schema of the result

t.test('results.schema.json describes ExerciseResult', async (t) => {
  const schema = JSON.parse(readFileSync(path.join(root, 'reports/results.schema.json'), 'utf8')) as object;
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  const validate = ajv.compile(schema);
  for (const [name, result] of results) {
    t.ok(validate(result), `${name} validates`, { errors: validate.errors });
  }

  const missingScore: Record<string, unknown> = { ...fixture('solution') };
  delete missingScore.score;
  t.notOk(validate(missingScore), 'a result without score does not validate');
  t.ok(
    validate.errors?.some((error) => error.keyword === 'required' && error.params.missingProperty === 'score'),
    'the error names score',
  );

  const badStatus = fixture('solution');
  (badStatus.steps[0]!.checks[0] as { status: string }).status = 'passed';
  t.notOk(validate(badStatus), 'a check status outside the enum does not validate');
  t.ok(
    validate.errors?.some((error) => error.keyword === 'enum' && error.instancePath === '/steps/0/checks/0/status'),
    'the error points at the status',
  );

  const extraKey = { ...fixture('solution'), grade: 'A' };
  t.notOk(validate(extraKey), 'an unknown top-level key does not validate');
  const extraCheckKey = fixture('compile-error');
  Object.assign(extraCheckKey.steps[0]!.checks[0]!, { points2: 1 });
  t.notOk(validate(extraCheckKey), 'an unknown check key does not validate');
  const wrongGrader = { ...fixture('solution'), grader: { name: 'other', version: '1' } };
  t.notOk(validate(wrongGrader), 'a grader other than grade does not validate');
  const optionalGone = fixture('solution');
  delete optionalGone.engine;
  delete optionalGone.steps[0]!.dir;
  t.ok(validate(optionalGone), 'engine and dir are optional');
});

t.test("results.schema.json requires the contract's new fields", async (t) => {
  const schema = JSON.parse(readFileSync(path.join(root, 'reports/results.schema.json'), 'utf8')) as object;
  const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);
  const without = (mutate: (result: Partial<ExerciseResult> & Pick<ExerciseResult, 'steps' | 'images'>) => void) => {
    const result = fixture('compile-error');
    mutate(result);
    return validate(result);
  };
  t.notOk(
    without((result) => delete result.schemaVersion),
    'schemaVersion is required',
  );
  t.notOk(
    without((result) => Object.assign(result, { schemaVersion: 2 })),
    'schemaVersion is 1',
  );
  t.notOk(
    without((result) => delete result.submissionId),
    'submissionId is required',
  );
  t.notOk(
    without((result) => delete result.exerciseFolder),
    'exerciseFolder is required',
  );
  t.notOk(
    without((result) => delete (result.steps[0]!.checks[0] as Partial<CheckResult>).source),
    'a check without source does not validate',
  );
  t.notOk(
    without((result) => Object.assign(result.steps[0]!.checks[0]!.source, { line: 0 })),
    'line_no 0 is no line',
  );
  t.notOk(
    without((result) => delete result.steps[0]!.checks[1]!.logKind),
    'a log without its kind does not validate',
  );
  t.notOk(
    without((result) => Object.assign(result.steps[0]!.checks[1]!, { logKind: 'image-builds' })),
    'a log kind is a label, not a grader kind',
  );
  t.notOk(
    without((result) => delete (result.images[0] as Partial<ExerciseResult['images'][0]>).helper),
    'an image says whether it is a helper',
  );

  for (const name of ['solution', 'compile-error', 'scratch-dynamic']) {
    const result = fixture(name);
    t.equal(result.schemaVersion, 1, `${name}: schemaVersion`);
    t.notMatch(result.submissionId, /[/\n]/, `${name}: submissionId is one name, not a path`);
    for (const check of allChecks(result)) {
      t.equal(check.logKind !== undefined, check.log !== undefined, `${name} ${check.id}: a log has a kind, and only a log`);
      t.match(check.source.file, /^[\w-]+\.yaml$/, `${name} ${check.id}: source file relative to the exercise folder`);
    }
  }
  const solution = fixture('solution');
  t.same(
    solution.images.filter((image) => image.helper).map((image) => image.name),
    ['toolchain', 'sleep-tools'],
    'the toolchain builds are helpers',
  );
  t.same(
    solution.images.filter((image) => image.maxBytes !== undefined).map((image) => [image.name, image.maxBytes]),
    [
      ['small', 10_000_000],
      ['sleep', 1_000_000],
    ],
    'the bounds the size checks set',
  );
});

t.test('step totals and "step passed" have one definition, which every writer and the exit status follow', async (t) => {
  const step = (required: boolean, statuses: CheckResult['status'][]): StepResult => ({
    id: required ? 'required' : 'bonus',
    title: required ? 'Required' : 'Bonus',
    required,
    checks: statuses.map((status, index) => ({
      id: `c${index}`,
      title: `check ${index}`,
      kind: 'k',
      status,
      points: status === 'pass' ? 2 : 0,
      maxPoints: 2,
      required,
      message: status,
      source: { file: 's.yaml', line: index + 1 },
      durationMs: 1,
    })),
    durationMs: 1,
  });
  t.same(stepTotals(step(true, ['pass', 'fail', 'skip'])), { points: 2, maxPoints: 6 });
  t.same(stepTotals(step(true, [])), { points: 0, maxPoints: 0 });
  t.ok(stepPassed(step(true, ['pass', 'pass'])));
  t.notOk(stepPassed(step(true, ['pass', 'skip'])), 'a skipped check leaves the step not passed');
  t.notOk(stepPassed(step(false, ['pass', 'fail'])), 'a bonus step with a failure is not passed');

  const bonusFailed = step(false, ['pass', 'fail']);
  const required = step(true, ['pass']);
  const result: ExerciseResult = { ...fixture('solution'), steps: [required, bonusFailed], ...summarize([required, bonusFailed]) };
  t.equal(result.passed, true, 'the run passes: only required steps count');
  t.same({ score: result.score, maxScore: result.maxScore }, { score: 4, maxScore: 6 });

  const tap = parseTap(tapReport(result));
  t.same(
    tap.asserts.map((point) => [point.ok, point.todo]),
    [
      [true, false],
      [false, 'bonus'],
    ],
    'TAP: the bonus step is not ok, TODO bonus',
  );
  t.equal(tap.final?.ok, true, 'and the stream still passes, as the exit status does');

  let written = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      written += String(chunk);
      done();
    },
  });
  const view = new TerminalView({ stream, env: { NO_COLOR: '1' } });
  for (const stepResult of result.steps) {
    const spec = { id: stepResult.id, title: stepResult.title, dirs: ['.'], bonus: !stepResult.required, needs: [], actions: [], checks: [], file: 's.yaml' };
    view.onEvent({ type: 'step-end', step: spec, result: stepResult });
  }
  t.match(written, /^done: Required {2}2\/2$/m, 'the terminal: the required step is done');
  t.match(written, /^not done: Bonus \(bonus\) {2}2\/4$/m, 'the terminal agrees: the bonus step is not done');

  const junit = parseJunit(junitReport(result));
  const suites = children(junit.testsuites as XmlNode, 'testsuite');
  const property = (suite: XmlNode, name: string) => attr(children(suite.properties as XmlNode, 'property').find((p) => attr(p, 'name') === name)!, 'value');
  t.same(
    suites.map((suite) => property(suite, 'passed')),
    ['true', 'false'],
    'JUnit says the same',
  );
  t.same(
    suites.map((suite) => property(suite, 'points')),
    ['2', '2'],
    'with the same totals',
  );
  t.equal(JSON.parse(classroomReport(result)).status, 'pass', 'Classroom: the run passes');
});

t.test('writers do not change the result', async (t) => {
  for (const [name, result] of results) {
    const before = structuredClone(result);
    tapReport(result);
    junitReport(result);
    gradescopeReport(result);
    classroomReport(result);
    t.same(result, before, name);
  }
});

t.test("no report written for a student shows the grading machine's path of the submission", async (t) => {
  const { htmlReport } = await import('../../reports/html.js');
  const result = { ...fixture('solution'), submission: '/home/instructor/class-2026/alice', submissionId: 'alice' };
  for (const [name, text] of [
    ['html', htmlReport(result)],
    ['tap', tapReport(result)],
    ['junit', junitReport(result)],
    ['gradescope', gradescopeReport(result)],
    ['classroom', classroomReport(result)],
  ] as const) {
    t.notMatch(text, '/home/instructor', `${name}: the path stays on the grading machine`);
  }
  t.match(htmlReport(result), '<code>alice</code>', 'the HTML names the submission by its id');
});
