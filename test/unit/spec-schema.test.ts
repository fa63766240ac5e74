// The JSON Schema `grade schema` prints, against the loader it is made from: on every spec the
// tests accept or reject (the shipped exercises and every case of test/support/spec-cases.ts), a
// file is schema-valid exactly when the loader finds no problem in it. The cases the table marks
// loaderOnly are what a schema cannot see (references between files, ids used twice, bounds on
// values written with units, the file's own bounds); each says why.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parseDocument } from 'yaml';
import { graderKinds, graders } from '../../graders/index.js';
import { exercisesRoot } from '../../runner/paths.js';
import { inspectExercise, SCHEMA_VERSIONS, specJsonSchema, type SpecKind } from '../../runner/spec/loader.js';
import { compilePattern } from '../../runner/spec/shapes.js';
import { EXERCISE, specCases, stepWith } from '../support/spec-cases.js';

/**
 * Strict ajv (a warning is an error), with `format: regex` meaning what the loader means by a
 * pattern: RE2 syntax (re2js), which the schema's description of such a field says.
 */
function validators() {
  const ajv = new Ajv2020({
    allErrors: true,
    strict: true,
    logger: {
      log: () => {},
      warn: (...args: unknown[]) => {
        throw new Error(`ajv: ${args.join(' ')}`);
      },
      error: (...args: unknown[]) => {
        throw new Error(`ajv: ${args.join(' ')}`);
      },
    },
    formats: {
      regex: (text: string) => {
        try {
          compilePattern(text);
          return true;
        } catch {
          return false;
        }
      },
    },
  });
  const exercise = ajv.compile(specJsonSchema('exercise'));
  const step = ajv.compile(specJsonSchema('step'));
  /** The schema's verdict on one file: YAML that does not parse is no document to hold valid. */
  return (file: string, text: string): { valid: boolean; errors: string } => {
    const doc = parseDocument(text, { uniqueKeys: true });
    if (doc.errors.length > 0) return { valid: false, errors: 'YAML errors' };
    const validate = path.basename(file) === 'exercise.yaml' ? exercise : step;
    const valid = validate(doc.toJS({ maxAliasCount: -1 }));
    return { valid, errors: JSON.stringify(validate.errors ?? []) };
  };
}

const schemaVerdict = validators();

t.test('the loader and the schema reach the same verdict on every file of every spec case', async (t) => {
  let compared = 0;
  for (const each of specCases) {
    if (each.loaderOnly) continue;
    const files: Record<string, string> = { 'exercise.yaml': EXERCISE, 'one.yaml': stepWith({}), ...each.files };
    const dir = t.testdir(files);
    const { issues } = await inspectExercise(dir);
    for (const [file, text] of Object.entries(files)) {
      const label = path.relative(process.cwd(), path.join(dir, file));
      const loaderValid = !issues.some((issue) => issue.file === label);
      const schema = schemaVerdict(file, text);
      t.equal(
        schema.valid,
        loaderValid,
        `${each.name}: ${file} is ${loaderValid ? 'valid' : 'invalid'} for both${schema.valid ? '' : ` (schema: ${schema.errors})`}`,
      );
      compared++;
    }
  }
  t.ok(compared > 100, `${compared} files compared`);
});

t.test('the comparison covers rejections: in every rejected case it judges, the schema rejects the file at fault', async (t) => {
  // A guard on the comparison above: agreeing only on valid files would prove little.
  const invalid = specCases.filter((each) => !each.loaderOnly && each.issues.length > 0);
  t.ok(invalid.length >= 40, `${invalid.length} rejected cases the schema judges`);
  const rejected = invalid.filter((each) =>
    Object.entries(each.files).some(([file, text]) => each.issues.some(([at]) => at === file) && !schemaVerdict(file, text).valid),
  );
  t.equal(rejected.length, invalid.length, 'the schema rejects a file in every one of them');
});

t.test('every shipped exercise is valid for the loader and for the schema, file by file', async (t) => {
  const names = (await readdir(exercisesRoot, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  t.ok(names.includes('multi'));
  for (const name of names) {
    const dir = path.join(exercisesRoot, name);
    const { issues, files } = await inspectExercise(dir);
    t.same(issues, [], `${name}: the loader finds no problem`);
    for (const label of files) {
      const text = await readFile(path.resolve(label), 'utf8');
      const { valid, errors } = schemaVerdict(label, text);
      t.ok(valid, `${name}/${path.basename(label)}: schema-valid ${valid ? '' : errors}`);
      // yaml-language-server reads the line only in the header comment, before any content.
      const schemaFile = path.basename(label) === 'exercise.yaml' ? 'exercise.schema.json' : 'step.schema.json';
      t.equal(text.split('\n')[0], `# yaml-language-server: $schema=../${schemaFile}`, `${name}/${path.basename(label)} names its schema on its first line`);
    }
  }
});

t.test('the committed schemas are exactly what `grade schema exercise` and `grade schema step` print', async (t) => {
  for (const kind of ['exercise', 'step'] as const satisfies readonly SpecKind[]) {
    const committed = await readFile(path.join(exercisesRoot, `${kind}.schema.json`), 'utf8');
    t.equal(
      committed,
      `${JSON.stringify(specJsonSchema(kind), null, 2)}\n`,
      `exercises/${kind}.schema.json (regenerate: grade schema ${kind} > exercises/${kind}.schema.json)`,
    );
  }
});

t.test('the schemas are draft 2020-12 documents that editors can use', async (t) => {
  for (const kind of ['exercise', 'step'] as const) {
    const schema = specJsonSchema(kind);
    t.match(schema, { $schema: 'https://json-schema.org/draft/2020-12/schema', $id: `urn:grade:${kind}`, title: String, description: String, type: 'object' });
    t.equal((schema as { additionalProperties?: unknown }).additionalProperties, false, `${kind}: unknown keys are errors`);
    const properties = (schema as { properties: Record<string, { description?: string }> }).properties;
    for (const [key, property] of Object.entries(properties)) t.type(property.description, 'string', `${kind}.${key} is described`);
    // yaml-language-server validates with draft-07 at heart: keywords only later drafts have would be ignored.
    const later = [
      '$defs',
      '$dynamicRef',
      '$dynamicAnchor',
      '$anchor',
      'prefixItems',
      'dependentRequired',
      'dependentSchemas',
      'unevaluatedProperties',
      'unevaluatedItems',
      'minContains',
      'maxContains',
    ];
    t.same(
      keysIn(schema).filter((key) => later.includes(key)),
      [],
      `${kind}: only keywords draft-07 has too`,
    );
  }
  t.same((specJsonSchema('exercise') as { properties: { schemaVersion: unknown } }).properties.schemaVersion, {
    enum: [...SCHEMA_VERSIONS],
    description: String((specJsonSchema('exercise') as { properties: { schemaVersion: { description: string } } }).properties.schemaVersion.description),
  });
  t.match(String((specJsonSchema('step') as { description: string }).description), /A step file carries no schemaVersion/);
});

t.test('checks: the kinds are an enum, and each kind allows exactly its own options besides the common keys', async (t) => {
  const checkSchema = (specJsonSchema('step') as { properties: { checks: { items: Record<string, unknown> } } }).properties.checks.items as {
    properties: { kind: { enum: string[]; description: string } };
    allOf: {
      if: { properties: { kind: { const: string } } };
      then: { properties: Record<string, unknown>; additionalProperties: boolean; description: string };
    }[];
  };
  t.same(checkSchema.properties.kind.enum, graderKinds);
  t.equal(checkSchema.allOf.length, graders.length);
  for (const grader of graders) {
    const branch = checkSchema.allOf.find((each) => each.if.properties.kind.const === grader.kind);
    t.ok(branch, `${grader.kind} has its branch`);
    t.same(
      Object.keys(branch!.then.properties).sort(),
      ['id', 'title', 'kind', 'points', 'hint', 'needs', ...Object.keys(grader.fields)].sort(),
      `${grader.kind}: its keys`,
    );
    t.equal(branch!.then.additionalProperties, false);
    t.equal(branch!.then.description, grader.summary);
    t.ok(checkSchema.properties.kind.description.includes(`${grader.kind}: ${grader.summary}`), `${grader.kind} is described among the kinds`);
  }
});

/** Every key of every object in a JSON value, property names included (none here is a keyword's name). */
function keysIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysIn);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([key, child]) => [key, ...keysIn(child)]);
  return [];
}
