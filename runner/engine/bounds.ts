// Time bounds on talking to the Docker engine. Every request dockerode makes passes through one
// guarded dial: a short request that gets no answer within the engine timeout is aborted (so no
// socket keeps the process alive) and fails as a stall. Long requests (a build, a pull, waiting
// for a container) are watched instead: the engine is pinged every second, and an engine
// that stops answering pings for the engine timeout ends the operation.
import { finished, type Readable } from 'node:stream';

/** Long by nature: bounded by their own limits and a watchdog, not by the per-request timeout. */
const LONG_REQUEST = /^\/(?:build|images\/create|images\/load|containers\/[^/]+\/wait)(?:\?|$)/;
/** Once the engine has been found silent, later requests (cleanup) get only this long. */
const SILENT_ENGINE_LIMIT_MS = 2000;
/** How long one watchdog ping may take before it counts as unanswered. */
const PING_LIMIT_MS = 5000;

/** The engine gave no answer in time. Converted to an EngineError by `asEngineError`. */
export class EngineStall extends Error {
  readonly code = 'ENGINE_STALLED';
  constructor(
    /** What got no answer: "GET /version", "the build". */
    readonly what: string,
    readonly waitedMs: number,
  ) {
    super(`${what} got no answer within ${Math.round(waitedMs / 100) / 10} s`);
    this.name = 'EngineStall';
  }
}

/** The time and the timers the bounds use: the real ones, or a test's fake that it advances itself. */
export interface Timers {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(timer: unknown): void;
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(timer: unknown): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (timer) => clearInterval(timer as NodeJS.Timeout),
};

/** The engine timeout, and whether the engine was last seen silent. */
export class EngineClock {
  private silentSince: number | undefined;
  private readonly silenceListeners = new Set<() => void>();

  constructor(
    readonly timeoutMs: number,
    readonly timers: Timers = realTimers,
  ) {}

  /** The bound for a request starting now. */
  requestLimitMs(): number {
    return this.silentSince === undefined ? this.timeoutMs : Math.min(this.timeoutMs, SILENT_ENGINE_LIMIT_MS);
  }

  answered(): void {
    this.silentSince = undefined;
  }

  silent(): void {
    if (this.silentSince !== undefined) return;
    this.silentSince = this.timers.now();
    for (const listener of [...this.silenceListeners]) listener();
  }

  /** Calls `listener` when the engine is next found silent; returns the function that stops listening. */
  whenSilent(listener: () => void): () => void {
    this.silenceListeners.add(listener);
    return () => this.silenceListeners.delete(listener);
  }

  get isSilent(): boolean {
    return this.silentSince !== undefined;
  }

  /** How often a watchdog pings: every second (a ping is cheap), so a stall is seen soon after the timeout. */
  pingEveryMs(): number {
    return Math.min(1000, Math.max(250, Math.floor(this.timeoutMs / 4)));
  }
}

interface DialOptions {
  path: string;
  method: string;
  abortSignal?: AbortSignal;
  [key: string]: unknown;
}
type DialCallback = (error: (Error & { statusCode?: number }) | null, data: unknown) => void;
interface Modem {
  dial(options: DialOptions, callback: DialCallback): void;
}

/** "GET /containers/3f2a1b4c5d6e/json": the request, with long ids shortened, for messages. */
export function describeRequest(method: string, requestPath: string): string {
  return `${method} ${requestPath.replace(/\?.*$/, '').replace(/\b([0-9a-f]{12})[0-9a-f]{52}\b/g, '$1')}`;
}

function isStream(data: unknown): data is Readable {
  return typeof (data as Readable | null)?.pipe === 'function';
}

/**
 * Makes every short request of `modem` abortable past the clock's limit. The caller's own
 * abortSignal still works: it is forwarded to the one the request now carries.
 */
export function boundRequests(modem: Modem, clock: EngineClock): void {
  const dial = modem.dial.bind(modem);
  modem.dial = (options, callback) => {
    if (LONG_REQUEST.test(options.path)) {
      dial(options, callback);
      return;
    }
    const { timers } = clock;
    const started = timers.now();
    const own = new AbortController();
    const outer = options.abortSignal;
    const forward = () => own.abort(outer?.reason);
    if (outer?.aborted) own.abort(outer.reason);
    else outer?.addEventListener('abort', forward, { once: true });
    const release = () => outer?.removeEventListener('abort', forward);
    let settled = false;
    const stall = () => {
      settled = true;
      stopListening();
      const stalled = new EngineStall(describeRequest(options.method, options.path), timers.now() - started);
      clock.silent();
      own.abort(stalled);
      release();
      callback(stalled, null);
    };
    const deadline = started + clock.requestLimitMs();
    let timer = timers.setTimeout(stall, deadline - started);
    // Found silent meanwhile (by another request or a watchdog: steps run side by side), the
    // engine gets no longer to answer this one than a request starting now would have.
    const stopListening = clock.whenSilent(() => {
      timers.clearTimeout(timer);
      const now = timers.now();
      timer = timers.setTimeout(stall, Math.min(deadline, now + clock.requestLimitMs()) - now);
    });
    dial({ ...options, abortSignal: own.signal }, (error, data) => {
      timers.clearTimeout(timer);
      stopListening();
      if (settled) {
        if (isStream(data)) data.destroy();
        return;
      }
      settled = true;
      // An HTTP answer, even an error status, shows the engine is there.
      if (!error || error.statusCode !== undefined) clock.answered();
      if (isStream(data)) finished(data, () => release());
      else release();
      callback(error, data);
    });
  };
}

/**
 * Pings the engine every few seconds while a long operation runs; when no ping has been answered
 * for the engine timeout, calls `onStall` once. Returns the function that stops watching.
 */
export function watchEngine(
  ping: (signal: AbortSignal) => Promise<unknown>,
  clock: EngineClock,
  what: string,
  onStall: (stall: EngineStall) => void,
): () => void {
  const { timers } = clock;
  let lastAnswer = timers.now();
  let pinging = false;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    if (timers.now() - lastAnswer >= clock.timeoutMs) {
      stop();
      clock.silent();
      onStall(new EngineStall(what, clock.timeoutMs));
      return;
    }
    if (pinging) return;
    pinging = true;
    const controller = new AbortController();
    const timer = timers.setTimeout(() => controller.abort(), Math.min(PING_LIMIT_MS, clock.timeoutMs));
    ping(controller.signal)
      .then(
        () => {
          lastAnswer = timers.now();
          clock.answered();
        },
        () => undefined,
      )
      .finally(() => {
        timers.clearTimeout(timer);
        pinging = false;
      });
  };
  const interval = timers.setInterval(tick, clock.pingEveryMs());
  const stop = () => {
    stopped = true;
    timers.clearInterval(interval);
  };
  return stop;
}

/** Waits for `promise` to settle, but no longer than `ms`; the timer keeps no process alive and is gone either way. */
export async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  await Promise.race([promise.then(ignore, ignore), expired]);
  clearTimeout(timer);
}

const ignore = () => undefined;

/** Whether the engine answers a ping within `ms` (never rejects). */
export async function answersWithin(ping: (signal: AbortSignal) => Promise<unknown>, ms: number, timers: Timers = realTimers): Promise<boolean> {
  const controller = new AbortController();
  const timer = timers.setTimeout(() => controller.abort(), ms);
  try {
    await ping(controller.signal);
    return true;
  } catch {
    return false;
  } finally {
    timers.clearTimeout(timer);
  }
}
