// Specs the loader accepts or rejects, as data: test/unit/spec.test.ts holds the loader to the
// issues each case lists, and test/unit/spec-schema.test.ts holds the JSON Schema (`grade schema`)
// to the loader's verdict on every file of every case the schema can judge.

/** Lines joined with newlines: line N of the file is `lines[N - 1]`, easy to count in a test. */
export const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

export const EXERCISE = yaml('schemaVersion: 1', 'id: demo', 'title: Demo', 'steps: [one]');

/** exercise.yaml with these lines after `schemaVersion: 1`: line N of the file is `lines[N - 2]`. */
export const exerciseWith = (...lines: string[]) => yaml('schemaVersion: 1', ...lines);

/** The step every broken spec starts from; each case changes one thing. */
export const GOOD_STEP = [
  'id: one', //                      1
  'title: Step one', //              2
  'actions:', //                     3
  '  - build: app', //               4
  '  - run: app-output', //          5
  '    image: app', //               6
  'checks:', //                      7
  '  - id: builds', //               8
  '    title: the app builds', //    9
  '    kind: image-builds', //      10
  '    image: app', //              11
  '  - id: prints', //              12
  '    title: it prints hi', //     13
  '    kind: command', //           14
  '    run: app-output', //         15
  '    stdout:', //                 16
  '      equals: "hi\\n"', //       17
  '    needs: [builds]', //         18
];

/** GOOD_STEP with lines replaced, by line number (1-based). */
export function stepWith(changes: Record<number, string>): string {
  return yaml(...GOOD_STEP.map((line, index) => changes[index + 1] ?? line));
}

/** A second step that builds nothing: `two.yaml`. */
export const STEP_TWO = yaml('id: two', 'title: Two', 'checks:', '  - id: x', '    title: x', '    kind: file-exists', '    paths: [x]');

/** file (as named in `files`), line, column, message. */
export type ExpectedIssue = readonly [file: string, line: number, col: number, message: string | RegExp];

export interface SpecCase {
  name: string;
  /** The exercise folder: exercise.yaml is EXERCISE and one.yaml the good step unless given. */
  files: Record<string, string>;
  /** Every issue the loader reports, in its order (by file, line, column); none: the spec loads. */
  issues: readonly ExpectedIssue[];
  /**
   * Why the JSON Schema cannot reach the loader's verdict here (it sees one file, as data): left
   * unset, the schema must find each file valid exactly when the loader finds no issue in it.
   */
  loaderOnly?: string;
}

const REFERENCES = 'a reference to an action, step or check: the schema sees one file, and no names';
const DUPLICATES = 'an id used twice in a list of mappings: no schema keyword compares one key across items';
const FILE_BOUNDS = 'a bound on the file itself (aliases, depth): the schema sees the data once the YAML is read';
const UNIT_BOUNDS = 'a bound on a duration or size written with a unit: the schema sees text, not an amount';

const KINDS = 'file-exists, dockerfile, compiles, image-builds, command, image-size, path-absent, build-cached, container-running, process-list, root-listing';

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** A step whose title is aliased `count` times. */
const aliasStep = (count: number) =>
  yaml(
    'id: one',
    'title: &title Step one',
    'checks:',
    '  - id: files',
    '    title: *title',
    '    kind: file-exists',
    '    paths:',
    ...Array.from({ length: count - 1 }, () => '      - *title'),
  );

export const specCases: readonly SpecCase[] = [
  // ---- specs that load ----
  { name: 'the good step', files: {}, issues: [] },
  {
    name: 'a YAML alias is read as the value it names',
    files: { 'exercise.yaml': exerciseWith('id: demo', 'title: &title Demo', 'description: *title', 'steps: [one]') },
    issues: [],
  },
  {
    name: 'sizes and durations with their units',
    files: {
      'exercise.yaml': exerciseWith(
        'id: demo',
        'title: Demo',
        'steps: [one]',
        'limits:',
        '  memory: 64MiB',
        '  output: 10MB',
        '  runTimeout: 30s',
        '  buildTimeout: 5m',
        '  pids: 64',
        '  cpus: 0.5',
      ),
      'one.yaml': yaml(
        'id: one',
        'title: One',
        'actions:',
        '  - build: app',
        '  - start: web',
        '    image: app',
        '    settle: 500ms',
        'checks:',
        '  - id: small',
        '    title: small',
        '    kind: image-size',
        '    image: app',
        '    max: 10MB',
        '    min: 1 KiB',
      ),
    },
    issues: [],
  },
  {
    name: 'a step needs an earlier step',
    files: {
      'exercise.yaml': exerciseWith('id: two', 'title: Two', 'steps: [first, second]'),
      'first.yaml': yaml('id: first', 'title: First', 'checks:', '  - id: a', '    title: A', '    kind: file-exists', '    paths: [x]'),
      'second.yaml': yaml('id: second', 'title: Second', 'needs: [first]', 'checks:', '  - id: b', '    title: B', '    kind: file-exists', '    paths: [y]'),
    },
    issues: [],
  },
  { name: '100 aliases in a file are read', files: { 'one.yaml': aliasStep(100) }, issues: [] },
  { name: 'points may be 1000', files: { 'one.yaml': stepWith({ 9: '    title: the app builds\n    points: 1000' }) }, issues: [] },
  {
    name: 'a build from a list of Dockerfiles, a run of a program, a started container',
    files: {
      'one.yaml': yaml(
        'id: one',
        'title: Step one',
        'dir: [sub, ../sub]',
        'bonus: true',
        'actions:',
        '  - build: tools',
        '    from: [{ dockerfile: Dockerfile.large }, { dockerfile: Dockerfile, target: build }]',
        '    part: toolchain',
        '  - compile: hello',
        '    image: tools',
        '    sources: hello.c',
        '    command: [gcc, hello.c, -o, hello]',
        '    output: hello',
        '  - run: hello-output',
        '    program: hello',
        '  - start: web',
        '    image: tools',
        '    command: [sleep, "1000"]',
        'checks:',
        '  - id: compiles',
        '    title: compiles',
        '    kind: compiles',
        '    compile: hello',
        '    warnings: allow',
        '  - id: says-hello',
        '    title: says hello',
        '    kind: command',
        '    run: hello-output',
        '    stdout: { matches: "^Hello" }',
        '    stderr: { contains: "" }',
        '    needs: [compiles]',
        '  - id: lists',
        '    title: lists',
        '    kind: root-listing',
        '    container: web',
        '    equals: [dev, etc]',
      ),
    },
    issues: [],
  },

  // ---- schemaVersion ----
  {
    name: 'exercise.yaml without a schemaVersion',
    files: { 'exercise.yaml': yaml('# an exercise', 'id: demo', 'title: Demo', 'steps: [one]') },
    issues: [['exercise.yaml', 1, 1, 'exercise.yaml has no schemaVersion: add `schemaVersion: 1` as its first line']],
  },
  {
    name: 'a schemaVersion newer than this grade reads',
    files: { 'exercise.yaml': yaml('schemaVersion: 2', 'id: demo', 'title: Demo', 'steps: [one]', 'newKey: what version 2 has') },
    issues: [['exercise.yaml', 1, 16, 'schemaVersion 2 is newer than this grade reads schemaVersion 1: upgrade grade to read this exercise']],
  },
  {
    name: 'a schemaVersion written as a string',
    files: { 'exercise.yaml': yaml('schemaVersion: "1"', 'id: demo', 'title: Demo', 'steps: [one]') },
    issues: [['exercise.yaml', 1, 16, 'unknown schemaVersion: found string "1"; this grade reads schemaVersion 1 (write schemaVersion: 1)']],
  },
  {
    name: 'schemaVersion 0',
    files: { 'exercise.yaml': yaml('id: demo', 'title: Demo', 'steps: [one]', 'schemaVersion: 0') },
    issues: [['exercise.yaml', 4, 16, 'unknown schemaVersion: found number 0; this grade reads schemaVersion 1 (write schemaVersion: 1)']],
  },
  {
    name: 'a step file with a schemaVersion',
    files: { 'one.yaml': `schemaVersion: 1\n${stepWith({})}` },
    issues: [['one.yaml', 1, 1, 'schemaVersion belongs in exercise.yaml only: a step file is read at the version its exercise.yaml names']],
  },

  // ---- YAML ----
  {
    name: 'a tab as indentation',
    files: { 'exercise.yaml': exerciseWith('id: demo', 'title: Demo', 'steps:', '\t- one') },
    issues: [['exercise.yaml', 5, 1, 'Tabs are not allowed as indentation']],
  },
  {
    name: 'a colon in a plain value',
    files: { 'exercise.yaml': exerciseWith('id: demo', 'title: Demo: the sequel', 'steps: [one]') },
    issues: [['exercise.yaml', 3, 8, 'Nested mappings are not allowed in compact mappings']],
  },
  {
    // The yaml parser only notices a missing quote at the end of the file, and says so there.
    name: 'a missing closing quote',
    files: { 'exercise.yaml': exerciseWith('id: demo', 'title: "an unterminated string', 'steps: [one]') },
    issues: [['exercise.yaml', 5, 1, 'Missing closing "quote']],
  },
  {
    name: "a step file's own YAML error",
    files: { 'one.yaml': stepWith({ 10: '    kind: image-builds\n   image: app' }) },
    issues: [
      ['one.yaml', 11, 1, /^Sequence item without - indicator/],
      ['one.yaml', 11, 11, /^Nested mappings are not allowed/],
      ['one.yaml', 11, 11, /^Implicit keys need to be on a single line/],
    ],
  },

  // ---- keys and types ----
  {
    name: 'an unknown key lists the valid ones and suggests a close one',
    files: { 'one.yaml': stepWith({ 9: '    titel: the app builds' }) },
    issues: [
      ['one.yaml', 8, 5, 'missing key "title" (a string)'],
      ['one.yaml', 9, 5, 'unknown key "titel" (did you mean "title"?); valid keys: id, title, kind, points, hint, needs, image'],
    ],
  },
  {
    name: 'an unknown key under limits',
    files: { 'exercise.yaml': exerciseWith('id: demo', 'title: Demo', 'steps: [one]', 'limits:', '  memroy: 1GB') },
    issues: [
      ['exercise.yaml', 6, 3, 'unknown key "memroy" (did you mean "memory"?); valid keys: runTimeout, buildTimeout, memory, pids, cpus, output, buildNetwork'],
    ],
  },
  {
    name: 'an unknown key in exercise.yaml lists schemaVersion too',
    files: { 'exercise.yaml': exerciseWith('id: demo', 'titel: Demo', 'steps: [one]') },
    issues: [
      ['exercise.yaml', 1, 1, 'missing key "title" (a string)'],
      ['exercise.yaml', 3, 1, 'unknown key "titel" (did you mean "title"?); valid keys: schemaVersion, id, title, description, steps, limits'],
    ],
  },
  {
    name: 'an unknown key far from every valid one',
    files: { 'one.yaml': stepWith({ 2: 'title: Step one\nzzzzzz: 1' }) },
    issues: [['one.yaml', 3, 1, 'unknown key "zzzzzz"; valid keys: id, title, description, dir, bonus, needs, actions, checks']],
  },
  {
    name: 'points that are not a number',
    files: { 'one.yaml': stepWith({ 11: '    image: app\n    points: many' }) },
    issues: [['one.yaml', 12, 13, 'expected a number >= 0 and <= 1000, found string "many"']],
  },
  {
    name: 'bonus that is not a boolean',
    files: { 'one.yaml': stepWith({ 2: 'title: Step one\nbonus: yes please' }) },
    issues: [['one.yaml', 3, 8, 'expected true or false, found string "yes please"']],
  },
  {
    name: 'steps that are not a list',
    files: { 'exercise.yaml': exerciseWith('id: demo', 'title: Demo', 'steps: one') },
    issues: [['exercise.yaml', 4, 8, 'expected a list, found string "one"']],
  },
  {
    name: 'a step listed twice',
    files: { 'exercise.yaml': exerciseWith('id: demo', 'title: Demo', 'steps: [one, one]') },
    issues: [['exercise.yaml', 4, 14, '"one" is listed twice']],
  },
  {
    name: 'an exit code that is not a whole number',
    files: { 'one.yaml': stepWith({ 15: '    run: app-output\n    exitCode: 1.5' }) },
    issues: [['one.yaml', 16, 15, 'expected a whole number >= 0 and <= 255, found number 1.5']],
  },
  {
    name: 'a name that is not lower-case',
    files: { 'one.yaml': stepWith({ 4: '  - build: My_App' }) },
    issues: [['one.yaml', 4, 12, 'expected a lower-case name such as my-image (letters, digits, dashes), found string "My_App"']],
  },
  {
    name: 'a need that is no name',
    files: { 'one.yaml': stepWith({ 18: '    needs: [Builds]' }) },
    issues: [['one.yaml', 18, 13, 'expected a check of this step, a step, or step/check (lower-case names), found string "Builds"']],
  },
  {
    name: 'an empty title',
    files: { 'one.yaml': stepWith({ 2: 'title: ""' }) },
    issues: [['one.yaml', 2, 8, 'expected a string, found string ""']],
  },
  {
    name: 'a step file that is not a mapping',
    files: { 'one.yaml': yaml('- id: one') },
    issues: [['one.yaml', 1, 1, 'expected a mapping with keys id, title, description, dir, bonus, needs, actions, checks, found a list']],
  },
  {
    name: 'an empty exercise.yaml',
    files: { 'exercise.yaml': '' },
    issues: [['exercise.yaml', 1, 1, 'expected a mapping with keys schemaVersion, id, title, description, steps, limits, found nothing']],
  },

  // ---- check kinds ----
  {
    name: 'an unknown check kind close to a known one',
    files: { 'one.yaml': stepWith({ 14: '    kind: comand' }) },
    issues: [['one.yaml', 14, 11, `unknown check kind "comand" (did you mean "command"?); valid kinds: ${KINDS}`]],
  },
  {
    name: 'an unknown check kind far from every known one',
    files: { 'one.yaml': stepWith({ 14: '    kind: telepathy' }) },
    issues: [['one.yaml', 14, 11, `unknown check kind "telepathy"; valid kinds: ${KINDS}`]],
  },
  {
    name: 'a check without a kind',
    files: { 'one.yaml': stepWith({ 14: '    points: 2' }) },
    issues: [['one.yaml', 12, 5, `a check needs a "kind": one of ${KINDS}`]],
  },
  {
    name: "a key of another kind's check",
    files: { 'one.yaml': stepWith({ 11: '    image: app\n    run: app-output' }) },
    issues: [['one.yaml', 12, 5, 'unknown key "run"; valid keys: id, title, kind, points, hint, needs, image']],
  },
  {
    name: "a check without its kind's own key",
    files: { 'one.yaml': stepWith({ 11: '    points: 1' }) },
    issues: [['one.yaml', 8, 5, 'missing key "image" (a string)']],
  },

  // ---- output matchers and regular expressions ----
  {
    name: 'an invalid regular expression',
    files: { 'one.yaml': stepWith({ 17: '      matches: "^(hi"' }) },
    issues: [['one.yaml', 17, 16, /^invalid regular expression "\^\(hi": missing closing \): `\^\(hi` \(patterns use RE2 syntax/]],
  },
  {
    name: 'lookaround, which RE2 cannot run in linear time',
    files: { 'one.yaml': stepWith({ 17: '      matches: "^(?=Hello)"' }) },
    issues: [['one.yaml', 17, 16, /invalid or unsupported Perl syntax.*no backreferences or lookaround/]],
  },
  {
    name: 'two matchers for one stream',
    files: { 'one.yaml': stepWith({ 17: '      equals: hi\n      contains: h' }) },
    issues: [['one.yaml', 17, 7, 'give exactly one of equals, contains or matches']],
  },

  // ---- actions ----
  {
    name: 'a run with both image and program',
    files: { 'one.yaml': stepWith({ 6: '    image: app\n    program: app' }) },
    issues: [['one.yaml', 5, 5, 'a run takes exactly one of "image" (a build) or "program" (a compile)']],
  },
  {
    name: 'a run with neither image nor program',
    files: { 'one.yaml': stepWith({ 6: '    command: [hi]' }) },
    issues: [['one.yaml', 5, 5, 'a run takes exactly one of "image" (a build) or "program" (a compile)']],
  },
  {
    name: 'an action of two kinds',
    files: { 'one.yaml': stepWith({ 4: '  - build: app\n    start: app' }) },
    issues: [['one.yaml', 4, 5, 'an action has exactly one of build, compile, run, start; found build and start']],
  },
  {
    name: 'an action of no kind',
    files: { 'one.yaml': stepWith({ 4: '  - dockerfile: Dockerfile' }) },
    issues: [['one.yaml', 4, 5, 'an action needs one of the keys build, compile, run, start naming what it makes']],
  },
  {
    name: 'a build with both from and dockerfile',
    files: { 'one.yaml': stepWith({ 4: '  - build: app\n    dockerfile: Dockerfile\n    from: [{ dockerfile: Dockerfile.dev }]' }) },
    issues: [['one.yaml', 4, 5, 'a build takes either "from" (a list of choices) or "dockerfile"/"target", not both']],
  },
  {
    name: 'an unknown part',
    files: { 'one.yaml': stepWith({ 4: '  - build: app\n    part: half' }) },
    issues: [['one.yaml', 5, 11, 'expected one of: all, toolchain, found string "half"']],
  },
  {
    name: 'a settle time that is no duration',
    files: { 'one.yaml': stepWith({ 4: '  - build: app\n  - start: web\n    image: app\n    settle: 5' }) },
    issues: [['one.yaml', 7, 13, 'expected a duration such as 500ms, 30s, 5m or 2h, found number 5']],
  },

  // ---- sizes, durations and limits ----
  ...(
    [
      ['memory: 10 furlongs', 11, 'expected a size such as 10MB, 512kB or 1MiB, found string "10 furlongs"'],
      ['output: 1.5', 11, 'expected a size such as 10MB, 512kB or 1MiB, found number 1.5'],
      ['output: -5', 11, 'expected a size such as 10MB, 512kB or 1MiB, found number -5'],
      ['runTimeout: 30', 15, 'expected a duration such as 500ms, 30s, 5m or 2h, found number 30'],
      ['buildTimeout: 0s', 17, 'expected a duration such as 500ms, 30s, 5m or 2h, found string "0s"'],
      ['pids: 8', 9, 'pids 8 is below the minimum of 16 (a shell and a compiler start several processes): use pids: 16 or more'],
      ['pids: 16.5', 9, 'expected a whole number, found number 16.5'],
      [
        'cpus: 65',
        9,
        'cpus 65 is above the maximum of 64 (no grading machine needs more; more than the engine has is lowered to what it has): use cpus: 64 or less',
      ],
      ['memory: 1000', 11, /^memory 1kB is below the minimum of 64MiB/],
      ['buildNetwork: host', 17, 'expected one of: none, default, found string "host"'],
    ] as const
  ).map(
    ([line, col, message]): SpecCase => ({
      name: `limits: ${line}`,
      files: { 'exercise.yaml': exerciseWith('id: demo', 'title: Demo', 'steps: [one]', 'limits:', `  ${line}`) },
      issues: [['exercise.yaml', 6, col, message]],
    }),
  ),
  {
    name: 'a run timeout above its maximum',
    files: { 'exercise.yaml': exerciseWith('id: demo', 'title: Demo', 'steps: [one]', 'limits:', '  runTimeout: 11m') },
    issues: [
      [
        'exercise.yaml',
        6,
        15,
        'runTimeout 11m is above the maximum of 10m (a program of a course exercise that runs longer is stuck): use runTimeout: 10m or less',
      ],
    ],
    loaderOnly: UNIT_BOUNDS,
  },
  {
    name: 'a memory limit with a unit below its minimum',
    files: { 'exercise.yaml': exerciseWith('id: demo', 'title: Demo', 'steps: [one]', 'limits:', '  memory: 1MB') },
    issues: [['exercise.yaml', 6, 11, /^memory 1MB is below the minimum of 64MiB/]],
    loaderOnly: UNIT_BOUNDS,
  },
  {
    name: 'points above 1000, infinite or not a number',
    files: { 'one.yaml': stepWith({ 9: '    title: the app builds\n    points: 1e308', 13: '    title: it prints hi\n    points: .inf' }) },
    // How .inf is worded belongs to shapes.ts; the refusal and its place are what matter here.
    issues: [
      ['one.yaml', 10, 13, 'expected a number >= 0 and <= 1000, found number 1e+308'],
      ['one.yaml', 15, 13, /^expected a number >= 0 and <= 1000, found number/],
    ],
  },
  {
    name: 'points .nan',
    files: { 'one.yaml': stepWith({ 9: '    title: the app builds\n    points: .nan' }) },
    issues: [['one.yaml', 10, 13, /^expected a number >= 0 and <= 1000, found number/]],
  },

  // ---- hostile shapes ----
  {
    // The step file is a mapping (level 1), so `description` may hold 63 more.
    name: '64 levels of nesting are read (and judged)',
    files: { 'one.yaml': stepWith({ 2: `title: Step one\ndescription: ${nested(63)}` }) },
    issues: [['one.yaml', 3, 14, 'expected a string, found a list']],
  },
  {
    name: '65 levels of nesting',
    files: { 'one.yaml': stepWith({ 2: `title: Step one\ndescription: ${nested(64)}` }) },
    issues: [['one.yaml', 3, 14 + 63, 'nested too deeply: a spec may nest at most 64 levels of mappings and lists']],
    loaderOnly: FILE_BOUNDS,
  },
  {
    // 16,000 aliases took 37 s when each was resolved by walking the whole document.
    name: '16,000 aliases',
    files: { 'one.yaml': aliasStep(16_000) },
    issues: [['one.yaml', 107, 9, 'more than 100 aliases (*title is one too many): write the values out']],
    loaderOnly: FILE_BOUNDS,
  },
  {
    name: 'an alias to a mapping',
    files: {
      'one.yaml': stepWith({
        16: '    stdout: &out',
        18: '    needs: [builds]\n  - id: again\n    title: again\n    kind: command\n    run: app-output\n    stdout: *out',
      }),
    },
    issues: [['one.yaml', 23, 13, 'expected a mapping with one of equals, contains or matches']],
    loaderOnly: 'an alias to a mapping or list: the YAML reader the schema is applied after expands it',
  },

  // ---- references ----
  {
    name: 'a need naming nothing known',
    files: { 'one.yaml': stepWith({ 18: '    needs: [biulds]' }) },
    issues: [['one.yaml', 18, 13, 'needs "biulds", which is neither a check before it in one (builds) nor a step (one)']],
    loaderOnly: REFERENCES,
  },
  {
    name: 'a need naming an unknown step',
    files: { 'one.yaml': stepWith({ 18: '    needs: [zero/builds]' }) },
    issues: [['one.yaml', 18, 13, 'needs "zero/builds": no step "zero" (steps: one)']],
    loaderOnly: REFERENCES,
  },
  {
    name: 'a step that needs a later step',
    files: {
      'exercise.yaml': exerciseWith('id: demo', 'title: Demo', 'steps: [one, two]'),
      'one.yaml': stepWith({ 2: 'title: Step one\nneeds: [two]' }),
      'two.yaml': STEP_TWO,
    },
    issues: [['one.yaml', 3, 9, 'needs step "two", which runs after one: steps run in the order of exercise.yaml']],
    loaderOnly: REFERENCES,
  },
  {
    name: 'a check that needs a check of a later step',
    files: {
      'exercise.yaml': exerciseWith('id: demo', 'title: Demo', 'steps: [one, two]'),
      'one.yaml': stepWith({ 18: '    needs: [two/x]' }),
      'two.yaml': STEP_TWO,
    },
    issues: [['one.yaml', 18, 13, 'needs "two/x": step two does not run before one']],
    loaderOnly: REFERENCES,
  },
  {
    name: 'a check that needs a missing check of an earlier step',
    files: {
      'exercise.yaml': exerciseWith('id: demo', 'title: Demo', 'steps: [two, one]'),
      'one.yaml': stepWith({ 18: '    needs: [two/y]' }),
      'two.yaml': STEP_TWO,
    },
    issues: [['one.yaml', 18, 13, 'needs "two/y": step two has no check "y" (checks: x)']],
    loaderOnly: REFERENCES,
  },
  {
    name: 'a step that needs itself',
    files: { 'one.yaml': stepWith({ 2: 'title: Step one\nneeds: [one]' }) },
    issues: [['one.yaml', 3, 9, 'step one cannot need itself (cyclic needs)']],
    loaderOnly: REFERENCES,
  },
  {
    name: 'a check that needs a later check of its step',
    files: { 'one.yaml': stepWith({ 18: '    needs: [prints]' }) },
    issues: [['one.yaml', 18, 13, 'needs check "prints", which comes later in one (or is this check: cyclic needs)']],
    loaderOnly: REFERENCES,
  },
  {
    name: 'a check that needs the check after it',
    files: { 'one.yaml': stepWith({ 11: '    image: app\n    needs: [prints]' }) },
    issues: [['one.yaml', 12, 13, 'needs check "prints", which comes later in one (or is this check: cyclic needs)']],
    loaderOnly: REFERENCES,
  },
  {
    name: 'an action naming an unknown build',
    files: { 'one.yaml': stepWith({ 6: '    image: nope' }) },
    issues: [['one.yaml', 6, 12, 'no build named "nope" before this action (builds so far: app)']],
    loaderOnly: REFERENCES,
  },
  {
    name: 'an action naming a build that comes after it',
    files: { 'one.yaml': stepWith({ 4: '  - start: web\n    image: app' }) },
    issues: [
      ['one.yaml', 5, 12, 'no build named "app" before this action (no build so far)'],
      ['one.yaml', 7, 12, 'no build named "app" before this action (no build so far)'],
      ['one.yaml', 9, 5, 'no build named "app" in this or an earlier step (no build so far)'],
    ],
    loaderOnly: REFERENCES,
  },
  {
    name: 'a run of a build as a program',
    files: { 'one.yaml': stepWith({ 6: '    program: app' }) },
    issues: [['one.yaml', 6, 14, '"app" is a build, not a compile']],
    loaderOnly: REFERENCES,
  },
  {
    name: 'a command check of a build',
    files: { 'one.yaml': stepWith({ 15: '    run: app' }) },
    issues: [['one.yaml', 12, 5, '"app" is a build, not a run']],
    loaderOnly: REFERENCES,
  },
  {
    name: 'a check of an unknown build',
    files: { 'one.yaml': stepWith({ 11: '    image: ghost' }) },
    issues: [['one.yaml', 8, 5, 'no build named "ghost" in this or an earlier step (builds so far: app)']],
    loaderOnly: REFERENCES,
  },
  {
    name: 'an action name used twice',
    files: { 'one.yaml': stepWith({ 4: '  - build: app\n  - build: app\n    dockerfile: Dockerfile.dev' }) },
    issues: [['one.yaml', 5, 5, 'action name "app" is used twice; names are shared by the whole exercise']],
    loaderOnly: DUPLICATES,
  },
  {
    name: 'an action name used again in another step',
    files: {
      'exercise.yaml': exerciseWith('id: demo', 'title: Demo', 'steps: [one, two]'),
      'two.yaml': yaml(
        'id: two',
        'title: Two',
        'actions:',
        '  - build: app',
        'checks:',
        '  - id: x',
        '    title: x',
        '    kind: image-builds',
        '    image: app',
      ),
    },
    issues: [['two.yaml', 4, 5, 'action name "app" is used twice; names are shared by the whole exercise']],
    loaderOnly: DUPLICATES,
  },
  {
    name: 'a check id used twice',
    files: { 'one.yaml': stepWith({ 12: '  - id: builds', 18: '' }) },
    issues: [['one.yaml', 12, 5, 'check id "builds" is used twice in step one']],
    loaderOnly: DUPLICATES,
  },
  {
    name: 'a step whose id differs from its file name',
    files: { 'one.yaml': stepWith({ 1: 'id: uno' }) },
    issues: [['one.yaml', 1, 1, 'step id "uno" does not match its file name one.yaml']],
    loaderOnly: 'the name of the file: the schema sees its content',
  },
  {
    name: 'a missing step file beside a broken one',
    files: { 'exercise.yaml': exerciseWith('id: demo', 'title: Demo', 'steps: [one, missing]'), 'one.yaml': stepWith({ 14: '    kind: comand' }) },
    issues: [
      ['missing.yaml', 1, 1, 'missing.yaml not found'],
      ['one.yaml', 14, 11, `unknown check kind "comand" (did you mean "command"?); valid kinds: ${KINDS}`],
    ],
  },
];
