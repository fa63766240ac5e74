// The file-exists grader over a real folder: files, folders and links in and out of it.
import t from 'tap';
import { fileExists } from '../../../graders/file-exists.js';
import { contextOf } from '../../support/graders.js';

t.test('file-exists', async (t) => {
  const dir = t.testdir({
    'hello.c': 'int main(void) { return 0; }\n',
    src: { 'lib.c': '' },
    link: t.fixture('symlink', 'hello.c'),
    'src-link': t.fixture('symlink', 'src'),
    'out-link': t.fixture('symlink', '/etc/hostname'),
    'out-folder': t.fixture('symlink', '/etc'),
  });
  const run = (paths: string[], type: 'file' | 'folder', dirLabel = '') => fileExists.run({ paths, type }, contextOf({}, { dir, dirLabel }));

  t.same(await run(['hello.c'], 'file'), { status: 'pass', message: 'found hello.c' });
  t.same(await run(['hello.c', 'src/lib.c'], 'file', 'multi/'), { status: 'pass', message: 'found multi/hello.c, multi/src/lib.c' });
  t.same(await run(['src'], 'folder'), { status: 'pass', message: 'found src' });
  t.same(await run(['hello.c', 'sleep.c'], 'file', 'scratch/'), { status: 'fail', message: 'scratch/sleep.c not found', expected: 'hello.c, sleep.c' });
  t.same(await run(['src'], 'file'), { status: 'fail', message: 'src is a folder, not a regular file', expected: 'src' });
  t.same(await run(['hello.c'], 'folder'), { status: 'fail', message: 'hello.c is a file, not a folder', expected: 'hello.c' });
  t.same(
    await run(['link', 'src-link/lib.c'], 'file'),
    { status: 'pass', message: 'found link, src-link/lib.c' },
    'a link to a file inside the folder is that file',
  );
  t.same(await run(['src-link'], 'folder'), { status: 'pass', message: 'found src-link' }, 'and a link to a folder inside is that folder');
  t.same(
    await run(['out-link', 'gone.c'], 'file'),
    {
      status: 'fail',
      message:
        'out-link is a link out of the folder being graded; the grader reads only files inside it: copy the file in instead of linking to it; gone.c not found',
      expected: 'out-link, gone.c',
    },
    'a link out of the folder is not the file',
  );
  t.same(await run(['out-folder'], 'folder'), {
    status: 'fail',
    message: 'out-folder is a link out of the folder being graded; the grader reads only files inside it: copy the file in instead of linking to it',
    expected: 'out-folder',
  });
  const through = await run(['out-folder/hostname', 'out-folder/no-such-file'], 'file');
  t.equal(through.status, 'fail');
  t.equal(
    through.message,
    ['hostname', 'no-such-file']
      .map((name) => `out-folder/${name} goes through out-folder, a link out of the folder being graded; the grader reads only files inside it`)
      .join('; '),
    'a linked folder out of the step folder: the same words whether the file exists out there or not',
  );

  const nowhere = await fileExists.run({ paths: ['hello.c'], type: 'file' }, contextOf({}, { dir: undefined, dirLabel: 'scratch/ or ../scratch/' }));
  t.same(nowhere, { status: 'fail', message: 'no folder to look in: scratch/ or ../scratch/ does not exist' });
});
