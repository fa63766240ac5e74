// What the grader unit tests (test/unit/graders/*) share: a hand-made CheckContext that hands a
// grader the outcomes its actions left, and short ways to write those outcomes.
import type { BuildOutcome, RunOutcome } from '../../runner/engine/engine.js';
import type { BuiltImage, FailedBuild, Outcome, OutcomeByKind } from '../../graders/outcomes.js';
import type { CheckContext } from '../../graders/types.js';
import { buildOutcome, FakeEngine, runOutcome, testLimits } from './fake-engine.js';

export const LINKER_HINT =
  'The program or its dynamic loader is missing from the image. A binary copied into a scratch or minimal image must be linked statically (gcc -static).';

/** The message for a program that is in the image but cannot run for want of its C library. */
export const dynamicMessage = (what: string, program: string) =>
  `${what}: ${program} is in the image, but it is dynamically linked and the image has no C library or loader to run it`;

export const DYNAMIC_HINT = /Link the program statically \(gcc -static .*\), or start the final stage FROM a base image that has the C library/;

export function contextOf(outcomes: Record<string, Outcome>, options: { engine?: FakeEngine; dir?: string; dirLabel?: string } = {}): CheckContext {
  let helpers = 0;
  return {
    engine: options.engine ?? new FakeEngine(),
    limits: testLimits,
    dir: options.dir,
    dirLabel: options.dirLabel ?? '',
    signal: new AbortController().signal,
    outcome: <K extends keyof OutcomeByKind>(_kind: K, name: string) => {
      const outcome = outcomes[name];
      if (!outcome) throw new Error(`the test gave no outcome for ${name}`);
      return outcome as OutcomeByKind[K];
    },
    helper: (purpose) => ({ name: `grade-test-${purpose}-${++helpers}`, labels: { 'grade.tool': 'grade', 'grade.run': 'test' } }),
  };
}

export function built(ref: string, sizeBytes: number, extra: Partial<BuiltImage> = {}): BuiltImage {
  return { ok: true, ref, id: `sha256:${ref}`, sizeBytes, dockerfile: 'Dockerfile', build: buildOutcome(), ...extra };
}

export const failedBuild = (reason: string, build?: BuildOutcome): FailedBuild => ({ ok: false, reason, dockerfile: 'Dockerfile', build });

export const finished = (commandLine: string[], run: Partial<RunOutcome>): OutcomeByKind['run'] => ({
  ok: true,
  image: 'img',
  command: commandLine,
  run: runOutcome(run),
});

export const startedContainer = (id: string, startError?: string): OutcomeByKind['start'] => ({ ok: true, id, image: 'sleep-ref', startError });
