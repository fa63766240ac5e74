// Streams that keep what a view writes: a pipe, and a terminal of known width with the cursor
// calls a spinner makes.
import { Writable } from 'node:stream';

export class Sink extends Writable {
  text = '';
  /** Each write on its own: a spinner frame is one write with no newline. */
  readonly writes: string[] = [];
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    this.writes.push(chunk.toString());
    callback();
  }
}

/** A terminal of known width, with the cursor calls tty.WriteStream offers a spinner. */
export class TerminalSink extends Sink {
  readonly isTTY = true;
  constructor(readonly columns: number) {
    super();
  }
  cursorTo(x: number): boolean {
    return this.write(`\u001b[${x + 1}G`);
  }
  moveCursor(dx: number, dy: number): boolean {
    return this.write(`${dx ? `\u001b[${Math.abs(dx)}${dx < 0 ? 'D' : 'C'}` : ''}${dy ? `\u001b[${Math.abs(dy)}${dy < 0 ? 'A' : 'B'}` : ''}`);
  }
  clearLine(): boolean {
    return this.write('\u001b[2K');
  }
}
