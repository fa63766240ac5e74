// Every grader kind a spec may name, by its `kind`. Adding a kind means adding its file and a
// line here; the spec loader rejects any kind not listed.
import { buildCached } from './build-cached.js';
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
