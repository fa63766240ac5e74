import t from 'tap';
import {
  DockerfileError,
  externalBaseImages,
  finalStageCopiesFrom,
  parseDockerfile,
  remoteSources,
  resolveStageRef,
  toolchainText,
} from '../../runner/dockerfile/parser.js';

const MULTI_STAGE = `FROM alpine:3.5 AS build
RUN apk update && \\
    apk add --update alpine-sdk
RUN mkdir /app
WORKDIR /app
COPY hello.c /app
RUN mkdir bin
RUN gcc -Wall hello.c -o bin/hello

FROM alpine:3.5
COPY --from=build /app/bin/hello /app/hello
CMD /app/hello
`;

const SCRATCH = `FROM alpine:3.8 AS build
RUN ["apk", "update"]
RUN ["apk", "add", "--update", "alpine-sdk"]
COPY sleep.c /
RUN ["gcc", "-static", "sleep.c", "-o", "sleep"]

FROM scratch
COPY --from=build /sleep /sleep
CMD ["/sleep"]
`;

/** The error parseDockerfile throws for `text`, failing the test when it throws none. */
function parseError(t: { fail: (message: string) => boolean }, text: string | Uint8Array): DockerfileError {
  try {
    parseDockerfile(text);
  } catch (error) {
    if (error instanceof DockerfileError) return error;
    throw error;
  }
  t.fail(`expected a DockerfileError for ${JSON.stringify(text)}`);
  return new DockerfileError('none');
}

t.test('the multi-stage exercise Dockerfile', async (t) => {
  const df = parseDockerfile(MULTI_STAGE);
  t.equal(df.escape, '\\');
  t.same(df.globalArgs, []);
  t.equal(df.lines.length, 12);
  t.equal(df.stages.length, 2);

  const [build, final] = df.stages;
  t.match(build, { index: 0, name: 'build', base: 'alpine:3.5', line: 1, endLine: 8 });
  t.equal(build?.baseStage, undefined);
  t.same(
    build?.instructions.map((i) => [i.keyword, i.line, i.endLine]),
    [
      ['RUN', 2, 3],
      ['RUN', 4, 4],
      ['WORKDIR', 5, 5],
      ['COPY', 6, 6],
      ['RUN', 7, 7],
      ['RUN', 8, 8],
    ],
  );
  // Docker drops the backslash and appends the next line as written, indentation included.
  t.equal(build?.instructions[0]?.args, 'apk update &&     apk add --update alpine-sdk');
  t.equal(build?.instructions[0]?.json, undefined);

  t.match(final, { index: 1, base: 'alpine:3.5', line: 10, endLine: 12 });
  t.equal(final?.name, undefined);
  t.equal(final?.from.keyword, 'FROM');
  const copy = final?.instructions[0];
  t.match(copy, { keyword: 'COPY', args: '--from=build /app/bin/hello /app/hello', line: 11 });
  t.same(copy?.flags, { from: 'build' });
  t.match(final?.instructions[1], { keyword: 'CMD', args: '/app/hello' });

  t.equal(df.instructions.length, 10);
  t.same(finalStageCopiesFrom(df), [0]);
  t.same(externalBaseImages(df), ['alpine:3.5']);
  t.same(remoteSources(df), []);
  t.equal(
    toolchainText(df),
    'FROM alpine:3.5 AS build\n' + 'RUN apk update && \\\n' + '    apk add --update alpine-sdk\n' + 'RUN mkdir /app\n' + 'WORKDIR /app\n',
  );
});

t.test('the scratch exercise Dockerfile', async (t) => {
  const df = parseDockerfile(SCRATCH);
  const [build, final] = df.stages;
  t.same(
    build?.instructions.map((i) => i.json),
    [['apk', 'update'], ['apk', 'add', '--update', 'alpine-sdk'], undefined, ['gcc', '-static', 'sleep.c', '-o', 'sleep']],
  );
  t.equal(build?.instructions[0]?.args, '["apk", "update"]');
  t.match(final, { index: 1, base: 'scratch', line: 7, endLine: 9 });
  t.same(final?.instructions[1]?.json, ['/sleep']);
  t.same(finalStageCopiesFrom(df), [0]);
  t.same(externalBaseImages(df), ['alpine:3.8'], 'scratch is not an image to pull');
  t.equal(toolchainText(df), 'FROM alpine:3.8 AS build\nRUN ["apk", "update"]\nRUN ["apk", "add", "--update", "alpine-sdk"]\n');
});

t.test('stage names are case-insensitive', async (t) => {
  const df = parseDockerfile(`FROM alpine AS Build
RUN make
FROM BUILD AS Test
RUN make test
FROM alpine
COPY --FROM=BuIlD /out /out
COPY --from=test /report /report
`);
  t.equal(df.stages[0]?.name, 'build');
  t.equal(df.stages[1]?.name, 'test');
  t.equal(df.stages[1]?.base, 'BUILD', 'base is kept as written');
  t.equal(df.stages[1]?.baseStage, 0);
  t.same(df.stages[2]?.instructions[0]?.flags, { from: 'BuIlD' }, 'flag names are lower-cased, values kept');
  t.same(finalStageCopiesFrom(df), [0, 1]);
  t.equal(resolveStageRef(df, 'BUILD', 2), 0);
  t.same(externalBaseImages(df), ['alpine']);
});

t.test('stage references by index and by name only reach earlier stages', async (t) => {
  const df = parseDockerfile(`FROM golang:1.22 AS build
RUN go build -o /app
FROM alpine AS later
COPY --from=0 /app /app
COPY --from=later /x /x
COPY --from=1 /y /y
COPY --from=nginx:1.25 /etc/nginx /etc/nginx
FROM alpine
COPY --from=0 /app /app
COPY --from=build /app /app2
COPY --from=1 /app /app3
`);
  t.equal(resolveStageRef(df, '0', 1), 0);
  t.equal(resolveStageRef(df, '1', 1), undefined, 'a stage cannot copy from itself');
  t.equal(resolveStageRef(df, 'later', 1), undefined);
  t.equal(resolveStageRef(df, 'later', 2), 1);
  t.equal(resolveStageRef(df, '7', 3), undefined, 'no such stage');
  t.equal(resolveStageRef(df, 'nginx:1.25', 2), undefined, 'an image is not a stage');
  t.same(finalStageCopiesFrom(df), [0, 1], 'deduplicated, in order of first use');
  t.same(externalBaseImages(df), ['golang:1.22', 'alpine', 'later', 'nginx:1.25'], 'a name not yet defined is looked up as an image; numeric refs never are');
});

t.test('flags before the operands', async (t) => {
  const df = parseDockerfile(`FROM --platform=linux/amd64 node:20 AS Web
RUN --mount=type=cache,target=/root/.npm npm ci
FROM --platform=$BUILDPLATFORM nginx
COPY --chown=app:app --from=web --link src dst
COPY --chown="a b:c" -- --weird dst
`);
  const [web, final] = df.stages;
  t.equal(web?.base, 'node:20');
  t.equal(web?.name, 'web');
  t.same(web?.from.flags, { platform: 'linux/amd64' });
  t.equal(web?.from.args, '--platform=linux/amd64 node:20 AS Web', 'args keep the flags');
  t.same(web?.instructions[0]?.flags, { mount: 'type=cache,target=/root/.npm' });
  t.equal(final?.base, 'nginx');
  t.same(final?.instructions[0]?.flags, { chown: 'app:app', from: 'web', link: '' });
  t.same(final?.instructions[1]?.flags, { chown: 'a b:c' }, 'quotes group a value; -- ends the flags');
  t.same(finalStageCopiesFrom(df), [0]);
  t.same(externalBaseImages(df), ['node:20', 'nginx']);
});

t.test('continuation lines, with comments and blank lines inside them', async (t) => {
  const df = parseDockerfile(`FROM alpine
RUN set -e; \\
    # this comment does not end the RUN
    apk add gcc \\

    make
LABEL a=b \\   
  c=d
RUN echo done \\`);
  const [run, label, last] = df.stages[0]?.instructions ?? [];
  t.match(run, { keyword: 'RUN', line: 2, endLine: 6, args: 'set -e;     apk add gcc     make' });
  t.match(label, { keyword: 'LABEL', line: 7, endLine: 8, args: 'a=b   c=d' }, 'spaces after the backslash are allowed');
  t.match(last, { keyword: 'RUN', line: 9, endLine: 9, args: 'echo done' }, 'a continuation at end of file is fine');
  t.equal(df.stages[0]?.endLine, 9);
});

t.test('keywords are case-insensitive and # only starts a comment at line start', async (t) => {
  const df = parseDockerfile(`  # indented comment
from alpine
  Run echo hi # not a comment
cmd ["sh"]
`);
  t.same(
    df.instructions.map((i) => [i.keyword, i.line]),
    [
      ['FROM', 2],
      ['RUN', 3],
      ['CMD', 4],
    ],
  );
  t.equal(df.instructions[1]?.args, 'echo hi # not a comment');
});

t.test('the escape parser directive', async (t) => {
  const df = parseDockerfile('# escape=`\nFROM mcr.microsoft.com/windows/servercore\nCOPY C:\\src\\ C:\\app\\\nRUN dir `\n    C:\\app\n');
  t.equal(df.escape, '`');
  t.same(df.directives, { escape: '`' });
  const [copy, run] = df.stages[0]?.instructions ?? [];
  t.match(copy, { keyword: 'COPY', line: 3, endLine: 3, args: 'C:\\src\\ C:\\app\\' }, 'a backslash no longer continues');
  t.match(run, { keyword: 'RUN', line: 4, endLine: 5, args: 'dir     C:\\app' });
  t.equal(toolchainText(df), '# escape=`\nFROM mcr.microsoft.com/windows/servercore\n', 'the directive is kept');

  const late = parseDockerfile('# a comment\n# escape=`\nFROM alpine\nRUN a \\\n b\n');
  t.equal(late.escape, '\\', 'a directive after a comment is only a comment');
  t.equal(late.instructions[1]?.args, 'a  b');
  const afterBlank = parseDockerfile('\n# escape=`\nFROM alpine\n');
  t.equal(afterBlank.escape, '\\', 'a directive after a blank line is only a comment');
  const both = parseDockerfile('# syntax=docker/dockerfile:1\n#ESCAPE = `\nFROM alpine\n');
  t.same(both.directives, { syntax: 'docker/dockerfile:1', escape: '`' });

  t.match(parseError(t, '# escape=x\nFROM alpine\n'), { line: 1, message: /^Dockerfile:1: .*escape.*"x"/ });
  t.match(parseError(t, '# escape=`\n# escape=\\\nFROM alpine\n'), { line: 2, message: /^Dockerfile:2: .*escape.* twice/ });
});

t.test('CRLF line endings and a byte-order mark', async (t) => {
  const df = parseDockerfile('\uFEFFFROM alpine:3.5 AS build\r\nRUN apk update && \\\r\n    apk add gcc\r\nCOPY . /src\r\n');
  t.same(df.lines, ['FROM alpine:3.5 AS build', 'RUN apk update && \\', '    apk add gcc', 'COPY . /src']);
  t.match(df.stages[0], { name: 'build', base: 'alpine:3.5' });
  t.match(df.stages[0]?.instructions[0], { line: 2, endLine: 3, args: 'apk update &&     apk add gcc' });
  t.equal(toolchainText(df), 'FROM alpine:3.5 AS build\nRUN apk update && \\\n    apk add gcc\n');
});

t.test('bytes are decoded as UTF-8 text', async (t) => {
  const df = parseDockerfile(new TextEncoder().encode('FROM alpine\nLABEL author="Zoë"\n'));
  t.equal(df.instructions[1]?.args, 'author="Zoë"');

  const utf16 = Buffer.from('\uFEFFFROM alpine\n', 'utf16le');
  t.match(parseError(t, utf16), { message: /not a text file.*UTF-16/ });
  t.match(parseError(t, utf16.toString('utf8')), { line: 1, message: /not a text file.*UTF-16/ });
  t.match(parseError(t, new Uint8Array([0x46, 0x52, 0x4f, 0x4d, 0x20, 0xff, 0x0a])), { message: /not a text file.*UTF-8/ });
});

t.test('errors name the cause and the line', async (t) => {
  const cases: [string, string, number | undefined, RegExp][] = [
    ['NUL byte', 'FROM alpine\nRUN a\nRU\0N b\n', 3, /^Dockerfile:3: Dockerfile is not a text file/],
    ['empty file', '', undefined, /^Dockerfile: .*no instructions.*FROM/],
    ['only comments', '# nothing\n\n', undefined, /no instructions/],
    ['only ARGs', 'ARG A=1\nARG B\n', 2, /^Dockerfile:2: no FROM instruction/],
    ['instruction before FROM', 'ARG V=1\n\nRUN echo hi\nFROM alpine\n', 3, /^Dockerfile:3: RUN comes before the first FROM/],
    [
      'unknown instruction',
      `${MULTI_STAGE.split('\n').slice(0, 8).join('\n')}\nCOPPY x y\n`,
      9,
      /^Dockerfile:9: unknown instruction "COPPY" \(did you mean COPY\?\)$/,
    ],
    [
      'forgotten continuation',
      'FROM alpine\nRUN apk update &&\n    apk add gcc\n',
      3,
      /^Dockerfile:3: unknown instruction "apk" \(if this line continues the instruction above, end the line before it with \\\)$/,
    ],
    ['FROM without image', 'FROM alpine\nRUN true\nFROM\n', 3, /^Dockerfile:3: FROM has no image/],
    ['FROM with only flags', 'FROM --platform=linux/amd64\n', 1, /^Dockerfile:1: FROM has no image/],
    ['AS without a name', 'FROM alpine AS\n', 1, /^Dockerfile:1: FROM alpine AS has no stage name/],
    ['invalid stage name', 'FROM alpine\nFROM alpine AS 2nd\n', 2, /^Dockerfile:2: invalid stage name "2nd"/],
    ['stage name with symbols', 'FROM alpine AS my$stage\n', 1, /invalid stage name "my\$stage"/],
    ['two words after the image', 'FROM alpine build\n', 1, /^Dockerfile:1: FROM takes an image and optionally AS <name>, but "build"/],
    ['duplicate stage name', 'FROM alpine AS b\nFROM alpine AS B\n', 2, /^Dockerfile:2: the stage name "B" is already used by the stage on line 1/],
    ['unclosed heredoc', 'FROM alpine\nRUN <<EOF\necho hi\n', 2, /^Dockerfile:2: the heredoc <<EOF is never closed/],
    ['bad ONBUILD trigger', 'FROM alpine\nONBUILD FROM x\n', 2, /^Dockerfile:2: ONBUILD cannot trigger FROM/],
  ];
  for (const [name, text, line, message] of cases) {
    const error = parseError(t, text);
    t.ok(error instanceof Error, name);
    t.equal(error.name, 'DockerfileError', name);
    t.equal(error.line, line, `${name}: line`);
    t.match(error.message, message, `${name}: message`);
  }
  t.match(parseError(t, 'FROM alpine\ncd /app\n').message, /unknown instruction "cd"$/, 'no guess for a short shell word');
});

t.test('externalBaseImages substitutes global ARG defaults', async (t) => {
  const df = parseDockerfile(`ARG REGISTRY=docker.io
ARG BASE="\${REGISTRY}/library/alpine" TAG=3.19
ARG UNSET
ARG FALLBACK=\${UNSET:-busybox}
FROM $BASE:\${TAG} AS build
FROM \${BASE}:$TAG
FROM SCRATCH
FROM $UNSET AS unknown
FROM \${FALLBACK}
COPY --from=build /a /a
COPY --from=\${REGISTRY}/library/nginx:1.25 /etc/nginx /etc/nginx
COPY --from=$BASE:\${TAG} /b /b
FROM $NEVER_DECLARED
`);
  t.equal(df.globalArgs.length, 4);
  t.equal(df.stages[0]?.base, '$BASE:${TAG}', 'the base is kept as written');
  t.same(
    externalBaseImages(df),
    ['docker.io/library/alpine:3.19', 'busybox', 'docker.io/library/nginx:1.25'],
    'deduplicated, scratch excluded, unresolved references left out',
  );

  const shell = parseDockerfile(`ARG REPO=library
ARG SET=yes EMPTY=
ARG A=\${SET:+alpine} B=\${EMPTY:-busybox} C=\${EMPTY-unused} D=\${UNSET+unused}ubuntu
ARG QUOTED="quay.io/\\"team\\"" KEPT="host\\path" LITERAL='$REPO' ESCAPED=\\$REPO
FROM $A
FROM $B
FROM debian$C
FROM $D
FROM $QUOTED
FROM $KEPT
FROM $LITERAL/a
FROM $ESCAPED/b
FROM "\${REPO}/c"
`);
  t.same(
    externalBaseImages(shell),
    ['alpine', 'busybox', 'debian', 'ubuntu', 'quay.io/"team"', 'host\\path', 'library/c'],
    'shell rules: :+ :- - +, quotes and escapes; single-quoted and escaped $ stay unresolved',
  );

  const named = parseDockerfile('ARG STAGE=build\nFROM alpine AS build\nFROM $STAGE\n');
  t.equal(named.stages[1]?.baseStage, 0, 'a base naming a stage through an ARG is that stage');
  t.same(externalBaseImages(named), ['alpine']);
});

t.test('remoteSources finds URLs and git repositories in ADD', async (t) => {
  const df = parseDockerfile(`FROM alpine
ADD https://example.com/tool.tar.gz /opt/
ADD --checksum=sha256:abc HTTP://EXAMPLE.COM/a local.txt /b/
ADD git@github.com:user/repo.git /src
ADD ["git://example.com/repo", "/repo"]
ADD https://github.com/user/repo.git#v1 /r
ADD files.tar.gz /files/
COPY https://example.com/not-fetched /x
ADD <<EOF /etc/motd
hello
EOF
`);
  t.same(
    remoteSources(df).map(({ instruction, url }) => [instruction.line, url]),
    [
      [2, 'https://example.com/tool.tar.gz'],
      [3, 'HTTP://EXAMPLE.COM/a'],
      [4, 'git@github.com:user/repo.git'],
      [5, 'git://example.com/repo'],
      [6, 'https://github.com/user/repo.git#v1'],
    ],
  );
});

t.test('heredocs are bodies, not instructions', async (t) => {
  const df = parseDockerfile(`FROM alpine
RUN <<EOF
apk add gcc
FROM not-an-instruction
EOF
COPY <<-"END" /etc/conf
\tkey=value
\tEND
CMD ["sh"]
`);
  const [run, copy, cmd] = df.stages[0]?.instructions ?? [];
  t.match(run, { keyword: 'RUN', line: 2, endLine: 5, heredocs: [{ name: 'EOF', content: 'apk add gcc\nFROM not-an-instruction\n' }] });
  t.match(copy, { keyword: 'COPY', line: 6, endLine: 8, heredocs: [{ name: 'END', content: '\tkey=value\n' }] });
  t.match(cmd, { keyword: 'CMD', line: 9 });
  const quoted = parseDockerfile('FROM alpine\nRUN echo "x <<EOF" \\\n\n\nCMD ["sh"]\n');
  t.match(quoted.instructions[1], { keyword: 'RUN', line: 2, endLine: 5, args: 'echo "x <<EOF" CMD ["sh"]' });
  t.equal(quoted.instructions[1]?.heredocs, undefined, 'a quoted << starts no heredoc');
  t.equal(df.stages.length, 1);
  t.equal(toolchainText(df), 'FROM alpine\nRUN <<EOF\napk add gcc\nFROM not-an-instruction\nEOF\n');
});

t.test('exec form is only read where Docker reads it', async (t) => {
  const df = parseDockerfile(`FROM alpine
RUN ["echo", 1]
RUN [not json]
ENTRYPOINT [ "sh", "-c" ]
COPY --chown=1:1 ["a b", "/c"]
LABEL ["x"]
`);
  const [numbers, broken, entrypoint, copy, label] = df.stages[0]?.instructions ?? [];
  t.equal(numbers?.json, undefined, 'non-string items make it shell form');
  t.equal(broken?.json, undefined, 'invalid JSON is shell form');
  t.same(entrypoint?.json, ['sh', '-c']);
  t.same(copy?.json, ['a b', '/c'], 'exec form after flags');
  t.equal(label?.json, undefined);
});

t.test('toolchainText keeps the preamble and cuts the chosen stage', async (t) => {
  const df = parseDockerfile(`# syntax=docker/dockerfile:1
ARG VERSION=3.19

FROM alpine:$VERSION AS tools
RUN apk add gcc
# now the sources
ADD src.tar /src
RUN make

FROM tools AS test
RUN apk add check
COPY tests /tests

FROM debian AS docs
RUN apt-get update
CMD ["true"]
`);
  t.equal(
    toolchainText(df),
    '# syntax=docker/dockerfile:1\nARG VERSION=3.19\n\nFROM alpine:$VERSION AS tools\nRUN apk add gcc\n',
    'ends at the last instruction before ADD, without the comment introducing it',
  );
  t.equal(
    toolchainText(df, 1),
    '# syntax=docker/dockerfile:1\nARG VERSION=3.19\n\n' +
      'FROM alpine:$VERSION AS tools\nRUN apk add gcc\n# now the sources\nADD src.tar /src\nRUN make\n' +
      'FROM tools AS test\nRUN apk add check\n',
    'a stage built on another includes that stage whole',
  );
  t.equal(
    toolchainText(df, 2),
    '# syntax=docker/dockerfile:1\nARG VERSION=3.19\n\nFROM debian AS docs\nRUN apt-get update\nCMD ["true"]\n',
    'a stage without COPY or ADD is kept whole',
  );
  t.equal(toolchainText(parseDockerfile('FROM alpine\nCOPY . /')), 'FROM alpine\n', 'ends with a newline even when the file does not');
  t.throws(() => toolchainText(df, 3), RangeError);
});
