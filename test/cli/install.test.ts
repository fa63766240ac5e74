// The README's install: `npm install -g .` in the clone links it into npm's global folder, and
// `grade` then runs from any folder. Installed into a prefix of its own, never the machine's.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../../runner/paths.js';

const run = promisify(execFile);
const { version } = JSON.parse(await readFile(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string };

t.test('npm install -g of the clone gives a grade command that works from another folder', async (t) => {
  const prefix = await mkdtemp(path.join(os.tmpdir(), 'grade-prefix-'));
  const elsewhere = await mkdtemp(path.join(os.tmpdir(), 'grade-student-'));
  // rm does not follow the link npm makes back to the clone.
  t.teardown(() => Promise.all([rm(prefix, { recursive: true, force: true }), rm(elsewhere, { recursive: true, force: true })]));

  // A folder installs as a link: no registry traffic (--offline makes sure). The README's command
  // also runs `prepare`, the build `npm install` ran already; skipped here so that this test does
  // not rebuild dist/ under the other tests running beside it.
  await run('npm', ['install', '--global', '--prefix', prefix, '--ignore-scripts', '--offline', '--no-audit', '--no-fund', packageRoot], {
    cwd: packageRoot,
    timeout: 120_000,
  });
  const bin = path.join(prefix, 'bin', 'grade');
  t.ok((await stat(bin)).mode & 0o111, 'the installed command is executable');

  // Run as a shell would: the command itself (its shebang), from a folder outside the clone.
  const env = { ...process.env, PATH: `${path.dirname(bin)}${path.delimiter}${process.env.PATH}`, DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
  const grade = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    run('grade', args, { cwd: elsewhere, env, timeout: 60_000 }).then(
      (done) => ({ code: 0, ...done }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
  const shown = await grade(['--version']);
  t.equal(shown.stdout, `${version}\n`);
  const listed = await grade(['list']);
  t.match(listed.stdout, /^multi {2}Create Images using Dockerfiles/m, 'the exercises come with it');

  const typo = await grade(['mutli']);
  t.equal(typo.code, 2);
  t.match(typo.stderr, /did you mean "multi"\?/);

  // `grade multi` in the exercise folder: found, read, and stopped only by the missing engine.
  const graded = await grade(['multi']);
  t.equal(graded.code, 2);
  t.match(graded.stdout, new RegExp(`submission: ${elsewhere.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`), 'the current folder is the submission');
  t.match(graded.stderr, /cannot reach the Docker engine/);
});
