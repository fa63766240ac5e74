// The class folder on real files: what counts as a submission, what is skipped and why, and a
// content hash that sees every change that matters without opening FIFOs or reading sparse giants.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, cp, mkdir, open, readFile, rename, rm, stat, symlink, truncate, unlink, utimes, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import t from 'tap';
import { type ClassEntry, contentHash, listClass, type Submission } from '../../runner/batch/entries.js';

// Opening a FIFO would hang: fail the file instead of waiting for tap's 900 s.
t.setTimeout(60_000);

const folder = (dir: string): Submission => ({ kind: 'folder', entry: path.basename(dir), student: path.basename(dir), path: dir });

t.test('listClass: every entry, sorted by code point, each a submission or skipped with a reason', async (t) => {
  const dir = t.testdir({
    alice: { Dockerfile: 'FROM scratch\n' },
    'alice.zip': 'PK',
    'assignment-bob': { Dockerfile: 'FROM scratch\n' },
    Carol: { Dockerfile: 'FROM scratch\n' },
    'carol.zip': 'PK',
    'dave.tar': 'tar',
    'erin.tar.gz': 'gz',
    'frank.TGZ': 'gz',
    'gina.Zip': 'PK',
    'x.tar.gz': { Dockerfile: 'FROM scratch\n' },
    'weird.gz': 'gz',
    'new\nline': { Dockerfile: 'FROM scratch\n' },
    // U+FF01 sorts before U+1F600 by code point, after it by UTF-16 unit.
    'z\u{1F600}': {},
    'z\uFF01': {},
    '.git': { HEAD: 'ref: refs/heads/main\n' },
    '.DS_Store': 'finder',
    '.zip': 'PK',
    'README.md': '# Class\n',
    'notes.txt': 'notes',
    'grades.csv': 'student,score\n',
    'link-to-alice': t.fixture('symlink', 'alice'),
  });
  execFileSync('mkfifo', [path.join(dir, 'pipe')]);
  await mkdir(Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0x62, 0xff])]));
  const server = createServer();
  // A socket path may not exceed 107 bytes: bind it relative to the folder.
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    await new Promise<void>((resolve) => server.listen('sock', resolve));
  } finally {
    process.chdir(cwd);
  }
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const listed = await listClass(dir);
  const at = (name: string) => path.join(dir, name);
  const hidden = 'hidden (its name starts with a dot): not a submission';
  const notArchive = 'a file, not a submission: only folders and .zip, .tar, .tar.gz and .tgz archives are graded';
  const expected: ClassEntry[] = [
    { kind: 'skipped', entry: '.DS_Store', reason: hidden },
    { kind: 'skipped', entry: '.git', reason: hidden },
    { kind: 'skipped', entry: '.zip', reason: hidden },
    { kind: 'folder', entry: 'Carol', student: 'Carol', path: at('Carol') },
    { kind: 'skipped', entry: 'README.md', reason: notArchive },
    { kind: 'folder', entry: 'alice', student: 'alice', path: at('alice') },
    {
      kind: 'skipped',
      entry: 'alice.zip',
      reason: 'alice.zip would be graded as the student "alice", already taken by alice (the first in name order); rename one of them',
    },
    { kind: 'folder', entry: 'assignment-bob', student: 'assignment-bob', path: at('assignment-bob') },
    { kind: 'skipped', entry: 'b\uFFFD', reason: 'its name is not valid UTF-8 text: rename it to grade it' },
    {
      kind: 'skipped',
      entry: 'carol.zip',
      reason: 'carol.zip would be graded as the student "carol", already taken by Carol (the first in name order); rename one of them',
    },
    { kind: 'archive', entry: 'dave.tar', student: 'dave', path: at('dave.tar'), format: 'tar' },
    { kind: 'archive', entry: 'erin.tar.gz', student: 'erin', path: at('erin.tar.gz'), format: 'tar.gz' },
    { kind: 'archive', entry: 'frank.TGZ', student: 'frank', path: at('frank.TGZ'), format: 'tar.gz' },
    { kind: 'archive', entry: 'gina.Zip', student: 'gina', path: at('gina.Zip'), format: 'zip' },
    { kind: 'skipped', entry: 'grades.csv', reason: notArchive },
    { kind: 'skipped', entry: 'link-to-alice', reason: 'a link, not graded: grade the folder it points to instead' },
    { kind: 'folder', entry: 'new\nline', student: 'new\nline', path: at('new\nline') },
    { kind: 'skipped', entry: 'notes.txt', reason: notArchive },
    { kind: 'skipped', entry: 'pipe', reason: 'a FIFO (named pipe), not a submission; it was not opened' },
    { kind: 'skipped', entry: 'sock', reason: 'a socket, not a submission; it was not opened' },
    { kind: 'skipped', entry: 'weird.gz', reason: notArchive },
    { kind: 'folder', entry: 'x.tar.gz', student: 'x.tar.gz', path: at('x.tar.gz') },
    { kind: 'folder', entry: 'z\uFF01', student: 'z\uFF01', path: at('z\uFF01') },
    { kind: 'folder', entry: 'z\u{1F600}', student: 'z\u{1F600}', path: at('z\u{1F600}') },
  ];
  t.same(listed, expected);
  t.same(await listClass(dir), listed, 'the same listing twice');
});

t.test('listClass: a collision names both entries, with a newline escaped in the reason', async (t) => {
  const dir = t.testdir({ 'eve\nx': {}, 'eve\nx.tar': 'tar' });
  t.same(await listClass(dir), [
    { kind: 'folder', entry: 'eve\nx', student: 'eve\nx', path: path.join(dir, 'eve\nx') },
    {
      kind: 'skipped',
      entry: 'eve\nx.tar',
      reason: 'eve\\nx.tar would be graded as the student "eve\\nx", already taken by eve\\nx (the first in name order); rename one of them',
    },
  ]);
});

t.test('listClass: a device is skipped without being opened', async (t) => {
  const dir = t.testdir({});
  // mknod needs root (as in the CI container); elsewhere the test is not applicable.
  try {
    execFileSync('mknod', [path.join(dir, 'zero'), 'c', '1', '5'], { stdio: 'ignore' });
  } catch {
    t.comment('mknod needs root: not applicable');
    t.end();
    return;
  }
  t.same(await listClass(dir), [{ kind: 'skipped', entry: 'zero', reason: 'a character device, not a submission; it was not opened' }]);
  const sub = path.join(dir, 'sub');
  await mkdir(sub);
  execFileSync('mknod', [path.join(sub, 'zero'), 'c', '1', '5']);
  t.match(await contentHash(folder(sub)), /^[0-9a-f]{64}$/, 'a device in a folder is hashed by type and name, never read');
});

t.test('contentHash of a folder: stable, independent of place and mtime, changed by every change that matters', async (t) => {
  const dir = t.testdir({
    sub: {
      Dockerfile: 'FROM scratch\nCOPY app /\n',
      '.dockerignore': 'secret\n',
      src: { 'main.c': 'int main(void) { return 0; }\n', 'util.c': 'int util;\n' },
      'run.sh': '#!/bin/sh\n',
      link: t.fixture('symlink', 'src/main.c'),
    },
  });
  const sub = path.join(dir, 'sub');
  const hash = () => contentHash(folder(sub));
  const first = await hash();
  t.match(first, /^[0-9a-f]{64}$/);
  t.equal(await hash(), first, 'stable across two calls');

  await cp(sub, path.join(dir, 'copy'), { recursive: true, verbatimSymlinks: true });
  t.equal(await contentHash(folder(path.join(dir, 'copy'))), first, 'the same tree elsewhere hashes the same');
  await utimes(path.join(sub, 'Dockerfile'), 1_000_000, 1_000_000);
  t.equal(await hash(), first, 'a small file is hashed by content, not mtime');

  const seen = new Set([first]);
  const changed = async (what: string, change: () => Promise<unknown>) => {
    await change();
    const next = await hash();
    t.notOk(seen.has(next), `changed by: ${what}`);
    seen.add(next);
  };
  await changed('a byte of a file', () => writeFile(path.join(sub, 'src/util.c'), 'int utik;\n'));
  await changed('a dotfile inside', () => writeFile(path.join(sub, '.dockerignore'), 'secret\n*.o\n'));
  await changed('a new empty file', () => writeFile(path.join(sub, 'src/empty.c'), ''));
  await changed('a new empty folder', () => mkdir(path.join(sub, 'build')));
  await changed('a rename', () => rename(path.join(sub, 'src/empty.c'), path.join(sub, 'src/blank.c')));
  await changed('a move to another folder', () => rename(path.join(sub, 'src/blank.c'), path.join(sub, 'build/blank.c')));
  await changed('the executable bit', () => chmod(path.join(sub, 'run.sh'), 0o755));
  await changed('a link target', async () => {
    await unlink(path.join(sub, 'link'));
    await symlink('src/util.c', path.join(sub, 'link'));
  });
  await changed('a link replaced by the file it pointed to', async () => {
    await unlink(path.join(sub, 'link'));
    await writeFile(path.join(sub, 'link'), await readFile(path.join(sub, 'src/util.c')));
  });
  await changed('a file removed', () => rm(path.join(sub, 'build/blank.c')));
});

t.test('contentHash of a folder: names that are not UTF-8 are told apart', async (t) => {
  const dir = t.testdir({ one: {}, two: {} });
  await writeFile(Buffer.concat([Buffer.from(`${dir}/one/`), Buffer.from([0x61, 0xff])]), 'x');
  await writeFile(Buffer.concat([Buffer.from(`${dir}/two/`), Buffer.from([0x61, 0xfe])]), 'x');
  t.not(await contentHash(folder(path.join(dir, 'one'))), await contentHash(folder(path.join(dir, 'two'))));
});

t.test('contentHash of a folder: a FIFO is not opened, and counts by type and name', async (t) => {
  const dir = t.testdir({ sub: { Dockerfile: 'FROM scratch\n' } });
  const sub = path.join(dir, 'sub');
  execFileSync('mkfifo', [path.join(sub, 'pipe')]);
  const withPipe = await contentHash(folder(sub));
  t.equal(await contentHash(folder(sub)), withPipe, 'done, and stable');
  await unlink(path.join(sub, 'pipe'));
  await writeFile(path.join(sub, 'pipe'), '');
  t.not(await contentHash(folder(sub)), withPipe, 'a FIFO and an empty file of one name differ');
});

t.test('contentHash of a folder: a 1 GiB sparse file counts by size and mtime, unread', async (t) => {
  const dir = t.testdir({ sub: { Dockerfile: 'FROM scratch\n' } });
  const sub = path.join(dir, 'sub');
  const giant = path.join(sub, 'giant.img');
  await writeFile(giant, '');
  await truncate(giant, 1024 ** 3);
  await utimes(giant, 1_700_000_000, 1_700_000_000);
  const before = await contentHash(folder(sub));
  // Write into it, then put the mtime back: a hash that read the content would change.
  const handle = await open(giant, 'r+');
  await handle.write(Buffer.from('changed'), 0, 7, 512 * 1024 * 1024);
  await handle.close();
  await utimes(giant, 1_700_000_000, 1_700_000_000);
  t.equal((await stat(giant)).size, 1024 ** 3);
  t.equal(await contentHash(folder(sub)), before, 'the content was not read');
  await utimes(giant, 1_700_000_001, 1_700_000_001);
  t.not(await contentHash(folder(sub)), before, 'a new mtime changes it');
  await truncate(giant, 1024 ** 3 + 1);
  await utimes(giant, 1_700_000_001, 1_700_000_001);
  const grown = await contentHash(folder(sub));
  t.not(grown, before, 'a new size changes it');
});

t.test('contentHash of a folder: at most maxEntries entries are walked', async (t) => {
  const files = Object.fromEntries(Array.from({ length: 10 }, (_, index) => [`f${index}`, `${index}\n`]));
  const dir = t.testdir({ sub: files });
  const sub = path.join(dir, 'sub');
  const limits = { maxFileBytes: 1024, maxEntries: 5 };
  const capped = await contentHash(folder(sub), limits);
  t.not(capped, await contentHash(folder(sub)), 'the cap leaves a mark');
  await writeFile(path.join(sub, 'f9'), 'past the cap\n');
  t.equal(await contentHash(folder(sub), limits), capped, 'entries past the cap are not walked');
  await writeFile(path.join(sub, 'f0'), 'within the cap\n');
  t.not(await contentHash(folder(sub), limits), capped, 'entries within the cap are');
});

t.test('contentHash of an archive is the sha256 of its bytes', async (t) => {
  const dir = t.testdir({ 'alice.zip': Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.alloc(300_000, 7)]) });
  const file = path.join(dir, 'alice.zip');
  const archive: Submission = { kind: 'archive', entry: 'alice.zip', student: 'alice', path: file, format: 'zip' };
  const expected = createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
  t.equal(await contentHash(archive), expected);
  t.equal(await contentHash(archive), expected, 'stable');
  const handle = await open(file, 'r+');
  await handle.write(Buffer.from([8]), 0, 1, 299_999);
  await handle.close();
  t.not(await contentHash(archive), expected, 'one byte changed changes it');
});
