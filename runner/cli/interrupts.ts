// How every command that creates containers stops on Ctrl+C or SIGTERM: the first signal aborts
// the work and gives its cleanup a deadline (a stalled engine must not keep the process alive); a
// second signal leaves at once. Each says what may be left and that `grade clean` removes it.
import { EXIT } from '../results.js';

export interface InterruptWords {
  /** After "SIGINT: ", what the command does now: "stopping and removing what this run created". */
  stopping: string;
  /** What may be left when it leaves early: "containers of this run may be left". */
  left: string;
  /** Who speaks when the deadline passes: "grade", "grade doctor". */
  who?: string;
}

export class Interrupts {
  private readonly controller = new AbortController();
  /** 130 after SIGINT, 143 after SIGTERM. */
  exitCode: number = EXIT.interrupted;
  private readonly onSignal = (signal: NodeJS.Signals) => this.received(signal);

  constructor(
    private readonly words: InterruptWords,
    private readonly deadlineMs: number,
    /** Called first on every signal, e.g. to stop a spinner before writing. */
    private readonly beforeWriting: () => void = () => {},
  ) {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  /** Fires on the first signal. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get interrupted(): boolean {
    return this.controller.signal.aborted;
  }

  dispose(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }

  private received(signal: NodeJS.Signals): void {
    const code = signal === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted;
    this.beforeWriting();
    const clean = `${this.words.left}: run \`grade clean\` to remove them`;
    if (this.interrupted) {
      process.stderr.write(`\n${signal} again: stopped at once; ${clean}\n`);
      process.exit(code);
    }
    this.exitCode = code;
    process.stderr.write(`\n${signal}: ${this.words.stopping} (${signal} again to leave at once)...\n`);
    this.controller.abort();
    setTimeout(() => {
      process.stderr.write(
        `${this.words.who ?? 'grade'}: cleanup did not finish within ${this.deadlineMs / 1000} s (is the Docker engine answering?); ${clean}\n`,
      );
      process.exit(code);
    }, this.deadlineMs).unref();
  }
}
