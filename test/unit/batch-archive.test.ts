// Unpacking students' archives, honest and hostile, built in memory by test/support/archives.ts: each
// refusal must name its cause, and nothing may appear outside the folder unpacked into.
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import t, { type Test } from 'tap';
import { ARCHIVE_LIMITS, ArchiveError, type ArchiveLimits, archiveRoot, extractArchive } from '../../runner/batch/archive.js';
import type { ArchiveFormat } from '../../runner/batch/entries.js';
import { type TarEntrySpec, tarArchive, type ZipEntrySpec, zipArchive } from '../support/archives.js';

// A hang (a FIFO opened, a stream never ended) is a bug under test: fail it instead of waiting 900 s.
t.setTimeout(60_000);

const base = t.testdir({});
const EXTENSION: Record<ArchiveFormat, string> = { zip: 'zip', tar: 'tar', 'tar.gz': 'tar.gz' };
const small: ArchiveLimits = { maxBytes: 1024 * 1024, maxFiles: 10, maxRatio: 1000 };
const MiB = 1024 * 1024;

/** Every path under `dir`, links not followed, relative to `dir`. */
async function tree(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (at: string) => {
    for (const entry of await readdir(path.join(dir, at), { withFileTypes: true })) {
      const relative = path.join(at, entry.name);
      found.push(relative);
      if (entry.isDirectory()) await walk(relative);
    }
  };
  await walk('');
  return found.sort();
}

let boxes = 0;
/**
 * Unpacks `archive` into box/x/into, where box also holds an `outside` folder with a secret: a
 * `../../evil` lands in box/, an absolute `${box}/outside/evil` in box/outside.
 */
async function unpack(format: ArchiveFormat, archive: Buffer, limits?: ArchiveLimits) {
  const box = path.join(base, `box-${++boxes}`);
  const into = path.join(box, 'x', 'into');
  await mkdir(into, { recursive: true });
  await mkdir(path.join(box, 'outside'));
  await writeFile(path.join(box, 'outside', 'secret'), 'secret\n');
  const file = path.join(box, `student.${EXTENSION[format]}`);
  await writeFile(file, archive);
  const before = await tree(box);
  const outcome = await extractArchive(file, format, into, limits).then(
    (result) => ({ result, error: undefined }),
    (error: unknown) => ({ result: undefined, error }),
  );
  const outsideInto = (await tree(box)).filter((entry) => !before.includes(entry) && !entry.startsWith(path.join('x', 'into', '')));
  return { ...outcome, box, into, outsideInto };
}

/** Asserts an ArchiveError whose message matches, and that nothing was written outside `into`. */
async function refuses(t: Test, format: ArchiveFormat, archive: Buffer, message: RegExp, limits?: ArchiveLimits) {
  const { error, outsideInto, box } = await unpack(format, archive, limits);
  t.type(error, ArchiveError, 'refused with an ArchiveError');
  t.match((error as Error).message, message);
  t.notMatch((error as Error).message, /\n|\s{4}at /, 'one line, no stack');
  t.same(outsideInto, [], 'nothing written outside the folder');
  t.equal(await readFile(path.join(box, 'outside', 'secret'), 'utf8'), 'secret\n', 'the file outside is untouched');
  return error as ArchiveError;
}

const zip = (entries: ZipEntrySpec[]) => zipArchive(entries);
const tar = (entries: TarEntrySpec[]) => tarArchive(entries);
const tgz = (entries: TarEntrySpec[]) => tarArchive(entries, { gzip: true });

t.test('the default limits are the documented ones', async (t) => {
  t.same(ARCHIVE_LIMITS, { maxBytes: 256 * MiB, maxFiles: 20_000, maxRatio: 200 });
});

t.test('a zip with one top folder unpacks, and is graded from that folder', async (t) => {
  const archive = zip([
    { name: 'alice/' },
    { name: 'alice/Dockerfile', data: 'FROM scratch\nCOPY hello /\n' },
    { name: 'alice/run.sh', data: '#!/bin/sh\necho hi\n', mode: 0o104755 },
    { name: 'alice/src/hello.c', data: 'int main(void) { return 0; }\n' },
    { name: 'alice/locked', data: 'x', mode: 0o100000 },
    { name: 'alice/current', data: 'src/hello.c', mode: 0o120777 },
    { name: '__MACOSX/alice/._Dockerfile', data: 'resource fork' },
    { name: '.DS_Store', data: 'finder' },
  ]);
  const { result, error, into } = await unpack('zip', archive);
  t.equal(error, undefined);
  // alice/, Dockerfile, run.sh, src/, hello.c, locked, current, __MACOSX/, __MACOSX/alice/, ._Dockerfile, .DS_Store
  t.same(result, { files: 11, bytes: 26 + 18 + 29 + 1 + 13 + 6 }, 'bytes are file contents; link text is not counted');
  const root = await archiveRoot(into);
  t.equal(root, path.join(into, 'alice'));
  t.equal(await readFile(path.join(root, 'Dockerfile'), 'utf8'), 'FROM scratch\nCOPY hello /\n');
  t.equal(await readFile(path.join(root, 'src/hello.c'), 'utf8'), 'int main(void) { return 0; }\n');
  t.equal((await stat(path.join(root, 'run.sh'))).mode & 0o7777, 0o755, 'executable kept, setuid dropped');
  t.equal((await stat(path.join(root, 'locked'))).mode & 0o7777, 0o644, 'a mode of 0000 becomes owner-writable');
  t.equal(await readlink(path.join(root, 'current')), 'src/hello.c', 'a link inside is written as a link');
  // The zip says 1980; the files are as new as the unpacking.
  t.ok((await stat(path.join(root, 'Dockerfile'))).mtime.getFullYear() >= 2024, 'the archive mtime is not applied');
});

t.test('a zip without a top folder is graded from the folder unpacked into', async (t) => {
  const { error, into } = await unpack(
    'zip',
    zip([
      { name: 'Dockerfile', data: 'FROM scratch\n' },
      { name: 'src/a.c', data: 'int a;\n' },
    ]),
  );
  t.equal(error, undefined);
  t.equal(await archiveRoot(into), into);
  t.same(await tree(into), ['Dockerfile', 'src', 'src/a.c']);
});

t.test('a tar.gz with a top folder, an inside link and a hard link unpacks', async (t) => {
  const archive = await tgz([
    { name: 'bob/', type: 'directory', mode: 0o7777 },
    { name: 'bob/Dockerfile', data: 'FROM scratch\n', mode: 0o6644, uid: 0, gid: 0, mtime: new Date('2001-01-01') },
    { name: 'bob/src/main.c', data: 'int main;\n' },
    { name: 'bob/run', data: '#!/bin/sh\n', mode: 0o755 },
    { name: 'bob/latest', type: 'symlink', linkname: 'src/main.c' },
    { name: 'bob/up', type: 'symlink', linkname: '../bob/src' },
    { name: 'bob/copy.c', type: 'link', linkname: 'bob/src/main.c', mode: 0o644 },
  ]);
  const { result, error, into } = await unpack('tar.gz', archive);
  t.equal(error, undefined);
  t.same(result, { files: 8, bytes: 13 + 10 + 10 + 10 });
  const root = await archiveRoot(into);
  t.equal(root, path.join(into, 'bob'));
  t.equal((await stat(root)).mode & 0o7777, 0o755, 'folder modes are not taken from the archive');
  t.equal((await stat(path.join(root, 'Dockerfile'))).mode & 0o7777, 0o644, 'setuid and setgid dropped');
  t.equal((await stat(path.join(root, 'run'))).mode & 0o777, 0o755);
  t.ok((await stat(path.join(root, 'Dockerfile'))).mtime.getFullYear() >= 2024, 'the archive mtime is not applied');
  t.equal(await readlink(path.join(root, 'latest')), 'src/main.c');
  t.equal(await readlink(path.join(root, 'up')), '../bob/src');
  t.equal(await readFile(path.join(root, 'copy.c'), 'utf8'), 'int main;\n', 'a hard link inside is written as a copy');
  t.ok((await lstat(path.join(root, 'copy.c'))).isFile());
});

t.test('a plain tar without a top folder; a ./ prefix is the top itself', async (t) => {
  const { error, into } = await unpack(
    'tar',
    await tar([
      { name: './', type: 'directory' },
      { name: './Dockerfile', data: 'FROM scratch\n' },
      { name: './a/b.txt', data: 'b' },
    ]),
  );
  t.equal(error, undefined);
  t.equal(await archiveRoot(into), into);
  t.same(await tree(into), ['Dockerfile', 'a', 'a/b.txt']);
});

t.test('archiveRoot', async (t) => {
  const dir = t.testdir({
    one: { top: { Dockerfile: 'x' }, __MACOSX: { top: {} }, '.DS_Store': 'x' },
    two: { a: {}, b: {} },
    file: { Dockerfile: 'x' },
    'folder-and-file': { top: {}, 'README.md': 'x' },
    empty: {},
    link: { real: {} },
  });
  await symlink('/tmp', path.join(dir, 'link', 'top'));
  t.equal(await archiveRoot(path.join(dir, 'one')), path.join(dir, 'one', 'top'), 'ignoring __MACOSX and dotfiles');
  t.equal(await archiveRoot(path.join(dir, 'two')), path.join(dir, 'two'));
  t.equal(await archiveRoot(path.join(dir, 'file')), path.join(dir, 'file'));
  t.equal(await archiveRoot(path.join(dir, 'folder-and-file')), path.join(dir, 'folder-and-file'));
  t.equal(await archiveRoot(path.join(dir, 'empty')), path.join(dir, 'empty'));
  t.equal(await archiveRoot(path.join(dir, 'link')), path.join(dir, 'link'), 'two entries, one a link: no single top folder');
});

t.test('zip slip: a ".." component is refused, whichever the separator', async (t) => {
  await refuses(
    t,
    'zip',
    zip([
      { name: 'ok.txt', data: 'ok' },
      { name: '../../evil', data: 'pwned' },
    ]),
    /^the entry "\.\.\/\.\.\/evil" has a "\.\." component/,
  );
  await refuses(t, 'zip', zip([{ name: 'a\\..\\..\\..\\evil', data: 'pwned' }]), /the entry "a\/\.\.\/\.\.\/\.\.\/evil" has a "\.\." component/);
  await refuses(t, 'tar', await tar([{ name: 'a/../../../evil', data: 'pwned' }]), /^the entry "a\/\.\.\/\.\.\/\.\.\/evil" has a "\.\." component/);
  await refuses(t, 'tar.gz', await tgz([{ name: '..', type: 'directory' }]), /the entry "\.\." has a "\.\." component/);
});

t.test('absolute paths are refused: /x, C:\\x, \\\\server\\share', async (t) => {
  const box = path.join(base, `box-${boxes + 1}`);
  const error = await refuses(t, 'tar', await tar([{ name: path.join(box, 'outside', 'evil'), data: 'pwned' }]), /is an absolute path/);
  t.match(error.message, `"${path.join(box, 'outside', 'evil')}"`, 'the entry is named');
  await refuses(t, 'zip', zip([{ name: '/etc/evil', data: 'pwned' }]), /the entry "\/etc\/evil" is an absolute path/);
  await refuses(t, 'zip', zip([{ name: 'C:\\evil', data: 'pwned' }]), /the entry "C:\/evil" is an absolute path/);
  await refuses(t, 'zip', zip([{ name: '\\\\server\\share\\evil', data: 'pwned' }]), /the entry "\/\/server\/share\/evil" is an absolute path/);
});

t.test('a NUL byte in a name is refused, and control characters are shown escaped', async (t) => {
  await refuses(t, 'zip', zip([{ name: Buffer.from('a\0/../../evil'), data: 'x' }]), /the entry "a\\u0000\/\.\.\/\.\.\/evil" has a NUL byte/);
  await refuses(t, 'zip', zip([{ name: 'new\nline/../../evil', data: 'x' }]), /the entry "new\\nline\/\.\.\/\.\.\/evil" has a "\.\." component/);
});

t.test('a link out is refused, and nothing is written through it', async (t) => {
  const outsideFolder = path.join(base, `box-${boxes + 1}`, 'outside');
  await refuses(
    t,
    'tar',
    await tar([
      { name: 'a', type: 'symlink', linkname: outsideFolder },
      { name: 'a/evil', data: 'pwned' },
    ]),
    /the link "a" points to ".*outside", which is an absolute path; links must point inside the submission/,
  );
  await refuses(
    t,
    'tar.gz',
    await tgz([
      { name: 'a', type: 'symlink', linkname: '../../outside' },
      { name: 'a/evil', data: 'pwned' },
    ]),
    /the link "a" points to "\.\.\/\.\.\/outside", which leads out of the submission/,
  );
  await refuses(t, 'zip', zip([{ name: 'sub/up', data: '../../x', mode: 0o120777 }]), /the link "sub\/up" points to "\.\.\/\.\.\/x", which leads out/);
});

t.test('an entry written through a link the archive made inside is refused too', async (t) => {
  await refuses(
    t,
    'tar',
    await tar([
      { name: 'sub', type: 'directory' },
      { name: 'a', type: 'symlink', linkname: 'sub' },
      { name: 'a/evil', data: 'through the link' },
    ]),
    /the entry "a\/evil" goes through "a", which the archive makes a link; nothing is written through it/,
  );
  await refuses(
    t,
    'zip',
    zip([
      { name: 'a/evil', data: 'x' },
      { name: 'a', data: 'sub', mode: 0o120777 },
    ]),
    /the entry "a" is a link, but an earlier entry made it a folder/,
  );
});

t.test('links that chain out are caught on disk, where their names alone look inside', async (t) => {
  // p/q/b -> ../.. is the top; x -> p/q/b/../../../outside reads as "outside" under the top by
  // name, but through b it climbs one level above it.
  const { error, outsideInto } = await unpack(
    'tar',
    await tar([
      { name: 'p/q/', type: 'directory' },
      { name: 'p/q/b', type: 'symlink', linkname: '../..' },
      { name: 'x', type: 'symlink', linkname: 'p/q/b/../../../outside' },
    ]),
  );
  t.type(error, ArchiveError);
  t.match((error as Error).message, /the link "x" points to "p\/q\/b\/\.\.\/\.\.\/\.\.\/outside", which leads out of the submission through other links/);
  t.same(outsideInto, []);
  await refuses(
    t,
    'tar',
    await tar([
      { name: 'a', type: 'symlink', linkname: 'b' },
      { name: 'b', type: 'symlink', linkname: 'a' },
      { name: 'c', type: 'symlink', linkname: 'a/x' },
    ]),
    /the link "a" goes through more than 40 links \(a loop of links\?\)/,
  );
});

t.test('hard links: out or to nothing earlier are refused', async (t) => {
  await refuses(
    t,
    'tar',
    await tar([{ name: 'h', type: 'link', linkname: '../../outside/secret' }]),
    /the hard link "h" points to "\.\.\/\.\.\/outside\/secret", which has a "\.\." component/,
  );
  await refuses(
    t,
    'tar',
    await tar([{ name: 'h', type: 'link', linkname: '/etc/passwd' }]),
    /the hard link "h" points to "\/etc\/passwd", which is an absolute path/,
  );
  await refuses(
    t,
    'tar',
    await tar([
      { name: 'h', type: 'link', linkname: 'later' },
      { name: 'later', data: 'x' },
    ]),
    /the hard link "h" points to "later", which is not a file earlier in the archive/,
  );
});

t.test('FIFOs, devices and unknown kinds are refused, in tar and in zip', async (t) => {
  await refuses(
    t,
    'tar',
    await tar([{ name: 'pipe', type: 'fifo' }]),
    /^the entry "pipe" is a FIFO \(named pipe\); only files, folders and links are unpacked$/,
  );
  await refuses(t, 'tar', await tar([{ name: 'zero', type: 'character-device', devmajor: 1, devminor: 5 }]), /the entry "zero" is a character device/);
  await refuses(t, 'tar.gz', await tgz([{ name: 'sda', type: 'block-device', devmajor: 8, devminor: 0 }]), /the entry "sda" is a block device/);
  await refuses(t, 'zip', zip([{ name: 'pipe', data: '', mode: 0o010644 }]), /the entry "pipe" is a FIFO \(named pipe\)/);
  await refuses(t, 'zip', zip([{ name: 'sock', data: '', mode: 0o140644 }]), /the entry "sock" is a socket/);
});

t.test('a zip bomb past maxBytes is refused', async (t) => {
  const zeros = Buffer.alloc(2 * MiB);
  await refuses(
    t,
    'zip',
    zip([{ name: 'bomb', data: zeros }]),
    /^unpacks to more than 1\.05MB \(1048576 bytes\), the most a submission may hold \(at the entry "bomb"\)$/,
    small,
  );
  // Many entries, each under the cap, add up past it.
  const parts = Array.from({ length: 5 }, (_, index) => ({ name: `part-${index}`, data: Buffer.alloc(300 * 1024) }));
  await refuses(t, 'zip', zip(parts), /unpacks to more than 1\.05MB .* \(at the entry "part-3"\)/, small);
  // A tar.gz bomb is counted as its bytes stream out of gunzip.
  await refuses(t, 'tar.gz', await tgz([{ name: 'bomb', data: zeros }]), /unpacks to more than 1\.05MB/, small);
});

t.test('the compression ratio counts past 1 MiB, not before', async (t) => {
  const roomy: ArchiveLimits = { maxBytes: 64 * MiB, maxFiles: 10, maxRatio: 10 };
  const error = await refuses(
    t,
    'zip',
    zip([{ name: 'zeros', data: Buffer.alloc(2 * MiB) }]),
    /by the entry "zeros" from an archive of .*: more than 10 times its own size/,
    roomy,
  );
  t.match(error.message, /the compression ratio a submission may have$/);
  await refuses(t, 'tar.gz', await tgz([{ name: 'zeros', data: Buffer.alloc(2 * MiB) }]), /more than 10 times its own size/, roomy);
  // 512 KiB of zeros compresses a thousandfold, and is still fine: small files compress well.
  const { error: none, result } = await unpack('zip', zip([{ name: 'zeros', data: Buffer.alloc(512 * 1024) }]), roomy);
  t.equal(none, undefined);
  t.same(result, { files: 1, bytes: 512 * 1024 });
});

t.test('a tar.gz of padding, which writes nothing, is bounded as it is read', async (t) => {
  // Zero blocks end no archive for tar-stream: it reads on, writing nothing, as long as they last.
  const tarred = await tar([{ name: 'Dockerfile', data: 'FROM scratch\n' }]);
  const padding = (bytes: number) => gzipSync(Buffer.concat([tarred, Buffer.alloc(bytes)]));
  await refuses(
    t,
    'tar.gz',
    padding(3 * MiB),
    /^its tar stream runs past 2\.11MB \(2107392 bytes\), more than 1\.05MB \(1048576 bytes\) of files could fill: the archive is padded$/,
    small,
  );
  await refuses(t, 'tar.gz', padding(3 * MiB), /^gunzips to .* from an archive of .*: more than 200 times its own size/);
});

t.test('a zip whose declared size lies is refused as bytes arrive', async (t) => {
  const big = Buffer.alloc(200 * 1024, 'a');
  await refuses(
    t,
    'zip',
    zip([{ name: 'liar', data: big, declaredSize: 10 }]),
    /the entry "liar" declares 10 bytes but holds more; the archive is corrupt or was crafted/,
  );
  await refuses(t, 'zip', zip([{ name: 'liar', data: 'short', declaredSize: 1000 }]), /the entry "liar" declares 1000 bytes but holds fewer/);
  await refuses(t, 'zip', zip([{ name: 'stored', data: 'abc', method: 0, declaredSize: 2 }]), /an entry declares a size its data does not have/);
});

t.test('too many files, folders and links are refused', async (t) => {
  const many = Array.from({ length: 30 }, (_, index) => ({ name: `f${index}`, data: 'x' }));
  await refuses(t, 'zip', zip(many), /^holds 30 entries, more than the 10 files, folders and links a submission may hold$/, small);
  await refuses(t, 'tar', await tar(many), /^holds more than 10 files, folders and links, the most a submission may hold \(at the entry "f10"\)$/, small);
  // Folders implied by one deep path count too.
  await refuses(t, 'tar', await tar([{ name: `${'d/'.repeat(12)}file`, data: 'x' }]), /holds more than 10 files, folders and links/, small);
});

t.test('a truncated or corrupt archive is refused with a clear message', async (t) => {
  const good = zip([{ name: 'Dockerfile', data: 'FROM scratch\n'.repeat(100) }]);
  await refuses(
    t,
    'zip',
    good.subarray(0, good.length - 30),
    /^not a zip archive that can be read \(corrupt or truncated\): End of central directory record signature not found/,
  );
  await refuses(t, 'zip', Buffer.from('not a zip at all'), /^not a zip archive that can be read/);
  // Central directory intact, deflated data scrambled.
  const scrambled = Buffer.from(good);
  scrambled.fill(0xff, 40, 60);
  await refuses(t, 'zip', scrambled, /^corrupt or truncated at the entry "Dockerfile": /);

  const gz = await tgz([{ name: 'big', data: Buffer.alloc(64 * 1024, 'x') }]);
  await refuses(t, 'tar.gz', gz.subarray(0, gz.length - 12), /^not gzip data that can be read \(corrupt or truncated.*\): unexpected end of file$/);
  await refuses(t, 'tar.gz', Buffer.from('plain text'), /^not gzip data that can be read/);
  const plain = await tar([
    { name: 'small', data: 'x' },
    { name: 'big', data: Buffer.alloc(64 * 1024, 'x') },
  ]);
  await refuses(t, 'tar', plain.subarray(0, 10_000), /^truncated: it ends at the entry "big"$/);
  await refuses(t, 'tar', Buffer.alloc(1024, 'garbage!'), /^not a tar archive that can be read \(corrupt or truncated\): Invalid tar header/);
});

t.test('an encrypted zip entry or an unknown compression method is refused', async (t) => {
  await refuses(
    t,
    'zip',
    zip([{ name: 'secret.txt', data: 'x'.repeat(100), flags: 0x1 }]),
    /^the entry "secret\.txt" is encrypted; submit an archive without a password$/,
  );
  await refuses(
    t,
    'zip',
    zip([{ name: 'b.bz2', data: 'xyz', method: 12 }]),
    /the entry "b\.bz2" uses compression method 12; only stored and deflated entries are unpacked/,
  );
});

t.test('an entry twice, or a file and a folder of one name, is refused', async (t) => {
  await refuses(
    t,
    'tar',
    await tar([
      { name: 'a', data: 'first' },
      { name: 'a', data: 'second' },
    ]),
    /the entry "a" appears twice in the archive/,
  );
  await refuses(
    t,
    'tar',
    await tar([
      { name: 'a', data: 'file' },
      { name: 'a/b', data: 'x' },
    ]),
    /the entry "a\/b" goes through "a", which the archive makes a file/,
  );
  // A folder named again is fine.
  const { error } = await unpack(
    'tar',
    await tar([
      { name: 'd/', type: 'directory' },
      { name: 'd/x', data: 'x' },
      { name: 'd/', type: 'directory' },
    ]),
  );
  t.equal(error, undefined);
});

t.test('a refused archive leaves no file descriptor open', { skip: existsSync('/proc/self/fd') ? false : 'needs /proc/self/fd' }, async (t) => {
  const open = async () => (await readdir('/proc/self/fd')).length;
  const before = await open();
  const good = zip([{ name: 'Dockerfile', data: 'FROM scratch\n'.repeat(100) }]);
  const gz = await tgz([{ name: 'big', data: Buffer.alloc(64 * 1024, 'x') }]);
  const refusals: [ArchiveFormat, Buffer, ArchiveLimits?][] = [
    ['zip', zip([{ name: 'bomb', data: Buffer.alloc(2 * MiB) }]), small],
    ['zip', zip([{ name: 'slow-bomb', data: Buffer.alloc(2 * MiB), declaredSize: 1 }]), small],
    [
      'zip',
      zip([
        { name: 'ok', data: 'x' },
        { name: '../evil', data: 'x' },
      ]),
    ],
    ['zip', good.subarray(0, good.length - 30)],
    ['zip', zip(Array.from({ length: 30 }, (_, index) => ({ name: `f${index}`, data: 'x' }))), small],
    ['tar.gz', gz.subarray(0, gz.length - 12)],
    ['tar.gz', await tgz([{ name: 'bomb', data: Buffer.alloc(2 * MiB) }]), small],
    ['tar', await tar([{ name: 'pipe', type: 'fifo' }])],
  ];
  for (const [format, archive, limits] of refusals) {
    const { error } = await unpack(format, archive, limits);
    t.type(error, ArchiveError);
  }
  // Descriptors close asynchronously, a moment after the refusal: wait for them, within a bound.
  let after = await open();
  for (let attempt = 0; attempt < 50 && after > before; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    after = await open();
  }
  t.ok(after <= before, `no more descriptors open than before (${after} now, ${before} before)`);
});
