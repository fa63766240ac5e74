// A small strict validator over YAML syntax trees: every problem is reported with the file, line
// and column of the offending node, unknown keys list the valid ones, and defaults are filled in
// here so nothing downstream guesses one. Each shape also describes itself as JSON Schema.
import { RE2JS } from 're2js';
import { editDistance } from '../text/edit-distance.js';
import { isAlias, isMap, isScalar, isSeq, type LineCounter, type Node, type Pair, type YAMLMap } from 'yaml';

export interface SpecIssue {
  file: string;
  line: number;
  col: number;
  message: string;
}

export class SpecError extends Error {
  constructor(readonly issues: SpecIssue[]) {
    super(issues.map((issue) => `${issue.file}:${issue.line}:${issue.col}: ${issue.message}`).join('\n'));
    this.name = 'SpecError';
  }
}

export interface Source {
  file: string;
  lineCounter: LineCounter;
}

/** Where validation is: the source, the node being read (for positions) and the issues so far. */
export class Cursor {
  constructor(
    readonly source: Source,
    readonly issues: SpecIssue[],
    readonly node: Node | null,
  ) {}

  at(node: Node | null | undefined): Cursor {
    return new Cursor(this.source, this.issues, node ?? this.node);
  }

  report(message: string, node: Node | null | undefined = this.node): typeof INVALID {
    const offset = node?.range?.[0] ?? 0;
    const { line, col } = this.source.lineCounter.linePos(offset);
    this.issues.push({ file: this.source.file, line, col, message });
    return INVALID;
  }
}

export const INVALID: unique symbol = Symbol('invalid');
export type Parsed<T> = T | typeof INVALID;

export interface Shape<T> {
  /** How the value is described in messages: "a string", "one of: a, b". */
  readonly expects: string;
  parse(node: Node | null, at: Cursor): Parsed<T>;
  jsonSchema(): Record<string, unknown>;
  /** Set by optional(): a missing key is not an error and yields `fallback`. */
  readonly optional?: { fallback: T };
}

export type Infer<S> = S extends Shape<infer T> ? T : never;
export type Fields = Record<string, Shape<unknown>>;
export type InferFields<F extends Fields> = { [K in keyof F]: Infer<F[K]> };

function scalarValue(node: Node | null): unknown {
  return isScalar(node) ? node.value : undefined;
}

/** A found value in words, for messages: "string \"x\"", "a list", "nothing". */
export function describeNode(node: Node | null): string {
  if (node === null) return 'nothing';
  if (isAlias(node)) return `an alias (*${node.source}) to a mapping or list: write the value out`;
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  const value = scalarValue(node);
  if (typeof value === 'number' && !Number.isFinite(value)) return `number ${value}`;
  return value === null ? 'null' : `${typeof value} ${JSON.stringify(value)}`;
}

function scalar<T>(expects: string, schema: Record<string, unknown>, accept: (value: unknown) => T | undefined): Shape<T> {
  return {
    expects,
    parse(node, at) {
      const value = accept(scalarValue(node));
      return value === undefined ? at.report(`expected ${expects}, found ${describeNode(node)}`, node) : value;
    },
    jsonSchema: () => schema,
  };
}

export function string(options: { pattern?: RegExp; patternName?: string } = {}): Shape<string> {
  const { pattern, patternName } = options;
  const expects = patternName ?? 'a string';
  const schema: Record<string, unknown> = { type: 'string', minLength: 1 };
  if (pattern) schema.pattern = pattern.source;
  return scalar(expects, schema, (value) => (typeof value === 'string' && value.length > 0 && (!pattern || pattern.test(value)) ? value : undefined));
}

/** Any text, including the empty string, kept exactly (for expected program output). */
export function text(): Shape<string> {
  return scalar('a string', { type: 'string' }, (value) => (typeof value === 'string' ? value : undefined));
}

export function number(options: { min?: number; max?: number; integer?: boolean } = {}): Shape<number> {
  const { min, max, integer } = options;
  const bounds = [min !== undefined ? `>= ${min}` : '', max !== undefined ? `<= ${max}` : ''].filter(Boolean).join(' and ');
  const expects = `${integer ? 'a whole number' : 'a number'}${bounds ? ` ${bounds}` : ''}`;
  const schema: Record<string, unknown> = { type: integer ? 'integer' : 'number' };
  if (min !== undefined) schema.minimum = min;
  if (max !== undefined) schema.maximum = max;
  return scalar(expects, schema, (value) =>
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!integer || Number.isInteger(value)) &&
    (min === undefined || value >= min) &&
    (max === undefined || value <= max)
      ? value
      : undefined,
  );
}

export function boolean(): Shape<boolean> {
  return scalar('true or false', { type: 'boolean' }, (value) => (typeof value === 'boolean' ? value : undefined));
}

export function oneOf<const T extends string>(choices: readonly T[]): Shape<T> {
  return scalar(`one of: ${choices.join(', ')}`, { enum: choices }, (value) => (choices.includes(value as T) ? (value as T) : undefined));
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/** A size in bytes, written as a number or with a unit: "10MB" (SI, as docker prints), "1MiB". */
export function size(): Shape<number> {
  const schema = {
    anyOf: [
      { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'bytes' },
      // What the parser takes: the text is trimmed and its unit read case-insensitively.
      {
        type: 'string',
        pattern: '^\\s*\\d+(\\.\\d+)?\\s*([kKmMgG][iI]?)?[bB]\\s*$',
        description: 'a number and a unit: B, kB, MB, GB (SI, as docker prints), KiB, MiB, GiB',
      },
    ],
  };
  return scalar('a size such as 10MB, 512kB or 1MiB', schema, (value) => {
    // Safe integers only: "1e400MB" is Infinity, which no bound can compare sensibly.
    if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
    const match = typeof value === 'string' ? /^(\d+(?:\.\d+)?)\s*([kmg]?i?b)$/i.exec(value.trim()) : null;
    const unit = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
    const bytes = match && unit ? Math.round(Number(match[1]) * unit) : undefined;
    return bytes !== undefined && Number.isSafeInteger(bytes) ? bytes : undefined;
  });
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration in milliseconds, written "500ms", "30s", "5m" or "2h". */
export function duration(options: { min?: number; max?: number } = {}): Shape<number> {
  // The lookahead wants a non-zero digit: "0s" is no duration.
  const schema = { type: 'string', pattern: '^\\s*(?=[^1-9]*[1-9])\\d+(\\.\\d+)?(ms|s|m|h)\\s*$' };
  return scalar('a duration such as 500ms, 30s, 5m or 2h', schema, (value) => {
    const match = typeof value === 'string' ? /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value.trim()) : null;
    const ms = match ? Number(match[1]) * DURATION_UNITS[match[2]!]! : undefined;
    return ms !== undefined && ms > 0 && ms >= (options.min ?? 0) && (options.max === undefined || ms <= options.max) ? ms : undefined;
  });
}

/**
 * A regular expression that matches in time linear in the text: RE2's semantics, through re2js
 * (pure JavaScript, so it installs anywhere). Backtracking engines take exponential time on
 * patterns such as `^(a+)+$`, and a spec's pattern meets output a submission controls: with a
 * backtracking engine, one pattern could stall grading for hours. RE2 refuses what it cannot run
 * in linear time (backreferences, lookaround): those are spec errors at load.
 */
export interface Pattern {
  readonly source: string;
  test(text: string): boolean;
}

/** Longer patterns cost more per byte of output; none a spec needs comes near this. */
const MAX_PATTERN_LENGTH = 1000;

export function compilePattern(source: string): Pattern {
  if (source.length > MAX_PATTERN_LENGTH) throw new Error(`longer than ${MAX_PATTERN_LENGTH} characters`);
  const compiled = RE2JS.compile(source);
  return { source, test: (text) => compiled.matcher(text).find() };
}

/** A regular expression (RE2 syntax), compiled at load so a broken one is a spec error with its position. */
export function regex(): Shape<Pattern> {
  return {
    expects: 'a regular expression',
    parse(node, at) {
      const value = scalarValue(node);
      if (typeof value !== 'string') return at.report(`expected a regular expression, found ${describeNode(node)}`, node);
      try {
        return compilePattern(value);
      } catch (error) {
        const reason = (error as Error).message.replace(/^error parsing regexp: /, '');
        return at.report(
          `invalid regular expression ${JSON.stringify(value)}: ${reason} (patterns use RE2 syntax, which runs in linear time: no backreferences or lookaround)`,
          node,
        );
      }
    },
    jsonSchema: () => ({
      type: 'string',
      format: 'regex',
      maxLength: MAX_PATTERN_LENGTH,
      description: 'A regular expression in RE2 syntax, matched in linear time: no backreferences or lookaround.',
    }),
  };
}

/** A list; `unique` refuses an item written twice (for lists of plain values, such as names). */
export function list<T>(item: Shape<T>, options: { min?: number; unique?: boolean } = {}): Shape<T[]> {
  const min = options.min ?? 0;
  return {
    expects: `a list of ${item.expects}`,
    parse(node, at) {
      if (!isSeq(node)) return at.report(`expected a list, found ${describeNode(node)}`, node);
      if (node.items.length < min) return at.report(`expected at least ${min} item(s)`, node);
      const values: T[] = [];
      let valid = true;
      for (const child of node.items) {
        const value = item.parse(child as Node | null, at.at(child as Node));
        if (value === INVALID) valid = false;
        else if (options.unique && values.includes(value)) {
          at.report(`${JSON.stringify(value)} is listed twice`, child as Node);
          valid = false;
        } else values.push(value);
      }
      return valid ? values : INVALID;
    },
    jsonSchema: () => ({ type: 'array', items: item.jsonSchema(), ...(min ? { minItems: min } : {}), ...(options.unique ? { uniqueItems: true } : {}) }),
  };
}

/** One value or a list of them, always read as a list. */
export function oneOrMany<T>(item: Shape<T>): Shape<T[]> {
  const many = list(item, { min: 1 });
  return {
    expects: `${item.expects} or a list of them`,
    parse: (node, at) => (isSeq(node) ? many.parse(node, at) : mapParsed(item.parse(node, at), (value) => [value])),
    jsonSchema: () => ({ anyOf: [item.jsonSchema(), many.jsonSchema()] }),
  };
}

export function optional<T>(shape: Shape<T>): Shape<T | undefined>;
export function optional<T>(shape: Shape<T>, fallback: T): Shape<T>;
export function optional<T>(shape: Shape<T>, fallback?: T): Shape<T | undefined> {
  return {
    ...shape,
    parse: shape.parse.bind(shape),
    jsonSchema: () => withDefault(shape.jsonSchema(), fallback),
    optional: { fallback },
  };
}

/**
 * The fallback as the schema's `default`, for editors to offer, when it is written as the spec
 * writes it: `part: all` is, but a duration's fallback is already milliseconds, not "1s".
 */
function withDefault(schema: Record<string, unknown>, fallback: unknown): Record<string, unknown> {
  const type = typeof fallback;
  const written =
    (Array.isArray(schema.enum) && schema.enum.includes(fallback)) ||
    (type === 'boolean' && schema.type === 'boolean') ||
    (type === 'string' && schema.type === 'string' && !schema.pattern) ||
    (type === 'number' && (schema.type === 'number' || (schema.type === 'integer' && Number.isInteger(fallback))));
  return written ? { ...schema, default: fallback } : schema;
}

/** The shape with a description, which its JSON Schema carries for editors to show. */
export function describe<S extends Shape<unknown>>(shape: S, description: string): S {
  return { ...shape, jsonSchema: () => ({ ...shape.jsonSchema(), description }) };
}

export function mapParsed<T, U>(value: Parsed<T>, fn: (value: T) => U): Parsed<U> {
  return value === INVALID ? INVALID : fn(value);
}

/** Checks a shape's value further once it has parsed, reporting at the node. */
export function refine<T>(shape: Shape<T>, check: (value: T) => string | undefined): Shape<T> {
  return {
    ...shape,
    parse(node, at) {
      const value = shape.parse(node, at);
      if (value === INVALID) return INVALID;
      const problem = check(value);
      return problem ? at.report(problem, node) : value;
    },
  };
}

export function pairsOf(node: YAMLMap): Pair<Node, Node | null>[] {
  return node.items as Pair<Node, Node | null>[];
}

export function keyOf(pair: Pair<Node, Node | null>): string {
  return String(scalarValue(pair.key));
}

/** The closest of `choices` to `word`, when it is close enough to be a likely typo. */
export function suggest(word: string, choices: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const choice of choices) {
    const distance = editDistance(word.toLowerCase(), choice.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [choice, distance];
  }
  return best;
}

export function unknownKeyMessage(key: string, valid: readonly string[]): string {
  const guess = suggest(key, valid);
  return `unknown key "${key}"${guess ? ` (did you mean "${guess}"?)` : ''}; valid keys: ${valid.join(', ')}`;
}

export function object<F extends Fields>(fields: F): Shape<InferFields<F>> & { fields: F } {
  const names = Object.keys(fields);
  return {
    fields,
    expects: 'a mapping',
    parse(node, at) {
      if (!isMap(node)) return at.report(`expected a mapping with keys ${names.join(', ')}, found ${describeNode(node)}`, node);
      return parseFields(fields, node, at, new Set());
    },
    jsonSchema: () => fieldsSchema(fields),
  };
}

/**
 * Reads `fields` from a mapping; keys in `alsoAllowed` belong to someone else and are left alone.
 * Keys in `handled` were judged by the caller already: skipped, and not offered as valid keys.
 */
export function parseFields<F extends Fields>(
  fields: F,
  node: YAMLMap,
  at: Cursor,
  alsoAllowed: Set<string>,
  handled: ReadonlySet<string> = new Set(),
): Parsed<InferFields<F>> {
  const names = Object.keys(fields);
  const result: Record<string, unknown> = {};
  const seen = new Set<string>();
  let valid = true;
  for (const pair of pairsOf(node)) {
    const key = keyOf(pair);
    if (alsoAllowed.has(key) || handled.has(key)) continue;
    const shape = fields[key];
    if (!shape) {
      at.report(unknownKeyMessage(key, [...names, ...alsoAllowed]), pair.key);
      valid = false;
      continue;
    }
    seen.add(key);
    const value = shape.parse(pair.value, at.at(pair.value ?? pair.key));
    if (value === INVALID) valid = false;
    else result[key] = value;
  }
  for (const name of names) {
    if (seen.has(name)) continue;
    const shape = fields[name]!;
    if (shape.optional) {
      if (shape.optional.fallback !== undefined) result[name] = shape.optional.fallback;
    } else {
      at.report(`missing key "${name}" (${shape.expects})`, node);
      valid = false;
    }
  }
  return valid ? (result as InferFields<F>) : INVALID;
}

export function fieldsSchema(fields: Fields): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const [name, shape] of Object.entries(fields)) {
    properties[name] = shape.jsonSchema();
    if (!shape.optional) required.push(name);
  }
  return { type: 'object', properties, ...(required.length ? { required } : {}), additionalProperties: false };
}
