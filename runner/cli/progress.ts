// The student's view while grading runs: a spinner per step in a terminal, plain lines anywhere
// else (CI, pipes, NO_COLOR, TERM=dumb), a line per check with its points, the hint under each
// failure and the score at the end. Colour is decided once, from the stream written to; in a
// terminal of known width long lines wrap at word boundaries, continuations indented.
import { Chalk, type ChalkInstance } from 'chalk';
import type { Ora, Options as SpinnerOptions } from 'ora';
import type { Writable } from 'node:stream';
import { stepPassed, stepTotals, type CheckResult, type ExerciseResult, type StepResult } from '../results.js';
import type { RunEvent } from '../grading/run.js';
import { plainText, singleLine } from '../text/plain.js';

export interface TerminalOptions {
  stream: Writable & { isTTY?: boolean; columns?: number };
  env?: NodeJS.ProcessEnv;
  /** ora, in a terminal that animates (`TerminalView.open` loads it); without it, plain lines. */
  spinner?: (options: SpinnerOptions) => Ora;
}

/**
 * Colour and spinners only on a real terminal. NO_COLOR with any value, even empty (the
 * convention's wording is "present"), turns off both; so does TERM=dumb. FORCE_COLOR colours a
 * pipe, but never animates and never beats NO_COLOR.
 */
export function terminalCapabilities(stream: { isTTY?: boolean; columns?: number }, env: NodeJS.ProcessEnv = process.env) {
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  const plain = env.NO_COLOR !== undefined;
  const tty = Boolean(stream.isTTY) && env.TERM !== 'dumb';
  const color = !plain && (tty || forced);
  // A terminal that reports no width (a bare pseudo-terminal) makes a spinner redraw without end.
  const sized = stream.columns === undefined || stream.columns > 0;
  return { color, interactive: tty && !plain && sized && !env.CI };
}

const SYMBOL = { pass: '✔', fail: '✖', skip: '-', error: '!' } as const;
const ASCII = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP', error: 'ERR ' } as const;
const MESSAGE_INDENT = 6;
const HINT = 'hint: ';

export class TerminalView {
  private readonly chalk: ChalkInstance;
  private readonly interactive: boolean;
  private spinner?: Ora;
  /** Messages of checks not judged that were printed already. */
  private readonly errorsShown = new Set<string>();
  private spinnerTitle = '';

  constructor(private readonly options: TerminalOptions) {
    const { color, interactive } = terminalCapabilities(options.stream, options.env);
    this.chalk = new Chalk({ level: color ? 1 : 0 });
    this.interactive = interactive && options.spinner !== undefined;
  }

  /** A view with spinners where the stream animates: ora is loaded only then (a tenth of a second). */
  static async open(options: Omit<TerminalOptions, 'spinner'>): Promise<TerminalView> {
    const spinner = terminalCapabilities(options.stream, options.env).interactive ? (await import('ora')).default : undefined;
    return new TerminalView({ ...options, spinner });
  }

  /** Columns to wrap at: only a terminal's, read at each write so a resize is followed. */
  private get width(): number | undefined {
    const { isTTY, columns } = this.options.stream;
    return isTTY && columns !== undefined && columns > 0 ? columns : undefined;
  }

  private write(line = ''): void {
    this.options.stream.write(`${line}\n`);
  }

  /**
   * One paragraph: `lead` (`leadColumns` wide, counted from the text when not given, which
   * matters once it holds colour codes) then `text` wrapped to the terminal's width, each
   * continuation indented by `indent` columns; `style` colours each whole line.
   */
  private paragraph(text: string, options: { lead?: string; leadColumns?: number; indent: number; style?: (text: string) => string }): void {
    const { lead = '', indent, style = (line: string) => line } = options;
    const leadColumns = options.leadColumns ?? columnsOf(lead);
    wrapWords(text, this.width, leadColumns, indent).forEach((line, index) => {
      this.write(style(`${index === 0 ? lead : ' '.repeat(indent)}${line}`));
    });
  }

  header(exercise: string, title: string, submission: string): void {
    this.paragraph(`grade ${exercise}: ${title}`, { indent: 2, style: this.chalk.bold });
    // The folder's name is the student's: it may hold a newline.
    this.paragraph(`submission: ${singleLine(submission)}`, { indent: 2, style: this.chalk.dim });
    this.write();
  }

  readonly onEvent = (event: RunEvent): void => {
    switch (event.type) {
      case 'step-start':
        if (this.interactive && this.options.spinner) {
          this.spinnerTitle = inline(event.step.title);
          this.spinner = this.options
            .spinner({
              text: this.spinnerLine(this.spinnerTitle),
              stream: this.options.stream,
              discardStdin: false,
              isEnabled: true,
              color: 'cyan',
            })
            .start();
        } else {
          this.paragraph(`${inline(event.step.title)}${event.step.bonus ? ' (bonus)' : ''}`, { indent: 2 });
        }
        break;
      case 'activity':
        if (this.spinner) {
          // Shown at the next frame: a pull sends hundreds of these a second.
          this.spinner.text = this.spinnerLine(`${this.spinnerTitle}: ${inline(event.text)}`);
        } else if (!event.text.startsWith('pulling ') || !event.text.includes(': ')) {
          this.paragraph(inline(event.text), { lead: '  ... ', indent: 6, style: this.chalk.dim });
        }
        break;
      case 'step-end':
        this.stepDone(event.result);
        break;
      case 'cleanup-problem':
        this.paragraph(`warning: could not remove ${inline(event.text)}`, { indent: 2, style: this.chalk.yellow });
        break;
      case 'check':
        break;
    }
  };

  /** A spinner line that wraps redraws badly: cut it to the frame, a space and one spare column. */
  private spinnerLine(text: string): string {
    const width = this.width;
    return width === undefined ? text : cutToColumns(text, width - 3);
  }

  private stepDone(step: StepResult): void {
    const { points, maxPoints } = stepTotals(step);
    const ok = stepPassed(step);
    const line = `${inline(step.title)}${step.required ? '' : ' (bonus)'}  ${points}/${maxPoints}`;
    if (this.spinner) {
      // Stopped, then written as any other line, so a long title wraps like the rest.
      this.spinner.stop();
      this.spinner = undefined;
      const mark = ok ? this.chalk.green(SYMBOL.pass) : this.chalk.red(SYMBOL.fail);
      this.paragraph(line, { lead: `${mark} `, leadColumns: 1 + columnsOf(SYMBOL.pass), indent: 2 });
    } else {
      this.paragraph(`${ok ? 'done' : 'not done'}: ${line}`, { indent: 2 });
    }
    for (const check of step.checks) this.check(check);
    this.write();
  }

  private check(check: CheckResult): void {
    const { chalk } = this;
    const colour = { pass: chalk.green, fail: chalk.red, skip: chalk.dim, error: chalk.yellow }[check.status];
    const mark = this.interactive || chalk.level > 0 ? SYMBOL[check.status] : ASCII[check.status];
    const points = ` ${check.points}/${check.maxPoints}  `;
    // Continuation lines of a long title start under the title's first word.
    const leadColumns = 2 + columnsOf(mark) + points.length;
    this.paragraph(inline(check.title), { lead: `  ${colour(mark)}${points}`, leadColumns, indent: leadColumns });
    if (check.status === 'pass') return;
    const under = ' '.repeat(MESSAGE_INDENT);
    // One cause of the grading machine's (a base image no registry can provide) can leave a dozen
    // checks unjudged: its message and fix are printed once.
    const repeated = check.status === 'error' && this.errorsShown.has(check.message);
    if (check.status === 'error') this.errorsShown.add(check.message);
    // A message is one sentence on one line: one that quotes a file name cannot start a line.
    this.paragraph(repeated ? 'not judged: the same cause as above' : inline(check.message), { lead: under, indent: MESSAGE_INDENT, style: chalk.dim });
    if (check.log) {
      // A log keeps its lines; a long one continues a little further in.
      for (const line of plainText(check.log).split('\n')) {
        this.paragraph(line, { lead: `${under}| `, indent: MESSAGE_INDENT + 4, style: chalk.dim });
      }
    }
    if (check.hint) {
      // Hints come from the spec, where a line break is the author's; every line sits under "hint: ".
      const hintIndent = MESSAGE_INDENT + HINT.length;
      plainText(check.hint)
        .split('\n')
        .forEach((line, index) => {
          this.paragraph(line, { lead: index === 0 ? `${under}${HINT}` : ' '.repeat(hintIndent), indent: hintIndent, style: chalk.cyan });
        });
    }
  }

  note(text: string): void {
    this.paragraph(inline(text), { indent: 2, style: this.chalk.dim });
  }

  summary(result: ExerciseResult): void {
    const required = result.steps.filter((step) => step.required).flatMap((step) => step.checks);
    const failing = required.filter((check) => check.status !== 'pass').length;
    const unjudged = required.filter((check) => check.status === 'error').length;
    const score = `Score: ${result.score}/${result.maxScore}`;
    if (unjudged > 0) {
      // Exit status 2: the score is not the student's grade, the grading machine fell short.
      const which = unjudged === failing ? (failing === 1 ? 'it' : 'all of them') : `${unjudged} of them`;
      this.paragraph(
        `${score}: ${failing} required check${failing === 1 ? '' : 's'} not passed yet, ${which} not judged on this machine (the cause is above)`,
        { indent: 2, style: this.chalk.yellow.bold },
      );
    } else if (result.passed) this.paragraph(`${score}: every required check passed`, { indent: 2, style: this.chalk.green.bold });
    else this.paragraph(`${score}: ${failing} required check${failing === 1 ? '' : 's'} not passed yet`, { indent: 2, style: this.chalk.red.bold });
  }

  stop(): void {
    this.spinner?.stop();
    this.spinner = undefined;
  }
}

/** Text for one line of the view: escape sequences removed, then every line break made visible. */
function inline(text: string): string {
  return singleLine(plainText(text));
}

// Marks and zero-width joiners take no column; East Asian wide characters and emoji take two.
// biome-ignore lint/suspicious/noMisleadingCharacterClass: each of these takes no column on its own, joiners and variation selectors included.
const ZERO_WIDTH = /[\p{Mn}\p{Me}\u200b-\u200f\ufe00-\ufe0f]/u;
const WIDE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{20000}-\u{3fffd}]/u;

/** Terminal columns a character takes; a tab counts as the most it can take. */
function charColumns(char: string): number {
  if (char === '\t') return 8;
  if (ZERO_WIDTH.test(char)) return 0;
  return WIDE.test(char) ? 2 : 1;
}

export function columnsOf(text: string): number {
  let columns = 0;
  for (const char of text) columns += charColumns(char);
  return columns;
}

/** `text` cut to at most `columns`, with an ellipsis where it was cut. */
export function cutToColumns(text: string, columns: number): string {
  if (columnsOf(text) <= columns) return text;
  let kept = '';
  let used = 0;
  for (const char of text) {
    const next = charColumns(char);
    if (used + next > columns - 1) break;
    kept += char;
    used += next;
  }
  return `${kept}…`;
}

/**
 * Greedy word wrap of one line of text to `width` columns: the first line has `first` columns
 * taken already, later ones `indent`. Words are never split; one longer than a whole line gets a
 * line of its own and runs over (a path stays whole, to copy). No width: one line, as it is.
 */
export function wrapWords(text: string, width: number | undefined, first: number, indent: number): string[] {
  if (width === undefined || first + columnsOf(text) <= width) return [text];
  // Leading spaces are the text's own indentation (a compiler's caret line): they stay.
  const [, leading = '', rest = ''] = /^( *)(.*)$/s.exec(text) ?? [];
  const lines: string[] = [];
  let line = leading;
  let used = first + leading.length;
  for (const word of rest.split(' ').filter(Boolean)) {
    const columns = columnsOf(word);
    if (line.trim() !== '' && used + 1 + columns > width) {
      lines.push(line);
      line = '';
      used = indent;
    }
    if (line.trim() !== '') {
      line += ' ';
      used += 1;
    }
    line += word;
    used += columns;
  }
  lines.push(line);
  return lines;
}
