// Captures a container's output with a hard cap per stream: bytes past the cap are counted and
// dropped, so a program that floods its output costs the grader no memory. Also reads Docker's
// multiplexed stream format (8-byte frame headers) for non-TTY containers.
import { isUtf8 } from 'node:buffer';
import type { CapturedOutput } from './engine.js';

export class OutputCapture {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  bytes = 0;

  constructor(private readonly capBytes: number) {}

  write(chunk: Buffer): void {
    this.bytes += chunk.length;
    const room = this.capBytes - this.kept;
    if (room <= 0) return;
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.chunks.push(Buffer.from(part));
    this.kept += part.length;
  }

  /** Every byte from now on would be dropped. */
  get full(): boolean {
    return this.kept >= this.capBytes;
  }

  result(): CapturedOutput {
    const kept = Buffer.concat(this.chunks);
    const truncated = this.bytes > this.kept;
    // A cut can split a UTF-8 sequence: judge the text on whole characters only.
    const whole = truncated ? kept.subarray(0, lastCharBoundary(kept)) : kept;
    return { text: whole.toString('utf8'), bytes: this.bytes, truncated, binary: !isUtf8(whole) };
  }
}

function lastCharBoundary(bytes: Buffer): number {
  const end = bytes.length;
  for (let back = 1; back <= 3 && end - back >= 0; back++) {
    const byte = bytes[end - back]!;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return need > back ? end - back : end;
  }
  return end;
}

/** Splits Docker's multiplexed stream into stdout and stderr as frames arrive. */
export class Demuxer {
  private pending = Buffer.alloc(0);
  private frameLeft = 0;
  private frameStream = 1;

  constructor(
    private readonly stdout: OutputCapture,
    private readonly stderr: OutputCapture,
  ) {}

  push(chunk: Buffer): void {
    let data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    while (data.length > 0) {
      if (this.frameLeft === 0) {
        if (data.length < 8) {
          this.pending = Buffer.from(data);
          return;
        }
        this.frameStream = data[0]!;
        this.frameLeft = data.readUInt32BE(4);
        data = data.subarray(8);
        continue;
      }
      const take = Math.min(this.frameLeft, data.length);
      (this.frameStream === 2 ? this.stderr : this.stdout).write(data.subarray(0, take));
      this.frameLeft -= take;
      data = data.subarray(take);
    }
  }
}
