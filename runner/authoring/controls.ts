// The test of an exercise, as its folder lays it out: the reference solution in solution/, and
// each negative control in wrong/<name>/, a submission with a mistake plus an expect.yaml naming
// the checks that must catch it. expect.yaml is read as strictly as the spec itself.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { Exercise } from '../spec/loader.js';
import { boolean, Cursor, INVALID, keyOf, list, object, optional, pairsOf, SpecError, string, suggest, type Shape, type SpecIssue } from '../spec/shapes.js';

export const SOLUTION_FOLDER = 'solution';
export const CONTROLS_FOLDER = 'wrong';
export const EXPECT_FILE = 'expect.yaml';

/** What a control must show. */
export interface Expectation {
  /** `step/check` ids that must fail (status `fail`), in exercise order. */
  fails: string[];
  /** Every check not listed must pass. */
  othersPass: boolean;
}

export interface Control {
  /** The folder's name under wrong/. */
  name: string;
  dir: string;
  expectation: Expectation;
}

/** Every check of an exercise as `step/check`, in the order they are graded. */
export function checkIdsOf(exercise: Pick<Exercise, 'steps'>): string[] {
  return exercise.steps.flatMap((step) => step.checks.map((check) => `${step.id}/${check.id}`));
}

/** A `step/check` id of this exercise; anything else names the closest one and the valid form. */
function checkId(ids: readonly string[]): Shape<string> {
  const base = string();
  return {
    expects: 'a check id step/check',
    parse(node, at) {
      const value = base.parse(node, at);
      if (value === INVALID || ids.includes(value)) return value;
      const guess = suggest(value, ids) ?? (value.includes('/') ? undefined : ids.find((id) => id.endsWith(`/${value}`)));
      const hint = guess ? `did you mean "${guess}"?` : `checks: ${ids.join(', ')}`;
      return at.report(`unknown check "${value}"${value.includes('/') ? '' : ' (a check is named step/check)'}: ${hint}`, node);
    },
    jsonSchema: () => ({ enum: ids }),
  };
}

function expectationShape(ids: readonly string[]): Shape<Expectation> {
  const fields = object({ fails: list(checkId(ids), { min: 1 }), othersPass: optional(boolean(), false) });
  return {
    ...fields,
    parse(node, at) {
      const parsed = fields.parse(node, at);
      if (parsed === INVALID) return INVALID;
      // A check listed twice is a slip worth naming where it is written.
      const failsNode = isMap(node) ? pairsOf(node).find((pair) => keyOf(pair) === 'fails')?.value : undefined;
      const seen = new Set<string>();
      let valid = true;
      parsed.fails.forEach((id, index) => {
        if (seen.has(id)) {
          at.report(`check "${id}" is listed twice`, isSeq(failsNode) ? (failsNode.items[index] as Node) : failsNode);
          valid = false;
        }
        seen.add(id);
      });
      if (!valid) return INVALID;
      return { fails: ids.filter((id) => seen.has(id)), othersPass: parsed.othersPass };
    },
  };
}

/** expect.yaml's text, read against the exercise's check ids; problems are SpecIssues at file:line:column. */
export function parseExpectation(text: string, file: string, ids: readonly string[]): { expectation: Expectation } | { issues: SpecIssue[] } {
  const issues: SpecIssue[] = [];
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      issues.push({ file, line, col, message: error.message.split('\n')[0]! });
    }
    return { issues };
  }
  const value = expectationShape(ids).parse(doc.contents as Node | null, new Cursor({ file, lineCounter }, issues, doc.contents as Node | null));
  return value === INVALID ? { issues } : { expectation: value };
}

/** Far more than any expect.yaml needs. */
const MAX_EXPECT_BYTES = 64 * 1024;

const shownPath = (file: string) => path.relative(process.cwd(), file) || file;

/**
 * The negative controls under `<exercise>/wrong/`, by name; every problem of every expect.yaml
 * is gathered into one SpecError. An exercise without wrong/ has none.
 */
export async function loadControls(exerciseDir: string, ids: readonly string[]): Promise<Control[]> {
  const root = path.join(exerciseDir, CONTROLS_FOLDER);
  const entries = await readdir(root, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const controls: Control[] = [];
  const issues: SpecIssue[] = [];
  for (const entry of entries.filter((each) => each.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const dir = path.join(root, entry.name);
    const file = path.join(dir, EXPECT_FILE);
    const shown = shownPath(file);
    const size = (await stat(file).catch(() => undefined))?.size;
    if (size === undefined) {
      issues.push({ file: shown, line: 1, col: 1, message: `missing: a control needs an ${EXPECT_FILE} naming the checks it must fail (fails: [step/check])` });
      continue;
    }
    if (size > MAX_EXPECT_BYTES) {
      issues.push({ file: shown, line: 1, col: 1, message: `${EXPECT_FILE} is ${size} bytes, more than the ${MAX_EXPECT_BYTES} any expectation needs` });
      continue;
    }
    const parsed = parseExpectation(await readFile(file, 'utf8'), shown, ids);
    if ('issues' in parsed) issues.push(...parsed.issues);
    else controls.push({ name: entry.name, dir, expectation: parsed.expectation });
  }
  if (issues.length > 0) throw new SpecError(issues);
  return controls;
}
