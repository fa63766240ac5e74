// The limits every container and build gets, and how a spec and the command line change them.
// Defaults follow trusted autograders: PrairieLearn (30 s per run, no network) and
// autograder-sandbox (a pid limit, capped output).
import type { Limits } from './engine.js';

export const DEFAULT_LIMITS: Limits = {
  runTimeoutMs: 30_000,
  buildTimeoutMs: 5 * 60_000,
  memoryBytes: 512 * 1024 * 1024,
  pids: 512,
  cpus: 1,
  outputBytes: 1024 * 1024,
  buildNetwork: 'none',
  contextBytes: 50 * 1000 * 1000,
  contextFiles: 10_000,
};

/** Later layers win: defaults, then the exercise's spec, then the command line. */
export function resolveLimits(...layers: Partial<Limits>[]): Limits {
  const limits = { ...DEFAULT_LIMITS };
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer) as [keyof Limits, Limits[keyof Limits] | undefined][]) {
      if (value !== undefined) (limits as Record<keyof Limits, unknown>)[key] = value;
    }
  }
  return limits;
}
