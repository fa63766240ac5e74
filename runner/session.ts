// One grading run's identity and belongings: the run id that names and labels every image and
// container it creates, and the list of them, removed when grading ends, pass or fail.
import { randomBytes } from 'node:crypto';
import type { DockerEngine, Labels } from './engine.js';

export const LABEL = {
  tool: 'grade.tool',
  run: 'grade.run',
  exercise: 'grade.exercise',
  submission: 'grade.submission',
} as const;

/** The label filter that finds everything any run of grade created. */
export const OURS = `${LABEL.tool}=grade`;

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
    for (const id of this.containers.splice(0)) {
      await this.engine.removeContainer(id).catch((error: Error) => problems.push(`container ${id.slice(0, 12)}: ${error.message}`));
    }
    if (!options.keepImages) {
      for (const ref of this.images.splice(0).reverse()) {
        await this.engine.removeImage(ref, { key: LABEL.run, value: this.runId }).catch((error: Error) => problems.push(`image ${ref}: ${error.message}`));
      }
    }
    return problems;
  }

  keptImages(): string[] {
    return [...this.images];
  }
}
