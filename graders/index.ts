// Every grader kind a spec may name, by its `kind`. Adding a kind means adding its file and a
// line here; the spec loader rejects any kind not listed.
import { buildCached } from './build-cached.js';
import type { GraderKind } from './types.js';
import { command } from './command.js';
import { compiles } from './compiles.js';
import { containerRunning } from './container-running.js';
import { dockerfile } from './dockerfile.js';
import { fileExists } from './file-exists.js';
import { imageBuilds } from './image-builds.js';
import { imageSize } from './image-size.js';
import { pathAbsent } from './path-absent.js';
import { processList } from './process-list.js';
import { rootListing } from './root-listing.js';

export const graders = [
  fileExists,
  dockerfile,
  compiles,
  imageBuilds,
  command,
  imageSize,
  pathAbsent,
  buildCached,
  containerRunning,
  processList,
  rootListing,
] as const;

const graderByKind = new Map<string, GraderKind>(graders.map((grader) => [grader.kind, grader as unknown as GraderKind]));

/** Every kind a spec may name. */
export const graderKinds: readonly string[] = graders.map((grader) => grader.kind);

/** The grader of a check kind, or undefined for a kind nobody registered. */
export function findGrader(kind: string): GraderKind | undefined {
  return graderByKind.get(kind);
}

/** The grader of a check kind. A loaded check's kind always has one: the loader refuses the rest. */
export function graderOf(kind: string): GraderKind {
  const grader = graderByKind.get(kind);
  if (!grader) throw new Error(`no grader for check kind "${kind}" (kinds: ${graderKinds.join(', ')})`);
  return grader;
}
