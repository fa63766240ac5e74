// The one table of limits: per limit its key, spec key, flag, form, default, bounds and help. The
// spec's `limits:` fields, the flags, the usage text and the README's Limits table are made from
// it. It imports no parser, so `grade --help` can read it without loading the spec loader.
import { DEFAULT_ENGINE_TIMEOUT_MS, type Limits } from '../engine/engine.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

export type NumericUnit = 'duration' | 'size' | 'count' | 'cpus';

interface RowBase {
  /** The limit's name in the README. */
  readonly label: string;
  /** The key under `limits:` in exercise.yaml; none for a setting of the machine, not the exercise. */
  readonly specKey?: string;
  /** `--<flag>` on the command line. */
  readonly flag?: string;
  /** What the flag does, for the usage text. */
  readonly help?: string;
  /** Said after the spec key in the README. */
  readonly specNote?: string;
}

export interface BoundedRow extends RowBase {
  readonly unit: NumericUnit;
  readonly default: number;
  readonly min: number;
  readonly max: number;
  /** Why the minimum is what it is, said when a value is below it. */
  readonly belowMin: string;
  /** Why the maximum is what it is, said when a value is above it. */
  readonly aboveMax: string;
  /** Said after the bounds in the README. */
  readonly boundsNote?: string;
}

export interface ChoiceRow extends RowBase {
  readonly unit: 'choice';
  readonly choices: readonly string[];
  readonly default: string;
}

/** A limit neither a spec nor a flag changes. */
export interface FixedRow extends RowBase {
  readonly unit: NumericUnit;
  readonly default: number;
}

export type LimitRow = BoundedRow | ChoiceRow | FixedRow;

/** Settings of the grading machine rather than of the exercise: flags only, never in a spec. */
export type MachineKey = 'engineTimeoutMs' | 'submissionTimeoutMs';

/** Every limit of a run, and the machine's settings. */
export type LimitKey = keyof Limits | MachineKey;

export const LIMIT_TABLE = {
  runTimeoutMs: {
    label: 'run timeout',
    specKey: 'runTimeout',
    flag: 'run-timeout',
    unit: 'duration',
    default: 30_000,
    min: 1000,
    max: 10 * 60_000,
    help: 'wall-clock limit per container run',
    belowMin: 'a container needs about a second just to start',
    aboveMax: 'a program of a course exercise that runs longer is stuck',
  },
  buildTimeoutMs: {
    label: 'build timeout',
    specKey: 'buildTimeout',
    flag: 'build-timeout',
    unit: 'duration',
    default: 5 * 60_000,
    min: 10_000,
    max: 60 * 60_000,
    help: 'wall-clock limit per image build',
    belowMin: 'even a cached build needs a few seconds',
    aboveMax: 'a build that takes longer is stuck',
  },
  memoryBytes: {
    label: 'memory (runs and builds)',
    specKey: 'memory',
    flag: 'memory',
    unit: 'size',
    default: 512 * MiB,
    min: 64 * MiB,
    max: 16 * GiB,
    help: 'memory per container and build, swap not allowed',
    belowMin: "the builder and a compiler need that much; below it the grader's own build steps fail",
    aboveMax: 'more than any course exercise needs',
  },
  pids: {
    label: 'processes',
    specKey: 'pids',
    flag: 'pids',
    unit: 'count',
    default: 512,
    min: 16,
    max: 100_000,
    help: 'process limit per container',
    belowMin: 'a shell and a compiler start several processes',
    aboveMax: 'more only lets a fork bomb grow further',
  },
  cpus: {
    label: 'CPUs',
    specKey: 'cpus',
    flag: 'cpus',
    unit: 'cpus',
    default: 1,
    min: 0.1,
    max: 64,
    help: 'CPU share per container',
    boundsNote: 'and at most what the engine has',
    belowMin: 'less makes every program crawl',
    aboveMax: 'no grading machine needs more; more than the engine has is lowered to what it has',
  },
  outputBytes: {
    label: 'output kept per stream',
    specKey: 'output',
    flag: 'output-limit',
    unit: 'size',
    default: MiB,
    min: KiB,
    max: 64 * MiB,
    help: 'output kept per stream of a run',
    belowMin: "a program's output needs room for at least a few lines, and the engine refuses a smaller log",
    aboveMax: 'output is kept in memory, and no check reads that much',
  },
  buildNetwork: {
    label: 'build network',
    specKey: 'buildNetwork',
    flag: 'build-network',
    unit: 'choice',
    choices: ['none', 'default'],
    default: 'none',
    help: 'network for builds',
  },
  contextBytes: { label: 'build context size', unit: 'size', default: 50 * 1000 * 1000 },
  contextFiles: { label: 'build context files', unit: 'count', default: 10_000 },
  engineTimeoutMs: {
    label: 'engine timeout',
    flag: 'engine-timeout',
    unit: 'duration',
    default: DEFAULT_ENGINE_TIMEOUT_MS,
    min: 1000,
    max: 10 * 60_000,
    help: 'how long the Docker engine may go without answering',
    specNote: '(a flag only: it is about the machine, not the exercise)',
    belowMin: 'a busy engine can take a second to answer',
    aboveMax: 'an engine silent for longer has stopped',
  },
  submissionTimeoutMs: {
    label: 'submission timeout',
    flag: 'submission-timeout',
    unit: 'duration',
    default: 20 * 60_000,
    min: 10_000,
    max: 6 * 60 * 60_000,
    help: '`grade batch`: wall-clock limit per submission; past it the submission is marked timed out',
    specNote: '(a flag of `grade batch` only)',
    belowMin: 'even a cached submission needs a few seconds',
    aboveMax: 'a submission that takes longer is stuck',
  },
} as const satisfies Record<LimitKey, LimitRow>;

type Table = typeof LIMIT_TABLE;

/** The limits with a numeric range that a flag or a spec may set. */
export type BoundedLimit = { [K in keyof Table]: Table[K] extends { min: number } ? K : never }[keyof Table];

export const limitKeys = Object.keys(LIMIT_TABLE) as LimitKey[];

const MACHINE_KEYS: readonly MachineKey[] = ['engineTimeoutMs', 'submissionTimeoutMs'];

export function isBounded(row: LimitRow): row is BoundedRow {
  return 'min' in row;
}

export const DEFAULT_LIMITS = Object.fromEntries(
  limitKeys.filter((key) => !MACHINE_KEYS.includes(key as MachineKey)).map((key) => [key, LIMIT_TABLE[key].default]),
) as unknown as Limits;

/** A value as a user would write it: 64MiB, 1MB, 30s, 5m, 0.5. */
export function formatBound(unit: NumericUnit, value: number): string {
  if (value === 0) return '0';
  if (unit === 'size') {
    for (const [name, factor] of [
      ['GiB', GiB],
      ['MiB', MiB],
      ['KiB', KiB],
      ['GB', 1e9],
      ['MB', 1e6],
      ['kB', 1e3],
    ] as const) {
      if (value >= factor && value % factor === 0) return `${value / factor}${name}`;
    }
    return `${value}B`;
  }
  if (unit === 'duration') {
    if (value >= 3_600_000 && value % 3_600_000 === 0) return `${value / 3_600_000}h`;
    if (value >= 60_000 && value % 60_000 === 0) return `${value / 60_000}m`;
    if (value >= 1000 && value % 1000 === 0) return `${value / 1000}s`;
    return `${value}ms`;
  }
  return String(value);
}

export type Bounds = Pick<BoundedRow, 'unit' | 'min' | 'max' | 'belowMin' | 'aboveMax'>;

/**
 * Why `value` is out of `bound`, or undefined when it is inside: "`subject` is below the minimum
 * of 64MiB (why): use `fix(64MiB)` or more".
 */
export function outOfBounds(bound: Bounds, value: number, subject: string, fix: (limit: string) => string): string | undefined {
  const min = formatBound(bound.unit, bound.min);
  const max = formatBound(bound.unit, bound.max);
  if (value < bound.min) return `${subject} is below the minimum of ${min} (${bound.belowMin}): use ${fix(min)} or more`;
  if (value > bound.max) return `${subject} is above the maximum of ${max} (${bound.aboveMax}): use ${fix(max)} or less`;
  return undefined;
}

/** The rows a flag sets, in table order. */
export function flagRows(): [LimitKey, LimitRow & { flag: string; help: string }][] {
  return limitKeys.flatMap((key) => {
    const row: LimitRow = LIMIT_TABLE[key];
    return row.flag && row.help ? [[key, row as LimitRow & { flag: string; help: string }]] : [];
  });
}

const valueNames = { duration: 'T', size: 'SIZE', count: 'N', cpus: 'N', choice: 'MODE' } as const;

/** The placeholder of a flag's value in the usage text: `--memory SIZE`. */
export function flagValueName(row: LimitRow): string {
  return valueNames[row.unit];
}

function formatDefault(row: LimitRow): string {
  return row.unit === 'choice' ? row.default : formatBound(row.unit, row.default);
}

/** The usage text's description of a flag: its help, its form and its default. */
export function flagDescription(row: LimitRow & { help: string }): string {
  if (row.unit === 'choice') return `${row.help}: ${row.choices.join(' or ')} (default: as the exercise says, else ${row.default})`;
  return `${row.help} (default ${formatDefault(row)})`;
}

/** The README's Limits table, row for row. */
export function limitsReadmeTable(): string {
  const lines = ['| limit | default | bounds | flag | spec key (`limits:` in exercise.yaml) |', '| --- | --- | --- | --- | --- |'];
  for (const key of limitKeys) {
    const row: LimitRow = LIMIT_TABLE[key];
    const bounds =
      row.unit === 'choice'
        ? row.choices.join(' or ')
        : isBounded(row)
          ? [`${formatBound(row.unit, row.min)} to ${formatBound(row.unit, row.max)}`, row.boundsNote].filter(Boolean).join(', ')
          : 'fixed';
    const value = row.unit === 'choice' ? row.choices.join('\\|') : formatDefault(row);
    const flag = row.flag ? `\`--${row.flag} ${value}\`` : '';
    const spec = [row.specKey ? `\`${row.specKey}\`` : '', row.specNote].filter(Boolean).join(' ');
    lines.push(`| ${row.label} | ${formatDefault(row)} | ${bounds} | ${flag} | ${spec} |`);
  }
  return lines.join('\n');
}
