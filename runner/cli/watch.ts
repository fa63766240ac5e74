// `grade <exercise> --watch`: after the first grading, watch the submission folder (and the step
// folders beside it that the exercise names, such as ../scratch) and grade again when a file is
// saved. A burst of saves is one change (300 ms of quiet), one grading runs at a time (saves
// during a grading make exactly one more afterwards), and editor noise is ignored. Ctrl+C stops
// watching; a grading in progress is stopped and cleaned up by the grading's own signal handler.
import { watch, type FSWatcher } from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { realTimers, type Timers } from '../engine/bounds.js';
import { EngineError } from '../engine/engine.js';
import { exercisesRoot } from '../paths.js';
import { EXIT } from '../results.js';
import { SpecError } from '../spec/shapes.js';
import { singleLine } from '../text/plain.js';
import { SettingError, UsageError } from './command-line.js';

/** Quiet after the last save before grading starts: an editor's save is several writes and renames. */
export const QUIET_MS = 300;

/** Folders whose changes never touch a grading: version control, dependencies, editors' settings. */
const NOISE_FOLDERS = new Set(['.git', '.hg', '.svn', 'node_modules', '.idea', '.vscode']);
/** Files editors write beside the one being saved. */
const NOISE_FILES = [
  /\.sw[a-px]$/i, // vim's swap files (.swp, .swo, ... and .swx, its probe)
  /~$/, // backups (vim, emacs, gedit)
  /^4913$/, // vim's probe that the folder is writable
  /^\.#/, // emacs lock files
  /^#.*#$/, // emacs auto-saves
  /___jb_(tmp|old)___$/, // JetBrains safe writes
  /^\.goutputstream-/, // GNOME's safe writes
  /\.crswap$/, // Chromium's file system access
  /^\.DS_Store$/,
];

/** A change to `relative` (a path inside a watched folder) that is an editor's or a tool's, not the student's work. */
export function isEditorNoise(relative: string): boolean {
  const parts = relative.split(/[\\/]/).filter(Boolean);
  const name = parts.at(-1) ?? '';
  return parts.slice(0, -1).some((part) => NOISE_FOLDERS.has(part)) || NOISE_FOLDERS.has(name) || NOISE_FILES.some((pattern) => pattern.test(name));
}

const isInside = (root: string, target: string) => {
  const relative = path.relative(root, target);
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
};

/** Whether a change reported in `folder` should be ignored: editor noise, or inside a folder the grading writes (the reports). */
export function ignoredChange(folder: string, file: string | null, ignoreUnder: string[]): boolean {
  // Without a name (the platform did not say), something changed: grade again.
  if (file === null) return false;
  const full = path.resolve(folder, file);
  return ignoreUnder.some((dir) => isInside(dir, full)) || isEditorNoise(file);
}

/**
 * Grades when told of changes: after QUIET_MS without one, and never two at once. A change during
 * a grading marks one more grading, which starts once that one has ended and the saves are quiet.
 */
export class RegradeLoop {
  private timer: unknown;
  private running: Promise<void> | undefined;
  private pending = false;
  private stopped = false;

  constructor(
    private readonly regrade: () => Promise<void>,
    private readonly timers: Pick<Timers, 'setTimeout' | 'clearTimeout'> = realTimers,
    private readonly quietMs = QUIET_MS,
  ) {}

  changed(): void {
    if (this.stopped) return;
    if (this.running) {
      this.pending = true;
      return;
    }
    this.arm();
  }

  /** Whether a grading is running now. */
  get grading(): boolean {
    return this.running !== undefined;
  }

  /** No grading is started after this; resolves once the one running (if any) has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private arm(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.start();
    }, this.quietMs);
  }

  private start(): void {
    if (this.stopped) return;
    // `regrade` reports its own failures; one that escapes must not stop the loop.
    this.running = this.regrade()
      .catch(() => undefined)
      .finally(() => {
        this.running = undefined;
        if (this.pending && !this.stopped) {
          this.pending = false;
          this.arm();
        }
      });
  }
}

/** Watches one folder and everything in it; `onChange` gets the changed path relative to it. */
export type WatchFolder = (folder: string, onChange: (file: string | null) => void, onError: (error: Error) => void) => { close(): void };

/** Node's own recursive watch (inotify on Linux since Node 20; it follows folders created later). */
export const nodeWatchFolder: WatchFolder = (folder, onChange, onError) => {
  const watcher: FSWatcher = watch(folder, { recursive: true }, (_event, file) => onChange(file === null ? null : String(file)));
  watcher.on('error', onError);
  return watcher;
};

/**
 * The folders to watch: the submission, and each step folder the exercise names that exists and
 * lies outside it (../scratch); one inside another is watched with it.
 */
export async function watchedFolders(submissionDir: string, stepDirs: string[][]): Promise<string[]> {
  const real = async (dir: string) => realpath(dir).catch(() => undefined);
  const submission = (await real(submissionDir)) ?? path.resolve(submissionDir);
  const found = [submission];
  for (const candidate of stepDirs.flat()) {
    const dir = path.resolve(submission, candidate);
    if (!(await lstat(dir).catch(() => undefined))?.isDirectory()) continue;
    const resolved = (await real(dir)) ?? dir;
    if (found.some((each) => isInside(each, resolved))) continue;
    for (let i = found.length - 1; i >= 0; i--) if (isInside(resolved, found[i]!)) found.splice(i, 1);
    found.push(resolved);
  }
  return found;
}

/** What SIGINT and SIGTERM arrive on: the process, or a test's emitter. */
export interface SignalSource {
  on(event: 'SIGINT' | 'SIGTERM', listener: (signal: NodeJS.Signals) => void): unknown;
  off(event: 'SIGINT' | 'SIGTERM', listener: (signal: NodeJS.Signals) => void): unknown;
}

export interface WatchOptions {
  /** One grading, exactly as `grade <exercise>` runs it (its own Ctrl+C handling included); its exit status. */
  gradeOnce: () => Promise<number>;
  /** The folders to watch, asked once the first grading is done. */
  folders: () => Promise<string[]>;
  /** Changes under these (the report folder the grading writes) are not the student's. */
  ignoreUnder: string[];
  /** Where the grading's view writes: cleared between runs when it is a terminal. */
  stream: Writable & { isTTY?: boolean };
  env?: NodeJS.ProcessEnv;
  watchFolder?: WatchFolder;
  timers?: Pick<Timers, 'setTimeout' | 'clearTimeout'>;
  /** Where SIGINT and SIGTERM arrive (the process). */
  signals?: SignalSource;
  /** Where a grading's problem is written (stderr). */
  errors?: Writable;
}

const CLEAR_SCREEN = '\u001b[2J\u001b[3J\u001b[H';

/**
 * Grades, then watches and grades again on every save until SIGINT or SIGTERM; returns 130/143.
 * A problem of the first grading (a bad argument, no engine) ends it as a plain grading would;
 * a later one is printed and watching goes on (the student may start Docker, or fix the file).
 */
export async function watchAndGrade(options: WatchOptions): Promise<number> {
  const signals: SignalSource = options.signals ?? process;
  const errors = options.errors ?? process.stderr;
  const env = options.env ?? process.env;
  const terminal = Boolean(options.stream.isTTY) && env.TERM !== 'dumb';
  let stopCode: number | undefined;
  let stopped!: () => void;
  const stoppedByUser = new Promise<void>((resolve) => (stopped = resolve));
  const watchers: { close(): void }[] = [];
  let loop: RegradeLoop | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    // During a grading, the grading's own handler stops it and removes what it made; this one only ends the watch.
    if (stopCode === undefined && loop && !loop.grading) errors.write(`\n${signal}: stopped watching\n`);
    stopCode ??= signal === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted;
    stopped();
  };
  signals.on('SIGINT', onSignal);
  signals.on('SIGTERM', onSignal);
  /** A failure that is no one's to fix but ours (a bug), or of watching itself: it ends the watch. */
  let fatal: unknown;
  try {
    await options.gradeOnce();
    if (stopCode !== undefined) return stopCode;

    const folders = await options.folders();
    let changedFile = '';
    const note = () => options.stream.write(`\nwatching ${folders.length} folder${folders.length === 1 ? '' : 's'}; Ctrl+C to stop\n`);
    loop = new RegradeLoop(async () => {
      if (terminal) options.stream.write(CLEAR_SCREEN);
      if (changedFile) options.stream.write(`${singleLine(changedFile)} changed: grading again\n`);
      try {
        await options.gradeOnce();
      } catch (error) {
        if (!isWorldProblem(error)) {
          fatal = error;
          stopped();
          return;
        }
        errors.write(`grade: ${describe(error)}\n`);
      }
      if (stopCode === undefined) note();
    }, options.timers);
    const watchFolder = options.watchFolder ?? nodeWatchFolder;
    for (const folder of folders) {
      try {
        watchers.push(
          watchFolder(
            folder,
            (file) => {
              if (ignoredChange(folder, file, options.ignoreUnder)) return;
              // Named from the watched folder's name: multi/hello.c, scratch/sleep.c.
              changedFile = file === null ? folder : path.join(path.basename(folder), file);
              loop!.changed();
            },
            (error) => {
              fatal ??= new WatchError(folder, error);
              stopped();
            },
          ),
        );
      } catch (error) {
        throw new WatchError(folder, error as Error);
      }
    }
    note();
    await stoppedByUser;
    if (fatal !== undefined && stopCode === undefined) throw fatal;
    return stopCode ?? EXIT.interrupted;
  } finally {
    for (const watcher of watchers) watcher.close();
    await loop?.stop();
    signals.off('SIGINT', onSignal);
    signals.off('SIGTERM', onSignal);
  }
}

/** Watching itself failed (a folder went away, the system's limit on watches). */
export class WatchError extends UsageError {
  constructor(folder: string, cause: Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    const advice =
      code === 'ENOSPC' || code === 'EMFILE'
        ? ': the system limits how many files a program may watch; raise it (Linux: `sudo sysctl fs.inotify.max_user_watches=524288`) or watch a smaller folder'
        : '';
    super(`cannot watch ${singleLine(folder)} (${cause.message})${advice}`, { cause });
  }
}

/** A grading that could not be done for a reason the student or the machine can fix; anything else is a bug and ends the watch. */
function isWorldProblem(error: unknown): boolean {
  return error instanceof EngineError || error instanceof SpecError || error instanceof UsageError || error instanceof SettingError;
}

function describe(error: unknown): string {
  if (error instanceof EngineError) return `${error.message}\n${error.advice}`;
  if (error instanceof SpecError) return `the exercise spec is invalid:\n${error.message}`;
  return (error as Error).message;
}

/** `grade <exercise> --watch` with the command's own options: what to watch, what to ignore, where the view writes. */
export function watchSubmission(
  name: string | undefined,
  options: { dir?: string; out?: string; report?: string; reporter: string; exercises?: string },
  gradeOnce: () => Promise<number>,
): Promise<number> {
  const root = path.resolve(options.exercises ?? exercisesRoot);
  return watchAndGrade({
    gradeOnce,
    folders: async () => {
      const { loadExercise } = await import('../spec/loader.js');
      // The first grading has checked the name and loaded the spec already.
      const exercise = await loadExercise(path.join(root, name ?? ''));
      return watchedFolders(
        path.resolve(options.dir ?? '.'),
        exercise.steps.map((step) => step.dirs),
      );
    },
    // Where the grading writes its reports (as grade.ts chooses it): those writes are not the student's.
    ignoreUnder: options.out !== undefined || options.report !== undefined ? [path.resolve(options.out ?? 'grade-report')] : [],
    stream: options.reporter === 'terminal' ? process.stdout : process.stderr,
  });
}
