// What an instructor sees while a class is graded: in a terminal, one live line (done/total,
// running, not passed, time left); anywhere else (CI logs, pipes), one line per finished
// submission. The closing summary says where the gradebook is.
import { Chalk, type ChalkInstance } from 'chalk';
import ora, { type Ora } from 'ora';
import type { Writable } from 'node:stream';
import type { BatchEvent } from '../batch/batch.js';
import type { StudentRecord } from '../batch/gradebook.js';
import type { ClassSummary } from '../class-results.js';
import { formatDuration, formatSpan } from '../text/format.js';
import { singleLine } from '../text/plain.js';
import { terminalCapabilities } from './progress.js';

export class BatchView {
  private readonly chalk: ChalkInstance;
  private readonly interactive: boolean;
  private spinner?: Ora;
  private ticker?: NodeJS.Timeout;
  private total = 0;
  private done = 0;
  private notPassed = 0;
  private notGraded = 0;
  private readonly running = new Set<string>();
  private startedAt = 0;

  constructor(
    private readonly stream: Writable & { isTTY?: boolean; columns?: number },
    env: NodeJS.ProcessEnv = process.env,
  ) {
    const { color, interactive } = terminalCapabilities(stream, env);
    this.chalk = new Chalk({ level: color ? 1 : 0 });
    this.interactive = interactive;
  }

  private write(line: string): void {
    if (this.spinner) this.spinner.clear();
    this.stream.write(`${line}\n`);
    if (this.spinner) this.spinner.render();
  }

  header(exercise: string, classDir: string, out: string): void {
    this.write(`${this.chalk.bold(`grade batch ${exercise}`)}  ${singleLine(classDir)} -> ${singleLine(out)}`);
  }

  note(text: string): void {
    this.write(this.chalk.yellow(`note: ${singleLine(text)}`));
  }

  onEvent(event: BatchEvent): void {
    switch (event.type) {
      case 'plan': {
        this.total = event.toGrade.length;
        this.startedAt = Date.now();
        const parts = [`${event.toGrade.length} to grade`];
        if (event.current) parts.push(`${event.current} graded already (unchanged; --regrade grades them again)`);
        if (event.skipped) parts.push(`${event.skipped} skipped (not submissions)`);
        if (event.outsideShard) parts.push(`${event.outsideShard} in other shards`);
        this.write(parts.join(', '));
        if (this.interactive && this.total) {
          // Whether to animate was decided above, from the stream and the environment given; ora must not decide again from its own.
          this.spinner = ora({ text: this.line(), stream: this.stream, discardStdin: false, isEnabled: true }).start();
          // The estimate moves with the clock, not only with events.
          this.ticker = setInterval(() => this.refresh(), 1000);
          this.ticker.unref();
        }
        break;
      }
      case 'start':
        this.running.add(event.student);
        this.refresh();
        break;
      case 'done':
        this.finished(event.record);
        break;
      case 'note':
        this.note(event.text);
        break;
    }
  }

  private finished(record: StudentRecord): void {
    this.running.delete(record.student);
    this.done++;
    if (record.status !== 'graded') this.notGraded++;
    else if (!record.passed) this.notPassed++;
    if (!this.interactive || record.status !== 'graded') {
      const score = record.status === 'graded' ? `${record.score}/${record.maxScore}` : record.status;
      const why = record.status === 'graded' ? (record.passed ? 'passed' : 'not passed') : singleLine(record.message);
      const mark = record.status !== 'graded' ? this.chalk.red(score) : record.passed ? this.chalk.green(score) : this.chalk.yellow(score);
      this.write(`[${this.done}/${this.total}] ${singleLine(record.student)}  ${mark}  ${why}  (${formatDuration(record.durationMs)})`);
    }
    this.refresh();
  }

  private line(): string {
    const parts = [`graded ${this.done}/${this.total}`, `running ${this.running.size}`];
    if (this.notPassed) parts.push(`${this.notPassed} not passed`);
    if (this.notGraded) parts.push(`${this.notGraded} not graded`);
    const left = this.timeLeftMs();
    if (left !== undefined) parts.push(`about ${formatSpan(left)} left`);
    return parts.join(' · ');
  }

  /** Remaining submissions at the pace so far (several graded at once, as they are); unknown until one finishes. */
  private timeLeftMs(): number | undefined {
    if (this.done === 0) return undefined;
    const perSubmission = (Date.now() - this.startedAt) / this.done;
    return Math.round(perSubmission * (this.total - this.done));
  }

  private refresh(): void {
    if (!this.spinner) return;
    this.spinner.text = this.line();
    this.spinner.render();
  }

  stop(): void {
    clearInterval(this.ticker);
    this.spinner?.stop();
    this.spinner = undefined;
  }

  summary(summary: ClassSummary, out: string): void {
    this.stop();
    const rows = summary.submissions;
    const count = (status: string) => rows.filter((row) => row.status === status).length;
    const graded = count('graded');
    const passed = rows.filter((row) => row.status === 'graded' && row.passed).length;
    const parts = [`${graded} graded (${passed} passed)`];
    for (const status of ['error', 'timed-out', 'skipped'] as const)
      if (count(status)) parts.push(`${count(status)} ${status === 'error' ? 'not graded' : status}`);
    this.write('');
    this.write(this.chalk.bold(`Class: ${parts.join(', ')}; mean ${round(summary.scores.mean)}, median ${round(summary.scores.median)}`));
    const hardest = summary.checks.filter((check) => check.passed + check.failed + check.skipped + check.errored > 0).slice(0, 3);
    for (const check of hardest) {
      this.write(`  ${Math.round(check.passRate * 100)}% passed ${check.step}/${check.check}: ${singleLine(check.title)}`);
    }
    if (summary.duplicates.length) this.write(`  ${summary.duplicates.length} group${summary.duplicates.length === 1 ? '' : 's'} of identical submissions`);
    this.write(`Gradebook: ${singleLine(out)}/grades.csv, class.json, index.html and students/`);
  }
}

const round = (value: number) => Math.round(value * 10) / 10;
