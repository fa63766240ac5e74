// The values of the limit flags, read with the same shapes as the spec's `limits:` so both accept
// the same forms, then checked against the table's bounds in the flag's own words.
import { LineCounter, parseDocument } from 'yaml';
import type { Limits } from '../engine/engine.js';
import { isBounded, LIMIT_TABLE, outOfBounds, type LimitKey, type LimitRow, type MachineKey } from '../spec/limit-table.js';
import { rowShape } from '../spec/limits.js';
import { Cursor, duration, INVALID, type Shape } from '../spec/shapes.js';
import { SettingError, UsageError } from './command-line.js';

function flagValue(flag: string, text: string, shape: Shape<number | string>, row: LimitRow): number | string {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const cursor = new Cursor({ file: `--${flag}`, lineCounter }, [], null);
  const value = shape.parse(doc.contents as never, cursor);
  if (value === INVALID) throw new UsageError(`--${flag} ${text}: ${cursor.issues[0]?.message ?? `expected ${shape.expects}`}`);
  const problem = isBounded(row) && typeof value === 'number' ? outOfBounds(row, value, `--${flag} ${text}`, (limit) => `--${flag} ${limit}`) : undefined;
  if (problem) throw new SettingError(problem);
  return value;
}

/** The limits the flags set (commander's option values, keyed by the flag's camel-cased name). */
export function limitsFromFlags(values: Record<string, unknown>): Partial<Limits> {
  const limits: Record<string, number | string> = {};
  for (const key of Object.keys(LIMIT_TABLE) as LimitKey[]) {
    const row: LimitRow = LIMIT_TABLE[key];
    if (!row.flag || !row.specKey) continue;
    const text = values[camelCase(row.flag)];
    if (typeof text === 'string') limits[key] = flagValue(row.flag, text, rowShape(key as Parameters<typeof rowShape>[0]), row);
  }
  return limits as Partial<Limits>;
}

/** `--engine-timeout`, or the table's default. */
export function engineTimeoutFromFlags(values: Record<string, unknown>): number {
  return machineSettingFromFlags(values, 'engineTimeoutMs');
}

/** A setting of the grading machine (`--engine-timeout`, `--submission-timeout`), or the table's default. */
export function machineSettingFromFlags(values: Record<string, unknown>, key: MachineKey): number {
  const row = LIMIT_TABLE[key];
  const text = values[camelCase(row.flag)];
  return typeof text === 'string' ? Number(flagValue(row.flag, text, duration(), row)) : row.default;
}

/** commander's name for a flag's value: `--run-timeout` is `runTimeout`. */
const camelCase = (flag: string) => flag.replace(/-(.)/g, (_, letter: string) => letter.toUpperCase());

/** A duration flag outside the table (`--other-hosts-after 2h`): at least a second, at most a week. */
export function parseDurationFlag(flag: string, text: string): number {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const cursor = new Cursor({ file: flag, lineCounter }, [], null);
  const value = duration({ min: 1000, max: 7 * 24 * 60 * 60_000 }).parse(doc.contents as never, cursor);
  if (value === INVALID) throw new UsageError(`${flag} ${text}: ${cursor.issues[0]?.message ?? 'expected a duration such as 90s, 30m or 6h'}`);
  return value;
}
