// Fingerprints for duplicates: a copy that was only reformatted or re-commented still matches,
// a changed program does not, and nothing outside a student's own folder is read.
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { gradedFiles, normalise, submissionFingerprint } from '../../runner/batch/duplicates.js';
import { packageRoot } from '../../runner/paths.js';
import { loadExercise } from '../../runner/spec/loader.js';

const exercise = await loadExercise(path.join(packageRoot, 'exercises/multi'));
const solution = path.join(exercise.dir, 'solution');
const root = t.testdir({});

const HELLO = `#include <stdio.h>

int main (void)
{
    printf ("Hello, world!\\n");
    return 0;
}
`;
// The same program: other comments, blank lines and indentation.
const HELLO_REFORMATTED = `/* hello.c: prints the greeting */
#include <stdio.h>
int main (void) {   // the entry point


\tprintf ("Hello, world!\\n"); /* a comment
   over two lines */
\treturn 0;
}
`;
const DOCKERFILE = `FROM alpine:3.5 AS build
RUN apk update && \\
    apk add --update alpine-sdk
WORKDIR /app
COPY hello.c /app
RUN gcc -Wall hello.c -o hello

FROM alpine:3.5
COPY --from=build /app/hello /app/hello
CMD /app/hello
`;
const DOCKERFILE_REFORMATTED = `# syntax=docker/dockerfile:1
# Build stage: the SDK
FROM   alpine:3.5   AS build
  # update the index first
RUN apk update \\
    && \\
# a comment inside the continued instruction
    apk add --update alpine-sdk

WORKDIR /app
COPY hello.c /app
run gcc -Wall hello.c -o hello
\t
# Final stage
FROM alpine:3.5
COPY --from=build /app/hello /app/hello
CMD /app/hello
`;

/** A submission folder in the test's folder, with the given files. */
async function submission(name: string, files: Record<string, string>): Promise<string> {
  const dir = path.join(root, name);
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), text);
  }
  return dir;
}

t.test('the graded files: Dockerfiles of every build choice, compile sources, checked paths', async (t) => {
  const files = Object.fromEntries(gradedFiles(exercise).map(({ step, files }) => [step.id, files]));
  t.same(files, {
    'compile-hello': ['Dockerfile', 'hello.c'],
    'large-small': ['Dockerfile', 'Dockerfile.large'],
    'target-stage': ['Dockerfile'],
    'scratch-sleep': ['Dockerfile', 'sleep.c'],
  });
});

t.test('normalising C: comments and whitespace go, literals and directives stay', async (t) => {
  t.equal(normalise('hello.c', HELLO), normalise('hello.c', HELLO_REFORMATTED));
  t.equal(normalise('hello.c', HELLO), '#include <stdio.h> int main (void) { printf ("Hello, world!\\n"); return 0; }');
  t.equal(normalise('x.c', 'char *s = "// not a comment";  // a comment'), 'char *s = "// not a comment";');
  t.equal(normalise('x.c', 'puts("/* kept */"); /* dropped */'), 'puts("/* kept */");');
  t.equal(normalise('x.c', "char c = '\"'; /* a */ char d = '/';"), "char c = '\"'; char d = '/';", 'a quote in a char literal opens no string');
  t.equal(normalise('x.c', 'puts("a \\" // b"); // c'), 'puts("a \\" // b");', 'an escaped quote does not end the literal');
  t.equal(normalise('x.c', 'puts("two  spaces");'), 'puts("two  spaces");', 'whitespace inside a literal is kept');
  t.not(normalise('x.c', 'puts("two  spaces");'), normalise('x.c', 'puts("two spaces");'));
  t.equal(normalise('x.cpp', 'int a; // line \\\n still comment\nint b;'), 'int a; int b;', 'a backslash continues a // comment');
  t.equal(normalise('x.h', 'a/**/b'), 'a b', 'a comment counts as a space, as for the compiler');
  t.equal(normalise('x.c', "puts('unterminated\nint x; // c"), "puts('unterminated int x;", 'a stray quote ends at the line');
});

t.test('normalising a Dockerfile: comment lines, continuations and spacing go', async (t) => {
  t.equal(normalise('Dockerfile', DOCKERFILE), normalise('Dockerfile', DOCKERFILE_REFORMATTED));
  t.equal(
    normalise('Dockerfile', DOCKERFILE),
    [
      'FROM alpine:3.5 AS build',
      'RUN apk update && apk add --update alpine-sdk',
      'WORKDIR /app',
      'COPY hello.c /app',
      'RUN gcc -Wall hello.c -o hello',
      'FROM alpine:3.5',
      'COPY --from=build /app/hello /app/hello',
      'CMD /app/hello',
    ].join('\n'),
  );
  t.equal(normalise('Dockerfile.large', 'FROM a\nRUN x'), normalise('prod.dockerfile', 'from a\n  run   x'), 'Dockerfile.* and *.dockerfile are Dockerfiles');
  t.equal(normalise('Dockerfile', '# escape=`\nFROM a\nRUN x `\n  y'), 'FROM a\nRUN x y', 'the escape directive sets the continuation character');
  t.not(normalise('Dockerfile', 'RUN echo "#"'), normalise('Dockerfile', 'RUN echo ""'), 'a # inside an instruction is kept');
  t.equal(normalise('notes.txt', '  a\n\n  b  '), 'a b', 'any other file: whitespace collapsed');
});

t.test('submissions differing only in comments, blank lines and indentation match', async (t) => {
  const a = await submission('format-a', { 'hello.c': HELLO, Dockerfile: DOCKERFILE });
  const b = await submission('format-b', { 'hello.c': HELLO_REFORMATTED, Dockerfile: DOCKERFILE_REFORMATTED });
  const fingerprint = await submissionFingerprint(exercise, a, a);
  t.match(fingerprint, /^[0-9a-f]{64}$/);
  t.equal(await submissionFingerprint(exercise, b, b), fingerprint);
});

t.test('a changed greeting or a changed instruction is another submission', async (t) => {
  const base = await submission('change-base', { 'hello.c': HELLO, Dockerfile: DOCKERFILE });
  const greeting = await submission('change-greeting', { 'hello.c': HELLO.replace('Hello, world!', 'Hello, World!'), Dockerfile: DOCKERFILE });
  const instruction = await submission('change-instruction', { 'hello.c': HELLO, Dockerfile: DOCKERFILE.replace('CMD /app/hello', 'CMD ["/app/hello"]') });
  const extra = await submission('change-extra-file', { 'hello.c': HELLO, Dockerfile: DOCKERFILE, 'Dockerfile.large': 'FROM alpine:3.5\n' });
  const fingerprints = await Promise.all([base, greeting, instruction, extra].map((dir) => submissionFingerprint(exercise, dir, dir)));
  t.equal(new Set(fingerprints).size, 4, 'four different fingerprints');
});

t.test('a comment marker inside a string literal is part of the program', async (t) => {
  const a = await submission('marker-a', { 'hello.c': HELLO.replace('Hello, world!', 'Hello, // world!'), Dockerfile: DOCKERFILE });
  const b = await submission('marker-b', { 'hello.c': HELLO.replace('Hello, world!', 'Hello, '), Dockerfile: DOCKERFILE });
  t.not(await submissionFingerprint(exercise, a, a), await submissionFingerprint(exercise, b, b));
});

t.test("the exercise's reference solution matches a reformatted copy of itself", async (t) => {
  const copy = path.join(root, 'reference-copy');
  await cp(solution, copy, { recursive: true });
  const hello = await readFile(path.join(copy, 'hello.c'), 'utf8');
  await writeFile(path.join(copy, 'hello.c'), `// my own work, honest\n${hello.replace(/\n/g, '\n\n').replace(/ {4}/g, '\t')}`);
  const sleep = path.join(copy, 'scratch/sleep.c');
  await writeFile(sleep, (await readFile(sleep, 'utf8')).replace('//sleep for 1 hour', '/* an hour */'));
  const dockerfile = path.join(copy, 'Dockerfile');
  await writeFile(dockerfile, `# multi-stage\n${(await readFile(dockerfile, 'utf8')).replace(/\n/g, '\n\n')}`);
  const reference = await submissionFingerprint(exercise, solution, solution);
  t.match(reference, /^[0-9a-f]{64}$/);
  t.equal(await submissionFingerprint(exercise, copy, copy), reference);
});

t.test('no graded file at all: no fingerprint', async (t) => {
  const empty = await submission('empty', { 'README.md': 'nothing here\n' });
  t.equal(await submissionFingerprint(exercise, empty, empty), null);
});

t.test('a sibling ../scratch outside confineTo is never read', async (t) => {
  // A class folder: alice has no scratch/ of her own; `scratch` beside her is another student.
  const alice = await submission('class/alice', { 'hello.c': HELLO, Dockerfile: DOCKERFILE });
  const sibling = path.join(root, 'class/scratch');
  await submission('class/scratch', { 'sleep.c': 'int main(void) { return 1; }\n', Dockerfile: 'FROM scratch\n' });
  const confined = await submissionFingerprint(exercise, alice, alice);
  const unconfined = await submissionFingerprint(exercise, alice);
  t.not(unconfined, confined, 'without confineTo, ../scratch is graded (a student laying out ~/multi and ~/scratch)');
  await writeFile(path.join(sibling, 'sleep.c'), 'int main(void) { return 2; }\n');
  t.equal(await submissionFingerprint(exercise, alice, alice), confined, 'confined: the sibling changed, the fingerprint did not');
  t.not(await submissionFingerprint(exercise, alice), unconfined, 'unconfined: the sibling is read');
  const own = await submission('class/bob', {
    'hello.c': HELLO,
    Dockerfile: DOCKERFILE,
    'scratch/sleep.c': 'int main(void) { return 2; }\n',
    'scratch/Dockerfile': 'FROM scratch\n',
  });
  t.not(await submissionFingerprint(exercise, own, own), confined, "a scratch/ inside the student's own folder is read");
});
