// Timers a test moves by hand: `advance(ms)` runs every timer that falls due on the way, in time
// order, letting promises settle between them, so code on timers is tested without sleeping.
import type { Timers } from '../../runner/engine/bounds.js';

interface Pending {
  id: number;
  at: number;
  callback: () => void;
  every?: number;
}

export class FakeTimers implements Timers {
  private time = 0;
  private nextId = 1;
  private pending: Pending[] = [];

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    return this.add(callback, ms);
  }

  setInterval(callback: () => void, ms: number): unknown {
    return this.add(callback, ms, ms);
  }

  clearTimeout(timer: unknown): void {
    this.pending = this.pending.filter((entry) => entry.id !== timer);
  }

  clearInterval(timer: unknown): void {
    this.clearTimeout(timer);
  }

  /** Moves the time on by `ms`, firing what falls due. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await settle();
      const due = this.pending.filter((entry) => entry.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.time = due.at;
      if (due.every) due.at += due.every;
      else this.clearTimeout(due.id);
      due.callback();
    }
    this.time = end;
    await settle();
  }

  private add(callback: () => void, ms: number, every?: number): number {
    const id = this.nextId++;
    this.pending.push({ id, at: this.time + Math.max(1, ms), callback, every: every === undefined ? undefined : Math.max(1, every) });
    return id;
  }
}

/** Lets promise callbacks already queued run (a ping answering, a `.then` updating state). */
async function settle(): Promise<void> {
  for (let round = 0; round < 10; round++) await Promise.resolve();
}
