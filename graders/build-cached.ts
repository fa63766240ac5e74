// A rebuild came entirely from the layer cache: every instruction after FROM said "Using cache".
// The LABEL steps the builder appends for the grader's own labels are not the student's, so they
// are left out.
import type { BuildStep } from '../runner/engine.js';
import { string } from '../runner/schema.js';
import { defineGrader, fail, pass } from './types.js';

export const buildCached = defineGrader({
  kind: 'build-cached',
  summary: 'Every layer of a build came from the cache',
  fields: { image: string() },
  uses: ({ image }) => [{ kind: 'build', name: image }],
  async run({ image }, context) {
    const built = context.outcome('build', image);
    if (!built.ok) return fail(built.reason);
    const steps = studentSteps(built.build.steps);
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

/** The build's steps without the LABEL steps the builder appends, one per label of the grader's. */
export function studentSteps(steps: BuildStep[]): BuildStep[] {
  let end = steps.length;
  while (end > 0 && /^LABEL\s+"?grade\.[\w.-]+"?=\S*\s*$/i.test(steps[end - 1]!.instruction)) end--;
  return steps.slice(0, end);
}
