// The student's view while grading runs: a spinner per step in a terminal, plain lines anywhere
// else (CI, pipes, NO_COLOR), a line per check with its points, the hint under each failure and
// the score at the end. Colour is decided once, from the stream written to.
import { Chalk, type ChalkInstance } from 'chalk';
import ora, { type Ora } from 'ora';
import type { Writable } from 'node:stream';
import type { CheckResult, ExerciseResult, StepResult } from '../runner/results.js';
import type { RunEvent } from '../runner/run.js';
import { plainText } from './text.js';

export interface TerminalOptions {
  stream: Writable & { isTTY?: boolean; columns?: number };
  env?: NodeJS.ProcessEnv;
}

/** Colour and spinners only on a real terminal, unless NO_COLOR or FORCE_COLOR say otherwise. */
export function terminalCapabilities(stream: { isTTY?: boolean; columns?: number }, env: NodeJS.ProcessEnv = process.env) {
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  const tty = Boolean(stream.isTTY) && env.TERM !== 'dumb';
  const color = env.NO_COLOR === undefined || env.NO_COLOR === '' ? tty || forced : false;
  // A terminal that reports no width (a bare pseudo-terminal) makes a spinner redraw without end.
  const sized = stream.columns === undefined || stream.columns > 0;
  return { color, interactive: tty && sized && !env.CI };
}

const SYMBOL = { pass: '✔', fail: '✖', skip: '-', error: '!' } as const;
const ASCII = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP', error: 'ERR ' } as const;

export class TerminalView {
  private readonly chalk: ChalkInstance;
  private readonly interactive: boolean;
  private spinner?: Ora;

  constructor(private readonly options: TerminalOptions) {
    const { color, interactive } = terminalCapabilities(options.stream, options.env);
    this.chalk = new Chalk({ level: color ? 1 : 0 });
    this.interactive = interactive;
  }

  private write(line = ''): void {
    this.options.stream.write(`${line}\n`);
  }

  header(exercise: string, title: string, submission: string): void {
    this.write(this.chalk.bold(`grade ${exercise}: ${title}`));
    this.write(this.chalk.dim(`submission: ${plainText(submission)}`));
    this.write();
  }

  readonly onEvent = (event: RunEvent): void => {
    switch (event.type) {
      case 'step-start':
        if (this.interactive) {
          this.spinner = ora({ text: event.step.title, stream: this.options.stream, discardStdin: false, isEnabled: true }).start();
        } else {
          this.write(`${event.step.title}${event.step.bonus ? ' (bonus)' : ''}`);
        }
        break;
      case 'activity':
        if (this.spinner) this.spinner.text = `${event.step.title}: ${plainText(event.text).split('\n')[0]}`;
        else if (!event.text.startsWith('pulling ') || !event.text.includes(': ')) this.write(this.chalk.dim(`  ... ${plainText(event.text)}`));
        break;
      case 'step-end':
        this.stepDone(event.result);
        break;
      case 'cleanup-problem':
        this.write(this.chalk.yellow(`warning: could not remove ${plainText(event.text)}`));
        break;
      case 'check':
        break;
    }
  };

  private stepDone(step: StepResult): void {
    const earned = step.checks.reduce((sum, check) => sum + check.points, 0);
    const possible = step.checks.reduce((sum, check) => sum + check.maxPoints, 0);
    const ok = step.checks.every((check) => check.status === 'pass');
    const line = `${step.title}${step.required ? '' : ' (bonus)'}  ${earned}/${possible}`;
    if (this.spinner) {
      if (ok) this.spinner.succeed(line);
      else this.spinner.fail(line);
      this.spinner = undefined;
    } else {
      this.write(`${ok ? 'done' : 'not done'}: ${line}`);
    }
    for (const check of step.checks) this.check(check);
    this.write();
  }

  private check(check: CheckResult): void {
    const { chalk } = this;
    const colour = { pass: chalk.green, fail: chalk.red, skip: chalk.dim, error: chalk.yellow }[check.status];
    const mark = this.interactive || chalk.level > 0 ? SYMBOL[check.status] : ASCII[check.status];
    this.write(`  ${colour(mark)} ${check.points}/${check.maxPoints}  ${check.title}`);
    if (check.status === 'pass') return;
    this.write(chalk.dim(indent(plainText(check.message), 6)));
    if (check.log) this.write(chalk.dim(indent(plainText(check.log), 6, '| ')));
    if (check.hint) this.write(chalk.cyan(indent(`hint: ${plainText(check.hint)}`, 6)));
  }

  note(text: string): void {
    this.write(this.chalk.dim(text));
  }

  summary(result: ExerciseResult): void {
    const required = result.steps.filter((step) => step.required).flatMap((step) => step.checks);
    const failing = required.filter((check) => check.status !== 'pass').length;
    const score = `Score: ${result.score}/${result.maxScore}`;
    if (result.passed) this.write(this.chalk.green.bold(`${score}: every required check passed`));
    else this.write(this.chalk.red.bold(`${score}: ${failing} required check${failing === 1 ? '' : 's'} not passed yet`));
  }

  stop(): void {
    this.spinner?.stop();
    this.spinner = undefined;
  }
}

function indent(text: string, spaces: number, prefix = ''): string {
  return text
    .split('\n')
    .map((line) => `${' '.repeat(spaces)}${prefix}${line}`)
    .join('\n');
}
