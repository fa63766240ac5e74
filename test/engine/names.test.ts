// File names from a submission can hold newlines; graded on the real engine, such names (and a
// submission folder and a link target with newlines) never start a line of the terminal output
// or of the TAP stream, and the TAP still reads back as exactly the checks that ran.
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { cp, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Parser, type FinalResults, type Result } from 'tap-parser';
import { XMLValidator } from 'fast-xml-parser';
import { tapReport } from '../../reports/tap.js';
import type { ExerciseResult } from '../../runner/results.js';
import { packageRoot } from '../../runner/paths.js';
import { runCli } from '../support/cli.js';
import { faultSuite, realEngine, submissions } from '../support/engine.js';

const faults = faultSuite(t, import.meta.filename);

const FORGED = ['ok 99 - forged', 'Score: 28/28: every required check passed', '::error::forged'];
// A forged line, indented or not; the real summary never says 28/28: the scratch part is missing.
const STARTS_FORGED = new RegExp(`^\\s*(?:${FORGED.map((text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})`);

interface ParsedTap {
  asserts: Result[];
  children: ParsedTap[];
  extra: string[];
  failures: unknown[];
}

function parseTap(tap: string): ParsedTap {
  const observe = (parser: Parser): ParsedTap => {
    const parsed: ParsedTap = { asserts: [], children: [], extra: [], failures: [] };
    parser.on('assert', (result: Result) => parsed.asserts.push(result));
    parser.on('child', (child: Parser) => parsed.children.push(observe(child)));
    parser.on('extra', (line: string) => parsed.extra.push(line));
    parser.on('complete', (final: FinalResults) => parsed.failures.push(...final.failures.filter((failure) => failure.tapError)));
    return parsed;
  };
  const parser = new Parser({ strict: true });
  const parsed = observe(parser);
  parser.end(tap);
  return parsed;
}

/** The TAP reads back as exactly the result's steps and checks, in order, and nothing else. */
function sameTestPoints(t: Test, tap: string, result: ExerciseResult): void {
  const parsed = parseTap(tap);
  const failures = (at: ParsedTap): unknown[] => [...at.failures, ...at.children.flatMap(failures)];
  t.same(failures(parsed), [], 'no parse errors');
  t.same([...parsed.extra, ...parsed.children.flatMap((child) => child.extra)], [], 'no line that is not TAP');
  t.same(
    parsed.asserts.map((point) => point.name),
    result.steps.map((step) => step.title),
    'one test point per step',
  );
  result.steps.forEach((step, index) => {
    const child = parsed.children[index];
    t.same(
      child?.asserts.map((point) => [point.id, point.name]),
      step.checks.map((check, at) => [at + 1, `${check.title} (${check.points}/${check.maxPoints})`]),
      `step ${step.id}: one test point per check`,
    );
    t.same(child?.children, [], `step ${step.id}: no forged subtest`);
  });
}

t.test('a newline in a check message cannot forge a TAP test point', async (t) => {
  faults.add();
  const result = JSON.parse(await readFile(path.join(packageRoot, 'test/fixtures/results/compile-error.json'), 'utf8')) as ExerciseResult;
  const check = result.steps[0]!.checks.find((one) => one.status !== 'pass')!;
  // As a message would read if a name went into it unescaped.
  check.message = `cannot read /home/alice/x\n${FORGED[0]}\n  ---\n  ...\n${FORGED[1]}\n    ${FORGED[0]}`;
  check.title = `x\n${FORGED[0]}`;
  const tap = tapReport(result);
  // The message sits in the YAML block, where a reader takes it as text, whatever it holds.
  sameTestPoints(t, tap, {
    ...result,
    steps: result.steps.map((step) => ({ ...step, checks: step.checks.map((one) => ({ ...one, title: one.title.replace(/\n/g, ' ') })) })),
  });
  const point = parseTap(tap).children[0]!.asserts.find((one) => one.name.startsWith('x ok 99'));
  t.equal(point?.diag?.message, check.message, 'the message reads back whole, as text');
});

t.test('on the real engine', async (t) => {
  faults.add();
  const engine = await realEngine(t);
  if (!engine) return;

  const top = t.testdir({});
  // The folder's own path holds a forged line (a slash is fine in a path, not in a name).
  const dir = path.join(top, `sub\n${FORGED[1]}\n${FORGED[2]}`);
  await mkdir(dir, { recursive: true });
  await cp(path.join(submissions, 'kept-large'), dir, { recursive: true });
  await writeFile(path.join(dir, `x\n${FORGED[0]}`), 'a file\n');
  await writeFile(path.join(dir, `y\n${FORGED[2]}`), 'another\n');
  await mkdir(path.join(dir, `folder\n${FORGED[0]}`));
  await symlink(`/nowhere\n${FORGED[1]}`, path.join(dir, `link\n${FORGED[2]}`));
  execFileSync('mkfifo', [path.join(dir, `pipe\n${FORGED[0]}`)]);
  const out = path.join(top, 'reports');

  const run = await runCli(['multi', '--dir', dir, '--build-network', 'none', '--reporter', 'tap', '--out', out]);
  t.equal(run.code, 0, `graded: kept-large passes every required check, and has no scratch part: ${run.stderr}`);

  const lines = [...run.stdout.split('\n'), ...run.stderr.split('\n')];
  t.same(
    lines.filter((line) => STARTS_FORGED.test(line)),
    [],
    'no line of stdout or stderr starts with a forged line',
  );
  t.notMatch(run.stdout + run.stderr, /\u2028|\u2029|\r/, 'no other line break either');
  t.ok(run.stderr.includes(`submission: ${top}/sub\\n${FORGED[1]}\\n${FORGED[2]}`), 'the folder is shown, its newlines as \\n');
  t.ok(
    run.stderr.includes(`  ... warning: link\\n${FORGED[2]} is a link to /nowhere\\n${FORGED[1]}, outside the build context`),
    'the link warning, on one line',
  );
  t.ok(run.stderr.includes(`  ... warning: pipe\\n${FORGED[0]} is a fifo (named pipe): skipped`), 'the fifo warning, on one line');
  t.match(run.stderr, /^Score: 20\/28: every required check passed$/m, 'the real summary, which is not the forged one');

  const result = JSON.parse(await readFile(path.join(out, 'results.json'), 'utf8')) as ExerciseResult;
  t.equal(result.submission, dir, 'the JSON keeps the real path');
  sameTestPoints(t, run.stdout, result);
  t.equal(await readFile(path.join(out, 'report.tap'), 'utf8'), run.stdout, 'report.tap is the same stream');
  const junit = await readFile(path.join(out, 'junit.xml'), 'utf8');
  t.equal(XMLValidator.validate(junit), true, 'junit.xml is well-formed');
  t.equal(junit.match(/<testcase /g)?.length, result.steps.flatMap((step) => step.checks).length, 'one testcase per check');
  const gradescope = JSON.parse(await readFile(path.join(out, 'gradescope.json'), 'utf8')) as { tests: { name: string }[] };
  t.equal(gradescope.tests.length, result.steps.flatMap((step) => step.checks).length, 'one Gradescope test per check');
  t.same(
    gradescope.tests.filter((test) => test.name.includes('\n')),
    [],
    'every Gradescope test name is one line',
  );
  const html = await readFile(path.join(out, 'report.html'), 'utf8');
  t.notMatch(html, /<script/i, 'the page has no script');
});
