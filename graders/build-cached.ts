// A rebuild came entirely from the layer cache: every instruction after FROM said "Using cache".
import { string } from '../runner/spec/shapes.js';
import { defineGrader, fail, pass } from './types.js';

export const buildCached = defineGrader({
  kind: 'build-cached',
  summary: 'Every layer of a build came from the cache',
  fields: { image: string() },
  uses: ({ image }) => [{ kind: 'build', name: image }],
  async run({ image }, context) {
    const built = context.outcome('build', image);
    if (!built.ok) return fail(built.reason);
    const { steps } = built.build;
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
