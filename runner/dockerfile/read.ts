// A student's Dockerfile read from their folder: safely (see submission/file.ts) and only up to a
// size no real Dockerfile comes near.
import { readSubmissionFile, type Refused } from '../submission/file.js';

/** Larger than any Dockerfile a student writes; a bigger file is not read at all. */
const MAX_DOCKERFILE_BYTES = 1024 * 1024;

/**
 * The text of the Dockerfile `relative` in the step's folder `dir`, or why it cannot be read (not
 * found, a FIFO or device, a link out of the folder, too large), named as `shown`.
 */
export async function readDockerfile(dir: string, relative: string, shown: string): Promise<{ ok: true; text: string } | Refused> {
  const read = await readSubmissionFile(dir, relative, { maxBytes: MAX_DOCKERFILE_BYTES, what: 'a Dockerfile', shown });
  return read.ok ? { ok: true, text: read.bytes.toString('utf8') } : read;
}
