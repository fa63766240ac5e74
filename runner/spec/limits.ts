// The limits every container and build gets, their bounds, and how a spec and the command line
// change them. Defaults follow trusted autograders: PrairieLearn (30 s per run, no network) and
// autograder-sandbox (a pid limit, capped output). The bounds table below is the one the flag
// parser, the spec's `limits:` shape and the README's Limits table all follow.
import { DEFAULT_ENGINE_TIMEOUT_MS, type EngineInfo, type Limits } from '../engine/engine.js';
import { duration, number, optional, refine, size, oneOf, type Shape } from './shapes.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

export const DEFAULT_LIMITS: Limits = {
  runTimeoutMs: 30_000,
  buildTimeoutMs: 5 * 60_000,
  memoryBytes: 512 * MiB,
  pids: 512,
  cpus: 1,
  outputBytes: MiB,
  buildNetwork: 'none',
  contextBytes: 50 * 1000 * 1000,
  contextFiles: 10_000,
};

/** The limits a flag or a spec may set and that have a numeric range. */
export type BoundedLimit = 'runTimeoutMs' | 'buildTimeoutMs' | 'memoryBytes' | 'pids' | 'cpus' | 'outputBytes';

export interface LimitBound {
  /** `--<flag>` on the command line. */
  flag: string;
  /** The key under `limits:` in exercise.yaml. */
  specKey: string;
  unit: 'duration' | 'size' | 'count' | 'cpus';
  min: number;
  max: number;
  /** Why the minimum is what it is, said when a value is below it. */
  belowMin: string;
  /** Why the maximum is what it is, said when a value is above it. */
  aboveMax: string;
}

export const LIMIT_BOUNDS: Record<BoundedLimit, LimitBound> = {
  runTimeoutMs: {
    flag: 'run-timeout', specKey: 'runTimeout', unit: 'duration', min: 1000, max: 10 * 60_000,
    belowMin: 'a container needs about a second just to start',
    aboveMax: 'a program of a course exercise that runs longer is stuck',
  },
  buildTimeoutMs: {
    flag: 'build-timeout', specKey: 'buildTimeout', unit: 'duration', min: 10_000, max: 60 * 60_000,
    belowMin: 'even a cached build needs a few seconds',
    aboveMax: 'a build that takes longer is stuck',
  },
  memoryBytes: {
    flag: 'memory', specKey: 'memory', unit: 'size', min: 64 * MiB, max: 16 * GiB,
    belowMin: 'the builder and a compiler need that much; below it the grader\'s own build steps fail',
    aboveMax: 'more than any course exercise needs',
  },
  pids: {
    flag: 'pids', specKey: 'pids', unit: 'count', min: 16, max: 100_000,
    belowMin: 'a shell and a compiler start several processes',
    aboveMax: 'more only lets a fork bomb grow further',
  },
  cpus: {
    flag: 'cpus', specKey: 'cpus', unit: 'cpus', min: 0.1, max: 64,
    belowMin: 'less makes every program crawl',
    aboveMax: 'no grading machine needs more; more than the engine has is lowered to what it has',
  },
  outputBytes: {
    flag: 'output-limit', specKey: 'output', unit: 'size', min: KiB, max: 64 * MiB,
    belowMin: 'a program\'s output needs room for at least a few lines, and the engine refuses a smaller log',
    aboveMax: 'output is kept in memory, and no check reads that much',
  },
};

/** How long the engine has to answer any one request, and to keep answering during a long one. */
export const ENGINE_TIMEOUT = {
  flag: 'engine-timeout',
  defaultMs: DEFAULT_ENGINE_TIMEOUT_MS,
  min: 1000,
  max: 10 * 60_000,
  belowMin: 'a busy engine can take a second to answer',
  aboveMax: 'an engine silent for longer has stopped',
} as const;

/** A value as a user would write it: 64MiB, 1MB, 30s, 5m, 0.5. */
export function formatBound(unit: LimitBound['unit'], value: number): string {
  if (value === 0) return '0';
  if (unit === 'size') {
    for (const [name, factor] of [['GiB', GiB], ['MiB', MiB], ['KiB', KiB], ['GB', 1e9], ['MB', 1e6], ['kB', 1e3]] as const) {
      if (value >= factor && value % factor === 0) return `${value / factor}${name}`;
    }
    return `${value}B`;
  }
  if (unit === 'duration') {
    if (value >= 60_000 && value % 60_000 === 0) return `${value / 60_000}m`;
    if (value >= 1000 && value % 1000 === 0) return `${value / 1000}s`;
    return `${value}ms`;
  }
  return String(value);
}

type Bounds = Pick<LimitBound, 'unit' | 'min' | 'max' | 'belowMin' | 'aboveMax'>;

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

/** The value's form, without its bounds (the flag parser checks them with the flag's own words). */
export function limitValueShape(key: BoundedLimit): Shape<number> {
  const { unit } = LIMIT_BOUNDS[key];
  return unit === 'size' ? size() : unit === 'duration' ? duration() : number({ integer: unit === 'count' });
}

/** A bounded limit under `limits:` in a spec. */
export function limitShape(key: BoundedLimit): Shape<number> {
  const bound = LIMIT_BOUNDS[key];
  return refine(limitValueShape(key), (value) =>
    outOfBounds(bound, value, `${bound.specKey} ${formatBound(bound.unit, value)}`, (limit) => `${bound.specKey}: ${limit}`),
  );
}

/** The bounds of the engine timeout, in the same form as a limit's. */
export const ENGINE_TIMEOUT_BOUNDS: Bounds = { ...ENGINE_TIMEOUT, unit: 'duration' };

export const buildNetworkShape = () => oneOf(['none', 'default'] as const);

/** The fields of `limits:` in exercise.yaml. */
export function limitSpecFields() {
  return {
    runTimeout: optional(limitShape('runTimeoutMs')),
    buildTimeout: optional(limitShape('buildTimeoutMs')),
    memory: optional(limitShape('memoryBytes')),
    pids: optional(limitShape('pids')),
    cpus: optional(limitShape('cpus')),
    output: optional(limitShape('outputBytes')),
    buildNetwork: optional(buildNetworkShape()),
  };
}

type SpecLimits = { [K in keyof ReturnType<typeof limitSpecFields>]?: ReturnType<typeof limitSpecFields>[K] extends Shape<infer T> ? T : never };

/** A spec's `limits:` as overrides of Limits; keys not written stay undefined. */
export function limitsFromSpec(limits: SpecLimits | undefined): Partial<Limits> {
  return {
    runTimeoutMs: limits?.runTimeout,
    buildTimeoutMs: limits?.buildTimeout,
    memoryBytes: limits?.memory,
    pids: limits?.pids,
    cpus: limits?.cpus,
    outputBytes: limits?.output,
    buildNetwork: limits?.buildNetwork,
  };
}

/** Later layers win: defaults, then the exercise's spec, then the command line. */
export function resolveLimits(...layers: Partial<Limits>[]): Limits {
  const limits = { ...DEFAULT_LIMITS };
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer) as [keyof Limits, Limits[keyof Limits] | undefined][]) {
      if (value !== undefined) (limits as Record<keyof Limits, unknown>)[key] = value;
    }
  }
  return limits;
}

/**
 * Limits the engine at hand can honour. More CPUs than the engine has are lowered to what it has,
 * with a note, rather than refused: the CPU share only bounds speed, so a spec written on a large
 * machine still grades the same on a laptop (the engine itself would refuse the container).
 */
export function fitToEngine(limits: Limits, engine: Pick<EngineInfo, 'cpus'>): { limits: Limits; note?: string } {
  const available = engine.cpus;
  if (!available || limits.cpus <= available) return { limits };
  return {
    limits: { ...limits, cpus: available },
    note: `cpus ${limits.cpus}: the engine has ${available} CPU${available === 1 ? '' : 's'}; using ${available}`,
  };
}
