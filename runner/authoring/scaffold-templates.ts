// The files `grade new <id>` writes: a complete exercise with one step, its reference solution and
// one negative control, each file commented so an instructor can grow it without the source. Kept
// as strings here because the package ships only dist/ and exercises/.

export const STEP_ID = 'hello-image';
export const MISTAKE = 'wrong-greeting';
/** The base image of the solution; `--image alpine:3.19=...` maps it for an offline self-test. */
export const SOLUTION_BASE = 'alpine:3.19';

/** `my-exercise` as a title: `My exercise`. */
export const titleOf = (id: string) => id.charAt(0).toUpperCase() + id.slice(1).replaceAll('-', ' ');

/** The schema files beside the exercise folders, named in each spec's first line for yaml-language-server. */
export const SCHEMA_FILES = { exercise: 'exercise.schema.json', step: 'step.schema.json' } as const;

export function exerciseYaml(id: string): string {
  return `# yaml-language-server: $schema=../${SCHEMA_FILES.exercise}
# The exercise "${id}". \`grade ${id}\` grades a student's folder against it.
# \`grade selftest ${id}\` grades solution/ (it must get full marks) and each wrong/<mistake>/ (it
# must fail the checks its expect.yaml names). \`grade validate\` checks these files; \`grade schema\`
# gives your editor their schema.

# The version of this file's format: grade refuses a version it does not know.
schemaVersion: 1
# The exercise's name: lower case, digits and dashes, the same as its folder.
id: ${id}
# Shown above every result.
title: "${titleOf(id)}"
# Optional: what the student is asked to do, in a sentence or two.
description: >
  Write a Dockerfile for an image that prints "hello" when it runs.
# The steps, in the order they are graded; each is described in <step>.yaml beside this file.
steps:
  - ${STEP_ID}
# Optional: limits for every build and run of this exercise (defaults and bounds: grade --help).
# limits:
#   runTimeout: 30s
#   memory: 512MiB
#   buildNetwork: default   # when the build installs packages (apk add, apt-get install)
`;
}

export function stepYaml(): string {
  return `# yaml-language-server: $schema=../${SCHEMA_FILES.step}
# One step: the actions that build and run the student's work, then the checks that judge what
# they produced. Checks run in order; each is worth its points, and the score is their sum.

# The same as this file's name and its entry under steps: in exercise.yaml.
id: ${STEP_ID}
# Shown as the step's heading.
title: An image that prints hello
# The step's folder in the submission; a list gives candidates, the first that exists is graded.
dir: .
# Optional: a bonus step adds points but never fails the exercise.
bonus: false
# What the grader does, in order. Names are shared by the whole exercise, so a later step can use
# an image built here. Kinds: build, run (to completion), start (detached), compile.
actions:
  # Build the submission's Dockerfile as the image "hello" (dockerfile: and target: choose).
  - build: hello
    dockerfile: Dockerfile
  # Run the image "hello" to completion, with the grader's limits and no network, keeping its output.
  - run: hello-output
    image: hello
# What is judged. Every check has an id, a title, a kind (an unknown kind is an error that lists
# them all), its kind's own keys, points, and a hint shown when it fails.
checks:
  # A build check: the image "hello" built.
  - id: image-builds
    title: the image builds
    kind: image-builds
    image: hello
    points: 1
    hint: Build it yourself with \`docker image build -t hello .\` and fix the step that fails.
  # A command check: the run's exit code and output. stdout takes equals, contains or matches
  # (a regular expression, RE2 syntax).
  - id: prints-hello
    title: docker run of the image prints "hello"
    kind: command
    run: hello-output
    exitCode: 0
    stdout:
      matches: "^hello\\\\n?$"
    # Skipped, not failed, when the build did not pass: the student sees one cause, not two.
    needs: [image-builds]
    points: 2
    hint: 'Make the image print hello and nothing else: CMD ["echo", "hello"].'
`;
}

export function solutionDockerfile(): string {
  return `# The reference solution: \`grade selftest\` expects it to get full marks.
FROM ${SOLUTION_BASE}
CMD ["echo", "hello"]
`;
}

export function mistakeDockerfile(): string {
  return `# A negative control: what a student might hand in, with one mistake.
FROM ${SOLUTION_BASE}
CMD ["echo", "goodbye"]
`;
}

export function expectYaml(): string {
  return `# The image builds and runs, but prints the wrong word.
# A negative control names the checks that must catch its mistake: grade selftest fails when one of
# them does not fail (a check skipped because a prerequisite failed does not count as caught).
fails: [${STEP_ID}/prints-hello]
# Optional (default false): true when every check not listed must pass.
othersPass: true
`;
}

/** Every file of a new exercise, by path relative to its folder. */
export function scaffoldFiles(id: string): Record<string, string> {
  return {
    'exercise.yaml': exerciseYaml(id),
    [`${STEP_ID}.yaml`]: stepYaml(),
    'solution/Dockerfile': solutionDockerfile(),
    [`wrong/${MISTAKE}/Dockerfile`]: mistakeDockerfile(),
    [`wrong/${MISTAKE}/expect.yaml`]: expectYaml(),
  };
}
