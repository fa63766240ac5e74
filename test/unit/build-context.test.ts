// Packs real fixture folders and reads the archives back with tar-stream, so every assertion is
// about what the engine would actually receive.
import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import t from 'tap';
import { extract, type Header } from 'tar-stream';
import { ContextError, packContext, type ContextLimits } from '../../runner/submission/build-context.js';

interface ArchiveEntry {
  header: Header;
  content: string;
}

const roomy: ContextLimits = { maxBytes: 10 * 1024 * 1024, maxFiles: 1000 };

async function readArchive(tar: Buffer): Promise<ArchiveEntry[]> {
  const reader = extract();
  const entries: ArchiveEntry[] = [];
  const done = (async () => {
    for await (const entry of reader) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of entry) chunks.push(chunk as Uint8Array);
      entries.push({ header: entry.header, content: Buffer.concat(chunks).toString('utf8') });
    }
  })();
  reader.end(tar);
  await done;
  return entries;
}

async function packed(dir: string, options: Partial<Parameters<typeof packContext>[1]> = {}) {
  const result = await packContext(dir, { dockerfile: 'Dockerfile', limits: roomy, ...options });
  const entries = await readArchive(result.tar);
  const byName = new Map(entries.map((entry) => [entry.header.name, entry]));
  return { result, entries, names: entries.map((entry) => entry.header.name), byName };
}

t.test('a plain folder is packed with its contents, folders and owner-less headers', async (t) => {
  const dir = t.testdir({
    Dockerfile: 'FROM alpine\nCOPY . /app\n',
    'app.js': 'console.log("hi")\n',
    src: { lib: { 'util.js': 'export const x = 1\n' } },
  });
  const { result, names, byName } = await packed(dir);

  t.same(names, ['Dockerfile', 'app.js', 'src/', 'src/lib/', 'src/lib/util.js']);
  t.equal(byName.get('Dockerfile')?.content, 'FROM alpine\nCOPY . /app\n');
  t.equal(byName.get('src/lib/util.js')?.content, 'export const x = 1\n');
  t.equal(byName.get('src/')?.header.type, 'directory');
  for (const name of names) {
    const header = byName.get(name)?.header;
    t.match(header, { uid: 0, gid: 0, uname: '', gname: '' }, `${name} carries no owner`);
  }
  t.equal(result.files, 3);
  t.equal(result.bytes, 24 + 18 + 19);
  t.same(result.warnings, []);
});

t.test('the same folder always gives the same, sorted archive', async (t) => {
  const dir = t.testdir({
    Dockerfile: 'FROM alpine\n',
    'a.txt': 'a',
    a: { b: 'b', 'c.txt': 'c' },
    Z: 'upper case sorts first',
    m: { n: { o: 'deep' } },
  });
  const first = await packed(dir);
  const second = await packed(dir);

  t.ok(first.result.tar.equals(second.result.tar), 'byte-identical archives');
  t.same(first.names, [...first.names].sort(), 'names in sorted order');
  t.same(first.names, ['Dockerfile', 'Z', 'a.txt', 'a/', 'a/b', 'a/c.txt', 'm/', 'm/n/', 'm/n/o']);
});

t.test('.dockerignore: folder pattern, glob, ** and a ! exception', async (t) => {
  const dir = t.testdir({
    Dockerfile: 'FROM alpine\n',
    '.dockerignore': ['# build output', 'build/', '*.log', '**/*.tmp', 'node_modules', '!node_modules/keep/index.js', ''].join('\n'),
    build: { 'out.bin': 'binary', nested: { 'more.bin': 'binary' } },
    'app.log': 'root log',
    'x.tmp': 'root tmp',
    src: { 'main.js': 'main', 'app.log': 'a * glob only matches at its own level', 'y.tmp': 'tmp' },
    deep: { a: { b: { 'c.tmp': 'tmp', 'd.js': 'kept' } } },
    node_modules: { dep: { 'index.js': 'dep' }, keep: { 'index.js': 'brought back', 'other.js': 'still out' } },
  });
  const { names, byName } = await packed(dir);

  t.same(names, [
    '.dockerignore',
    'Dockerfile',
    'deep/',
    'deep/a/',
    'deep/a/b/',
    'deep/a/b/d.js',
    'node_modules/keep/index.js',
    'src/',
    'src/app.log',
    'src/main.js',
  ]);
  t.equal(byName.get('node_modules/keep/index.js')?.content, 'brought back');
});

t.test('.dockerignore patterns are case-sensitive, as docker on Linux', async (t) => {
  const dir = t.testdir({ Dockerfile: 'FROM alpine\n', '.dockerignore': 'secret.txt\n', 'SECRET.txt': 's', 'secret.txt': 's' });
  const { names } = await packed(dir);
  t.same(names, ['.dockerignore', 'Dockerfile', 'SECRET.txt']);
});

t.test('the Dockerfile and .dockerignore are kept even when ignored', async (t) => {
  const top = t.testdir({
    flat: { Dockerfile: 'FROM alpine\n', '.dockerignore': '*\nDockerfile\n.dockerignore\n', 'other.txt': 'out' },
    nested: {
      '.dockerignore': 'docker\n',
      docker: { 'Dockerfile.dev': 'FROM alpine\n', 'notes.md': 'out', sub: { 'x.js': 'out' } },
      'app.js': 'in',
    },
  });
  const { names } = await packed(path.join(top, 'flat'));
  t.same(names, ['.dockerignore', 'Dockerfile']);

  const nested = path.join(top, 'nested');
  const { names: nestedNames, byName } = await packed(nested, { dockerfile: 'docker/Dockerfile.dev' });
  t.same(nestedNames, ['.dockerignore', 'app.js', 'docker/Dockerfile.dev']);
  t.equal(byName.get('docker/Dockerfile.dev')?.content, 'FROM alpine\n');
});

t.test('too many files stops the walk with the figures', async (t) => {
  const dir = t.testdir({ Dockerfile: 'FROM alpine\n', a: '1', b: '2', c: '3', d: '4' });
  await t.rejects(packed(dir, { limits: { maxBytes: roomy.maxBytes, maxFiles: 3 } }), {
    name: 'ContextError',
    message: `build context ${dir} has more than 3 files (limit 3): add a .dockerignore`,
  });
  await t.rejects(packed(dir, { limits: { maxBytes: roomy.maxBytes, maxFiles: 4 } }), ContextError);
  const { result } = await packed(dir, { limits: { maxBytes: roomy.maxBytes, maxFiles: 5 } });
  t.equal(result.files, 5, 'exactly at the limit is fine');
});

t.test('too many folders and links is bounded as well', async (t) => {
  const dir = t.testdir({ Dockerfile: 'FROM alpine\n', a: {}, b: {}, c: {} });
  await t.rejects(packed(dir, { limits: { maxBytes: roomy.maxBytes, maxFiles: 2 } }), {
    message: /more than 2 folders and links \(limit 2\)/,
  });
});

t.test('too many bytes stops the walk with the figures', async (t) => {
  const dir = t.testdir({ Dockerfile: 'FROM alpine\n', 'big.bin': 'x'.repeat(150) });
  await t.rejects(packed(dir, { limits: { maxBytes: 100, maxFiles: 100 } }), {
    name: 'ContextError',
    message: `build context ${dir} is larger than 100 bytes: it reached 162 bytes at big.bin (limit 100 bytes)`,
  });
  const { result } = await packed(dir, { limits: { maxBytes: 162, maxFiles: 100 } });
  t.equal(result.bytes, 162, 'exactly at the limit is fine');
});

t.test('a huge file is refused from its size, without being read', { timeout: 10_000 }, async (t) => {
  const dir = t.testdir({ Dockerfile: 'FROM alpine\n', 'huge.bin': '' });
  // Sparse: 64 GiB on paper, nothing on disk; reading it would take minutes and exhaust memory.
  truncateSync(path.join(dir, 'huge.bin'), 64 * 1024 ** 3);
  // Refused from lstat alone: reading 64 GiB would run far past this test's timeout.
  await t.rejects(packed(dir, { limits: { maxBytes: 1024 * 1024, maxFiles: 100 } }), {
    message: /larger than 1\.05MB \(1048576 bytes\): it reached 68\.7GB \(68719476748 bytes\) at huge\.bin/,
  });
});

t.test('a link inside the folder is packed as a link', async (t) => {
  const dir = t.testdir({
    Dockerfile: 'FROM alpine\n',
    'app.js': 'the real thing',
    'current.js': t.fixture('symlink', 'app.js'),
    lib: { 'up.js': t.fixture('symlink', '../app.js') },
  });
  const { result, byName } = await packed(dir);

  t.match(byName.get('current.js')?.header, { type: 'symlink', linkname: 'app.js', size: 0 });
  t.match(byName.get('lib/up.js')?.header, { type: 'symlink', linkname: '../app.js' });
  t.equal(byName.get('current.js')?.content, '');
  t.same(result.warnings, []);
  t.equal(result.files, 2, 'links are not counted as files');
});

t.test('a link out of the folder is packed as a link, with a warning, never followed', async (t) => {
  const dir = t.testdir({
    Dockerfile: 'FROM alpine\n',
    passwd: t.fixture('symlink', '/etc/passwd'),
    sub: { escape: t.fixture('symlink', '../../outside.txt') },
  });
  const { result, byName } = await packed(dir);

  t.match(byName.get('passwd')?.header, { type: 'symlink', linkname: '/etc/passwd', size: 0 });
  t.match(byName.get('sub/escape')?.header, { type: 'symlink', linkname: '../../outside.txt' });
  t.equal(result.warnings.length, 2);
  t.match(result.warnings[0], /^passwd is a link to \/etc\/passwd, outside the build context/);
  t.match(result.warnings[1], /^sub\/escape is a link to \.\.\/\.\.\/outside\.txt, outside the build context/);

  const passwd = readFileSync('/etc/passwd');
  const firstLine = passwd.subarray(0, passwd.indexOf(0x0a));
  t.equal(result.tar.indexOf(firstLine), -1, "/etc/passwd's contents are not in the archive");
  t.equal(result.files, 1);
});

t.test('a fifo is skipped with a warning', async (t) => {
  const dir = t.testdir({ Dockerfile: 'FROM alpine\n', 'app.js': 'x' });
  execFileSync('mkfifo', [path.join(dir, 'pipe')]);
  t.ok(lstatSync(path.join(dir, 'pipe')).isFIFO());
  const { result, names } = await packed(dir);

  t.same(names, ['Dockerfile', 'app.js']);
  t.match(result.warnings, [/^pipe is a fifo \(named pipe\): skipped/]);
});

t.test('a socket is skipped with a warning', async (t) => {
  const dir = t.testdir({ Dockerfile: 'FROM alpine\n' });
  const server = createServer();
  // A socket path may not exceed 107 bytes, and test folders can be deeper than that: bind it
  // by a path relative to the folder.
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    await new Promise<void>((resolve) => server.listen('app.sock', resolve));
  } finally {
    process.chdir(cwd);
  }
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { result, names } = await packed(dir);

  t.same(names, ['Dockerfile']);
  t.match(result.warnings, [/^app\.sock is a socket: skipped/]);
});

t.test('a missing or non-folder context is refused', async (t) => {
  const dir = t.testdir({ 'a-file': 'x' });
  const missing = path.join(dir, 'nope');
  await t.rejects(packed(missing), { name: 'ContextError', message: `build context ${missing} does not exist` });
  await t.rejects(packed(path.join(dir, 'a-file')), { name: 'ContextError', message: /does not exist as a folder/ });
});

t.test('a missing Dockerfile is refused', async (t) => {
  const dir = t.testdir({ 'app.js': 'x', docker: {} });
  await t.rejects(packed(dir), { name: 'ContextError', message: `no Dockerfile at ${path.join(dir, 'Dockerfile')}` });
  await t.rejects(packed(dir, { dockerfile: 'docker' }), { message: /no Dockerfile at .*docker: that is a folder/ });
  await t.rejects(packed(dir, { dockerfile: '../Dockerfile' }), { message: /must name a file inside the build context/ });
});

t.test('a Dockerfile reached through links must stay inside the folder', async (t) => {
  // One testdir per test: the context is a folder inside it, next to what lies outside.
  const top = t.testdir({
    outside: { Dockerfile: 'FROM alpine\n' },
    context: {
      real: { Dockerfile: 'FROM alpine\n' },
      'Dockerfile.link': t.fixture('symlink', 'real/Dockerfile'),
      'Dockerfile.out': t.fixture('symlink', '../outside/Dockerfile'),
    },
  });
  const dir = path.join(top, 'context');
  const { byName } = await packed(dir, { dockerfile: 'Dockerfile.link' });
  t.match(byName.get('Dockerfile.link')?.header, { type: 'symlink', linkname: 'real/Dockerfile' });
  await t.rejects(packed(dir, { dockerfile: 'Dockerfile.out' }), { message: /outside the build context/ });
  // Through a linked folder the engine would meet a link where it expects a folder.
  await fsp.symlink('real', path.join(dir, 'linked'));
  await t.rejects(packed(dir, { dockerfile: 'linked/Dockerfile' }), { message: /goes through a linked folder/ });
});

t.test('extra files are added at their path, untouched by .dockerignore and the limits', async (t) => {
  const dir = t.testdir({
    Dockerfile: 'FROM alpine\n',
    '.dockerignore': '.grade\n*.sh\n',
    'app.js': 'x',
  });
  const generated = 'FROM alpine\nRUN echo generated\n';
  const { result, names, byName } = await packed(dir, {
    dockerfile: '.grade/Dockerfile',
    extraFiles: [
      { name: '.grade/Dockerfile', content: generated },
      { name: 'check.sh', content: 'echo ok\n' },
    ],
    limits: { maxBytes: 1000, maxFiles: 3 },
  });

  t.same(names, ['.dockerignore', '.grade/', '.grade/Dockerfile', 'Dockerfile', 'app.js', 'check.sh']);
  t.equal(byName.get('.grade/Dockerfile')?.content, generated);
  t.equal(byName.get('check.sh')?.content, 'echo ok\n');
  t.equal(result.files, 3, 'only the folder files count');

  const again = await packContext(dir, {
    dockerfile: '.grade/Dockerfile',
    extraFiles: [
      { name: 'check.sh', content: 'echo ok\n' },
      { name: '.grade/Dockerfile', content: generated },
    ],
    limits: roomy,
  });
  t.ok(again.tar.equals(result.tar), 'generated entries are deterministic too');
});

t.test("an extra file replaces the student's file at the same path", async (t) => {
  const dir = t.testdir({ Dockerfile: 'FROM alpine\n', '.grade': { Dockerfile: 'FROM evil\n', 'notes.txt': 'kept' } });
  const { result, names, byName } = await packed(dir, {
    extraFiles: [{ name: '.grade/Dockerfile', content: 'FROM alpine\n' }],
  });
  t.same(names, ['.grade/', '.grade/Dockerfile', '.grade/notes.txt', 'Dockerfile']);
  t.equal(byName.get('.grade/Dockerfile')?.content, 'FROM alpine\n');
  t.match(result.warnings, [/^\.grade\/Dockerfile is left out/]);

  await t.rejects(packed(dir, { extraFiles: [{ name: '../x', content: '' }] }), {
    message: /must be a relative file path inside the context/,
  });
});

t.test('modes and modification times are those of the files', async (t) => {
  const dir = t.testdir({ Dockerfile: 'FROM alpine\n', 'run.sh': '#!/bin/sh\necho hi\n', 'data.txt': 'd', bin: {} });
  chmodSync(path.join(dir, 'run.sh'), 0o755);
  chmodSync(path.join(dir, 'data.txt'), 0o640);
  chmodSync(path.join(dir, 'bin'), 0o750);
  const { byName } = await packed(dir);

  t.equal(byName.get('run.sh')?.header.mode, 0o755);
  t.equal(byName.get('data.txt')?.header.mode, 0o640);
  t.equal(byName.get('bin/')?.header.mode, 0o750);
  const mtime = lstatSync(path.join(dir, 'run.sh')).mtime;
  t.equal(byName.get('run.sh')?.header.mtime.getTime(), Math.floor(mtime.getTime() / 1000) * 1000);
});

t.test('a file that cannot be read is named in the error', async (t) => {
  const dir = t.testdir({ Dockerfile: 'FROM alpine\n', 'secret.txt': 'x' });
  const secret = path.join(dir, 'secret.txt');
  // Root reads through any mode bits, so the refusal comes from a mocked open.
  const denied = Object.assign(new Error(`EACCES: permission denied, open '${secret}'`), { code: 'EACCES' });
  const mocked = await t.mockImport<typeof import('../../runner/submission/build-context.js')>('../../runner/submission/build-context.js', {
    'node:fs/promises': {
      ...fsp,
      open: (file: string, flags: number) => (file === secret ? Promise.reject(denied) : fsp.open(file, flags)),
    },
  });
  await t.rejects(mocked.packContext(dir, { dockerfile: 'Dockerfile', limits: roomy }), {
    name: 'ContextError',
    message: `cannot read ${secret}: permission denied; make it readable, or list it in .dockerignore if the image does not need it`,
    cause: denied,
  });

  // Left out by .dockerignore, it is never opened.
  writeFileSync(path.join(dir, '.dockerignore'), 'secret.txt\n');
  const { names } = await packed(dir);
  t.same(names, ['.dockerignore', 'Dockerfile']);
});

t.test('a linked .dockerignore is not followed', async (t) => {
  const top = t.testdir({
    patterns: 'app.js\n',
    context: { Dockerfile: 'FROM alpine\n', 'app.js': 'x', '.dockerignore': t.fixture('symlink', '../patterns') },
  });
  const dir = path.join(top, 'context');
  const { result, names } = await packed(dir);
  t.same(names, ['.dockerignore', 'Dockerfile', 'app.js']);
  t.match(result.warnings, [/^\.dockerignore is a link: it is not followed/, /^\.dockerignore is a link to \.\.\/patterns, outside/]);
});

t.test('names with newlines stay on one line in warnings and errors, and are packed as named', async (t) => {
  const forged = 'x\nok 99 - forged';
  const dir = t.testdir({
    Dockerfile: 'FROM alpine\n',
    [forged]: 'a file',
    // A slash cannot be in a name, but it can be in a link's target.
    'link\n::error::forged': t.fixture('symlink', '/etc\nScore: 28/28'),
  });
  execFileSync('mkfifo', [path.join(dir, `pipe\nok 98 - forged`)]);
  const { result, names } = await packed(dir);

  t.ok(names.includes(forged), 'the file is packed under its real name');
  t.same(result.warnings, [
    'link\\n::error::forged is a link to /etc\\nScore: 28/28, outside the build context: it is sent as a link, so COPY puts a dangling link in the image, not the file it points to',
    'pipe\\nok 98 - forged is a fifo (named pipe): skipped, a build context only carries files, folders and links',
  ]);
  for (const warning of result.warnings) t.notMatch(warning, /[\n\r]/, 'one line');

  const folder = path.join(dir, 'sub\nScore: 28/28');
  await t.rejects(packContext(folder, { dockerfile: 'Dockerfile', limits: roomy }), {
    name: 'ContextError',
    message: `build context ${dir}/sub\\nScore: 28/28 does not exist`,
  });
  writeFileSync(path.join(dir, 'big\nok 1'), 'x'.repeat(200));
  await t.rejects(packContext(dir, { dockerfile: 'Dockerfile', limits: { maxBytes: 100, maxFiles: 10 } }), {
    message: /at big\\nok 1 \(limit/,
  });
});
