// An image builds. When it does not, the student sees the failing instruction and what it printed,
// e.g. the compiler's error, rather than the whole build log.
import type { BuildOutcome } from '../runner/engine/engine.js';
import { string } from '../runner/spec/shapes.js';
import { formatDuration, formatSize, tail } from '../runner/text/format.js';
import { defineGrader, fail, logOf, pass } from './types.js';

export const imageBuilds = defineGrader({
  kind: 'image-builds',
  summary: 'A build action produced an image',
  fields: { image: string() },
  uses: ({ image }) => [{ kind: 'build', name: image, reportsFailure: true }],
  async run({ image }, context) {
    const built = context.outcome('build', image);
    const what = (dockerfile?: string, target?: string) => `${context.dirLabel}${dockerfile ?? 'Dockerfile'}${target ? ` (--target ${target})` : ''}`;
    if (built.ok) {
      return pass(`built ${what(built.dockerfile, built.target)} in ${formatDuration(built.build.durationMs)}: ${formatSize(built.sizeBytes)}`);
    }
    return fail(built.reason, { ...logOf('build', built.build ? failureExcerpt(built.build) : undefined), hint: built.hint });
  },
});

/** The failing step's instruction and output: what a student needs to fix a broken build. */
export function failureExcerpt(build: BuildOutcome): string {
  const failing = build.steps.at(-1);
  if (!failing) return tail(build.log, 20);
  const output = failing.output.filter((line) => !/^ ---> |^Removing intermediate container/.test(line));
  return [`Step ${failing.index}: ${failing.instruction}`, ...output.slice(-25), build.error ?? ''].filter(Boolean).join('\n');
}
