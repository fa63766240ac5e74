// Where the package lives, whether it runs compiled (dist/runner) or from source (runner/).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  let dir = from;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`grade: no package.json above ${from}`);
    dir = parent;
  }
  return dir;
}

export const packageRoot = findRoot(path.dirname(fileURLToPath(import.meta.url)));
export const exercisesRoot = path.join(packageRoot, 'exercises');
