// Where the exercises live: one folder per exercise under a root.
import { readdir } from 'node:fs/promises';

/** The exercise folders under `root`, by name. */
export async function exerciseNames(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}
