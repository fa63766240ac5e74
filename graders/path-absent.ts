// Paths that must not be in an image, e.g. no compiler left in a final image. Looked up through
// the engine's archive API on a container that is created but never started, so it works for any
// image, `FROM scratch` included.
import { list, string } from '../runner/spec/shapes.js';
import { defineGrader, fail, pass } from './types.js';

export const pathAbsent = defineGrader({
  kind: 'path-absent',
  summary: 'Paths are absent from an image',
  fields: {
    image: string(),
    paths: list(string({ pattern: /^\//, patternName: 'an absolute path in the image' }), { min: 1 }),
  },
  uses: ({ image }) => [{ kind: 'build', name: image }],
  async run({ image, paths }, context) {
    const built = context.outcome('build', image);
    if (!built.ok) return fail(built.reason);
    const present = await context.engine.pathsPresent(built.ref, paths, context.helper('probe').labels);
    return present.length === 0
      ? pass(`${image} has none of ${paths.join(', ')}`)
      : fail(`${image} still contains ${present.join(', ')}`, { expected: `none of ${paths.join(', ')}`, actual: present.join(', ') });
  },
});
