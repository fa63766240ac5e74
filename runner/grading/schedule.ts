// When each step of a run may start. Steps that use nothing of each other run at the same time
// (the multi exercise's scratch step beside the main folder's); the student still sees them in
// the spec's order, as if they had run one after another.
import { within } from '../engine/bounds.js';
import { actionReferences, type Step } from '../spec/loader.js';

/**
 * For each step, the earlier steps it waits for: those whose actions it names (an image, a program,
 * a container) and those its `needs` name. Steps grading one folder may still run side by side:
 * their builds take turns (GradingSession.buildTurn), so none makes layers another is making.
 */
export function stepPrerequisites(steps: Step[]): Set<number>[] {
  const madeBy = new Map<string, number>();
  steps.forEach((step, index) => {
    for (const action of step.actions) madeBy.set(action.name, index);
  });
  const indexOf = new Map(steps.map((step, index) => [step.id, index]));
  return steps.map((step, index) => {
    const earlier = new Set<number>();
    const add = (other: number | undefined) => {
      if (other !== undefined && other < index) earlier.add(other);
    };
    for (const action of step.actions) for (const { ref } of actionReferences(action)) add(madeBy.get(ref.value));
    for (const check of step.checks) {
      for (const use of check.uses) add(madeBy.get(use.name));
      for (const need of check.needs) add(indexOf.get(need.step));
    }
    for (const need of step.needs) add(indexOf.get(need.step));
    return earlier;
  });
}

/**
 * After a step fails, how long the steps beside it have to end once aborted. They end within a
 * second or two (a build's request is closed, a run's container killed); one waiting on an engine
 * that has stopped answering is not waited for past this.
 */
const AFTER_FAILURE_MS = 10_000;

/**
 * Runs each step (one per entry of `prerequisites`) once its prerequisites have ended, at most
 * `atOnce` at a time, in the order they become ready. When one fails, `abort` is called so the
 * others stop soon; they have ended (nothing of the run is still being created), or had
 * `afterFailureMs` to, before the first failure is thrown.
 */
export async function runSteps(
  prerequisites: Set<number>[],
  atOnce: number,
  runStep: (index: number) => Promise<void>,
  abort: () => void,
  afterFailureMs = AFTER_FAILURE_MS,
): Promise<void> {
  const ended: Promise<void>[] = [];
  const waiting: (() => void)[] = [];
  let running = 0;
  let firstFailure: { error: unknown } | undefined;
  let onFailure!: () => void;
  const failed = new Promise<void>((resolve) => {
    onFailure = resolve;
  });
  const slot = async () => {
    if (running < atOnce) running++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
  };
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };
  prerequisites.forEach((before, index) => {
    ended[index] = (async () => {
      await Promise.all([...before].map((other) => ended[other]));
      await slot();
      try {
        await runStep(index);
      } finally {
        release();
      }
    })();
    ended[index].catch((error: unknown) => {
      if (firstFailure) return;
      firstFailure = { error };
      abort();
      onFailure();
    });
  });
  const allEnded = Promise.allSettled(ended);
  await Promise.race([allEnded, failed.then(() => within(allEnded, afterFailureMs))]);
  if (firstFailure) throw firstFailure.error;
}

/**
 * Passes a run's events on in step order: the earliest step not yet ended speaks live; a later
 * one running beside it is held back and heard once every step before it has ended.
 */
export class StepEvents<Event extends StepEvent> {
  private head = 0;
  private readonly held: Event[][];
  private readonly ended: boolean[];

  constructor(
    count: number,
    private readonly onEvent: (event: Event) => void,
  ) {
    this.held = Array.from({ length: count }, () => []);
    this.ended = Array.from({ length: count }, () => false);
  }

  emit(index: number, event: Event): void {
    if (index === this.head) {
      this.onEvent(event);
      return;
    }
    const held = this.held[index]!;
    // A pull reports hundreds of times a second: of a held run of them, only the latest matters.
    const last = held.at(-1);
    if (isPullProgress(event) && last && isPullProgress(last)) held[held.length - 1] = event;
    else held.push(event);
  }

  end(index: number): void {
    this.ended[index] = true;
    while (this.head < this.ended.length && this.ended[this.head]) {
      this.head++;
      for (const event of this.held[this.head]?.splice(0) ?? []) this.onEvent(event);
    }
  }
}

/** What StepEvents needs to know of a run's events (run.ts's RunEvent). */
interface StepEvent {
  type: string;
  text?: string;
}

const isPullProgress = (event: StepEvent) => event.type === 'activity' && Boolean(event.text?.startsWith('pulling '));
