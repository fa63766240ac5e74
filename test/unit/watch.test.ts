// `grade <exercise> --watch` with a fake clock, fake watchers and a fake grading: a burst of
// saves is one grading, a save during a grading makes exactly one more, editor noise and the
// report folder are ignored, and Ctrl+C ends the watch with 130 after the grading in progress.
import t from 'tap';
import { EventEmitter } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import {
  ignoredChange,
  isEditorNoise,
  nodeWatchFolder,
  QUIET_MS,
  RegradeLoop,
  watchAndGrade,
  watchedFolders,
  WatchError,
  type WatchFolder,
  type WatchOptions,
} from '../../runner/cli/watch.js';
import { UsageError } from '../../runner/cli/command-line.js';
import { EngineError } from '../../runner/engine/engine.js';
import { FakeTimers } from '../support/fake-timers.js';

/** A grading the test ends by hand, counting how many ran and how many at once. */
class FakeGrading {
  started = 0;
  running = 0;
  mostAtOnce = 0;
  private ends: ((outcome: number | Error) => void)[] = [];

  readonly run = (): Promise<number> => {
    this.started++;
    this.running++;
    this.mostAtOnce = Math.max(this.mostAtOnce, this.running);
    return new Promise<number>((resolve, reject) => {
      this.ends.push((outcome) => {
        this.running--;
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      });
    });
  };

  /** Ends the grading in progress with `code`, or makes it throw `error`. */
  async end(outcome: number | Error = 1): Promise<void> {
    const end = this.ends.shift();
    if (!end) throw new Error('no grading is running');
    end(outcome);
    await settle();
  }
}

async function settle(): Promise<void> {
  for (let round = 0; round < 20; round++) await Promise.resolve();
  await new Promise((resolve) => setImmediate(resolve));
}

t.test('editor noise: swap files, backups, version control, dependencies', async (t) => {
  for (const noise of [
    '.hello.c.swp',
    '.Dockerfile.swx',
    'hello.c~',
    '4913',
    '.#hello.c',
    '#hello.c#',
    '.git/index',
    '.git',
    'node_modules/x/y.js',
    'scratch/.sleep.c.swo',
    '.idea/workspace.xml',
    'hello.c___jb_tmp___',
    '.DS_Store',
  ]) {
    t.ok(isEditorNoise(noise), `${noise} is noise`);
  }
  for (const work of ['hello.c', 'Dockerfile', 'scratch/sleep.c', '.dockerignore', 'src/main.c', 'gitnotes.txt']) {
    t.notOk(isEditorNoise(work), `${work} is the student's`);
  }
});

t.test('a change in the report folder is ignored; one the platform names no file for is not', async (t) => {
  const submission = '/home/alice/multi';
  t.ok(ignoredChange(submission, 'grade-report/results.json', ['/home/alice/multi/grade-report']));
  t.ok(ignoredChange(submission, 'grade-report', ['/home/alice/multi/grade-report']));
  t.notOk(ignoredChange(submission, 'grade-reporting.c', ['/home/alice/multi/grade-report']));
  t.notOk(ignoredChange(submission, 'hello.c', ['/home/alice/multi/grade-report']));
  t.notOk(ignoredChange(submission, null, []));
  t.ok(ignoredChange(submission, '.hello.c.swp', []));
});

t.test('a burst of saves is one grading, after the quiet period', async (t) => {
  const timers = new FakeTimers();
  const grading = new FakeGrading();
  const loop = new RegradeLoop(async () => void (await grading.run()), timers);
  for (let save = 0; save < 5; save++) {
    loop.changed();
    await timers.advance(100);
  }
  t.equal(grading.started, 0, 'no grading while saves keep coming');
  await timers.advance(QUIET_MS);
  t.equal(grading.started, 1, 'one grading once the saves are quiet');
  await grading.end();
  await timers.advance(10 * QUIET_MS);
  t.equal(grading.started, 1, 'and no other');
});

t.test('saves during a grading make exactly one more grading, after it ends', async (t) => {
  const timers = new FakeTimers();
  const grading = new FakeGrading();
  const loop = new RegradeLoop(async () => void (await grading.run()), timers);
  loop.changed();
  await timers.advance(QUIET_MS);
  t.equal(grading.started, 1);
  t.ok(loop.grading);
  for (let save = 0; save < 7; save++) {
    loop.changed();
    await timers.advance(QUIET_MS * 2);
  }
  t.equal(grading.started, 1, 'never two at once');
  await grading.end();
  t.notOk(loop.grading);
  await timers.advance(QUIET_MS);
  t.equal(grading.started, 2, 'exactly one more');
  await grading.end();
  await timers.advance(10 * QUIET_MS);
  t.equal(grading.started, 2, 'the burst is spent');
  t.equal(grading.mostAtOnce, 1);
});

t.test('stop: no grading starts after it, and it waits for the one running', async (t) => {
  const timers = new FakeTimers();
  const grading = new FakeGrading();
  const loop = new RegradeLoop(async () => void (await grading.run()), timers);
  loop.changed();
  await timers.advance(QUIET_MS);
  loop.changed();
  let stopped = false;
  const stopping = loop.stop().then(() => (stopped = true));
  await settle();
  t.notOk(stopped, 'waits for the grading in progress');
  await grading.end();
  await stopping;
  await timers.advance(10 * QUIET_MS);
  t.equal(grading.started, 1, 'the pending change is dropped');
  loop.changed();
  await timers.advance(10 * QUIET_MS);
  t.equal(grading.started, 1, 'changes after stop are ignored');
});

/** watchAndGrade on fakes: folders watched by hand, signals from an emitter, output captured. */
function watchHarness(extra: Partial<WatchOptions> = {}, tty = false) {
  const timers = new FakeTimers();
  const grading = new FakeGrading();
  const signals = new EventEmitter();
  const watched = new Map<string, { change: (file: string | null) => void; fail: (error: Error) => void; closed: boolean }>();
  const watchFolder: WatchFolder = (folder, onChange, onError) => {
    const entry = { change: onChange, fail: onError, closed: false };
    watched.set(folder, entry);
    return {
      close: () => {
        entry.closed = true;
      },
    };
  };
  let output = '';
  let errors = '';
  const stream = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        output += String(chunk);
        done();
      },
    }),
    { isTTY: tty },
  );
  const done = watchAndGrade({
    gradeOnce: grading.run,
    folders: async () => ['/home/alice/multi', '/home/alice/scratch'],
    ignoreUnder: ['/home/alice/multi/grade-report'],
    stream,
    env: { TERM: 'xterm-256color' },
    watchFolder,
    timers,
    signals,
    errors: new Writable({
      write(chunk, _encoding, cb) {
        errors += String(chunk);
        cb();
      },
    }),
    ...extra,
  });
  return { timers, grading, signals, watched, done, output: () => output, errors: () => errors, stream };
}

t.test('watch: the first grading, then "watching N folders"; a save regrades, editor noise and reports do not; Ctrl+C exits 130', async (t) => {
  const h = watchHarness();
  await settle();
  t.equal(h.grading.started, 1, 'grades at once');
  t.equal(h.watched.size, 0, 'watching starts after the first grading');
  await h.grading.end(1);
  t.same([...h.watched.keys()], ['/home/alice/multi', '/home/alice/scratch']);
  t.match(h.output(), /watching 2 folders; Ctrl\+C to stop\n$/);

  const multi = h.watched.get('/home/alice/multi')!;
  multi.change('.hello.c.swp');
  multi.change('hello.c~');
  multi.change('.git/index');
  multi.change('grade-report/report.html');
  await h.timers.advance(10 * QUIET_MS);
  t.equal(h.grading.started, 1, 'noise and the report folder do not regrade');

  h.watched.get('/home/alice/scratch')!.change('sleep.c');
  await h.timers.advance(QUIET_MS);
  t.equal(h.grading.started, 2, 'a save in the step folder beside it regrades');
  t.match(h.output(), /\nscratch\/sleep\.c changed: grading again\n/);
  t.notMatch(h.output(), /\u001b\[2J/, 'the screen is not cleared when not a terminal');
  await h.grading.end(0);

  h.signals.emit('SIGINT', 'SIGINT');
  t.equal(await h.done, 130);
  t.ok(
    [...h.watched.values()].every((entry) => entry.closed),
    'every watcher closed',
  );
  t.equal(h.signals.listenerCount('SIGINT'), 0, 'no signal listener left');
  t.match(h.errors(), /SIGINT: stopped watching/);
});

t.test('Ctrl+C during a grading: the watch waits for the grading to clean up and stop, then exits 130; nothing more is graded', async (t) => {
  const h = watchHarness();
  await settle();
  await h.grading.end(1);
  h.watched.get('/home/alice/multi')!.change('hello.c');
  await h.timers.advance(QUIET_MS);
  t.equal(h.grading.started, 2);
  h.watched.get('/home/alice/multi')!.change('hello.c');
  h.signals.emit('SIGINT', 'SIGINT');
  let finished = false;
  void h.done.then(() => (finished = true));
  await settle();
  t.notOk(finished, 'the grading in progress is not abandoned');
  // The grading's own handler stops it and removes what it made; it returns 130.
  await h.grading.end(130);
  t.equal(await h.done, 130);
  await h.timers.advance(10 * QUIET_MS);
  t.equal(h.grading.started, 2, 'the save before Ctrl+C is not graded');
  t.notMatch(h.errors(), /stopped watching/, "the grading's handler speaks for itself");
});

t.test('Ctrl+C during the first grading ends the watch before it starts; SIGTERM exits 143', async (t) => {
  const first = watchHarness();
  await settle();
  first.signals.emit('SIGINT', 'SIGINT');
  await first.grading.end(130);
  t.equal(await first.done, 130);
  t.equal(first.watched.size, 0, 'nothing was watched');

  const term = watchHarness();
  await settle();
  await term.grading.end(0);
  term.signals.emit('SIGTERM', 'SIGTERM');
  t.equal(await term.done, 143);
});

t.test('in a terminal the screen is cleared before each regrade', async (t) => {
  const h = watchHarness({}, true);
  await settle();
  await h.grading.end(1);
  t.notMatch(h.output(), /\u001b\[2J/, 'not before the first grading');
  h.watched.get('/home/alice/multi')!.change('hello.c');
  await h.timers.advance(QUIET_MS);
  t.match(h.output(), /\u001b\[2J\u001b\[3J\u001b\[Hmulti\/hello\.c changed: grading again\n/);
  await h.grading.end(0);
  h.signals.emit('SIGINT', 'SIGINT');
  t.equal(await h.done, 130);
});

t.test('a first grading that cannot be done ends the watch as a plain grading would', async (t) => {
  const h = watchHarness();
  await settle();
  const done = h.done.catch((error: unknown) => error);
  await h.grading.end(new UsageError('no exercise "mutli"'));
  t.type(await done, UsageError);
  t.equal(h.watched.size, 0);
  t.equal(h.signals.listenerCount('SIGINT'), 0);
});

t.test('a later grading the engine cannot do is reported, and watching goes on', async (t) => {
  const h = watchHarness();
  await settle();
  await h.grading.end(1);
  h.watched.get('/home/alice/multi')!.change('hello.c');
  await h.timers.advance(QUIET_MS);
  await h.grading.end(new EngineError('cannot reach the Docker engine at unix:///var/run/docker.sock (ENOENT)', 'Start Docker.'));
  t.match(h.errors(), /grade: cannot reach the Docker engine at unix:\/\/\/var\/run\/docker\.sock \(ENOENT\)\nStart Docker\.\n/);
  h.watched.get('/home/alice/multi')!.change('hello.c');
  await h.timers.advance(QUIET_MS);
  t.equal(h.grading.started, 3, 'still watching');
  await h.grading.end(0);
  h.signals.emit('SIGINT', 'SIGINT');
  t.equal(await h.done, 130);
});

t.test('a bug in a later grading, or a watcher failing, ends the watch with the error', async (t) => {
  const bug = watchHarness();
  await settle();
  await bug.grading.end(1);
  bug.watched.get('/home/alice/multi')!.change('hello.c');
  await bug.timers.advance(QUIET_MS);
  const ended = bug.done.catch((error: unknown) => error);
  await bug.grading.end(new TypeError('x is undefined'));
  t.type(await ended, TypeError);

  const gone = watchHarness();
  await settle();
  await gone.grading.end(1);
  gone.watched.get('/home/alice/scratch')!.fail(Object.assign(new Error('ENOSPC: System limit for number of file watchers reached'), { code: 'ENOSPC' }));
  const error = (await gone.done.catch((failure: unknown) => failure)) as WatchError;
  t.type(error, WatchError);
  t.match(error.message, /cannot watch \/home\/alice\/scratch \(ENOSPC.*\): .*fs\.inotify\.max_user_watches/);
  t.ok([...gone.watched.values()].every((entry) => entry.closed));
});

t.test('the folders watched: the submission, and step folders that exist outside it', async (t) => {
  const root = t.testdir({ multi: { 'hello.c': '', scratch: {} }, scratch: { 'sleep.c': '' } });
  const multi = path.join(root, 'multi');
  t.same(await watchedFolders(multi, [['.'], ['.'], ['.'], ['scratch', '../scratch']]), [multi, path.join(root, 'scratch')]);
  t.same(await watchedFolders(multi, [['.'], ['../missing']]), [multi], 'a folder that does not exist is not watched');
  t.same(await watchedFolders(multi, [['..']]), [root], 'a step folder holding the submission is watched instead of it');
});

t.test("node's recursive watch reports a save, also in a folder made after it started", async (t) => {
  const dir = t.testdir({ 'hello.c': 'int main(void) { return 0; }\n' });
  const seen: string[] = [];
  let notify: () => void = () => {};
  const watcher = nodeWatchFolder(
    dir,
    (file) => {
      seen.push(String(file));
      notify();
    },
    (error) => t.fail(error.message),
  );
  t.teardown(() => watcher.close());
  const saw = (name: string) =>
    new Promise<void>((resolve) => {
      notify = () => seen.includes(name) && resolve();
      notify();
    });
  await writeFile(path.join(dir, 'hello.c'), 'int main(void) { return 1; }\n');
  await saw('hello.c');
  await mkdir(path.join(dir, 'scratch'));
  await saw('scratch');
  // The folder's own watch is set up as it is found; give it a write to see.
  for (let attempt = 0; attempt < 50 && !seen.includes(path.join('scratch', 'sleep.c')); attempt++) {
    await writeFile(path.join(dir, 'scratch', 'sleep.c'), `int main(void) { return ${attempt}; }\n`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.ok(seen.includes(path.join('scratch', 'sleep.c')), 'a file in the new folder is seen');
});
