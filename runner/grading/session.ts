// One grading run's identity and belongings: the run id that names and labels every container it
// creates (removed when grading ends, pass or fail), and the record of the images its builds made.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { EngineError, type BuildOutcome, type DockerEngine, type Labels } from '../engine/engine.js';
import type { ImageLedger } from './image-ledger.js';

export const LABEL = {
  tool: 'grade.tool',
  run: 'grade.run',
  /** host:pid of the process grading, so `grade clean` leaves live runs alone. */
  owner: 'grade.run-owner',
  exercise: 'grade.exercise',
  submission: 'grade.submission',
} as const;

/** The label filter that finds everything any run of grade created. */
export const OURS = `${LABEL.tool}=grade`;

export function ownerOf(pid: number): string {
  return `${hostname().replace(/[^\w.-]+/g, '_')}:${pid}`;
}

/**
 * Whether the run that labelled an object may still be grading. On this machine the owner's pid
 * says so. Another machine sharing the engine cannot be asked: its run counts as alive until the
 * object is older than `otherHostMs` (a batch on a CI runner and one on a laptop, both on one engine).
 */
export function runMayBeGrading(owner: string | undefined, createdAt: number | undefined, otherHostMs: number, now = Date.now()): boolean {
  const [host, pid] = (owner ?? '').split(':');
  if (!pid) return false;
  if (host === ownerOf(0).split(':')[0]) return ownerAlive(owner);
  return createdAt === undefined || now - createdAt < otherHostMs;
}

/** Whether the run that labelled an object is still grading on this machine. */
export function ownerAlive(owner: string | undefined): boolean {
  const [host, pid] = (owner ?? '').split(':');
  if (!pid || host !== ownerOf(0).split(':')[0] || Number(pid) === process.pid) return false;
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Why a base image could not be had, and whose doing that is. */
export interface PullFailure {
  reason: string;
  /** True when no registry could be reached: the grading machine's world, not the student's. */
  unreachable: boolean;
  /** For the student, when the image does not exist: what to check in the Dockerfile. */
  hint?: string;
}

/**
 * Told of the images each build of a run makes, beside the ledger: a batch removes what one
 * student's builds created once that student is graded, and must know what each build used.
 */
export interface BuildWitness {
  built(images: BuiltImages): void;
}

export interface BuiltImages {
  /** The images the build made (cache misses), oldest first. */
  created: string[];
  /** Those of `created` that no file of the submission went into: made by the steps of a stage before its first COPY or ADD (`RUN apk add ...`), which other submissions are likely to share. */
  contextFree: string[];
  /** Every image the build made or took from the cache. */
  used: string[];
}

/** What a build's steps made, and which of those come before any file of the submission in their stage. */
export function imagesOfBuild(outcome: BuildOutcome): BuiltImages {
  const created: string[] = [];
  const contextFree: string[] = [];
  let filesIn = false;
  for (const step of outcome.steps) {
    if (/^FROM\s/i.test(step.instruction)) {
      filesIn = false;
      continue;
    }
    if (/^(COPY|ADD)\s/i.test(step.instruction)) filesIn = true;
    if (step.cached || !step.imageId) continue;
    created.push(step.imageId);
    if (!filesIn) contextFree.push(step.imageId);
  }
  const used = [...outcome.steps.flatMap((step) => (step.imageId ? [step.imageId] : [])), ...(outcome.imageId ? [outcome.imageId] : [])];
  return { created, contextFree, used };
}

export class GradingSession {
  readonly runId: string;
  readonly labels: Labels;
  /** Base images that could not be pulled, so a run asks the registry once per image. */
  readonly pullFailures = new Map<string, PullFailure>();
  private readonly containers: string[] = [];
  private helpers = 0;
  /** Per folder, the end of the last build that asked for a turn. */
  private readonly buildTurns = new Map<string, Promise<void>>();

  constructor(
    private readonly engine: DockerEngine,
    exercise: string,
    submission: string,
    private readonly options: { runId?: string; keepImages?: boolean; ledger?: ImageLedger; witness?: BuildWitness } = {},
  ) {
    this.runId = options.runId ?? randomBytes(5).toString('hex');
    this.labels = {
      [LABEL.tool]: 'grade',
      [LABEL.run]: this.runId,
      [LABEL.owner]: ownerOf(process.pid),
      [LABEL.exercise]: exercise,
      [LABEL.submission]: submission.replace(/[^\w.-]+/g, '_').slice(0, 64) || 'submission',
    };
  }

  /** `grade-<run>-<name>`: the tag `--keep` gives an image, unique per run. */
  imageTag(name: string): string {
    return `grade-${this.runId}-${name}:latest`;
  }

  containerName(name: string): string {
    return `grade-${this.runId}-${name}`;
  }

  helperName(purpose: string): string {
    return this.containerName(`${purpose}-${++this.helpers}`);
  }

  /**
   * Builds from one folder take turns (steps of one folder may run at the same time): a later
   * build takes an earlier one's layers from the cache instead of making them again beside it.
   * Resolves when it is the caller's turn, with the function that ends it.
   */
  async buildTurn(dir: string): Promise<() => void> {
    const before = this.buildTurns.get(dir) ?? Promise.resolve();
    let end!: () => void;
    const mine = new Promise<void>((resolve) => {
      end = resolve;
    });
    this.buildTurns.set(
      dir,
      before.then(() => mine),
    );
    await before;
    return end;
  }

  trackContainer(id: string): void {
    this.containers.push(id);
  }

  /**
   * A build's images stay as the layer cache, untagged, as after a plain `docker build`; the
   * ones it created are written down for `grade clean --cache`. With `--keep` it is also tagged.
   */
  async builtImage(name: string, outcome: BuildOutcome): Promise<void> {
    const images = imagesOfBuild(outcome);
    this.options.witness?.built(images);
    await this.record(images.created);
    if (this.options.keepImages && outcome.imageId) await this.engine.tagImage(outcome.imageId, this.imageTag(name));
  }

  /** A base image this run pulled is the run's doing too. */
  async pulledImage(id: string): Promise<void> {
    await this.record([id]);
  }

  private async record(ids: string[]): Promise<void> {
    // The record only serves `grade clean --cache`: an unwritable state folder must not stop grading.
    await this.options.ledger?.record(ids).catch(() => undefined);
  }

  /** Removes the containers this run created; returns what could not be removed, for a warning. */
  async cleanup(): Promise<string[]> {
    const problems: string[] = [];
    // Every call here is bounded by the engine timeout. Once the engine has stopped answering, one
    // problem says it all: trying each container in turn would only make the user wait.
    const stalled = (error: unknown) => `containers of run ${this.runId} may be left (${(error as Error).message}): run \`grade clean\` once Docker answers`;
    // Containers this run started, and any a run interrupted mid-way left.
    let found: { containers: { id: string }[] } = { containers: [] };
    try {
      found = await this.engine.listOurs(`${LABEL.run}=${this.runId}`);
    } catch (error) {
      if (error instanceof EngineError) {
        // A silent engine carries out the removals it was sent if it wakes: send them, wait for none.
        for (const id of this.containers.splice(0)) this.engine.removeContainer(id).catch(() => undefined);
        return [stalled(error)];
      }
    }
    const containers = new Set([...this.containers.splice(0), ...found.containers.map((container) => container.id)]);
    for (const id of containers) {
      try {
        await this.engine.removeContainer(id);
      } catch (error) {
        if (error instanceof EngineError) return [...problems, stalled(error)];
        problems.push(`container ${id.slice(0, 12)}: ${(error as Error).message}`);
      }
    }
    return problems;
  }
}
