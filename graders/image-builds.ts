// An image builds. When it does not, the student sees the failing instruction and what it printed,
// e.g. the compiler's error, rather than the whole build log.
import { DockerfileError, parseDockerfile, remoteSources, type Dockerfile } from '../runner/dockerfile/parser.js';
import { readDockerfile } from '../runner/dockerfile/read.js';
import type { BuildOutcome } from '../runner/engine/engine.js';
import type { SubmissionLocation } from '../runner/results.js';
import { string } from '../runner/spec/shapes.js';
import { formatDuration, formatSize, tail } from '../runner/text/format.js';
import type { FailedBuild } from './outcomes.js';
import { defineGrader, fail, locationIn, logOf, pass, type CheckContext } from './types.js';

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
    const location = await failingLine(built, context);
    return fail(built.reason, {
      ...logOf('build', built.build ? failureExcerpt(built.build) : undefined),
      hint: built.hint,
      ...(location ? { location } : {}),
    });
  },
});

/** The failing step's instruction and output: what a student needs to fix a broken build. */
export function failureExcerpt(build: BuildOutcome): string {
  const failing = build.steps.at(-1);
  if (!failing) return tail(build.log, 20);
  const output = failing.output.filter((line) => !/^ ---> |^Removing intermediate container/.test(line));
  return [`Step ${failing.index}: ${failing.instruction}`, ...output.slice(-25), build.error ?? ''].filter(Boolean).join('\n');
}

/** The line of the instruction build step `index` ran ("Step 3/8"): the builder numbers every instruction, the ARGs before the first FROM included. */
export function instructionLineOfStep(parsed: Dockerfile, index: number): number | undefined {
  return parsed.instructions[index - 1]?.line;
}

/**
 * Where in the Dockerfile a failed build points: the instruction whose step failed, the line a
 * parse error names, or a remote ADD (refused before building). The Dockerfile is read again
 * from the step's folder; a toolchain build ran a prefix of it, so its step numbers are the same.
 */
async function failingLine(built: FailedBuild, context: CheckContext): Promise<SubmissionLocation | undefined> {
  if (context.dir === undefined || built.dockerfile === undefined || built.environment) return undefined;
  const read = await readDockerfile(context.dir, built.dockerfile, built.dockerfile);
  if (!read.ok) return undefined;
  const at = (line: number | undefined) => (line ? locationIn(context.dirLabel, built.dockerfile!, line) : undefined);
  let parsed: Dockerfile;
  try {
    parsed = parseDockerfile(read.text);
  } catch (error) {
    if (error instanceof DockerfileError) return at(error.line);
    throw error;
  }
  const failing = built.build?.steps.at(-1);
  if (built.build) return built.build.timedOut || !failing ? undefined : at(instructionLineOfStep(parsed, failing.index));
  return at(remoteSources(parsed)[0]?.instruction.line);
}
