// `grade validate` and `grade schema` as installed: the exit status, every problem of a broken
// exercise at file:line:column, and a schema that ajv compiles and that accepts the shipped specs.
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { exercisesRoot } from '../../runner/paths.js';
import { runCli } from '../support/cli.js';

/** Text matched literally inside a RegExp. */
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

t.test('grade validate: the shipped exercises are valid', async (t) => {
  const run = await runCli(['validate']);
  t.equal(run.code, 0, run.stderr);
  t.equal(run.stdout, 'ok: exercises/multi (4 steps, 28 points, 11 negative controls)\n');
  t.equal(run.stderr, '');

  const json = await runCli(['validate', '--reporter', 'json']);
  t.equal(json.code, 0);
  t.same(JSON.parse(json.stdout), { valid: true, problems: [] });
});

t.test('grade validate on a broken copy: exit 2 and every problem of every file', async (t) => {
  const root = t.testdir({});
  const dir = path.join(root, 'multi');
  await cp(path.join(exercisesRoot, 'multi'), dir, { recursive: true });
  const edit = async (file: string, from: string | RegExp, to: string) => {
    const text = await readFile(path.join(dir, file), 'utf8');
    const changed = text.replace(from, to);
    t.not(changed, text, `${file} changed`);
    await writeFile(path.join(dir, file), changed);
  };
  await edit('exercise.yaml', /^schemaVersion: 1\n/m, '');
  await edit('compile-hello.yaml', '    kind: compiles\n', '    kind: compile\n');
  await edit('large-small.yaml', /^title: /m, 'titel: ');
  await edit('target-stage.yaml', 'needs: [large-small/small-builds]', 'needs: [small-stage/small-builds]');
  await edit('scratch-sleep.yaml', /^bonus: true\n/m, 'bonus: true\nbonus: false\n');

  const run = await runCli(['validate', dir]);
  t.equal(run.code, 2);
  const lines = run.stdout.trimEnd().split('\n');
  // Labelled as the loader names files: relative to the folder grade runs in (the package's, here).
  const at = (file: string) => literal(path.relative(path.join(exercisesRoot, '..'), path.join(dir, file)));
  t.match(lines, [
    new RegExp(`^${at('compile-hello.yaml')}:\\d+:11: unknown check kind "compile" \\(did you mean "compiles"\\?\\)`),
    new RegExp(`^${at('exercise.yaml')}:1:1: exercise\\.yaml has no schemaVersion: add \`schemaVersion: 1\` as its first line$`),
    new RegExp(`^${at('large-small.yaml')}:2:1: missing key "title"`),
    new RegExp(`^${at('large-small.yaml')}:3:1: unknown key "titel" \\(did you mean "title"\\?\\)`),
    new RegExp(`^${at('scratch-sleep.yaml')}:8:1: Map keys must be unique`),
    new RegExp(`^${at('target-stage.yaml')}:\\d+:\\d+: needs "small-stage/small-builds": no step "small-stage"`),
    /^grade validate: 6 problems in 5 files$/,
  ]);
  t.equal(lines.length, 7, 'nothing else');
  t.equal(run.stderr, '');

  const json = await runCli(['validate', dir, '--reporter', 'json']);
  t.equal(json.code, 2);
  const report = JSON.parse(json.stdout) as { valid: boolean; problems: { file: string; line: number; column: number; message: string }[] };
  t.equal(report.valid, false);
  t.same(
    report.problems.map((problem) => `${problem.file}:${problem.line}:${problem.column}: ${problem.message}`),
    lines.slice(0, -1),
    'the same problems, as JSON',
  );

  const step = await runCli(['validate', path.join(dir, 'target-stage.yaml')]);
  t.equal(step.code, 2);
  t.same(step.stdout.split('\n'), [lines[5], 'grade validate: 1 problem in 1 file', ''], 'a step file alone: its own problems, references within its exercise');
});

t.test('grade validate refuses a reporter it does not have, in one line', async (t) => {
  const run = await runCli(['validate', '--reporter', 'tap']);
  t.equal(run.code, 2);
  t.equal(run.stderr, 'grade: --reporter tap: expected text or json\n');
  t.equal(run.stdout, '');
});

t.test('grade schema prints JSON Schemas that ajv compiles and that accept the shipped specs', async (t) => {
  const ajv = new Ajv2020({ allErrors: true, strict: true, formats: { regex: true } });
  const both = await runCli(['schema']);
  t.equal(both.code, 0);
  const schemas = JSON.parse(both.stdout) as Record<'exercise' | 'step', Record<string, unknown>>;
  t.same(Object.keys(schemas), ['exercise', 'step']);
  for (const kind of ['exercise', 'step'] as const) {
    const one = await runCli(['schema', kind]);
    t.equal(one.code, 0);
    const schema = JSON.parse(one.stdout) as Record<string, unknown>;
    t.same(schema, schemas[kind], `grade schema ${kind} is the ${kind} of grade schema`);
    t.equal(one.stdout, await readFile(path.join(exercisesRoot, `${kind}.schema.json`), 'utf8'), `exercises/${kind}.schema.json is what it prints`);
    t.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    const validate = ajv.compile(schema);
    const files = kind === 'exercise' ? ['exercise.yaml'] : ['compile-hello.yaml', 'large-small.yaml', 'target-stage.yaml', 'scratch-sleep.yaml'];
    for (const file of files) {
      t.ok(validate(parse(await readFile(path.join(exercisesRoot, 'multi', file), 'utf8'))), `multi/${file} is valid ${JSON.stringify(validate.errors)}`);
    }
  }
  const unknown = await runCli(['schema', 'checks']);
  t.equal(unknown.code, 2);
  t.equal(unknown.stderr, 'grade: no schema "checks": name exercise or step, or nothing for both\n');
});
