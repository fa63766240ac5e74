// Loads an exercise: `exercise.yaml` names the steps in order, and each step lives in
// `<step-id>.yaml` beside it. Everything is validated strictly here, references included, so the
// runner only ever sees a well-formed Exercise.
import path from 'node:path';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type Scalar } from 'yaml';
import { findGrader, graderKinds, graders } from '../../graders/index.js';
import type { ActionUse } from '../../graders/types.js';
import type { Limits } from '../engine/engine.js';
import { limitsFromSpec, limitSpecFields } from './limits.js';
import type { ActionKind } from '../../graders/outcomes.js';
import {
  boolean,
  Cursor,
  duration,
  INVALID,
  mapParsed,
  list,
  number,
  object,
  oneOf,
  oneOrMany,
  optional,
  parseFields,
  SpecError,
  string,
  suggest,
  type Fields,
  type Parsed,
  type Shape,
  type Source,
  type SpecIssue,
} from './shapes.js';
import { readRegularFile } from '../submission/file.js';

const NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const name = () => string({ pattern: NAME, patternName: 'a lower-case name such as my-image (letters, digits, dashes)' });
const relativePath = () => string({ pattern: /^(?!\/)[^\0]+$/, patternName: 'a path relative to the submission' });

/** A value and where it was written, for reference errors found after parsing. */
/**
 * A prerequisite as written (`written`, at `at`) and, once the loader has resolved it against
 * the exercise, what it names: every check of step `step`, or its check `check`.
 */
export interface Need extends Located<string> {
  step: string;
  check?: string;
}

export interface Located<T> {
  value: T;
  at: Cursor;
}

/** A `needs` entry as written; `step` and `check` are filled in when references are checked. */
function need(): Shape<Need> {
  const written = located(string());
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

const dockerfileChoice = object({ dockerfile: relativePath(), target: optional(name()) });

const actionFields = {
  build: {
    build: name(),
    dockerfile: optional(relativePath()),
    target: optional(name()),
    from: optional(list(dockerfileChoice, { min: 1 })),
    part: optional(oneOf(['all', 'toolchain'] as const), 'all'),
  },
  compile: {
    compile: name(),
    image: located(name()),
    sources: oneOrMany(relativePath()),
    command: list(string(), { min: 1 }),
    output: relativePath(),
  },
  run: {
    run: name(),
    image: optional(located(name())),
    program: optional(located(name())),
    command: optional(list(string(), { min: 1 })),
  },
  start: {
    start: name(),
    image: located(name()),
    command: optional(list(string(), { min: 1 })),
    settle: optional(duration({ max: 60_000 }), 1000),
  },
} satisfies Record<ActionKind, Fields>;

const ACTION_KINDS = Object.keys(actionFields) as ActionKind[];

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
  jsonSchema: () => ({
    oneOf: ACTION_KINDS.map((kind) => ({
      type: 'object',
      required: [kind],
      properties: Object.fromEntries(Object.entries(actionFields[kind]).map(([key, shape]) => [key, shape.jsonSchema()])),
      additionalProperties: false,
    })),
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
  id: name(),
  title: string(),
  kind: string(),
  points: optional(number({ min: 0, max: MAX_POINTS }), 1),
  hint: optional(string()),
  needs: optional(list(need()), []),
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
  jsonSchema: () => ({
    oneOf: graders.map((grader) => {
      const fields: Fields = { ...commonCheckFields, ...grader.fields };
      return {
        type: 'object',
        description: grader.summary,
        properties: {
          ...Object.fromEntries(Object.entries(fields).map(([key, shape]) => [key, shape.jsonSchema()])),
          kind: { const: grader.kind },
        },
        required: Object.entries(fields)
          .filter(([, shape]) => !shape.optional)
          .map(([key]) => key),
        additionalProperties: false,
      };
    }),
  }),
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

const stepShape = object({
  id: name(),
  title: string(),
  description: optional(string()),
  dir: optional(oneOrMany(string()), ['.']),
  bonus: optional(boolean(), false),
  needs: optional(list(need()), []),
  actions: optional(list(action), []),
  checks: list(check, { min: 1 }),
});

export type LimitOverrides = Partial<Limits>;

// The bounds live in limits.ts, the one table the flags and the README follow too.
const limitsShape = object(limitSpecFields());

const exerciseShape = object({
  id: name(),
  title: string(),
  description: optional(string()),
  steps: list(name(), { min: 1 }),
  limits: optional(limitsShape),
});

export interface Exercise {
  id: string;
  title: string;
  description?: string;
  dir: string;
  steps: Step[];
  limits: LimitOverrides;
}

/** Far more than any spec needs; beyond them a file is refused before it costs time or stack. */
const MAX_SPEC_BYTES = 1_000_000;
const MAX_ALIASES = 100;
const MAX_DEPTH = 64;

async function parseFile<T>(file: string, shape: Shape<T>, issues: SpecIssue[], label: string): Promise<Parsed<T>> {
  const read = await readRegularFile(file, { maxBytes: MAX_SPEC_BYTES, what: 'a spec file', shown: label });
  if (!read.ok) {
    issues.push({ file: label, line: 1, col: 1, message: `${path.basename(file)} ${read.detail}` });
    return INVALID;
  }
  const lineCounter = new LineCounter();
  const source: Source = { file: label, lineCounter };
  try {
    const doc = parseDocument(read.bytes.toString('utf8'), { lineCounter, prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0) {
      // The yaml library turns its own stack overflow into errors from the deepest point on: the
      // first one says where; the rest are its echoes.
      const overflow = doc.errors.find((error) => /call stack/i.test(error.message));
      for (const error of overflow ? [overflow] : doc.errors) {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        issues.push({ file: label, line, col, message: overflow ? tooDeep() : error.message.split('\n')[0]! });
      }
      return INVALID;
    }
    const cursor = new Cursor(source, issues, doc.contents as Node | null);
    if (!withinBounds(doc, cursor)) return INVALID;
    resolveScalarAliases(doc);
    return shape.parse(doc.contents as Node | null, cursor);
  } catch (error) {
    // Nothing should recurse past MAX_DEPTH after the bounds check; this is the last guard.
    if (!(error instanceof RangeError)) throw error;
    issues.push({ file: label, line: 1, col: 1, message: `${tooDeep()} (${error.message})` });
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

export async function loadExercise(dir: string): Promise<Exercise> {
  const issues: SpecIssue[] = [];
  const label = (file: string) => path.relative(process.cwd(), file) || file;
  const exerciseFile = path.join(dir, 'exercise.yaml');
  const meta = await parseFile(exerciseFile, exerciseShape, issues, label(exerciseFile));
  if (meta === INVALID) throw new SpecError(issues);

  const steps: Step[] = [];
  for (const stepId of meta.steps) {
    const file = path.join(dir, `${stepId}.yaml`);
    const step = await parseFile(file, stepShape, issues, label(file));
    if (step === INVALID) continue;
    if (step.id !== stepId) {
      issues.push({ file: label(file), line: 1, col: 1, message: `step id "${step.id}" does not match its file name ${stepId}.yaml` });
    }
    steps.push({
      id: step.id,
      title: step.title,
      dirs: step.dir,
      bonus: step.bonus,
      needs: step.needs,
      actions: step.actions,
      checks: step.checks,
      file: label(file),
    });
  }
  if (issues.length === 0) checkReferences(steps);
  if (issues.length > 0) throw new SpecError(issues);

  const limits = meta.limits;
  return {
    id: meta.id,
    title: meta.title,
    description: meta.description,
    dir,
    steps,
    limits: limitsFromSpec(limits),
  };
}

/** Which action kind each reference must name, e.g. a run's `image` must be a build. */
function actionReferences(action: Action): { kind: ActionKind; ref: Located<string> }[] {
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

function checkReferences(steps: Step[]): void {
  const report = (at: Cursor, message: string) => at.report(message);
  const actions = new Map<string, ActionKind>();
  const stepIds = steps.map((step) => step.id);
  const stepIndex = new Map(stepIds.map((id, index) => [id, index]));

  steps.forEach((step, index) => {
    for (const action of step.actions) {
      for (const { kind, ref } of actionReferences(action)) {
        const found = actions.get(ref.value);
        if (found !== kind) {
          report(
            ref.at,
            found ? `"${ref.value}" is a ${found}, not a ${kind}` : `no ${kind} named "${ref.value}" before this action (${describeNames(actions, kind)})`,
          );
        }
      }
      if (actions.has(action.name)) report(action.at, `action name "${action.name}" is used twice; names are shared by the whole exercise`);
      actions.set(action.name, action.kind);
    }

    const checkIds = new Set<string>();
    for (const check of step.checks) {
      if (checkIds.has(check.id)) report(check.at, `check id "${check.id}" is used twice in step ${step.id}`);
      for (const use of check.uses) {
        const found = actions.get(use.name);
        if (found !== use.kind) {
          report(
            check.at,
            found
              ? `"${use.name}" is a ${found}, not a ${use.kind}`
              : `no ${use.kind} named "${use.name}" in this or an earlier step (${describeNames(actions, use.kind)})`,
          );
        }
      }
      for (const need of check.needs) checkNeed(need, step, index, checkIds, steps, stepIndex, report);
      checkIds.add(check.id);
    }
    for (const need of step.needs) checkNeed(need, step, index, new Set(), steps, stepIndex, report);
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
  steps: Step[],
  stepIndex: Map<string, number>,
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
    report(need.at, `needs "${need.value}": no step "${stepId}" (steps: ${[...stepIndex.keys()].join(', ')})`);
    return;
  }
  if (target >= index) {
    report(need.at, `needs "${need.value}": step ${stepId} does not run before ${step.id}`);
    return;
  }
  if (!steps[target]!.checks.some((other) => other.id === checkId)) {
    report(need.at, `needs "${need.value}": step ${stepId} has no check "${checkId}" (checks: ${steps[target]!.checks.map((other) => other.id).join(', ')})`);
    return;
  }
  Object.assign(need, { step: stepId, check: checkId });
}

export function exerciseJsonSchema(): Record<string, unknown> {
  return { exercise: exerciseShape.jsonSchema(), step: stepShape.jsonSchema() };
}
