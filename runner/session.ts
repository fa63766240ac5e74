// One grading run's identity and belongings: the run id that names and labels every image and
// container it creates, and the list of them, removed when grading ends, pass or fail.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { DockerEngine, Labels } from './engine.js';

export const LABEL = {
  tool: 'grade.tool',
  run: 'grade.run',
  /** host:pid of the process grading, so `grade clean` leaves live runs alone. Its key sorts
   *  right after `grade.run`: the builder's per-label images then all carry the run label. */
  owner: 'grade.run-owner',
  exercise: 'grade.exercise',
  submission: 'grade.submission',
} as const;

/** The label filter that finds everything any run of grade created. */
export const OURS = `${LABEL.tool}=grade`;

export function ownerOf(pid: number): string {
  return `${hostname().replace(/[^\w.-]+/g, '_')}:${pid}`;
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

const IMAGE_REMOVAL_ATTEMPTS = 15;

export class GradingSession {
  readonly runId: string;
  readonly labels: Labels;
  /** Base images that could not be pulled, so a run asks the registry once per image. */
  readonly pullFailures = new Map<string, string>();
  private readonly images: string[] = [];
  private readonly containers: string[] = [];
  private helpers = 0;

  constructor(
    private readonly engine: DockerEngine,
    exercise: string,
    submission: string,
    runId = randomBytes(5).toString('hex'),
  ) {
    this.runId = runId;
    this.labels = {
      [LABEL.tool]: 'grade',
      [LABEL.run]: runId,
      [LABEL.owner]: ownerOf(process.pid),
      [LABEL.exercise]: exercise,
      // Label values are shown in build logs: keep them one safe word.
      [LABEL.submission]: submission.replace(/[^\w.-]+/g, '_').slice(0, 64) || 'submission',
    };
  }

  /** `grade-<run>-<name>`: unique per run, so parallel runs and the student's own tags never collide. */
  imageTag(name: string): string {
    return `grade-${this.runId}-${name}:latest`;
  }

  containerName(name: string): string {
    return `grade-${this.runId}-${name}`;
  }

  helperName(purpose: string): string {
    return this.containerName(`${purpose}-${++this.helpers}`);
  }

  trackImage(ref: string): void {
    this.images.push(ref);
  }

  trackContainer(id: string): void {
    this.containers.push(id);
  }

  /** Removes what this run created; returns what could not be removed, for a warning. */
  async cleanup(options: { keepImages: boolean }): Promise<string[]> {
    const problems: string[] = [];
    // Containers this run started, and any a run abandoned after its fallback timeout.
    const found = await this.engine.listOurs(`${LABEL.run}=${this.runId}`).catch(() => ({ containers: [], images: [] }));
    const containers = new Set([...this.containers.splice(0), ...found.containers.map((container) => container.id)]);
    for (const id of containers) {
      await this.engine.removeContainer(id).catch((error: Error) => problems.push(`container ${id.slice(0, 12)}: ${error.message}`));
    }
    if (!options.keepImages) {
      // Tagged images this run built, then any untagged one a build interrupted mid-way left.
      const untagged = found.images.filter((image) => image.tags.length === 0).map((image) => image.id);
      for (const ref of [...this.images.splice(0).reverse(), ...untagged]) {
        const problem = await this.removeImage(ref);
        if (problem) problems.push(`image ${ref}: ${problem}`);
      }
    }
    return problems;
  }

  /** A container still being removed holds its image for a moment: retry a few times. */
  private async removeImage(ref: string): Promise<string | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.engine.removeImage(ref, { key: LABEL.run, value: this.runId });
        return undefined;
      } catch (error) {
        if (attempt >= IMAGE_REMOVAL_ATTEMPTS || !/conflict|is using|being used/i.test((error as Error).message)) return (error as Error).message;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  keptImages(): string[] {
    return [...this.images];
  }
}
