// Loads an exercise: `exercise.yaml` names the spec's version and the steps in order, and each
// step lives in `<step-id>.yaml` beside it. Everything is validated strictly here, references
// included, so the runner only ever sees a well-formed Exercise. Every problem of every file is
// collected in one pass (`grade validate` shows them all), and the same shapes make the JSON
// Schema editors check a spec with while it is typed (`grade schema`).
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type Scalar } from 'yaml';
import { findGrader, graderKinds, graders } from '../../graders/index.js';
import type { ActionUse } from '../../graders/types.js';
import type { Limits } from '../engine/engine.js';
import { formatBound, isBounded, LIMIT_TABLE, limitKeys, type LimitRow } from './limit-table.js';
import { limitsFromSpec, limitSpecFields } from './limits.js';
import type { ActionKind } from '../../graders/outcomes.js';
import {
  boolean,
  Cursor,
  describe,
  describeNode,
  duration,
  fieldsSchema,
  INVALID,
  keyOf,
  mapParsed,
  list,
  number,
  object,
  oneOf,
  oneOrMany,
  optional,
  pairsOf,
  parseFields,
  SpecError,
  string,
  suggest,
  type Fields,
  type InferFields,
  type Parsed,
  type Shape,
  type Source,
  type SpecIssue,
} from './shapes.js';
import { readRegularFile } from '../submission/file.js';

/** A name in a spec: an exercise, step, check or action id. */
export const NAME = '[a-z0-9]+(?:-[a-z0-9]+)*';
const name = () => string({ pattern: new RegExp(`^${NAME}$`), patternName: 'a lower-case name such as my-image (letters, digits, dashes)' });
const relativePath = () => string({ pattern: /^(?!\/)[^\0]+$/, patternName: 'a path relative to the submission' });

/**
 * A prerequisite as written (`written`, at `at`) and, once the loader has resolved it against
 * the exercise, what it names: every check of step `step`, or its check `check`.
 */
export interface Need extends Located<string> {
  step: string;
  check?: string;
}

/** A value and where it was written, for reference errors found after parsing. */
export interface Located<T> {
  value: T;
  at: Cursor;
}

/** A `needs` entry as written; `step` and `check` are filled in when references are checked. */
function need(): Shape<Need> {
  const written = located(
    string({ pattern: new RegExp(`^${NAME}(?:/${NAME})?$`), patternName: 'a check of this step, a step, or step/check (lower-case names)' }),
  );
  return {
    expects: written.expects,
    parse: (node, at) => mapParsed(written.parse(node, at), (value) => ({ ...value, step: '' })),
    jsonSchema: () => written.jsonSchema(),
  };
}

function located<T>(shape: Shape<T>): Shape<Located<T>> {
  return {
    expects: shape.expects,
    parse(node, at) {
      const value = shape.parse(node, at);
      return value === INVALID ? INVALID : { value, at: at.at(node) };
    },
    jsonSchema: () => shape.jsonSchema(),
  };
}

/** The schema of a mapping that also says what it is. */
const described = (schema: Record<string, unknown>, description: string) => ({ ...schema, description });

/**
 * A schema that holds when all these keys are written. It names them under `properties` too (as
 * anything), as strict validators (ajv's strictRequired) want every required key defined beside it.
 */
const has = (...keys: string[]) => ({ type: 'object', required: keys, properties: Object.fromEntries(keys.map((key) => [key, {}])) });

/** JSON Schema's if/then: `consequence` must hold wherever `condition` does. */
function ifThen(condition: Record<string, unknown>, consequence: Record<string, unknown>): Record<string, unknown> {
  // biome-ignore lint/suspicious/noThenProperty: the JSON Schema keyword, in data nothing awaits
  return { if: condition, then: consequence };
}

// ---- actions ------------------------------------------------------------------------------

export interface DockerfileChoice {
  dockerfile: string;
  target?: string;
}

export type Action = { at: Cursor } & (
  | { kind: 'build'; name: string; from: DockerfileChoice[]; part: 'all' | 'toolchain' }
  | { kind: 'compile'; name: string; image: Located<string>; sources: string[]; command: string[]; output: string }
  | { kind: 'run'; name: string; image?: Located<string>; program?: Located<string>; command?: string[] }
  | { kind: 'start'; name: string; image: Located<string>; command?: string[]; settleMs: number }
);

const dockerfileChoice = object({
  dockerfile: describe(relativePath(), 'A Dockerfile, relative to the step folder.'),
  target: describe(optional(name()), 'The stage to build (docker build --target).'),
});

const actionFields = {
  build: {
    build: describe(name(), 'Builds an image from the step folder, under this name (for checks and later actions).'),
    dockerfile: describe(optional(relativePath()), 'The Dockerfile, relative to the step folder (default Dockerfile).'),
    target: describe(optional(name()), 'The stage to build (docker build --target).'),
    from: describe(optional(list(dockerfileChoice, { min: 1 })), 'Candidates instead of dockerfile/target: the first whose Dockerfile exists is built.'),
    part: describe(
      optional(oneOf(['all', 'toolchain'] as const), 'all'),
      "all: the whole Dockerfile; toolchain: its first stage up to its first COPY, the grader's own image to compile in.",
    ),
  },
  compile: {
    compile: describe(name(), 'Compiles sources inside a built image, naming the program it makes.'),
    image: describe(located(name()), 'The build to compile in (usually a part: toolchain build).'),
    sources: describe(oneOrMany(relativePath()), 'The source files copied in, relative to the step folder.'),
    command: describe(list(string(), { min: 1 }), 'The compiler command, one word per item: [gcc, -Wall, hello.c, -o, hello].'),
    output: describe(relativePath(), 'The file the command writes: the program.'),
  },
  run: {
    run: describe(name(), 'Runs a container to completion, naming its outcome (for command checks).'),
    image: describe(optional(located(name())), 'The build to run (exactly one of image or program).'),
    program: describe(optional(located(name())), 'The compile whose program to run (exactly one of image or program).'),
    command: describe(optional(list(string(), { min: 1 })), "The command, one word per item, instead of the image's own."),
  },
  start: {
    start: describe(name(), 'Starts a container that keeps running, for checks on a live container.'),
    image: describe(located(name()), 'The build to start.'),
    command: describe(optional(list(string(), { min: 1 })), "The command, one word per item, instead of the image's own."),
    settle: describe(optional(duration({ max: 60_000 }), 1000), 'How long to wait after it starts before checks look at it (default 1s, at most 1m).'),
  },
} satisfies Record<ActionKind, Fields>;

const ACTION_KINDS = Object.keys(actionFields) as ActionKind[];

/** What the schema says beyond each kind's keys; the parser below says the same in words. */
const actionConstraints: Record<ActionKind, Record<string, unknown>> = {
  build: { not: { anyOf: [has('from', 'dockerfile'), has('from', 'target')] } },
  compile: {},
  run: { oneOf: [has('image'), has('program')] },
  start: {},
};

const action: Shape<Action> = {
  expects: `an action (${ACTION_KINDS.join(', ')})`,
  parse(node, at) {
    if (!isMap(node)) return at.report(`expected an action: a mapping with one of the keys ${ACTION_KINDS.join(', ')}`, node);
    const keys = node.items.map((pair) => String((pair.key as { value?: unknown }).value));
    const kinds = ACTION_KINDS.filter((kind) => keys.includes(kind));
    if (kinds.length !== 1) {
      return at.report(
        kinds.length === 0
          ? `an action needs one of the keys ${ACTION_KINDS.join(', ')} naming what it makes`
          : `an action has exactly one of ${ACTION_KINDS.join(', ')}; found ${kinds.join(' and ')}`,
        node,
      );
    }
    const kind = kinds[0]!;
    switch (kind) {
      case 'build': {
        const fields = parseFields(actionFields.build, node, at, new Set());
        if (fields === INVALID) return INVALID;
        if (fields.from && (fields.dockerfile || fields.target)) {
          return at.report('a build takes either "from" (a list of choices) or "dockerfile"/"target", not both', node);
        }
        const from = fields.from ?? [{ dockerfile: fields.dockerfile ?? 'Dockerfile', target: fields.target }];
        return { kind, at: at.at(node), name: fields.build, from, part: fields.part };
      }
      case 'compile': {
        const fields = parseFields(actionFields.compile, node, at, new Set());
        return fields === INVALID
          ? INVALID
          : { kind, at: at.at(node), name: fields.compile, image: fields.image, sources: fields.sources, command: fields.command, output: fields.output };
      }
      case 'run': {
        const fields = parseFields(actionFields.run, node, at, new Set());
        if (fields === INVALID) return INVALID;
        if (Boolean(fields.image) === Boolean(fields.program)) {
          return at.report('a run takes exactly one of "image" (a build) or "program" (a compile)', node);
        }
        return { kind, at: at.at(node), name: fields.run, image: fields.image, program: fields.program, command: fields.command };
      }
      case 'start': {
        const fields = parseFields(actionFields.start, node, at, new Set());
        return fields === INVALID
          ? INVALID
          : { kind, at: at.at(node), name: fields.start, image: fields.image, command: fields.command, settleMs: fields.settle };
      }
    }
  },
  // The key naming the kind picks the kind's keys: an editor offers the four kind keys first, then
  // the chosen kind's own.
  jsonSchema: () => ({
    type: 'object',
    description: `What the grader does: exactly one of ${ACTION_KINDS.join(', ')}, naming what it makes, with that kind's keys. Names are shared by the whole exercise.`,
    properties: Object.fromEntries(ACTION_KINDS.map((kind) => [kind, (actionFields[kind] as Fields)[kind]!.jsonSchema()])),
    oneOf: ACTION_KINDS.map((kind) => has(kind)),
    allOf: ACTION_KINDS.map((kind) => ifThen(has(kind), { ...fieldsSchema(actionFields[kind]), ...actionConstraints[kind] })),
  }),
};

// ---- checks -------------------------------------------------------------------------------

/** A check as plain data: its kind names the grader (graders/index.ts graderOf), looked up when the check runs. */
export interface Check {
  id: string;
  title: string;
  kind: string;
  /** The kind's own options, parsed and defaulted at load: what its grader runs with. */
  options: Readonly<Record<string, unknown>>;
  points: number;
  hint?: string;
  needs: Need[];
  uses: ActionUse[];
  at: Cursor;
  /** Where the check is written: the spec file (as loaded) and the line of its mapping. */
  source: { file: string; line: number };
}

/** A check is worth at most this much, so a score is always a finite sum. */
const MAX_POINTS = 1000;

export const commonCheckFields = {
  id: describe(name(), "The check's id, unique in its step: what needs, reports and `step/check` name it by."),
  title: describe(string(), 'What the student sees as the check.'),
  kind: describe(string(), 'The kind of check: which grader judges it. Each kind takes its own keys.'),
  points: describe(optional(number({ min: 0, max: MAX_POINTS }), 1), `What passing earns (default 1, at most ${MAX_POINTS}).`),
  hint: describe(optional(string()), 'Shown under a failure: what to try next.'),
  needs: describe(
    optional(list(need()), []),
    'Earlier checks of this step, earlier steps, or step/check, that must pass first; otherwise this check is skipped.',
  ),
};

const check: Shape<Check> = {
  expects: 'a check',
  parse(node, at) {
    if (!isMap(node)) return at.report("expected a check: a mapping with id, title, kind and the kind's own keys", node);
    const kindPair = node.items.find((pair) => (pair.key as { value?: unknown }).value === 'kind');
    const kind = (kindPair?.value as { value?: unknown } | undefined)?.value;
    if (typeof kind !== 'string') return at.report(`a check needs a "kind": one of ${graderKinds.join(', ')}`, node);
    const grader = findGrader(kind);
    if (!grader) {
      const guess = suggest(kind, graderKinds);
      return at.report(
        `unknown check kind "${kind}"${guess ? ` (did you mean "${guess}"?)` : ''}; valid kinds: ${graderKinds.join(', ')}`,
        kindPair?.value as Node,
      );
    }
    const fields = parseFields({ ...commonCheckFields, ...grader.fields }, node, at, new Set());
    if (fields === INVALID) return INVALID;
    // Only the kind's own keys: id, title, points and the rest are the check's, not the grader's.
    const options: Record<string, unknown> = Object.fromEntries(Object.keys(grader.fields).map((key) => [key, (fields as Record<string, unknown>)[key]]));
    return {
      id: fields.id,
      title: fields.title,
      kind,
      options,
      points: fields.points,
      hint: fields.hint,
      needs: fields.needs,
      uses: grader.uses(options),
      at: at.at(node),
      source: { file: at.source.file, line: at.source.lineCounter.linePos(node.range?.[0] ?? 0).line },
    };
  },
  // `kind` picks the grader's keys (if/then rather than oneOf): an editor offers the common keys and
  // the kinds first, then the chosen kind's own keys, and an error names the key at fault.
  jsonSchema: () => {
    const common = fieldsSchema(commonCheckFields);
    const kinds = graders.map((grader) => `${grader.kind}: ${grader.summary}`).join('\n');
    return {
      type: 'object',
      description: 'A check: what is judged and what it is worth. Its kind names the grader, and each kind takes its own keys besides the common ones.',
      properties: { ...(common.properties as object), kind: { enum: [...graderKinds], description: `The kind of check, which grader judges it:\n${kinds}` } },
      required: ['id', 'title', 'kind'],
      allOf: graders.map((grader) => {
        const own = fieldsSchema({ ...commonCheckFields, ...grader.fields });
        return ifThen(
          { type: 'object', properties: { kind: { const: grader.kind } }, required: ['kind'] },
          described({ ...own, properties: { ...(own.properties as object), kind: { const: grader.kind, description: grader.summary } } }, grader.summary),
        );
      }),
    };
  },
};

// ---- steps and exercises ------------------------------------------------------------------

export interface Step {
  id: string;
  title: string;
  /** Candidate folders relative to the submission; the first that exists is graded. */
  dirs: string[];
  bonus: boolean;
  needs: Need[];
  actions: Action[];
  checks: Check[];
  file: string;
}

const stepFields = {
  id: describe(name(), 'The step id: this file is <id>.yaml, and exercise.yaml lists the id under steps.'),
  title: describe(string(), "What the student sees as the step's heading."),
  description: describe(optional(string()), 'What the step asks, at more length.'),
  dir: describe(
    optional(oneOrMany(string()), ['.']),
    'The folder graded, relative to the submission, or candidates tried in order (the first that exists). Default: the submission itself (.).',
  ),
  bonus: describe(optional(boolean(), false), 'A bonus step adds points but never fails the exercise (default false).'),
  needs: describe(optional(list(need()), []), "Earlier steps, or step/check, that must pass first; otherwise this step's checks are skipped."),
  actions: describe(optional(list(action), []), 'What the grader does, in order, before the checks judge it.'),
  checks: describe(list(check, { min: 1 }), 'What is judged, in order, each worth points.'),
};

/** Checked before anything else in exercise.yaml; a step file is read at its exercise's version. */
export const SCHEMA_VERSIONS: readonly number[] = [1];

const MISSING_VERSION = `exercise.yaml has no schemaVersion: add \`schemaVersion: ${SCHEMA_VERSIONS.at(-1)}\` as its first line`;

const stepShape: Shape<InferFields<typeof stepFields>> = {
  expects: 'a step',
  parse(node, at) {
    if (!isMap(node)) return at.report(`expected a mapping with keys ${Object.keys(stepFields).join(', ')}, found ${describeNode(node)}`, node);
    const version = pairsOf(node).find((pair) => keyOf(pair) === 'schemaVersion');
    if (version) at.report('schemaVersion belongs in exercise.yaml only: a step file is read at the version its exercise.yaml names', version.key);
    const fields = parseFields(stepFields, node, at, new Set(), new Set(['schemaVersion']));
    return version ? INVALID : fields;
  },
  jsonSchema: () => fieldsSchema(stepFields),
};

export type LimitOverrides = Partial<Limits>;

// The bounds live in limit-table.ts, the one table the flags and the README follow too. A bound on
// a number goes into the schema; on a size or duration written with a unit it is the loader's.
const limitsShape = (() => {
  const shape = object(limitSpecFields());
  const rows = new Map(
    limitKeys.flatMap((key) => {
      const row: LimitRow = LIMIT_TABLE[key];
      return row.specKey ? [[row.specKey, row] as const] : [];
    }),
  );
  const bounded = (schema: Record<string, unknown>, row: LimitRow): Record<string, unknown> => {
    if (!isBounded(row)) return schema;
    if (Array.isArray(schema.anyOf)) return { ...schema, anyOf: schema.anyOf.map((branch: Record<string, unknown>) => bounded(branch, row)) };
    return schema.type === 'number' || schema.type === 'integer' ? { ...schema, minimum: row.min, maximum: row.max } : schema;
  };
  const describeRow = (row: LimitRow) =>
    row.unit === 'choice'
      ? `${row.help}: ${row.choices.join(' or ')} (default ${row.default})`
      : `${row.help} (default ${formatBound(row.unit, row.default)}${isBounded(row) ? `, from ${formatBound(row.unit, row.min)} to ${formatBound(row.unit, row.max)}` : ''})`;
  return {
    ...shape,
    jsonSchema(): Record<string, unknown> {
      const schema = fieldsSchema(shape.fields);
      const properties = Object.fromEntries(
        Object.entries(schema.properties as Record<string, Record<string, unknown>>).map(([key, property]) => {
          const row = rows.get(key)!;
          return [key, { ...bounded(property, row), description: describeRow(row) }];
        }),
      );
      return { ...schema, properties };
    },
  };
})();

const schemaVersion: Shape<number> = {
  expects: `schemaVersion ${SCHEMA_VERSIONS.join(' or ')}`,
  parse(node, at) {
    const value = isScalar(node) ? node.value : undefined;
    if (typeof value === 'number' && SCHEMA_VERSIONS.includes(value)) return value;
    const newest = SCHEMA_VERSIONS.at(-1)!;
    const reads = `this grade reads schemaVersion ${SCHEMA_VERSIONS.join(', ')}`;
    return at.report(
      typeof value === 'number' && Number.isInteger(value) && value > newest
        ? `schemaVersion ${value} is newer than ${reads}: upgrade grade to read this exercise`
        : `unknown schemaVersion: found ${describeNode(node)}; ${reads} (write schemaVersion: ${newest})`,
      node,
    );
  },
  jsonSchema: () => ({ enum: [...SCHEMA_VERSIONS] }),
};

const exerciseFields = {
  schemaVersion: describe(
    schemaVersion,
    'The version of the spec format, read before anything else: 1. Only exercise.yaml carries it; its step files are read at this version.',
  ),
  id: describe(name(), 'The exercise id: the name of its folder, what `grade <id>` grades.'),
  title: describe(string(), "The exercise's title, as reports show it."),
  description: describe(optional(string()), 'What the exercise asks, at more length.'),
  steps: describe(list(name(), { min: 1, unique: true }), 'The step ids in the order they run; each step is <id>.yaml beside this file.'),
  limits: describe(
    optional(limitsShape),
    "The limits this exercise's containers and builds get, where the defaults do not suit it; grade's flags win over them.",
  ),
};

type ExerciseFields = InferFields<typeof exerciseFields>;

/** The exercise's version, checked first: an unknown one stops the reading of the file. */
function versionPairOf(node: Node | null) {
  return isMap(node) ? pairsOf(node).find((pair) => keyOf(pair) === 'schemaVersion') : undefined;
}

const exerciseShape: Shape<ExerciseFields> = {
  expects: 'an exercise',
  parse(node, at) {
    if (!isMap(node)) return at.report(`expected a mapping with keys ${Object.keys(exerciseFields).join(', ')}, found ${describeNode(node)}`, node);
    const version = versionPairOf(node);
    if (!version) {
      // Read on as the one version there is, so one run also shows the file's other problems.
      at.report(MISSING_VERSION, null);
      parseFields({ ...exerciseFields, schemaVersion: optional(schemaVersion) }, node, at, new Set());
      return INVALID;
    }
    // A version this grade does not know has a shape it does not know: nothing more is read.
    if (schemaVersion.parse(version.value, at.at(version.value ?? version.key)) === INVALID) return INVALID;
    return parseFields(exerciseFields, node, at, new Set());
  },
  jsonSchema: () => fieldsSchema(exerciseFields),
};

export interface Exercise {
  id: string;
  title: string;
  description?: string;
  dir: string;
  steps: Step[];
  limits: LimitOverrides;
}

// ---- the JSON Schema ----------------------------------------------------------------------

export const SPEC_KINDS = ['exercise', 'step'] as const;
export type SpecKind = (typeof SPEC_KINDS)[number];

const SCHEMA_HEADS: Record<SpecKind, { title: string; description: string }> = {
  exercise: {
    title: 'exercise.yaml of a grade exercise',
    description:
      'An exercise: its schemaVersion, id and title, the steps in the order they run (each in <step-id>.yaml beside this file) and optional limits. ' +
      'Made by `grade schema exercise` from the shapes the loader reads with; the loader (`grade validate`) also checks what a schema cannot see: ' +
      'that every step file exists and is valid, and limits written with a unit against their bounds.',
  },
  step: {
    title: 'A step file of a grade exercise',
    description:
      'One step of an exercise, in <step-id>.yaml beside exercise.yaml: its actions (build, compile, run, start) and its checks. ' +
      'A step file carries no schemaVersion: it is read at the version its exercise.yaml names. ' +
      'Made by `grade schema step` from the shapes the loader reads with; the loader (`grade validate`) also checks what a schema cannot see: ' +
      'references to actions, steps and checks (across files too), ids used twice, and regular expressions in RE2 syntax.',
  },
};

/**
 * The JSON Schema (2020-12) of exercise.yaml or of a step file, made from the shapes above. It
 * uses only keywords draft-07 has too, as some editors' YAML support reads no later draft.
 */
export function specJsonSchema(kind: SpecKind): Record<string, unknown> {
  const body = kind === 'exercise' ? exerciseShape.jsonSchema() : stepShape.jsonSchema();
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', $id: `urn:grade:${kind}`, ...SCHEMA_HEADS[kind], ...body };
}

// ---- reading files ------------------------------------------------------------------------

/** Far more than any spec needs; beyond them a file is refused before it costs time or stack. */
const MAX_SPEC_BYTES = 1_000_000;
const MAX_ALIASES = 100;
const MAX_DEPTH = 64;

/** How files are named in issues: relative to the current folder, as a user typed them. */
const labelOf = (file: string) => path.relative(process.cwd(), file) || file;

type SpecDocument = { ok: true; root: Node | null; at: Cursor } | { ok: false; missing: boolean };

/** Reads and parses one spec file within its bounds; every problem found goes into `issues`. */
async function readSpec(file: string, issues: SpecIssue[]): Promise<SpecDocument> {
  const label = labelOf(file);
  const read = await readRegularFile(file, { maxBytes: MAX_SPEC_BYTES, what: 'a spec file', shown: label });
  if (!read.ok) {
    issues.push({ file: label, line: 1, col: 1, message: `${path.basename(file)} ${read.detail}` });
    return { ok: false, missing: read.refusal === 'not-found' };
  }
  const lineCounter = new LineCounter();
  const source: Source = { file: label, lineCounter };
  try {
    const doc = parseDocument(read.bytes.toString('utf8'), { lineCounter, prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0) {
      // The yaml library turns its own stack overflow into errors from the deepest point on: the
      // first one says where; the rest are its echoes.
      const overflow = doc.errors.find((error) => /call stack/i.test(error.message));
      if (overflow) {
        const { line, col } = lineCounter.linePos(overflow.pos[0]);
        issues.push({ file: label, line, col, message: tooDeep() });
        return { ok: false, missing: false };
      }
      // What follows a syntax error is read askew: one tab makes every later item of its list an
      // error of its own. The errors of the first line at fault are the ones to fix.
      const first = lineCounter.linePos(doc.errors[0]!.pos[0]).line;
      for (const error of doc.errors) {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        if (line === first) issues.push({ file: label, line, col, message: error.message.split('\n')[0]! });
      }
      return { ok: false, missing: false };
    }
    const cursor = new Cursor(source, issues, doc.contents as Node | null);
    if (!withinBounds(doc, cursor)) return { ok: false, missing: false };
    resolveScalarAliases(doc);
    return { ok: true, root: doc.contents as Node | null, at: cursor };
  } catch (error) {
    // Nothing should recurse past MAX_DEPTH after the bounds check; this is the last guard.
    if (!(error instanceof RangeError)) throw error;
    issues.push({ file: label, line: 1, col: 1, message: `${tooDeep()} (${error.message})` });
    return { ok: false, missing: false };
  }
}

/** Parses `shape` from a read document, with the same last guard against deep recursion. */
function parseSpec<T>(document: Extract<SpecDocument, { ok: true }>, shape: Shape<T>): Parsed<T> {
  try {
    return shape.parse(document.root, document.at);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    document.at.report(`${tooDeep()} (${error.message})`, null);
    return INVALID;
  }
}

const tooDeep = () => `nested too deeply: a spec may nest at most ${MAX_DEPTH} levels of mappings and lists`;

/**
 * Nesting depth and alias count, walked without recursion so a hostile file cannot overflow the
 * stack here; reports the first node past either limit.
 */
function withinBounds(doc: Document, at: Cursor): boolean {
  const pending: { node: unknown; depth: number }[] = [{ node: doc.contents, depth: 0 }];
  let aliases = 0;
  while (pending.length > 0) {
    const { node, depth } = pending.pop()!;
    if (isAlias(node)) {
      if (++aliases > MAX_ALIASES) {
        at.report(`more than ${MAX_ALIASES} aliases (*${node.source} is one too many): write the values out`, node);
        return false;
      }
    } else if (isMap(node) || isSeq(node)) {
      if (depth >= MAX_DEPTH) {
        at.report(tooDeep(), node);
        return false;
      }
      // Pushed last to first, so they are taken in document order and the first culprit is named.
      for (const item of [...node.items].reverse()) {
        if (isPair(item)) pending.push({ node: item.value, depth: depth + 1 }, { node: item.key, depth: depth + 1 });
        else pending.push({ node: item, depth: depth + 1 });
      }
    }
  }
  return true;
}

/**
 * An alias to a plain value reads as that value; aliases to mappings or lists stay unsupported
 * (they could refer to themselves) and are reported where they are used. One pass in document
 * order, remembering the latest node of each anchor, as YAML resolves them (the library's own
 * resolve() walks the whole document per alias).
 */
function resolveScalarAliases(doc: Document): void {
  const anchors = new Map<string, Node>();
  visit(doc, {
    Node(_, node) {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        return isScalar(target) ? (target as Scalar) : undefined;
      }
      if (node.anchor) anchors.set(node.anchor, node);
      return undefined;
    },
  });
}

// ---- loading and inspecting ---------------------------------------------------------------

/** What reading an exercise found: every problem of every file, and what could be read. */
export interface ExerciseInspection {
  dir: string;
  /** The exercise, when there is no issue. */
  exercise?: Exercise;
  /** Every problem, sorted by file, line and column. */
  issues: SpecIssue[];
  /** The spec files read (or looked for), named as in issues. */
  files: string[];
  /** The steps whose files could be read (their references may still be wrong), in the exercise's order. */
  steps: Step[];
  /** How the step files were found: listed by exercise.yaml, every .yaml file of the folder, or none (a version not read). */
  stepsFrom: 'exercise' | 'folder' | 'none';
}

/** A step as exercise.yaml lists it, and its parsed file unless that file has a problem. */
interface StepSlot {
  id: string;
  step?: Step;
}

async function readStep(file: string, issues: SpecIssue[]): Promise<Step | undefined> {
  const document = await readSpec(file, issues);
  if (!document.ok) return undefined;
  const step = parseSpec(document, stepShape);
  if (step === INVALID) return undefined;
  const expected = path.basename(file, '.yaml');
  if (step.id !== expected) document.at.report(`step id "${step.id}" does not match its file name ${path.basename(file)}`, null);
  return {
    id: step.id,
    title: step.title,
    dirs: step.dir,
    bonus: step.bonus,
    needs: step.needs,
    actions: step.actions,
    checks: step.checks,
    file: labelOf(file),
  };
}

/**
 * Reads an exercise folder and reports every problem of every file. One file's problem never
 * hides another's: when exercise.yaml cannot say which steps there are, every other .yaml file
 * of the folder is read as a step; references are checked among the steps that could be read.
 */
export async function inspectExercise(dir: string): Promise<ExerciseInspection> {
  const issues: SpecIssue[] = [];
  const exerciseFile = path.join(dir, 'exercise.yaml');
  const files = [labelOf(exerciseFile)];
  const document = await readSpec(exerciseFile, issues);
  let meta: Parsed<ExerciseFields> = INVALID;
  let stepIds: string[] | undefined;
  if (document.ok) {
    meta = parseSpec(document, exerciseShape);
    const version = versionPairOf(document.root);
    const versionKnown = !version || schemaVersion.parse(version.value, new Cursor(document.at.source, [], null)) !== INVALID;
    stepIds = meta !== INVALID ? meta.steps : versionKnown ? stepsOf(document) : [];
  } else if (document.missing) {
    stepIds = [];
  }

  const slots: StepSlot[] = [];
  const ordered = stepIds !== undefined;
  for (const id of stepIds ?? (await otherYamlFiles(dir))) {
    const file = path.join(dir, `${id}.yaml`);
    files.push(labelOf(file));
    slots.push({ id, step: await readStep(file, issues) });
  }
  // Without the order of exercise.yaml, each step is checked on its own.
  if (ordered) checkReferences(slots, false);
  else for (const slot of slots) checkReferences([slot], true);

  const steps = slots.flatMap((slot) => (slot.step ? [slot.step] : []));
  const stepsFrom = !ordered ? 'folder' : stepIds!.length > 0 ? 'exercise' : 'none';
  const inspection: ExerciseInspection = { dir, issues: sortIssues(issues), files, steps, stepsFrom };
  if (issues.length === 0 && meta !== INVALID) {
    inspection.exercise = { id: meta.id, title: meta.title, description: meta.description, dir, steps, limits: limitsFromSpec(meta.limits) };
  }
  return inspection;
}

/** The steps list of an exercise.yaml that has other problems, when the list itself is fine. */
function stepsOf(document: Extract<SpecDocument, { ok: true }>): string[] | undefined {
  if (!isMap(document.root)) return undefined;
  const pair = pairsOf(document.root).find((each) => keyOf(each) === 'steps');
  if (!pair) return undefined;
  // Its problems, if any, are reported already: this reading only wants the names, each once.
  const steps = list(name(), { min: 1 }).parse(pair.value, new Cursor(document.at.source, [], pair.value));
  return steps === INVALID ? undefined : [...new Set(steps)];
}

async function otherYamlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.yaml') && entry.name !== 'exercise.yaml')
    .map((entry) => entry.name.slice(0, -'.yaml'.length))
    .sort();
}

/**
 * A step file on its own, as `grade validate` reads one. When the folder's exercise.yaml lists
 * it, it is read within its exercise (references included) and only its own problems are kept.
 */
export async function inspectStepFile(file: string): Promise<{ issues: SpecIssue[]; step?: Step }> {
  const dir = path.dirname(file);
  const label = labelOf(file);
  const hasExercise = await stat(path.join(dir, 'exercise.yaml')).then(
    (info) => info.isFile(),
    () => false,
  );
  if (hasExercise) {
    const inspection = await inspectExercise(dir);
    if (inspection.files.includes(label)) {
      return { issues: inspection.issues.filter((issue) => issue.file === label), step: inspection.steps.find((step) => step.file === label) };
    }
    // Its exercise is of a version this grade does not read (or has no steps): that is the problem.
    if (inspection.stepsFrom === 'none') return { issues: inspection.issues };
  }
  const issues: SpecIssue[] = [];
  const step = await readStep(file, issues);
  checkReferences([{ id: path.basename(file, '.yaml'), step }], true);
  if (hasExercise)
    issues.push({
      file: label,
      line: 1,
      col: 1,
      message: `exercise.yaml beside it does not list this step: add ${path.basename(file, '.yaml')} to its steps, or it is never graded`,
    });
  return { issues: sortIssues(issues), step: issues.length === 0 ? step : undefined };
}

export async function loadExercise(dir: string): Promise<Exercise> {
  const { exercise, issues } = await inspectExercise(dir);
  if (!exercise) throw new SpecError(issues);
  return exercise;
}

/** By file, then line, then column; issues at the same place keep the order they were found in. */
export function sortIssues(issues: SpecIssue[]): SpecIssue[] {
  return [...issues].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.col - b.col));
}

// ---- references ---------------------------------------------------------------------------

/** Which action kind each reference must name, e.g. a run's `image` must be a build. */
export function actionReferences(action: Action): { kind: ActionKind; ref: Located<string> }[] {
  switch (action.kind) {
    case 'compile':
      return [{ kind: 'build', ref: action.image }];
    case 'run':
      return action.image ? [{ kind: 'build', ref: action.image }] : [{ kind: 'compile', ref: action.program! }];
    case 'start':
      return [{ kind: 'build', ref: action.image }];
    case 'build':
      return [];
  }
}

/**
 * Checks what the steps' actions, checks and needs name. A step whose file has a problem (or, with
 * `othersUnknown`, any step not given) may hold what a name names: a name not found is then not
 * reported, but a name found with the wrong kind still is.
 */
function checkReferences(slots: StepSlot[], othersUnknown: boolean): void {
  const report = (at: Cursor, message: string) => at.report(message);
  const actions = new Map<string, ActionKind>();
  const stepIndex = new Map(slots.map((slot, index) => [slot.id, index]));
  let unknownSoFar = othersUnknown;

  slots.forEach(({ step }, index) => {
    if (!step) {
      unknownSoFar = true;
      return;
    }
    for (const action of step.actions) {
      for (const { kind, ref } of actionReferences(action)) {
        const found = actions.get(ref.value);
        if (found === kind || (!found && unknownSoFar)) continue;
        report(
          ref.at,
          found ? `"${ref.value}" is a ${found}, not a ${kind}` : `no ${kind} named "${ref.value}" before this action (${describeNames(actions, kind)})`,
        );
      }
      if (actions.has(action.name)) report(action.at, `action name "${action.name}" is used twice; names are shared by the whole exercise`);
      actions.set(action.name, action.kind);
    }

    const checkIds = new Set<string>();
    for (const check of step.checks) {
      if (checkIds.has(check.id)) report(check.at, `check id "${check.id}" is used twice in step ${step.id}`);
      for (const use of check.uses) {
        const found = actions.get(use.name);
        if (found === use.kind || (!found && unknownSoFar)) continue;
        report(
          check.at,
          found
            ? `"${use.name}" is a ${found}, not a ${use.kind}`
            : `no ${use.kind} named "${use.name}" in this or an earlier step (${describeNames(actions, use.kind)})`,
        );
      }
      for (const need of check.needs) checkNeed(need, step, index, checkIds, slots, stepIndex, othersUnknown, report);
      checkIds.add(check.id);
    }
    for (const need of step.needs) checkNeed(need, step, index, new Set(), slots, stepIndex, othersUnknown, report);
  });
}

function describeNames(actions: Map<string, ActionKind>, kind: ActionKind): string {
  const names = [...actions].filter(([, found]) => found === kind).map(([name]) => name);
  return names.length ? `${kind}s so far: ${names.join(', ')}` : `no ${kind} so far`;
}

/** `needs` names an earlier check of the same step, an earlier step, or `step/check`. */
function checkNeed(
  need: Need,
  step: Step,
  index: number,
  earlierChecks: Set<string>,
  slots: StepSlot[],
  stepIndex: Map<string, number>,
  othersUnknown: boolean,
  report: (at: Cursor, message: string) => void,
): void {
  const [stepId, checkId] = need.value.includes('/') ? need.value.split('/', 2) : [undefined, need.value];
  if (stepId === undefined) {
    if (earlierChecks.has(need.value)) {
      Object.assign(need, { step: step.id, check: need.value });
      return;
    }
    if (stepIndex.has(need.value)) {
      const target = stepIndex.get(need.value)!;
      if (target < index) {
        need.step = need.value;
        return;
      }
      report(
        need.at,
        target === index
          ? `step ${step.id} cannot need itself (cyclic needs)`
          : `needs step "${need.value}", which runs after ${step.id}: steps run in the order of exercise.yaml`,
      );
      return;
    }
    const own = step.checks.some((other) => other.id === need.value);
    if (!own && othersUnknown) return;
    report(
      need.at,
      own
        ? `needs check "${need.value}", which comes later in ${step.id} (or is this check: cyclic needs)`
        : `needs "${need.value}", which is neither a check before it in ${step.id} (${[...earlierChecks].join(', ') || 'none'}) nor a step (${[...stepIndex.keys()].join(', ')})`,
    );
    return;
  }
  const target = stepIndex.get(stepId);
  if (target === undefined) {
    if (!othersUnknown) report(need.at, `needs "${need.value}": no step "${stepId}" (steps: ${[...stepIndex.keys()].join(', ')})`);
    return;
  }
  if (target >= index) {
    report(need.at, `needs "${need.value}": step ${stepId} does not run before ${step.id}`);
    return;
  }
  const needed = slots[target]!.step;
  // A step whose file has a problem: which checks it has is not known.
  if (!needed) return;
  if (!needed.checks.some((other) => other.id === checkId)) {
    report(need.at, `needs "${need.value}": step ${stepId} has no check "${checkId}" (checks: ${needed.checks.map((other) => other.id).join(', ')})`);
    return;
  }
  Object.assign(need, { step: stepId, check: checkId });
}
