// `grade new <id>`: the folder it writes loads as it is (exercise.yaml at schemaVersion 1, one
// step with a build and a command check, a solution and a control whose expect.yaml names a check
// of the step), every field is commented, and an existing folder or a bad id is refused in one
// line with exit 2, touching nothing.
import t from 'tap';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { parseImageMap, substituteBaseImages } from '../../runner/authoring/base-images.js';
import { scaffoldExercise, ScaffoldError, suggestedId } from '../../runner/authoring/scaffold.js';
import { scaffoldFiles, SOLUTION_BASE } from '../../runner/authoring/scaffold-templates.js';
import { parseDockerfile } from '../../runner/dockerfile/parser.js';
import { loadExercise } from '../../runner/spec/loader.js';
import { runCli } from '../support/cli.js';

/** Every file under `dir`, relative, sorted. */
async function filesUnder(dir: string, prefix = ''): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) found.push(...(await filesUnder(path.join(dir, entry.name), `${prefix}${entry.name}/`)));
    else found.push(`${prefix}${entry.name}`);
  }
  return found.sort();
}

t.test('a new exercise loads as made: one step with a build and a command check, a solution and one control', async (t) => {
  const root = path.join(t.testdir(), 'course', 'exercises');
  const made = await scaffoldExercise(root, 'hello-docker');
  t.equal(made.dir, path.join(root, 'hello-docker'), 'the exercises folder is created when missing');
  t.same(await filesUnder(made.dir), [
    'exercise.yaml',
    'hello-image.yaml',
    'solution/Dockerfile',
    'wrong/wrong-greeting/Dockerfile',
    'wrong/wrong-greeting/expect.yaml',
  ]);
  const exercise = await loadExercise(made.dir);
  t.equal(exercise.id, 'hello-docker');
  t.equal(exercise.title, 'Hello docker');
  t.same(
    exercise.steps.map((step) => [step.id, step.checks.map((check) => `${check.id}:${check.kind}`)]),
    [['hello-image', ['image-builds:image-builds', 'prints-hello:command']]],
  );
  t.same(
    made.controls.map((control) => [control.name, control.expectation]),
    [['wrong-greeting', { fails: ['hello-image/prints-hello'], othersPass: true }]],
  );
  const exerciseYaml = await readFile(path.join(made.dir, 'exercise.yaml'), 'utf8');
  t.match(exerciseYaml, /^schemaVersion: 1$/m);
  t.match(exerciseYaml, /^# yaml-language-server: \$schema=\.\.\/exercise\.schema\.json\n/, 'editors find the schema beside the exercise folders');
  t.match(await readFile(path.join(made.dir, 'hello-image.yaml'), 'utf8'), /^# yaml-language-server: \$schema=\.\.\/step\.schema\.json\n/);
});

t.test('every field the scaffold writes has a comment above it', async (t) => {
  const files = scaffoldFiles('demo');
  for (const name of ['exercise.yaml', 'hello-image.yaml', 'wrong/wrong-greeting/expect.yaml']) {
    const text = files[name]!;
    const doc = parseDocument(text);
    t.same(doc.errors, [], `${name} parses`);
    const lines = text.split('\n');
    const topKeys = lines.flatMap((line, index) => (/^[A-Za-z]+:/.test(line) ? [index] : []));
    t.ok(topKeys.length >= 2, `${name} has fields`);
    for (const index of topKeys) t.match(lines[index - 1], /^#/, `${name}: ${lines[index]!.split(':')[0]} is explained above it`);
  }
  const solution = parseDockerfile(files['solution/Dockerfile']!);
  t.equal(solution.stages[0]!.base, SOLUTION_BASE);
  const mapped = substituteBaseImages(files['solution/Dockerfile']!, parseImageMap([`${SOLUTION_BASE}=grade-fixture/runtime`]));
  t.match(mapped.text, /^FROM grade-fixture\/runtime$/m, 'the solution maps onto the offline runtime stand-in');
  t.match(files['wrong/wrong-greeting/expect.yaml'], /^# The image builds and runs, but prints the wrong word\.$/m, 'the control says what mistake it shows');
});

t.test('an existing folder, a bad id or a command name is refused, and nothing is written', async (t) => {
  const root = t.testdir({ taken: { 'notes.txt': 'mine\n' }, empty: {} });
  for (const id of ['taken', 'empty']) {
    await t.rejects(scaffoldExercise(root, id), { constructor: ScaffoldError, message: /taken|empty/ });
  }
  await t.rejects(scaffoldExercise(root, 'taken'), { message: /^.*taken already exists: choose another id, or remove it first$/ });
  t.same(await filesUnder(path.join(root, 'taken')), ['notes.txt'], 'the existing folder is untouched');
  t.same(await filesUnder(path.join(root, 'empty')), [], 'even an empty one');
  const bad: [string, string][] = [
    ['My_Exercise', 'my-exercise'],
    ['../escape', 'escape'],
    ['a--b', 'a-b'],
    ['-lead', 'lead'],
    ['Ünïcode', 'n-code'],
  ];
  for (const [id, suggestion] of bad) {
    await t.rejects(
      scaffoldExercise(root, id),
      { constructor: ScaffoldError, message: `"${id}" is not an exercise id: use lower-case letters, digits and dashes, such as ${suggestion}` },
      id,
    );
  }
  t.equal(suggestedId('!!!'), 'my-exercise');
  await t.rejects(scaffoldExercise(root, 'list', ['list', 'batch']), {
    message: '"list" is a grade command: `grade list` could not grade it; choose another id',
  });
  t.same((await readdir(root)).sort(), ['empty', 'taken'], 'nothing else was created');
});

t.test('grade new on the command line: what it made, and exit 2 with one line when refused', async (t) => {
  const root = t.testdir({ course: {}, taken: { existing: { 'notes.txt': 'mine\n' } } });
  const course = path.join(root, 'course');
  const made = await runCli(['new', 'first-image', '--exercises', course]);
  t.equal(made.code, 0, made.stderr);
  t.match(made.stdout, /^created .*first-image\/$/m);
  t.match(made.stdout, /^It loads as made: 1 step, 2 checks, 1 negative control\.$/m);
  t.match(made.stdout, /^Next: edit the files, then self-test it: grade selftest first-image --exercises /m);
  t.match(made.stdout, /--image alpine:3\.19=IMAGE/);
  t.match(made.stdout, /^For completion in your editor: grade schema exercise > .*exercise\.schema\.json; grade schema step > .*step\.schema\.json$/m);
  t.ok(existsSync(path.join(course, 'first-image', 'wrong', 'wrong-greeting', 'expect.yaml')));
  const listed = await runCli(['list', '--exercises', course]);
  t.match(listed.stdout, /^first-image {2}First image$/m, 'grade list finds it');

  const taken = path.join(root, 'taken');
  const refusals: [string[], RegExp][] = [
    [['new', 'existing', '--exercises', taken], /^grade: .*existing already exists: choose another id, or remove it first\n$/],
    [['new', 'Bad_Id', '--exercises', taken], /^grade: "Bad_Id" is not an exercise id: use lower-case letters, digits and dashes, such as bad-id\n$/],
    [['new', 'selftest', '--exercises', taken], /^grade: "selftest" is a grade command: `grade selftest` could not grade it; choose another id\n$/],
    [['new'], /^grade: name the new exercise, e.g. `grade new my-exercise`\n$/],
  ];
  for (const [args, stderr] of refusals) {
    const run = await runCli(args);
    t.equal(run.code, 2, args.join(' '));
    t.match(run.stderr, stderr);
    t.equal(run.stdout, '');
  }
  t.same(await filesUnder(taken), ['existing/notes.txt'], 'nothing was written');
});
