// The benchmark of issue 12: grading against the floor (bench/floor.sh, the docker CLI doing the
// same engine work and checking nothing), warm and cold; a class with `grade batch` at several
// --jobs; the CLI's start-up; the grader's peak memory. Writes bench/results.json and prints a
// table. Run with `npm run bench` (builds dist/ first), or `npx tsx bench/run.ts --help`.
//
// Everything it makes goes when it ends: its temp folder, the containers of its runs, and the
// image layers its builds created, except the layer cache of grading the reference solution and
// the layers before a stage's first COPY (the toolchain every submission shares), which a plain
// `docker build` and every grading leave too. Grade's own record of what it built is kept in the
// temp folder (GRADE_STATE_DIR), so nothing outside the bench's runs is ever removed.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/runner/cli/main.js');
const FLOOR = path.join(ROOT, 'bench/floor.sh');
const SOLUTION = path.join(ROOT, 'exercises/multi/solution');
const FLOOD = path.join(ROOT, 'test/fixtures/hostile/flood');
const PARTS = ['warm', 'cold', 'class', 'version', 'rss'] as const;
type Part = (typeof PARTS)[number];
/** Every name the bench gives a submission starts so: grade labels its containers with it. */
const PREFIX = 'grade-bench-';

const USAGE = `Usage: npx tsx bench/run.ts [options]   (npm run bench -- [options] builds dist/ first)

  --only LIST            parts to run, of ${PARTS.join(',')} (default: all)
  --pairs N              grade/floor pairs for warm and cold (default 5)
  --class-size N         submissions in the class of part class (default 20)
  --jobs LIST            --jobs values of grade batch (default 1,2,4)
  --rss-class-size N     submissions in the class whose peak memory is measured (default 50)
  --cli-runs N           runs of each of grade --version, grade --help and node -e 0 (default 20)
  --flood-timeout T      --run-timeout of the flooded grading (default 10s; output is capped long before)
  --out FILE             where the results go (default bench/results.json); figures of parts not run are kept
  --keep-temp            leave the temp folder (submissions, logs, gradebooks) for inspection
  -h, --help             show this help`;

interface Options {
  parts: Set<Part>;
  pairs: number;
  classSize: number;
  jobs: number[];
  rssClassSize: number;
  cliRuns: number;
  floodTimeout: string;
  out: string;
  keepTemp: boolean;
}

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number of at least 1, not "${text}"`);
  return value;
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' },
      pairs: { type: 'string', default: '5' },
      'class-size': { type: 'string', default: '20' },
      jobs: { type: 'string', default: '1,2,4' },
      'rss-class-size': { type: 'string', default: '50' },
      'cli-runs': { type: 'string', default: '20' },
      'flood-timeout': { type: 'string', default: '10s' },
      out: { type: 'string', default: path.join(ROOT, 'bench/results.json') },
      'keep-temp': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  const only = values.only?.split(',').map((part) => part.trim()) ?? [...PARTS];
  const unknown = only.filter((part) => !(PARTS as readonly string[]).includes(part));
  if (unknown.length) throw new Error(`--only names ${unknown.join(', ')}, which is no part: the parts are ${PARTS.join(', ')}`);
  return {
    parts: new Set(only as Part[]),
    pairs: positive('pairs', values.pairs),
    classSize: positive('class-size', values['class-size']),
    jobs: values.jobs.split(',').map((job) => positive('jobs', job.trim())),
    rssClassSize: positive('rss-class-size', values['rss-class-size']),
    cliRuns: positive('cli-runs', values['cli-runs']),
    floodTimeout: values['flood-timeout'],
    out: path.resolve(values.out),
    keepTemp: values['keep-temp'],
  };
}

// ---- processes -------------------------------------------------------------------------------

interface Ran {
  ms: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end, timing it from spawn to exit. Output is kept (stderr's last 64 kB). */
function exec(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; keepStdout?: boolean } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      if (options.keepStdout) out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err = (err + chunk.toString()).slice(-65536);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      resolve({ ms, code, stdout: Buffer.concat(out).toString(), stderr: err });
    });
  });
}

function fail(what: string, ran: Ran): never {
  throw new Error(`${what} exited with ${ran.code}: ${ran.stderr.trim().split('\n').slice(-15).join('\n')}`);
}

// ---- statistics ------------------------------------------------------------------------------

interface Stats {
  unit: string;
  min: number;
  median: number;
  max: number;
  samples: number[];
}

function stats(samples: number[], unit: string): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  const round = (value: number) => Math.round(value * 10) / 10;
  return { unit, min: round(sorted[0]!), median: round(median), max: round(sorted.at(-1)!), samples: samples.map(round) };
}

const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;

// ---- the bench's world -----------------------------------------------------------------------

class Bench {
  readonly env: NodeJS.ProcessEnv;
  private floorLogs = 0;
  /** Layer ids of the reference solution's builds: grading's cache, left in place. */
  readonly solutionLayers = new Set<string>();

  constructor(
    readonly temp: string,
    readonly options: Options,
  ) {
    // Grade writes down the layers its builds create here, not in the user's ledger.
    this.env = { ...process.env, GRADE_STATE_DIR: path.join(temp, 'state'), DOCKER_BUILDKIT: '0', NO_COLOR: '1' };
  }

  token(): string {
    return randomBytes(6).toString('hex');
  }

  /** The reference solution with its alpine FROMs on the offline stand-ins, as test/support/engine.ts makes it. */
  async submission(name: string, options: { unique?: boolean; from?: string } = {}): Promise<string> {
    const dir = path.join(this.temp, 'submissions', `${PREFIX}${name}`);
    await cp(options.from ?? SOLUTION, dir, { recursive: true });
    for (const dockerfile of [path.join(dir, 'Dockerfile'), path.join(dir, 'scratch/Dockerfile')]) {
      const text = await readFile(dockerfile, 'utf8').catch(() => undefined);
      if (text === undefined) continue;
      await writeFile(
        dockerfile,
        text
          .replace(/^FROM alpine:[\d.]+ AS build$/gim, 'FROM grade-fixture/toolchain AS build')
          .replace(/^FROM alpine:[\d.]+$/gim, 'FROM grade-fixture/runtime'),
      );
    }
    // A comment no build has seen: every layer from COPY hello.c on is built anew.
    if (options.unique) await appendFile(path.join(dir, 'hello.c'), `/* bench ${this.token()} */\n`);
    return dir;
  }

  async floor(submission: string, times?: string): Promise<Ran> {
    const log = path.join(this.temp, 'floor-logs', `${String(++this.floorLogs).padStart(4, '0')}.log`);
    const env = times ? { ...this.env, FLOOR_TIMES: times } : this.env;
    const ran = await exec('bash', [FLOOR, submission, log], { env });
    if (ran.code !== 0) fail(`bench/floor.sh ${submission}`, ran);
    return ran;
  }

  /** `grade multi` on one submission, its JSON result parsed. */
  async grade(submission: string, extra: string[] = []): Promise<{ ran: Ran; result: GradeResult }> {
    const ran = await exec('node', [CLI, 'multi', '--dir', submission, '--reporter', 'json', '--build-network', 'none', ...extra], {
      env: this.env,
      keepStdout: true,
    });
    // 0: passed; 1: some required check failed; anything else: it could not grade.
    if (ran.code !== 0 && ran.code !== 1) fail(`grade multi --dir ${submission}`, ran);
    return { ran, result: JSON.parse(ran.stdout) as GradeResult };
  }

  async batch(classDir: string, out: string, jobs: number | undefined, timed = false): Promise<{ ran: Ran; graded: number; peakKb?: number }> {
    const args = [CLI, 'batch', 'multi', classDir, '--out', out, '--build-network', 'none', ...(jobs ? ['--jobs', String(jobs)] : [])];
    const ran = timed ? await exec('/usr/bin/time', ['-v', 'node', ...args], { env: this.env }) : await exec('node', args, { env: this.env });
    if (ran.code !== 0 && ran.code !== 1) fail(`grade batch multi ${classDir}`, ran);
    const summary = JSON.parse(await readFile(path.join(out, 'class.json'), 'utf8')) as { submissions: { student: string; status: string; message: string }[] };
    const notGraded = summary.submissions.filter((row) => row.status !== 'graded');
    if (notGraded.length) throw new Error(`grade batch did not grade ${notGraded.map((row) => `${row.student} (${row.status}: ${row.message})`).join(', ')}`);
    return { ran, graded: summary.submissions.length, peakKb: timed ? peakKb(ran) : undefined };
  }

  async classOf(name: string, size: number): Promise<string> {
    const dir = path.join(this.temp, 'classes', name);
    for (let student = 1; student <= size; student++) {
      const one = await this.submission(`${name}-${String(student).padStart(3, '0')}`, { unique: true });
      await mkdir(dir, { recursive: true });
      await cp(one, path.join(dir, path.basename(one)), { recursive: true });
      await rm(one, { recursive: true });
    }
    return dir;
  }

  /** The floor builds the reference solution once, untimed: its layers are grading's cache, and kept. */
  async warmUp(): Promise<void> {
    const solution = await this.submission(`solution-${this.token()}`);
    const log = path.join(this.temp, 'floor-logs', 'solution.log');
    const ran = await exec('bash', [FLOOR, solution, log], { env: this.env });
    if (ran.code !== 0) fail('bench/floor.sh on the reference solution', ran);
    for (const id of layersOf(await readFile(log, 'utf8')).all) this.solutionLayers.add(id);
    await this.grade(solution);
  }
}

interface GradeResult {
  score: number;
  maxScore: number;
  durationMs: number;
  steps: { id: string; durationMs: number; checks: { id: string; status: string; durationMs: number }[] }[];
}

function peakKb(ran: Ran): number {
  const found = /Maximum resident set size \(kbytes\): (\d+)/.exec(ran.stderr);
  if (!found) throw new Error(`/usr/bin/time -v gave no maximum resident set size: ${ran.stderr.slice(-500)}`);
  return Number(found[1]);
}

/**
 * What a classic builder's output says of each step's image: created (built), cached, or the base
 * image of a FROM (never ours). Layers before the first COPY or ADD of a stage hold no file of the
 * submission: the toolchain, shared by every submission and kept.
 */
export function layersOf(log: string): { created: string[]; contextFree: string[]; all: string[] } {
  const created: string[] = [];
  const contextFree: string[] = [];
  const all: string[] = [];
  let from = false;
  let filesIn = false;
  let cached = false;
  for (const line of log.split('\n')) {
    const step = /^Step \d+\/\d+ : (\S+)/.exec(line);
    if (step) {
      const keyword = step[1]!.toUpperCase();
      from = keyword === 'FROM';
      if (from) filesIn = false;
      if (keyword === 'COPY' || keyword === 'ADD') filesIn = true;
      cached = false;
      continue;
    }
    if (/^ ---> Using cache$/.test(line)) cached = true;
    const image = /^ ---> ([0-9a-f]{12,64})$/.exec(line);
    if (!image || from) continue;
    all.push(image[1]!);
    if (!cached) created.push(image[1]!);
    if (!filesIn) contextFree.push(image[1]!);
  }
  return { created, contextFree, all };
}

// ---- the parts -------------------------------------------------------------------------------

interface Figure {
  label: string;
  stats: Stats;
}

interface Results {
  machine: Record<string, unknown>;
  measuredAt: Record<string, string>;
  figures: Record<string, Figure>;
  ratios: Record<string, number>;
  breakdown?: unknown;
  targets: Target[];
  notes: string[];
}

interface Target {
  id: string;
  what: string;
  limit: string;
  value: number | null;
  met: boolean | null;
}

/** (a) and (b): grade and the floor in turns, each pair in the other order than the last. */
async function pairs(bench: Bench, cold: boolean, results: Results): Promise<void> {
  const kind = cold ? 'cold' : 'warm';
  const grade: number[] = [];
  const floor: number[] = [];
  const gradeSteps: GradeResult[] = [];
  const floorSteps: Record<string, number>[] = [];
  const warm = cold ? undefined : await bench.submission(`warm-${bench.token()}`);
  for (let pair = 0; pair < bench.options.pairs; pair++) {
    const order = pair % 2 ? (['floor', 'grade'] as const) : (['grade', 'floor'] as const);
    for (const which of order) {
      const submission = warm ?? (await bench.submission(`${kind}-${which}-${bench.token()}`, { unique: true }));
      if (which === 'grade') {
        const { ran, result } = await bench.grade(submission);
        if (!cold && result.score !== result.maxScore) throw new Error(`the reference solution scored ${result.score}/${result.maxScore}, not full marks`);
        grade.push(ran.ms);
        gradeSteps.push(result);
      } else {
        const times = path.join(bench.temp, `floor-times-${bench.token()}.txt`);
        floor.push((await bench.floor(submission, times)).ms);
        floorSteps.push(stepTimes(await readFile(times, 'utf8')));
      }
    }
    process.stderr.write(`  ${kind} pair ${pair + 1}/${bench.options.pairs}: grade ${Math.round(grade.at(-1)!)} ms, floor ${Math.round(floor.at(-1)!)} ms\n`);
  }
  results.figures[`${kind}.grade`] = { label: `${kind}: grade multi (ms)`, stats: stats(grade, 'ms') };
  results.figures[`${kind}.floor`] = { label: `${kind}: floor (ms)`, stats: stats(floor, 'ms') };
  results.ratios[`${kind}.grade/floor`] = ratio(stats(grade, 'ms').median, stats(floor, 'ms').median);
  results.breakdown = { ...(results.breakdown as object), [kind]: breakdown(grade, gradeSteps, floorSteps) };
}

function stepTimes(text: string): Record<string, number> {
  const marks = text
    .trim()
    .split('\n')
    .map((line) => line.split(' '))
    .map(([step, at]) => ({ step: step!, at: Number(at) * 1000 }));
  const out: Record<string, number> = {};
  for (let index = 1; index < marks.length; index++) out[marks[index]!.step] = marks[index]!.at - marks[index - 1]!.at;
  return out;
}

type Breakdown = ReturnType<typeof breakdown>;

/** Where the time goes: grade's steps (from its JSON result) beside the floor's, medians in ms. */
function breakdown(wall: number[], results: GradeResult[], floors: Record<string, number>[]) {
  const median = (values: number[]) => (values.length ? stats(values, 'ms').median : null);
  const steps = results[0]?.steps.map((step) => step.id) ?? [];
  const perStep = Object.fromEntries(
    steps.map((id) => {
      const ofStep = results.map((result) => result.steps.find((step) => step.id === id)!);
      const checks = Object.fromEntries(
        ofStep[0]!.checks.map((check) => [check.id, median(ofStep.map((step) => step.checks.find((one) => one.id === check.id)?.durationMs ?? 0))]),
      );
      const checking = ofStep.map((step) => step.checks.reduce((sum, check) => sum + check.durationMs, 0));
      return [
        id,
        {
          grade: median(ofStep.map((step) => step.durationMs)),
          gradeChecks: median(checking),
          gradeActions: median(ofStep.map((step, index) => step.durationMs - checking[index]!)),
          floor: median(floors.map((floor) => floor[id] ?? 0)),
          checks,
        },
      ];
    }),
  );
  return {
    steps: perStep,
    gradeInside: median(results.map((result) => result.durationMs)),
    gradeOutside: median(results.map((result, index) => wall[index]! - result.durationMs)),
    note: "steps: grade step durationMs (gradeActions: builds, compile, runs, start and settle; gradeChecks: the sum of its checks) vs the floor between its marks; grade's steps overlap (scratch-sleep runs beside the main folder's steps), the floor's run one after another; gradeInside: grade durationMs, first step to cleanup; gradeOutside: wall time minus gradeInside (node start, imports, engine handshake, report)",
  };
}

/** (c): the floor once per submission in sequence, then grade batch at each --jobs; each on its own fresh class. */
async function classPart(bench: Bench, results: Results): Promise<void> {
  const size = bench.options.classSize;
  const floorClass = await bench.classOf(`floor-class-${bench.token()}`, size);
  const started = process.hrtime.bigint();
  for (const student of (await readdir(floorClass)).sort()) await bench.floor(path.join(floorClass, student));
  const floorMs = Number(process.hrtime.bigint() - started) / 1e6;
  const floorRate = (size * 60_000) / floorMs;
  process.stderr.write(`  class: floor ${size} in sequence ${Math.round(floorMs)} ms\n`);
  results.figures['class.floor'] = { label: `class of ${size}: floor in sequence (ms)`, stats: stats([floorMs], 'ms') };
  results.figures['class.floor.rate'] = { label: `class of ${size}: floor (submissions/min)`, stats: stats([floorRate], '/min') };
  for (const jobs of bench.options.jobs) {
    const classDir = await bench.classOf(`class-j${jobs}-${bench.token()}`, size);
    const { ran, graded } = await bench.batch(classDir, path.join(bench.temp, `gradebook-j${jobs}`), jobs);
    if (graded !== size) throw new Error(`grade batch --jobs ${jobs} graded ${graded} of ${size}`);
    const rate = (size * 60_000) / ran.ms;
    process.stderr.write(`  class: grade batch --jobs ${jobs}: ${Math.round(ran.ms)} ms\n`);
    results.figures[`class.jobs${jobs}`] = { label: `class of ${size}: grade batch --jobs ${jobs} (ms)`, stats: stats([ran.ms], 'ms') };
    results.figures[`class.jobs${jobs}.rate`] = { label: `class of ${size}: --jobs ${jobs} (submissions/min)`, stats: stats([rate], '/min') };
    results.ratios[`class.jobs${jobs}/floor throughput`] = ratio(rate, floorRate);
  }
}

/** (d): the CLI's start-up, beside node's own. */
async function versionPart(bench: Bench, results: Results): Promise<void> {
  const runs = bench.options.cliRuns;
  const measure = async (args: string[]) => {
    const samples: number[] = [];
    for (let run = 0; run < runs; run++) {
      const ran = await exec('node', args, { env: bench.env });
      if (ran.code !== 0) fail(`node ${args.join(' ')}`, ran);
      samples.push(ran.ms);
    }
    return stats(samples, 'ms');
  };
  results.figures['cli.version'] = { label: 'grade --version (ms)', stats: await measure([CLI, '--version']) };
  results.figures['cli.help'] = { label: 'grade --help (ms)', stats: await measure([CLI, '--help']) };
  results.figures['cli.node'] = { label: 'node -e 0 (ms)', stats: await measure(['-e', '0']) };
}

/** (e): the grade process's peak resident memory (ru_maxrss, from /usr/bin/time -v). */
async function rssPart(bench: Bench, results: Results): Promise<void> {
  const flood = await bench.submission(`flood-${bench.token()}`, { from: FLOOD });
  const ran = await exec(
    '/usr/bin/time',
    ['-v', 'node', CLI, 'multi', '--dir', flood, '--reporter', 'json', '--build-network', 'none', '--run-timeout', bench.options.floodTimeout],
    {
      env: bench.env,
    },
  );
  if (ran.code !== 0 && ran.code !== 1) fail('grade multi on the flood', ran);
  const floodMb = (peakKb(ran) * 1024) / 1e6;
  process.stderr.write(`  rss: flooded ${floodMb.toFixed(1)} MB\n`);
  results.figures['rss.flood'] = { label: 'peak RSS, flooded (MB)', stats: stats([floodMb], 'MB') };
  const size = bench.options.rssClassSize;
  const classDir = await bench.classOf(`rss-class-${bench.token()}`, size);
  const batch = await bench.batch(classDir, path.join(bench.temp, 'gradebook-rss'), undefined, true);
  const classMb = (batch.peakKb! * 1024) / 1e6;
  process.stderr.write(`  rss: class of ${size} ${classMb.toFixed(1)} MB\n`);
  results.figures['rss.class'] = { label: `peak RSS, class of ${size} (MB)`, stats: stats([classMb], 'MB') };
}

// ---- targets, machine, table -----------------------------------------------------------------

function targets(results: Results): Target[] {
  const median = (id: string) => results.figures[id]?.stats.median ?? null;
  const check = (id: string, what: string, limit: string, value: number | null, met: (value: number) => boolean): Target => ({
    id,
    what,
    limit,
    value,
    met: value === null ? null : met(value),
  });
  return [
    check('warm', 'warm grading / floor (medians)', '<= 1.10', results.ratios['warm.grade/floor'] ?? null, (value) => value <= 1.1),
    check('cold', 'cold grading / floor (medians)', '<= 1.10', results.ratios['cold.grade/floor'] ?? null, (value) => value <= 1.1),
    check(
      'jobs2',
      "grade batch --jobs 2 throughput / sequential floor's",
      '>= 1.6',
      results.ratios['class.jobs2/floor throughput'] ?? null,
      (value) => value >= 1.6,
    ),
    check('version', 'grade --version (median ms)', '<= 150', median('cli.version'), (value) => value <= 150),
    check('rss.flood', 'peak RSS while flooded (MB)', '<= 150', median('rss.flood'), (value) => value <= 150),
    // The target is for a class of 50: a figure from another size is shown, not judged.
    check('rss.class', 'peak RSS, class of 50 (MB)', '<= 250', median('rss.class'), (value) => value <= 250),
  ].map((target) =>
    target.id === 'rss.class' && results.figures['rss.class'] && !/class of 50 /.test(results.figures['rss.class'].label) ? { ...target, met: null } : target,
  );
}

async function machine(): Promise<Record<string, unknown>> {
  const info = await exec('docker', ['info', '--format', '{{json .}}'], { keepStdout: true });
  if (info.code !== 0) fail('docker info', info);
  const engine = JSON.parse(info.stdout) as {
    ServerVersion: string;
    Driver: string;
    NCPU: number;
    MemTotal: number;
    KernelVersion: string;
    OperatingSystem: string;
  };
  const commit = await exec('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { keepStdout: true });
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    engine: {
      version: engine.ServerVersion,
      storageDriver: engine.Driver,
      cpus: engine.NCPU,
      memoryBytes: engine.MemTotal,
      os: engine.OperatingSystem,
      kernel: engine.KernelVersion,
    },
    dockerHost: process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock',
    node: process.version,
    // Other work on the machine skews every figure: the load when the bench started.
    loadAverage: os.loadavg().map((load) => Math.round(load * 100) / 100),
    commit: commit.code === 0 ? commit.stdout.trim() : null,
    date: new Date().toISOString(),
  };
}

function table(results: Results): string {
  const rows: string[][] = [['figure', 'min', 'median', 'max', 'unit']];
  for (const figure of Object.values(results.figures)) {
    const { min, median, max, unit } = figure.stats;
    rows.push([figure.label, String(min), String(median), String(max), unit]);
  }
  const lines = [format(rows), '', format([['ratio', 'value'], ...Object.entries(results.ratios).map(([id, value]) => [id, String(value)])]), ''];
  for (const [kind, of] of Object.entries((results.breakdown ?? {}) as Record<string, Breakdown>)) {
    const steps = Object.entries(of.steps).map(([id, step]) => [
      `${kind}: ${id}`,
      ...[step.grade, step.gradeActions, step.gradeChecks, step.floor].map((ms) => String(ms ?? '-')),
    ]);
    lines.push(
      format([
        ['step (median ms)', 'grade', 'actions', 'checks', 'floor'],
        ...steps,
        [`${kind}: all steps (they overlap)`, String(of.gradeInside ?? '-'), '', '', ''],
        [`${kind}: outside grading`, String(of.gradeOutside ?? '-'), '', '', ''],
      ]),
      '',
    );
  }
  lines.push(
    format([
      ['target', 'limit', 'value', 'met'],
      ...results.targets.map((target) => [
        target.what,
        target.limit,
        String(target.value ?? '-'),
        target.met === null ? 'not measured' : target.met ? 'yes' : 'NO',
      ]),
    ]),
  );
  return lines.join('\n');
}

function format(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ')).join('\n');
}

// ---- clean-up --------------------------------------------------------------------------------

/** Containers grade or the floor left under a bench submission's name (a killed run); normally none. */
async function removeContainers(): Promise<string[]> {
  const listed = await exec('docker', ['ps', '-a', '--format', '{{.ID}} {{.Names}} {{.Label "grade.submission"}}'], { keepStdout: true });
  if (listed.code !== 0) return [`could not list containers: ${listed.stderr.trim()}`];
  const ours = listed.stdout
    .split('\n')
    .map((line) => line.split(' '))
    .filter(([id, name, submission]) => id && (name?.startsWith(PREFIX) || submission?.startsWith(PREFIX)))
    .map(([id]) => id!);
  if (ours.length === 0) return [];
  const removed = await exec('docker', ['rm', '-f', ...ours]);
  return removed.code === 0 ? [] : [`containers ${ours.join(' ')}: ${removed.stderr.trim()}`];
}

/** The layers the bench's builds created, less grading's cache of the reference solution and the toolchain layers. */
async function removeImages(bench: Bench): Promise<{ removed: number; problems: string[] }> {
  const created: string[] = [];
  const keep = new Set(bench.solutionLayers);
  const logs = path.join(bench.temp, 'floor-logs');
  for (const file of (await readdir(logs).catch(() => [])).sort()) {
    const layers = layersOf(await readFile(path.join(logs, file), 'utf8'));
    created.push(...layers.created);
    for (const id of layers.contextFree) keep.add(id);
  }
  const state = path.join(bench.temp, 'state');
  for (const file of await readdir(state).catch(() => [])) {
    created.push(...(await readFile(path.join(state, file), 'utf8')).split('\n').filter((line) => /^(sha256:)?[0-9a-f]{12,64}$/.test(line)));
  }
  const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);
  const kept = new Set([...keep].map(short));
  // grade batch removed most of its own already: those are simply no longer there.
  let left = [...new Set(created.map(short))].filter((id) => !kept.has(id)).reverse();
  let removed = 0;
  const problems: string[] = [];
  // A layer goes once its children have: newest first, and again for those still in use.
  for (let pass = 0; pass < 5 && left.length; pass++) {
    const ran = await exec('docker', ['image', 'rm', '--no-prune', ...left], { keepStdout: true });
    removed += ran.stdout.split('\n').filter((line) => line.startsWith('Deleted:')).length;
    const stuck = left.filter((id) => ran.stderr.includes(`unable to delete ${id}`));
    problems.splice(0, problems.length, ...ran.stderr.split('\n').filter((line) => line.includes('unable to delete')));
    left = stuck;
  }
  return { removed, problems: left.length ? problems : [] };
}

// ---- main ------------------------------------------------------------------------------------

async function main(): Promise<number> {
  let options: Options | undefined;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (!options) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const previous = await readFile(options.out, 'utf8')
    .then((text) => JSON.parse(text) as Results)
    .catch(() => undefined);
  const results: Results = {
    machine: await machine(),
    measuredAt: { ...previous?.measuredAt },
    figures: { ...previous?.figures },
    ratios: { ...previous?.ratios },
    breakdown: previous?.breakdown,
    targets: [],
    notes: [
      'Times are wall-clock, spawn to exit, of `node dist/runner/cli/main.js` and of `bash bench/floor.sh` (see its header for what it mirrors).',
      'Peak RSS is ru_maxrss of the grade process from /usr/bin/time -v; MB = 10^6 bytes. The class of part rss runs at the default --jobs (the engine CPU count).',
      'Class figures are one run each, every submission with its own hello.c (built cold); grade batch removes each student’s layers as it goes, the floor does not.',
    ],
  };
  const [load] = os.loadavg();
  if (load! > os.cpus().length)
    process.stderr.write(`bench: warning: the load average is ${load!.toFixed(1)} on ${os.cpus().length} CPUs: other work will skew the figures\n`);
  const temp = await mkdtemp(path.join(os.tmpdir(), PREFIX));
  const bench = new Bench(temp, options);
  await mkdir(path.join(temp, 'floor-logs'));
  const engineParts = (['warm', 'cold', 'class', 'rss'] as const).filter((part) => options.parts.has(part));
  let status = 0;
  try {
    if (engineParts.length) {
      process.stderr.write('bench: warming up on the reference solution\n');
      await bench.warmUp();
    }
    const run: Record<Part, () => Promise<void>> = {
      warm: () => pairs(bench, false, results),
      cold: () => pairs(bench, true, results),
      class: () => classPart(bench, results),
      version: () => versionPart(bench, results),
      rss: () => rssPart(bench, results),
    };
    for (const part of PARTS) {
      if (!options.parts.has(part)) continue;
      process.stderr.write(`bench: ${part}\n`);
      await run[part]();
      results.measuredAt[part] = new Date().toISOString();
    }
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n`);
    status = 1;
  } finally {
    const containers = await removeContainers();
    const images = await removeImages(bench);
    for (const problem of [...containers, ...images.problems]) process.stderr.write(`bench: clean-up: ${problem}\n`);
    process.stderr.write(`bench: removed ${images.removed} image layers the bench's builds created\n`);
    if (options.keepTemp) process.stderr.write(`bench: temp folder kept: ${temp}\n`);
    else await rm(temp, { recursive: true, force: true });
  }
  if (status !== 0) return status;
  results.targets = targets(results);
  await writeFile(options.out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${table(results)}\n\nwritten to ${path.relative(process.cwd(), options.out)}\n`);
  return 0;
}

process.exitCode = await main();
