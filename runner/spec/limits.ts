// The limits every container and build gets, and how a spec and the command line change them.
// Defaults follow trusted autograders: PrairieLearn (30 s per run, no network) and
// autograder-sandbox (a pid limit, capped output). Every default, bound and name comes from the
// one table in limit-table.ts; this file makes the spec's shapes from it.
import type { EngineInfo, Limits } from '../engine/engine.js';
import { DEFAULT_LIMITS, isBounded, LIMIT_TABLE, limitKeys, outOfBounds, formatBound, type BoundedLimit, type LimitRow } from './limit-table.js';
import { duration, number, optional, refine, size, oneOf, type Shape } from './shapes.js';

export {
  DEFAULT_LIMITS,
  formatBound,
  LIMIT_TABLE,
  outOfBounds,
  type BoundedLimit,
  type Bounds,
  type LimitKey,
  type LimitRow,
} from './limit-table.js';

/** The value's form, without its bounds (the flag parser checks them with the flag's own words). */
export function limitValueShape(key: BoundedLimit): Shape<number> {
  const { unit } = LIMIT_TABLE[key];
  return unit === 'size' ? size() : unit === 'duration' ? duration() : number({ integer: unit === 'count' });
}

/** A bounded limit under `limits:` in a spec. */
export function limitShape(key: BoundedLimit): Shape<number> {
  const row = LIMIT_TABLE[key];
  const name = 'specKey' in row ? row.specKey : key;
  return refine(limitValueShape(key), (value) => outOfBounds(row, value, `${name} ${formatBound(row.unit, value)}`, (limit) => `${name}: ${limit}`));
}

type Table = typeof LIMIT_TABLE;
type SpecLimit = { [K in keyof Table]: Table[K] extends { specKey: string } ? K : never }[keyof Table];
type SpecFields = { [K in SpecLimit as Table[K]['specKey']]: Shape<Limits[K] | undefined> };

/** The shape of a row's value as a spec or a flag writes it. */
export function rowShape(key: BoundedLimit | 'buildNetwork'): Shape<number | string> {
  const row: LimitRow = LIMIT_TABLE[key];
  return row.unit === 'choice' ? oneOf(row.choices) : limitValueShape(key as BoundedLimit);
}

const specLimits = limitKeys.filter((key): key is SpecLimit => 'specKey' in LIMIT_TABLE[key]);

/** The fields of `limits:` in exercise.yaml, one per row of the table with a spec key. */
export function limitSpecFields(): SpecFields {
  return Object.fromEntries(
    specLimits.map((key) => {
      const row: LimitRow = LIMIT_TABLE[key];
      return [row.specKey, optional(isBounded(row) ? limitShape(key as BoundedLimit) : rowShape(key))];
    }),
  ) as unknown as SpecFields;
}

type SpecLimits = { [K in keyof SpecFields]?: SpecFields[K] extends Shape<infer T> ? T : never };

/** A spec's `limits:` as overrides of Limits; keys not written stay undefined. */
export function limitsFromSpec(limits: SpecLimits | undefined): Partial<Limits> {
  return Object.fromEntries(specLimits.map((key) => [key, limits?.[LIMIT_TABLE[key].specKey]])) as Partial<Limits>;
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
