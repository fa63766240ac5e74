// `grade validate` as a function: what a list of paths means, and every problem of every file in
// one run, at file:line:column, sorted by file then line.
import path from 'node:path';
import t from 'tap';
import { formatValidation, validateSpecs } from '../../runner/cli/commands/validate.js';
import { exercisesRoot } from '../../runner/paths.js';
import { exerciseWith, stepWith, yaml } from '../support/spec-cases.js';

const shown = (...parts: string[]) => path.relative(process.cwd(), path.join(...parts));

/** An exercise of four steps with one problem in each of four files. */
const BROKEN = {
  // No schemaVersion.
  'exercise.yaml': yaml('id: broken', 'title: Broken', 'steps: [one, two, three, four]'),
  // A YAML syntax error: a tab as indentation.
  'one.yaml': yaml('id: one', 'title: One', 'checks:', '\t- id: a'),
  // An unknown key, with its suggestion.
  'two.yaml': stepWith({ 1: 'id: two', 13: '    titel: it prints hi' }),
  // Needs of a step that runs later and of a step that does not exist.
  'three.yaml': yaml(
    'id: three',
    'title: Three',
    'needs: [four]',
    'checks:',
    '  - id: c',
    '    title: c',
    '    kind: file-exists',
    '    paths: [c]',
    '    needs: [zero/c]',
  ),
  'four.yaml': yaml('id: four', 'title: Four', 'checks:', '  - id: d', '    title: d', '    kind: file-exists', '    paths: [d]'),
};

t.test('every problem of every file in one run, at file:line:column, sorted by file then line', async (t) => {
  const dir = t.testdir({ broken: BROKEN });
  const validation = await validateSpecs([path.join(dir, 'broken')], exercisesRoot);
  t.equal(validation.valid, false);
  const at = (file: string) => shown(dir, 'broken', file);
  t.same(validation.problems, [
    { file: at('exercise.yaml'), line: 1, column: 1, message: 'exercise.yaml has no schemaVersion: add `schemaVersion: 1` as its first line' },
    { file: at('one.yaml'), line: 4, column: 1, message: 'Tabs are not allowed as indentation' },
    { file: at('three.yaml'), line: 3, column: 9, message: 'needs step "four", which runs after three: steps run in the order of exercise.yaml' },
    { file: at('three.yaml'), line: 9, column: 13, message: 'needs "zero/c": no step "zero" (steps: one, two, three, four)' },
    { file: at('two.yaml'), line: 12, column: 5, message: 'missing key "title" (a string)' },
    {
      file: at('two.yaml'),
      line: 13,
      column: 5,
      message: 'unknown key "titel" (did you mean "title"?); valid keys: id, title, kind, points, hint, needs, run, exitCode, stdout, stderr',
    },
  ]);
  t.same(validation.valids, []);
  t.equal(
    formatValidation(validation),
    [
      ...validation.problems.map((problem) => `${problem.file}:${problem.line}:${problem.column}: ${problem.message}`),
      'grade validate: 6 problems in 4 files',
      '',
    ].join('\n'),
    'text: one line per problem, then the count',
  );
});

t.test('a need of a check in a step whose file does not parse cannot be judged; once it parses, it is', async (t) => {
  const exercise = exerciseWith('id: pair', 'title: Pair', 'steps: [one, two]');
  const two = yaml('id: two', 'title: Two', 'checks:', '  - id: x', '    title: x', '    kind: file-exists', '    paths: [x]', '    needs: [one/nothing]');
  const dir = t.testdir({
    broken: { 'exercise.yaml': exercise, 'one.yaml': stepWith({ 2: 'title: [unclosed' }), 'two.yaml': two },
    fixed: { 'exercise.yaml': exercise, 'one.yaml': stepWith({}), 'two.yaml': two },
  });
  const broken = await validateSpecs([path.join(dir, 'broken')], exercisesRoot);
  t.same(
    broken.problems.map((problem) => [path.basename(problem.file), problem.line]),
    [['one.yaml', 3]],
    'which checks step one has is not known: the need is not reported',
  );
  const fixed = await validateSpecs([path.join(dir, 'fixed')], exercisesRoot);
  t.same(fixed.problems, [
    { file: shown(dir, 'fixed/two.yaml'), line: 8, column: 13, message: 'needs "one/nothing": step one has no check "nothing" (checks: builds, prints)' },
  ]);
});

t.test('the shipped exercises are valid, by default and by path', async (t) => {
  const byDefault = await validateSpecs([], exercisesRoot);
  t.same(byDefault, { valid: true, problems: [], valids: [`${shown(exercisesRoot, 'multi')} (4 steps, 28 points, 11 negative controls)`] });
  t.equal(formatValidation(byDefault), `ok: ${shown(exercisesRoot, 'multi')} (4 steps, 28 points, 11 negative controls)\n`);

  t.same((await validateSpecs([exercisesRoot], exercisesRoot)).valids, byDefault.valids, 'a folder of exercises');
  t.same((await validateSpecs([path.join(exercisesRoot, 'multi/exercise.yaml')], exercisesRoot)).valids, byDefault.valids, 'exercise.yaml: its exercise');
  t.same((await validateSpecs(['multi'], exercisesRoot)).valids, byDefault.valids, 'the name of an exercise');
  t.same(
    (await validateSpecs([path.join(exercisesRoot, 'multi/large-small.yaml')], exercisesRoot)).valids,
    [`${shown(exercisesRoot, 'multi/large-small.yaml')} (step large-small: 7 checks, 10 points)`],
    'a step file',
  );
});

t.test('a step file alone: checked within its exercise, reporting its own problems only', async (t) => {
  const dir = t.testdir({ broken: BROKEN, loose: { 'solo.yaml': stepWith({ 1: 'id: solo', 6: '    image: elsewhere', 15: '    run: nowhere' }) } });
  const three = await validateSpecs([path.join(dir, 'broken/three.yaml')], exercisesRoot);
  t.same(
    three.problems.map((problem) => [path.basename(problem.file), problem.line, problem.column]),
    [
      ['three.yaml', 3, 9],
      ['three.yaml', 9, 13],
    ],
  );
  const four = await validateSpecs([path.join(dir, 'broken/four.yaml')], exercisesRoot);
  t.same(four, { valid: true, problems: [], valids: [`${shown(dir, 'broken/four.yaml')} (step four: 1 check, 1 point)`] });

  // Without an exercise, elsewhere may be another step's build; nowhere, used by a check, is this step's... unknown too.
  const solo = await validateSpecs([path.join(dir, 'loose/solo.yaml')], exercisesRoot);
  t.same(solo.problems, [], 'names of other steps are not known alone');
  t.equal(solo.valid, true);
});

t.test('several paths: each checked once, problems merged and sorted, a missing path is a problem too', async (t) => {
  const dir = t.testdir({ broken: BROKEN, good: { 'exercise.yaml': exerciseWith('id: good', 'title: Good', 'steps: [one]'), 'one.yaml': stepWith({}) } });
  const validation = await validateSpecs(
    [path.join(dir, 'good'), path.join(dir, 'broken/two.yaml'), path.join(dir, 'broken'), path.join(dir, 'nothing-here')],
    exercisesRoot,
  );
  t.same(validation.valids, [`${shown(dir, 'good')} (1 step, 2 points)`]);
  t.equal(validation.problems.length, 7, "two.yaml's problems said once, though it was named twice");
  t.same(validation.problems[0], {
    file: shown(dir, 'broken/exercise.yaml'),
    line: 1,
    column: 1,
    message: 'exercise.yaml has no schemaVersion: add `schemaVersion: 1` as its first line',
  });
  t.match(validation.problems.at(-1), { file: path.join(dir, 'nothing-here'), line: 1, column: 1, message: /^no such file or folder/ });
});

t.test('a folder without exercise.yaml or exercises in it', async (t) => {
  const dir = t.testdir({ empty: {} });
  const validation = await validateSpecs([path.join(dir, 'empty')], exercisesRoot);
  t.same(validation.problems, [{ file: shown(dir, 'empty/exercise.yaml'), line: 1, column: 1, message: 'exercise.yaml not found' }]);
  await t.rejects(validateSpecs([], path.join(dir, 'empty')), { message: /^no exercise folders in / }, 'nothing to validate by default is a usage error');
});

t.test("the negative controls' expect.yaml files are validated with their exercise", async (t) => {
  const { cp, writeFile } = await import('node:fs/promises');
  const dir = t.testdir({});
  await cp(path.join(exercisesRoot, 'multi'), path.join(dir, 'multi'), { recursive: true });
  await writeFile(path.join(dir, 'multi/wrong/single-stage/expect.yaml'), 'fails: [large-small/nope]\nbogus: 1\n');
  const validation = await validateSpecs([path.join(dir, 'multi')], dir);
  t.equal(validation.valid, false);
  t.same(
    validation.problems.map((problem) => [path.basename(path.dirname(problem.file)), problem.line, problem.column, problem.message.slice(0, 40)]),
    [
      ['single-stage', 1, 9, 'unknown check "large-small/nope": checks'],
      ['single-stage', 2, 1, 'unknown key "bogus"; valid keys: fails, '],
    ],
  );
  t.same(validation.valids, [], 'the exercise is not called ok');
});
