// `grade multi --watch` as installed, on the real engine: the first grading of a submission with
// the wrong greeting, a save that fixes it and the better score that follows, then Ctrl+C: exit
// 130 and no container of the run left.
import t from 'tap';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LABEL, ownerOf } from '../../runner/grading/session.js';
import { startCli } from '../support/cli.js';
import { realEngine, submissions } from '../support/engine.js';

const engine = await realEngine(t);

/** Waits until `ready()` holds, checking whenever the child prints; bounded so a broken watch fails instead of hanging. */
function when(stream: NodeJS.ReadableStream, ready: () => boolean, what: string, boundMs = 300_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!ready()) return;
      stream.off('data', check);
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      stream.off('data', check);
      reject(new Error(`gave up waiting for ${what}`));
    }, boundMs);
    stream.on('data', check);
    setImmediate(check);
  });
}

if (engine) {
  t.test('a save regrades: the fixed greeting scores better; Ctrl+C exits 130 and leaves no container', async (t) => {
    const dir = path.join(t.testdir(), 'multi');
    await cp(path.join(submissions, 'wrong-output'), dir, { recursive: true });
    const { child, done } = startCli(['multi', '--watch', '--dir', dir, '--build-network', 'none']);
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const scores = () => [...stdout.matchAll(/Score: (\d+)\/28/g)].map((match) => Number(match[1]));
    const watching = () => stdout.match(/watching \d+ folders?; Ctrl\+C to stop/g)?.length ?? 0;

    await when(child.stdout!, () => watching() === 1, 'the first grading');
    t.equal(scores().length, 1, 'one grading');
    t.match(stdout, /FAIL 0\/2 {2}the program prints "Hello, world!"/);

    const source = path.join(dir, 'hello.c');
    await writeFile(source, (await readFile(source, 'utf8')).replace('Hello, World', 'Hello, world!'));
    await when(child.stdout!, () => watching() === 2, 'the grading after the save');
    t.match(stdout, /multi\/hello\.c changed: grading again/);
    const [first, second] = scores();
    t.equal(scores().length, 2, 'exactly one more grading for the save');
    t.ok(second! > first!, `the fixed greeting scores better (${first} then ${second})`);
    t.notMatch(stdout, /\u001b/, 'piped: no screen clearing or colour');

    child.kill('SIGINT');
    const run = await done;
    t.equal(run.code, 130, run.stderr);
    t.match(run.stderr, /SIGINT: stopped watching/);
    const left = await engine.listOurs(`${LABEL.owner}=${ownerOf(child.pid!)}`);
    t.same(left.containers, [], 'no container of the run left');
  });
}
