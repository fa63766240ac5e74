// A file (or folder) the student must have written exists in the step's folder.
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { list, oneOf, optional, string } from '../runner/schema.js';
import { defineGrader, fail, pass } from './types.js';

export const fileExists = defineGrader({
  kind: 'file-exists',
  summary: 'Files or folders exist in the step folder',
  fields: {
    paths: list(string({ pattern: /^(?!\/)(?!.*(^|\/)\.\.(\/|$)).+$/, patternName: 'a path inside the step folder' }), { min: 1 }),
    type: optional(oneOf(['file', 'folder'] as const), 'file'),
  },
  uses: () => [],
  async run({ paths, type }, { dir, dirLabel }) {
    if (dir === undefined) return fail(`no folder to look in: ${dirLabel} does not exist`);
    const missing: string[] = [];
    for (const relative of paths) {
      const found = await lstat(path.join(dir, relative)).catch(() => undefined);
      const right = type === 'file' ? found?.isFile() : found?.isDirectory();
      if (!right) missing.push(found ? `${dirLabel}${relative} is not a ${type === 'file' ? 'regular file' : 'folder'}` : `${dirLabel}${relative} not found`);
    }
    return missing.length === 0
      ? pass(`found ${paths.map((relative) => `${dirLabel}${relative}`).join(', ')}`)
      : fail(missing.join('; '), { expected: paths.join(', ') });
  },
});
