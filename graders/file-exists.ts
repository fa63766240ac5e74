// A file (or folder) the student must have written exists in the step's folder. A link to one
// inside the folder counts; a link out of it does not.
import { list, oneOf, optional, string } from '../runner/spec/shapes.js';
import { statSubmissionFile } from '../runner/submission/file.js';
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
      const found = await statSubmissionFile(dir, relative, { expect: type, shown: `${dirLabel}${relative}` });
      if (!found.ok) missing.push(found.reason);
    }
    return missing.length === 0
      ? pass(`found ${paths.map((relative) => `${dirLabel}${relative}`).join(', ')}`)
      : fail(missing.join('; '), { expected: paths.join(', ') });
  },
});
