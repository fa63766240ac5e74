// `grade <exercise>` inside GitHub Actions (GITHUB_ACTIONS=true): the job summary, annotations on
// the student's files, the Classroom step output, and a log in which nothing the submission
// printed can act as a workflow command.
//
// The runner reads `::command::` at the start of a line and `##[command]` anywhere in one, on
// stdout and stderr alike, in whatever order it reads the two. So everything the terminal view
// writes (submission output included) goes to one stream, between `::stop-commands::<token>` and
// `::<token>::`, with a fresh random token the submission cannot know; the grader's own commands
// (groups, annotations, the notice) are written only between such regions, on the same stream.
import { randomBytes } from 'node:crypto';
import { appendFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { RunEvent } from '../grading/run.js';
import type { CheckResult, ExerciseResult, SubmissionLocation } from '../results.js';
import { plainText } from '../text/plain.js';
import { classroomReport } from '../../reports/classroom.js';
import { githubSummary } from '../../reports/github-summary.js';

/** GitHub shows at most 10 annotations of each kind (error, warning, notice) per step. */
export const MAX_ANNOTATIONS_PER_KIND = 10;
/**
 * The reporter step reads the output as the environment variable GRADE_RESULTS, and Linux refuses
 * to start a program with one variable over 128 KiB (MAX_ARG_STRLEN): the base64 stays below this.
 */
export const OUTPUT_MAX_CHARS = 100_000;
/** Enough of a message for an annotation's box; the summary has the rest. */
const ANNOTATION_MESSAGE_MAX = 4000;

/** What GitHub Actions gives the step: where the summary and outputs go, and the checked-out workspace. */
export interface GithubSettings {
  summaryFile?: string;
  outputFile?: string;
  workspace?: string;
}

/** The settings when running in GitHub Actions, else undefined. */
export function githubSettings(env: NodeJS.ProcessEnv): GithubSettings | undefined {
  if (env.GITHUB_ACTIONS !== 'true') return undefined;
  const set = (value: string | undefined) => (value ? value : undefined);
  return { summaryFile: set(env.GITHUB_STEP_SUMMARY), outputFile: set(env.GITHUB_OUTPUT), workspace: set(env.GITHUB_WORKSPACE) };
}

/** A command's data (after `::`): the runner unescapes %25, %0D and %0A. */
export function escapeData(text: string): string {
  return plainText(text).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** A command's property value (`file=`, `title=`): as data, and `:` and `,`, which end one. */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export interface Annotation {
  level: 'error' | 'warning';
  file: string;
  line: number;
  column?: number;
  title: string;
  message: string;
}

/**
 * The file as the repository knows it, which is what GitHub places an annotation on: the
 * submission's file relative to the workspace when the submission is inside it, else relative
 * to the submission.
 */
export function repositoryPath(submission: string, location: SubmissionLocation, workspace: string | undefined): string {
  if (workspace === undefined) return location.file;
  const relative = path.relative(workspace, path.resolve(submission, location.file));
  const outside = relative === '' || relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative);
  return outside ? location.file : relative.split(path.sep).join('/');
}

/**
 * The annotations of a run: a failed check that points at a line of the student's files is an
 * error (a required step) or a warning (a bonus step); required first, then the spec's order,
 * at most MAX_ANNOTATIONS_PER_KIND of each, as GitHub shows no more.
 */
export function annotationsOf(result: ExerciseResult, fileOf: (location: SubmissionLocation) => string): Annotation[] {
  const located = result.steps.flatMap((step) =>
    step.checks.filter((check): check is CheckResult & { location: SubmissionLocation } => check.status === 'fail' && check.location !== undefined),
  );
  const annotation = (check: CheckResult & { location: SubmissionLocation }): Annotation => ({
    level: check.required ? 'error' : 'warning',
    file: fileOf(check.location),
    line: check.location.line,
    ...(check.location.column ? { column: check.location.column } : {}),
    title: check.required ? check.title : `${check.title} (bonus)`,
    message: cut(check.hint ? `${check.message}\n\nHint: ${check.hint}` : check.message, ANNOTATION_MESSAGE_MAX),
  });
  const required = located.filter((check) => check.required).slice(0, MAX_ANNOTATIONS_PER_KIND);
  const bonus = located.filter((check) => !check.required).slice(0, MAX_ANNOTATIONS_PER_KIND);
  return [...required, ...bonus].map(annotation);
}

const cut = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** `::error file=...,line=...,col=...,title=...::message`, one line whatever the text holds. */
export function annotationCommand(annotation: Annotation): string {
  const properties = [
    `file=${escapeProperty(annotation.file)}`,
    `line=${annotation.line}`,
    ...(annotation.column ? [`col=${annotation.column}`] : []),
    `title=${escapeProperty(annotation.title)}`,
  ];
  return `::${annotation.level} ${properties.join(',')}::${escapeData(annotation.message)}`;
}

/** The one-line notice with the score, always shown at the top of the run. */
export function scoreNotice(result: ExerciseResult): string {
  const missed = result.steps.filter((step) => step.required).flatMap((step) => step.checks.filter((check) => check.status !== 'pass')).length;
  const verdict = result.passed ? 'every required check passed' : `${missed} required check${missed === 1 ? '' : 's'} not passed`;
  return `::notice title=${escapeProperty(`grade ${result.exercise}`)}::${escapeData(`Score ${result.score}/${result.maxScore}: ${verdict}`)}`;
}

/**
 * `result=<base64 of classroom.json>` for $GITHUB_OUTPUT, below OUTPUT_MAX_CHARS: when the
 * document is larger, logs are left out of the messages first, then expected, actual and hints,
 * then the messages themselves (the summary and the log keep them all). Tests and scores never change.
 */
export function classroomOutput(result: ExerciseResult): string {
  const lighter: ((check: CheckResult) => CheckResult)[] = [
    (check) => check,
    ({ log: _log, logKind: _logKind, ...check }) => check,
    ({ log: _log, logKind: _logKind, expected: _expected, actual: _actual, hint: _hint, ...check }) => ({ ...check, message: cut(check.message, 300) }),
    ({ log: _log, logKind: _logKind, expected: _expected, actual: _actual, hint: _hint, ...check }) => ({ ...check, message: '' }),
  ];
  let encoded = '';
  for (const lighten of lighter) {
    const steps = result.steps.map((step) => ({ ...step, checks: step.checks.map(lighten) }));
    encoded = Buffer.from(classroomReport({ ...result, steps })).toString('base64');
    if (encoded.length <= OUTPUT_MAX_CHARS) break;
  }
  return `result=${encoded}\n`;
}

/** A new stop token: random, so a submission cannot print the line that resumes commands. */
export const newStopToken = (): string => randomBytes(16).toString('hex');

/**
 * One stream of the log, fenced: text written through `text` lands inside a stopped region
 * (opened on demand with a new token), a command written through `command` outside of one.
 */
export class WorkflowLog {
  private token: string | undefined;

  constructor(
    private readonly out: { write(text: string): unknown },
    private readonly newToken: () => string = newStopToken,
  ) {}

  get stopped(): boolean {
    return this.token !== undefined;
  }

  text(chunk: string | Uint8Array): void {
    if (this.token === undefined) {
      this.token = this.newToken();
      this.out.write(`::stop-commands::${this.token}\n`);
    }
    this.out.write(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
  }

  command(line: string): void {
    this.resume();
    this.out.write(`${line}\n`);
  }

  resume(): void {
    if (this.token === undefined) return;
    this.out.write(`::${this.token}::\n`);
    this.token = undefined;
  }
}

/** A stream for the terminal view that writes through a WorkflowLog, synchronously, or nowhere. */
class FencedStream extends Writable {
  constructor(private readonly log: WorkflowLog | undefined) {
    super();
  }

  override write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    this.log?.text(chunk as string | Uint8Array);
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') process.nextTick(done as () => void);
    return true;
  }
}

/**
 * One grading in GitHub mode. With the terminal view (`terminal`), the view writes to `log`'s
 * stream and each step is a group. With a document on stdout (`document`), the view is not
 * shown: stdout carries the document alone, and `log` (stderr) only the grader's own commands.
 */
export class GithubActionsRun {
  readonly viewStream: Writable;
  private readonly log: WorkflowLog;

  constructor(
    out: { write(text: string): unknown },
    private readonly settings: GithubSettings,
    private readonly mode: 'terminal' | 'document',
    newToken: () => string = newStopToken,
  ) {
    this.log = new WorkflowLog(out, newToken);
    this.viewStream = new FencedStream(mode === 'terminal' ? this.log : undefined);
  }

  /** Shows an event through the view, each step in a collapsible group of the log. */
  onEvent(event: RunEvent, show: (event: RunEvent) => void): void {
    const grouped = this.mode === 'terminal';
    if (grouped && event.type === 'step-start') this.log.command(`::group::${escapeData(`${event.step.title}${event.step.bonus ? ' (bonus)' : ''}`)}`);
    show(event);
    if (grouped && event.type === 'step-end') this.log.command('::endgroup::');
  }

  /**
   * After the view's last line: the summary, the step output, the annotations and the score's
   * notice. A file GitHub named that cannot be written is a warning in the log, not a failed grading.
   */
  async finish(result: ExerciseResult): Promise<void> {
    this.log.resume();
    const { summaryFile, outputFile } = this.settings;
    const problems: string[] = [];
    const append = async (file: string, text: string, what: string) => {
      await appendFile(file, text).catch((error: Error) => problems.push(`could not write the ${what} to ${file}: ${error.message}`));
    };
    if (summaryFile) await append(summaryFile, githubSummary(result), 'job summary (GITHUB_STEP_SUMMARY)');
    if (outputFile) await append(outputFile, classroomOutput(result), 'step output (GITHUB_OUTPUT)');
    const workspace = this.settings.workspace && (await realpath(this.settings.workspace).catch(() => path.resolve(this.settings.workspace!)));
    for (const annotation of annotationsOf(result, (location) => repositoryPath(result.submission, location, workspace))) {
      this.log.command(annotationCommand(annotation));
    }
    for (const problem of problems) this.log.command(`::warning title=grade::${escapeData(problem)}`);
    this.log.command(scoreNotice(result));
  }

  /** Ends the stopped region when grading ends early; our later lines are then commands again. */
  close(): void {
    this.log.resume();
  }

  /**
   * The document for stdout, inert in the log when stdout is the log: JSON with `#` written as
   * `\u0023` (the same document to any parser; no `##[`, and no JSON line starts with `::`),
   * any other (TAP) between its own stop-commands lines, which a TAP reader passes over.
   */
  static documentText(kind: string, text: string, newToken: () => string = newStopToken): string {
    if (kind === 'json') return text.replace(/#/g, '\\u0023');
    const token = newToken();
    return `::stop-commands::${token}\n${text}${text.endsWith('\n') ? '' : '\n'}::${token}::\n`;
  }
}

/** The GitHub mode of one grading, or undefined outside GitHub Actions. */
export function githubActionsRun(env: NodeJS.ProcessEnv, mode: 'terminal' | 'document', out: { write(text: string): unknown }): GithubActionsRun | undefined {
  const settings = githubSettings(env);
  return settings && new GithubActionsRun(out, settings, mode);
}
