// Sample gradebooks for the class reports' tests: a class of realistic submissions made from the
// recorded results, with what a real class folder holds (a README and a dotfile that are not
// submissions, a timeout, an unreadable archive, a copied pair, a copy of the reference
// solution) and, unless asked not to, students whose names and messages try to break each format.
import { imageStats, recordOfResult, scoreSummary } from '../../runner/batch/gradebook.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  CLASS_SCHEMA_VERSION,
  type CheckStats,
  type ClassResult,
  type ClassSubmission,
  type ClassSummary,
  REFERENCE_SOLUTION,
  type SubmissionStatus,
} from '../../runner/class-results.js';
import { packageRoot } from '../../runner/paths.js';
import { type CheckStatus, type ExerciseResult, summarize } from '../../runner/results.js';

/** Names that try to run as a formula, break a CSV row, an HTML page or a relative link. */
export const HOSTILE_NAMES = [
  '=HYPERLINK("x")',
  '+1',
  '-2',
  '@a',
  'smith, john',
  'o"brien',
  "o'neil",
  'new\nline',
  // A student is a folder's name and never holds "/"; a closing tag does not need one to do harm.
  '<script>alert(1)',
  '<img src=x onerror=alert(1)>',
  'a b',
  '#x',
  '?y',
  '%',
  '...',
];

/** A message from a submission that is a formula, markup and a script at once. */
export const HOSTILE_MESSAGE = `=cmd|' /C calc'!A0 <script>alert(1)</script> "quoted", two\nlines`;

type Change = { status: CheckStatus; message: string };
type Changes = Record<string, Change>;
/** Image sizes a variant changes, by name; null when the variant does not build it. */
type Sizes = Record<string, number | null>;

interface Variant {
  changes: Changes;
  sizes: Sizes;
}

const NO_SCRATCH = 'scratch/ or ../scratch/ does not exist';
const NEEDS_RUNNING = 'skipped: needs scratch-sleep/still-running (a container started detached is still running a second later), which was skipped';

/** Ways a submission goes wrong, as the multi exercise's checks report them. */
const VARIANTS = {
  noBonus: {
    changes: {
      'scratch-sleep/sources-exist': { status: 'fail', message: `no folder to look in: ${NO_SCRATCH}` },
      'scratch-sleep/from-scratch': { status: 'fail', message: `no folder to look in: ${NO_SCRATCH}` },
      'scratch-sleep/sleep-builds': { status: 'fail', message: NO_SCRATCH },
      'scratch-sleep/tiny': { status: 'skip', message: `skipped: ${NO_SCRATCH}` },
      'scratch-sleep/still-running': { status: 'skip', message: `skipped: ${NO_SCRATCH}` },
      'scratch-sleep/top-shows-sleep': { status: 'skip', message: NEEDS_RUNNING },
      'scratch-sleep/root-listing': { status: 'skip', message: NEEDS_RUNNING },
    },
    sizes: { sleep: null, 'sleep-tools': null },
  },
  tooBig: {
    changes: {
      'large-small/small-is-small': { status: 'fail', message: 'small is 12.6MB, more than 10MB' },
      'scratch-sleep/tiny': { status: 'fail', message: 'sleep is 1.21MB, more than 1MB' },
    },
    sizes: { small: 12_600_000, sleep: 1_210_000 },
  },
  compilerLeft: {
    changes: {
      'large-small/no-compiler': { status: 'fail', message: 'small holds /usr/bin/gcc: the compiler is still in the final stage' },
      'large-small/small-is-small': { status: 'fail', message: 'small is 98.3MB, more than 10MB' },
      'large-small/small-vs-large': { status: 'fail', message: 'small is 98.3MB, 30.1 % of large (327MB)' },
    },
    sizes: { small: 98_300_000 },
  },
  notFromCache: {
    changes: {
      'target-stage/from-cache': {
        status: 'fail',
        message: '2 of 6 instructions after FROM were built again: COPY hello.c ., RUN gcc -Wall hello.c -o bin/hello',
      },
    },
    sizes: {},
  },
  wrongGreeting: {
    changes: {
      'compile-hello/prints-hello': { status: 'fail', message: '/grade/work/hello exited 0 and printed "Hello world\\n", expected "Hello, world!\\n"' },
      'large-small/small-prints-hello': { status: 'fail', message: 'the image\'s default command printed "Hello world\\n", expected "Hello, world!\\n"' },
      'target-stage/build-stage-hello': { status: 'fail', message: '/app/bin/hello printed "Hello world\\n", expected "Hello, world!\\n"' },
    },
    sizes: {},
  },
  hostileOutput: {
    changes: {
      'compile-hello/prints-hello': {
        status: 'fail',
        message: '/grade/work/hello exited 0 and printed "<script>alert(1)</script>\\n", expected "Hello, world!\\n"',
      },
    },
    sizes: {},
  },
  topError: {
    changes: {
      'scratch-sleep/top-shows-sleep': { status: 'error', message: 'docker top sleeper failed: the engine answered 500 (container is restarting)' },
    },
    sizes: {},
  },
} satisfies Record<string, Variant>;

type VariantName = keyof typeof VARIANTS;

type Entry =
  | { student: string; entry?: string; base: 'solution' | 'compile-error' | 'scratch-dynamic'; variants?: VariantName[]; duplicateOf?: string }
  | { student: string; entry?: string; status: Exclude<SubmissionStatus, 'graded'>; message: string };

const CLASS: Entry[] = [
  { student: 'alice', base: 'solution' },
  { student: 'bob', entry: 'bob.zip', base: 'compile-error' },
  { student: 'carol', base: 'scratch-dynamic' },
  { student: 'dave', base: 'solution', variants: ['tooBig'] },
  { student: 'erin', entry: 'erin.tar.gz', base: 'solution', variants: ['tooBig'], duplicateOf: 'dave' },
  { student: 'frank', base: 'solution', duplicateOf: REFERENCE_SOLUTION },
  { student: 'grace', base: 'solution', variants: ['compilerLeft', 'noBonus'] },
  { student: 'heidi', base: 'solution', variants: ['notFromCache', 'noBonus'] },
  { student: 'ivan', status: 'timed-out', message: 'grading took longer than 600 s and was stopped' },
  { student: 'judy', entry: 'judy.zip', status: 'error', message: 'cannot unpack judy.zip: end of central directory record not found (is it a zip file?)' },
  { student: 'mallory', base: 'solution', variants: ['wrongGreeting'] },
  { student: 'niaj', base: 'solution', variants: ['topError'] },
  { student: 'oscar', base: 'compile-error' },
  { student: 'peggy', base: 'solution', variants: ['noBonus'] },
  { student: 'trent', base: 'solution', variants: ['wrongGreeting', 'noBonus'] },
  { student: 'README.md', status: 'skipped', message: 'not a submission: a file at the top of the class folder' },
  { student: '.DS_Store', status: 'skipped', message: 'not a submission: a hidden entry' },
];

const HOSTILE_CLASS: Entry[] = [
  { student: '=HYPERLINK("x")', base: 'solution', variants: ['wrongGreeting'] },
  { student: '+1', base: 'solution', variants: ['noBonus'] },
  { student: '-2', base: 'compile-error' },
  { student: '@a', base: 'solution', variants: ['topError', 'hostileOutput'] },
  { student: 'smith, john', base: 'solution', variants: ['tooBig'] },
  { student: 'o"brien', base: 'solution', variants: ['notFromCache', 'noBonus'] },
  { student: "o'neil", base: 'scratch-dynamic' },
  { student: 'new\nline', base: 'scratch-dynamic' },
  { student: '<script>alert(1)', base: 'solution', variants: ['compilerLeft'] },
  { student: '<img src=x onerror=alert(1)>', entry: '<img src=x onerror=alert(1)>.zip', status: 'error', message: HOSTILE_MESSAGE },
  { student: 'a b', base: 'solution', variants: ['noBonus'] },
  { student: '#x', base: 'solution' },
  { student: '?y', base: 'solution', variants: ['tooBig'] },
  { student: '%', base: 'compile-error' },
  { student: '...', base: 'solution', variants: ['wrongGreeting'] },
];

export interface SampleOptions {
  /** Add the students of HOSTILE_NAMES (default true); the README's picture is of a class without them. */
  hostile?: boolean;
  shard?: ClassSummary['shard'];
}

/** class.json of the sample class: every row with its full result when graded. */
export { scoreSummary };

export function sampleClassResult(options: SampleOptions = {}): ClassResult {
  const entries = options.hostile === false ? CLASS : [...CLASS, ...HOSTILE_CLASS];
  const bases = {
    solution: recorded('solution'),
    'compile-error': recorded('compile-error'),
    'scratch-dynamic': recorded('scratch-dynamic'),
  };
  const reference = bases.solution;
  const maxScore = reference.maxScore;
  const submissions: ClassSubmission[] = entries.map((entry) => {
    if ('status' in entry) {
      return {
        student: entry.student,
        entry: entry.entry ?? entry.student,
        status: entry.status,
        score: 0,
        maxScore,
        passed: false,
        duplicateOf: null,
        message: entry.message,
        points: {},
        images: [],
        report: null,
        result: null,
      };
    }
    const result = variantOf(bases[entry.base], entry.student, entry.variants ?? []);
    const firstFailed = result.steps.flatMap((step) => step.checks).find((check) => check.required && (check.status === 'fail' || check.status === 'error'));
    return {
      student: entry.student,
      entry: entry.entry ?? `${entry.student}/`,
      status: 'graded',
      score: result.score,
      maxScore: result.maxScore,
      passed: result.passed,
      duplicateOf: entry.duplicateOf ?? null,
      message: firstFailed?.message ?? '',
      points: Object.fromEntries(result.steps.flatMap((step) => step.checks.map((check) => [`${step.id}/${check.id}`, check.points]))),
      images: result.images.map(({ name, sizeBytes, helper }) => ({ name, sizeBytes, helper })),
      report: `students/${entry.student}/report.html`,
      result,
    };
  });
  submissions.sort((a, b) => (a.student < b.student ? -1 : a.student > b.student ? 1 : 0));

  const graded = submissions.flatMap((row) => (row.result ? [row.result] : []));
  const columns = reference.steps.flatMap((step) =>
    step.checks.map((check) => ({ step: step.id, check: check.id, title: check.title, maxPoints: check.maxPoints, required: check.required })),
  );
  return {
    schemaVersion: CLASS_SCHEMA_VERSION,
    exercise: reference.exercise,
    title: reference.title,
    grader: reference.grader,
    engine: reference.engine ?? null,
    generatedAt: '2026-11-27T09:30:00.000Z',
    shard: options.shard ?? null,
    columns,
    submissions,
    checks: checkStats(columns, graded),
    scores: scoreSummary(
      graded.map((result) => result.score),
      maxScore,
    ),
    images: imageStats(graded.map(recordOfResult)),
    duplicates: duplicateGroups(submissions),
  };
}

/** The gradebook as grades.csv and the dashboard read it: the same rows without their results. */
export function sampleClassSummary(options: SampleOptions = {}): ClassSummary {
  return summaryOf(sampleClassResult(options));
}

export function summaryOf(classResult: ClassResult): ClassSummary {
  return { ...classResult, submissions: classResult.submissions.map(({ result: _result, ...row }) => row) };
}

function recorded(name: string): ExerciseResult {
  return JSON.parse(readFileSync(path.join(packageRoot, 'test/fixtures/results', `${name}.json`), 'utf8')) as ExerciseResult;
}

/** A recorded result with some checks gone wrong: points, score and verdict follow from the statuses. */
function variantOf(base: ExerciseResult, student: string, variants: VariantName[]): ExerciseResult {
  const result = structuredClone(base);
  const changes: Changes = Object.assign({}, ...variants.map((name) => VARIANTS[name].changes));
  const sizes: Sizes = Object.assign({}, ...variants.map((name) => VARIANTS[name].sizes));
  for (const step of result.steps) {
    for (const check of step.checks) {
      const change = changes[`${step.id}/${check.id}`];
      if (!change) continue;
      check.status = change.status;
      check.message = change.message;
      check.points = change.status === 'pass' ? check.maxPoints : 0;
    }
  }
  result.images = result.images.flatMap((image) => {
    const size = sizes[image.name];
    if (size === null) return [];
    return [size === undefined ? image : { ...image, sizeBytes: size }];
  });
  Object.assign(result, summarize(result.steps));
  result.submission = `/class/${student}`;
  result.submissionId = student;
  return result;
}

function checkStats(columns: ClassSummary['columns'], graded: ExerciseResult[]): CheckStats[] {
  const stats = columns.map((column) => {
    const checks = graded.flatMap((result) =>
      result.steps.filter((step) => step.id === column.step).flatMap((step) => step.checks.filter((check) => check.id === column.check)),
    );
    const count = (status: CheckStatus) => checks.filter((check) => check.status === status).length;
    const messages = new Map<string, number>();
    for (const check of checks) if (check.status !== 'pass') messages.set(check.message, (messages.get(check.message) ?? 0) + 1);
    return {
      ...column,
      passed: count('pass'),
      failed: count('fail'),
      skipped: count('skip'),
      errored: count('error'),
      passRate: checks.length === 0 ? 0 : count('pass') / checks.length,
      commonMessages: [...messages]
        .map(([message, count]) => ({ message, count }))
        .sort((a, b) => b.count - a.count)
        .slice(0, 5),
    };
  });
  return stats.sort((a, b) => a.passRate - b.passRate);
}

function duplicateGroups(rows: ClassSubmission[]): ClassSummary['duplicates'] {
  const groups = new Map<string, string[]>();
  for (const row of rows) {
    if (row.duplicateOf === null) continue;
    const students = groups.get(row.duplicateOf) ?? (row.duplicateOf === REFERENCE_SOLUTION ? [] : [row.duplicateOf]);
    students.push(row.student);
    groups.set(row.duplicateOf, students);
  }
  return [...groups].map(([of, students]) => ({ of, students }));
}
