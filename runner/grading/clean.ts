// `grade clean`: removes what killed runs left behind, found by the grade.tool label and nothing
// else. Objects of a run still grading are left alone unless `all` is asked: on this machine the
// owner's pid tells; a run of another machine sharing the engine counts as alive for hours.
// `--cache` also gives back the layer cache gradings built, as the image ledger recorded it.
import type { DockerEngine } from '../engine/engine.js';
import type { ImageLedger } from './image-ledger.js';
import { LABEL, OURS, runMayBeGrading } from './session.js';

export interface CleanReport {
  removed: string[];
  inUse: string[];
}

/** A run on another machine sharing the engine counts as alive until its objects are this old. */
export const OTHER_HOST_RUN_MS = 6 * 60 * 60_000;

export async function cleanLeftovers(engine: DockerEngine, options: { all?: boolean; only?: string; otherHostMs?: number } = {}): Promise<CleanReport> {
  const report: CleanReport = { removed: [], inUse: [] };
  // `only` narrows the sweep to one more label (`key=value`); it never widens it beyond ours.
  const listed = await engine.listOurs(OURS);
  const [key, value] = (options.only ?? '').split('=');
  const mine = <T extends { labels: Record<string, string> }>(objects: T[]) => (key ? objects.filter((object) => object.labels[key] === value) : objects);
  const containers = mine(listed.containers);
  const images = mine(listed.images);
  const live = ({ labels, createdAt }: { labels: Record<string, string>; createdAt?: number }) =>
    !options.all && runMayBeGrading(labels[LABEL.owner], createdAt, options.otherHostMs ?? OTHER_HOST_RUN_MS);
  for (const container of containers) {
    const shown = `container ${container.name || container.id.slice(0, 12)}`;
    if (live(container)) {
      report.inUse.push(shown);
      continue;
    }
    await engine.removeContainer(container.id);
    report.removed.push(shown);
  }
  for (const image of images) {
    const shown = `image ${image.tags.join(', ') || image.id.replace(/^sha256:/, '').slice(0, 12)}`;
    if (live(image)) {
      report.inUse.push(shown);
      continue;
    }
    // Images of older versions of grade, which labelled its builds.
    for (const ref of image.tags.length ? image.tags : [image.id]) await engine.removeImage(ref);
    report.removed.push(shown);
  }
  return report;
}

export interface CacheReport {
  /** Images removed, by id. */
  removed: string[];
  /** Images still used by a container, a child image or a tag that is not ours: they stay. */
  inUse: string[];
}

/**
 * `grade clean --cache`: removes every image a grading created (the ledger's), newest first so
 * children go before their parents. What is still in use stays, and stays in the ledger.
 */
export async function cleanCache(engine: DockerEngine, ledger: ImageLedger): Promise<CacheReport> {
  const report: CacheReport = { removed: [], inUse: [] };
  for (const id of (await ledger.read()).reverse()) {
    const outcome = await engine.removeImage(id, { keepTagged: true });
    if (outcome === 'removed') report.removed.push(id);
    else if (outcome === 'in-use') report.inUse.push(id);
  }
  await ledger.replace([...report.inUse].reverse());
  return report;
}
