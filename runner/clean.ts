// `grade clean`: removes what killed runs left behind, found by the grade.tool label and nothing
// else. Objects of a run still grading on this machine are left alone unless `all` is asked.
import type { DockerEngine } from './engine.js';
import { LABEL, OURS, ownerAlive } from './session.js';

export interface CleanReport {
  removed: string[];
  inUse: string[];
}

export async function cleanLeftovers(engine: DockerEngine, options: { all?: boolean; only?: string } = {}): Promise<CleanReport> {
  const report: CleanReport = { removed: [], inUse: [] };
  // `only` narrows the sweep to one more label (`key=value`); it never widens it beyond ours.
  const listed = await engine.listOurs(OURS);
  const [key, value] = (options.only ?? '').split('=');
  const mine = <T extends { labels: Record<string, string> }>(objects: T[]) => (key ? objects.filter((object) => object.labels[key] === value) : objects);
  const containers = mine(listed.containers);
  const images = mine(listed.images);
  const live = (labels: Record<string, string>) => !options.all && ownerAlive(labels[LABEL.owner]);
  for (const container of containers) {
    const shown = `container ${container.name || container.id.slice(0, 12)}`;
    if (live(container.labels)) {
      report.inUse.push(shown);
      continue;
    }
    await engine.removeContainer(container.id);
    report.removed.push(shown);
  }
  for (const image of images) {
    const shown = `image ${image.tags.join(', ') || image.id.replace(/^sha256:/, '').slice(0, 12)}`;
    if (live(image.labels)) {
      report.inUse.push(shown);
      continue;
    }
    const run = image.labels[LABEL.run];
    for (const ref of image.tags.length ? image.tags : [image.id]) {
      await engine.removeImage(ref, run ? { key: LABEL.run, value: run } : undefined);
    }
    report.removed.push(shown);
  }
  return report;
}
