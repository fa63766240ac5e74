// A rebuild came entirely from the layer cache: every instruction after FROM said "Using cache".
// It reads the builder's output, so it never passes on none: a build whose output yields no step
// at all (an engine whose builder speaks another dialect) is `error`, not judged.
import { string } from '../runner/spec/shapes.js';
import { defineGrader, fail, logOf, pass } from './types.js';

export const buildCached = defineGrader({
  kind: 'build-cached',
  summary: 'Every layer of a build came from the cache',
  fields: { image: string() },
  uses: ({ image }) => [{ kind: 'build', name: image }],
  async run({ image }, context) {
    const built = context.outcome('build', image);
    if (!built.ok) return fail(built.reason);
    const { steps } = built.build;
    if (steps.length === 0) {
      return {
        status: 'error',
        message:
          'the build output was not understood: no step was recognised in it, so whether it came from the cache is unknown (is the engine using another builder than the classic one?)',
        ...logOf('build', built.build.log),
      };
    }
    const rebuilt = steps.filter((step) => !step.cached && !/^FROM\s/i.test(step.instruction));
    const layers = steps.filter((step) => !/^FROM\s/i.test(step.instruction)).length;
    return rebuilt.length === 0
      ? pass(`all ${layers} instructions after FROM came from the cache`)
      : fail(`${rebuilt.length} of ${layers} instructions were rebuilt instead of coming from the cache`, {
          expected: 'every step "Using cache"',
          actual: rebuilt.map((step) => `Step ${step.index}: ${step.instruction}`).join('\n'),
        });
  },
});
