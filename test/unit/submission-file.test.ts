// The one reader of files from a submission, on real files: FIFOs, devices, sockets, sparse
// giants and links that lead out are refused at once, with a reason that names nothing outside.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, symlink, truncate, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import t from 'tap';
import { readRegularFile, readSubmissionFile, statSubmissionFile } from '../../runner/submission/file.js';

const SECRET = 'token-8d2e61b04c';
const CAP = 1000;

// A hang here is the bug under test: fail it instead of waiting for tap's 900 s.
t.setTimeout(60_000);

const root = t.testdir({
  outside: { 'secret.txt': `${SECRET}\n`, folder: { 'inner.txt': `${SECRET}\n` } },
  step: {
    'hello.c': 'int main(void) { return 0; }\n',
    'at-cap': 'x'.repeat(CAP),
    'over-cap': 'x'.repeat(CAP + 1),
    src: { 'lib.c': 'int lib;\n' },
    'inside-link': t.fixture('symlink', 'hello.c'),
    'inside-folder-link': t.fixture('symlink', 'src'),
    'secret-link': t.fixture('symlink', '../outside/secret.txt'),
    'absolute-secret-link': t.fixture('symlink', path.join(t.testdirName, 'outside/secret.txt')),
    'outside-folder': t.fixture('symlink', '../outside/folder'),
    'zero-link': t.fixture('symlink', '/dev/zero'),
    'dangling-inside': t.fixture('symlink', 'not-written-yet.c'),
    'dangling-outside': t.fixture('symlink', '/nonexistent-grade-test/file'),
    'loop-a': t.fixture('symlink', 'loop-b'),
    'loop-b': t.fixture('symlink', 'loop-a'),
  },
});
const step = path.join(root, 'step');
const read = (relative: string, maxBytes = CAP) => readSubmissionFile(step, relative, { maxBytes, what: 'a test file', shown: `step/${relative}` });
const OUT = 'is a link out of the folder being graded; the grader reads only files inside it: copy the file in instead of linking to it';

t.before(async () => {
  execFileSync('mkfifo', [path.join(step, 'pipe')]);
  // Sparse: 1.5 GB long, no block written.
  await writeFile(path.join(step, 'sparse'), '');
  await truncate(path.join(step, 'sparse'), 1_500_000_000);
});

t.test('a regular file, and a file at exactly the cap, read whole', async (t) => {
  t.same(await read('hello.c'), { ok: true, bytes: Buffer.from('int main(void) { return 0; }\n') });
  const atCap = await read('at-cap');
  t.equal(atCap.ok && atCap.bytes.length, CAP);
  t.same(await read('src/lib.c'), { ok: true, bytes: Buffer.from('int lib;\n') });
});

t.test('one byte over the cap is refused, saying the cap', async (t) => {
  t.same(await read('over-cap'), {
    ok: false,
    refusal: 'too-large',
    detail: 'is 1001 bytes, over the 1000 bytes a test file may have',
    reason: 'step/over-cap is 1001 bytes, over the 1000 bytes a test file may have',
  });
});

t.test('a 1.5 GB sparse file is refused from its size, without reading it', async (t) => {
  const before = process.memoryUsage().rss;
  const result = await read('sparse', 1024 * 1024);
  t.match(result, { ok: false, refusal: 'too-large', reason: 'step/sparse is 1.5GB, over the 1.05MB a test file may have' });
  t.ok(process.memoryUsage().rss - before < 100 * 1024 * 1024, 'memory stays bounded');
});

t.test('a FIFO is refused without opening it', async (t) => {
  t.same(await read('pipe'), {
    ok: false,
    refusal: 'not-regular',
    detail: 'is a fifo (named pipe): not a regular file',
    reason: 'step/pipe is a fifo (named pipe): not a regular file',
  });
  t.match(await statSubmissionFile(step, 'pipe', { expect: 'file' }), {
    ok: false,
    refusal: 'not-regular',
    detail: 'is a fifo (named pipe): not a regular file',
  });
  t.match(await statSubmissionFile(step, 'pipe', { expect: 'folder' }), { ok: false, refusal: 'not-folder', detail: 'is a fifo (named pipe), not a folder' });
});

t.test('a socket and a device node inside the folder are refused', async (t) => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(path.join(step, 'socket'), resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  t.match(await read('socket'), { ok: false, refusal: 'not-regular', detail: 'is a socket: not a regular file' });

  // mknod needs root (as in the CI container); elsewhere the device part is not applicable.
  let device = false;
  try {
    execFileSync('mknod', [path.join(step, 'zero-device'), 'c', '1', '5'], { stdio: 'ignore' });
    device = true;
  } catch {
    t.comment('mknod is not allowed here: the device node case needs root');
  }
  if (device) t.match(await read('zero-device'), { ok: false, refusal: 'not-regular', detail: 'is a character device: not a regular file' });
});

t.test('a link to a file or a folder inside the folder is followed', async (t) => {
  t.same(await read('inside-link'), { ok: true, bytes: Buffer.from('int main(void) { return 0; }\n') });
  t.same(await read('inside-folder-link/lib.c'), { ok: true, bytes: Buffer.from('int lib;\n') });
  t.match(await statSubmissionFile(step, 'inside-folder-link', { expect: 'folder' }), { ok: true, kind: 'folder', path: path.join(step, 'src') });
  t.match(await statSubmissionFile(step, 'inside-link', { expect: 'file' }), { ok: true, kind: 'file', path: path.join(step, 'hello.c') });
});

t.test('a link out of the folder is refused, and nothing of its target reaches the result', async (t) => {
  for (const name of ['secret-link', 'absolute-secret-link', 'zero-link', 'dangling-outside']) {
    const result = await read(name);
    t.same(result, { ok: false, refusal: 'outside', detail: OUT, reason: `step/${name} ${OUT}` }, name);
    const stated = await statSubmissionFile(step, name, { expect: 'file' });
    t.match(stated, { ok: false, refusal: 'outside' }, `${name} (stat)`);
    for (const shown of [JSON.stringify(result), JSON.stringify(stated)]) {
      t.notMatch(shown, /token-|outside\/|\/dev\/zero|nonexistent-grade-test|secret\.txt/, `${name}: no target and no content`);
    }
  }
});

t.test('a linked folder out of the folder, on the way to the file, is refused the same way', async (t) => {
  const through = 'goes through outside-folder, a link out of the folder being graded; the grader reads only files inside it';
  t.same(await read('outside-folder/inner.txt'), { ok: false, refusal: 'outside', detail: through, reason: `step/outside-folder/inner.txt ${through}` });
  // The same words whether or not the file exists out there: nothing outside is even looked up.
  t.match(await read('outside-folder/no-such-file'), { ok: false, refusal: 'outside', detail: through });
  t.match(await statSubmissionFile(step, 'outside-folder', { expect: 'folder' }), { ok: false, refusal: 'outside', detail: OUT });
  t.match(await read('../outside/secret.txt'), { ok: false, refusal: 'outside', detail: OUT }, 'a name with .. that leaves the folder');
  t.match(await read('/etc/hostname'), { ok: false, refusal: 'outside' }, 'an absolute name');
  t.same(await read('src/../hello.c'), { ok: true, bytes: Buffer.from('int main(void) { return 0; }\n') }, '.. that stays inside is fine');
});

t.test('a folder, a missing file, a link to nothing and a loop of links', async (t) => {
  t.match(await read('src'), { ok: false, refusal: 'folder', reason: 'step/src is a folder, not a regular file' });
  t.match(await read('missing.c'), { ok: false, refusal: 'not-found', reason: 'step/missing.c not found' });
  t.match(await read('hello.c/below'), { ok: false, refusal: 'not-found', reason: 'step/hello.c/below not found' });
  t.match(await read('dangling-inside'), { ok: false, refusal: 'not-found', reason: 'step/dangling-inside is a link to a file that does not exist' });
  t.match(await read('loop-a'), { ok: false, refusal: 'unreadable', reason: 'step/loop-a is a link that leads back to itself (a loop of links)' });
  t.match(await statSubmissionFile(step, 'missing.c', { expect: 'file' }), { ok: false, refusal: 'not-found', reason: 'missing.c not found' });
  t.match(await statSubmissionFile(step, 'hello.c', { expect: 'folder' }), { ok: false, refusal: 'not-folder', reason: 'hello.c is a file, not a folder' });
  t.match(await statSubmissionFile(step, 'src', { expect: 'file' }), { ok: false, refusal: 'folder', reason: 'src is a folder, not a regular file' });
  t.match(await readSubmissionFile(path.join(root, 'no-such-step'), 'hello.c', { maxBytes: CAP, what: 'a test file' }), {
    ok: false,
    refusal: 'not-found',
    reason: 'hello.c not found',
  });
});

t.test('a file without read permission is unreadable', async (t) => {
  const locked = path.join(step, 'locked.c');
  await writeFile(locked, 'int x;\n');
  await chmod(locked, 0o000);
  t.teardown(() => chmod(locked, 0o644));
  if (process.getuid?.() === 0) {
    // root reads it regardless of its mode: nothing to refuse.
    t.same(await read('locked.c'), { ok: true, bytes: Buffer.from('int x;\n') }, 'root reads it anyway');
    return;
  }
  t.same(await read('locked.c'), {
    ok: false,
    refusal: 'unreadable',
    detail: 'cannot be read: permission denied (make it readable: chmod a+r)',
    reason: 'step/locked.c cannot be read: permission denied (make it readable: chmod a+r)',
  });
});

t.test('readRegularFile: links are fine, but still only a regular file and never past the cap', async (t) => {
  const options = { maxBytes: CAP, what: 'a spec file' };
  t.same(await readRegularFile(path.join(step, 'secret-link'), options), { ok: true, bytes: Buffer.from(`${SECRET}\n`) }, 'a link is followed');
  t.match(await readRegularFile(path.join(step, 'pipe'), { ...options, shown: 'x.yaml' }), {
    ok: false,
    refusal: 'not-regular',
    reason: 'x.yaml is a fifo (named pipe): not a regular file',
  });
  t.match(await readRegularFile(path.join(step, 'zero-link'), options), {
    ok: false,
    refusal: 'not-regular',
    detail: 'is a character device: not a regular file',
  });
  t.match(await readRegularFile(path.join(step, 'sparse'), options), {
    ok: false,
    refusal: 'too-large',
    detail: 'is 1.5GB, over the 1kB a spec file may have',
  });
  t.match(await readRegularFile(path.join(step, 'nothing.yaml'), options), { ok: false, refusal: 'not-found' });
  // /proc files say they are empty and are not: the read itself must stop at the cap.
  if (existsSync('/proc/self/status')) {
    t.match(await readRegularFile('/proc/self/status', { maxBytes: 100, what: 'a spec file' }), {
      ok: false,
      refusal: 'too-large',
      detail: 'is larger than the 100B a spec file may have',
    });
  }
});

t.test('a folder that is itself missing or replaced', async (t) => {
  await mkdir(path.join(root, 'empty'), { recursive: true });
  await symlink('../step/hello.c', path.join(root, 'empty', 'up-link'));
  // From the folder `empty`, `../step/hello.c` is outside, even though it is inside the test dir.
  t.match(await readSubmissionFile(path.join(root, 'empty'), 'up-link', { maxBytes: CAP, what: 'a test file' }), { ok: false, refusal: 'outside' });
});
