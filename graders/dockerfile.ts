// The structure of a Dockerfile: how many stages, what the final stage starts from, and whether
// it copies from an earlier stage (`COPY --from=build` and `COPY --from=0` both count).
import { DockerfileError, finalStageCopiesFrom, parseDockerfile } from '../runner/dockerfile/parser.js';
import { boolean, number, optional, string } from '../runner/spec/shapes.js';
import { readDockerfile } from '../runner/dockerfile/read.js';
import { defineGrader, fail, locationIn, pass } from './types.js';

export const dockerfile = defineGrader({
  kind: 'dockerfile',
  summary: 'A Dockerfile has the expected stages',
  fields: {
    path: optional(string(), 'Dockerfile'),
    minStages: optional(number({ min: 1, integer: true })),
    finalFrom: optional(string()),
    finalCopiesFromStage: optional(boolean(), false),
  },
  uses: () => [],
  async run({ path: relative, minStages, finalFrom, finalCopiesFromStage }, { dir, dirLabel }) {
    if (dir === undefined) return fail(`no folder to look in: ${dirLabel} does not exist`);
    const shown = `${dirLabel}${relative}`;
    const read = await readDockerfile(dir, relative, shown);
    if (!read.ok) return fail(read.reason);
    const { text } = read;
    let parsed: ReturnType<typeof parseDockerfile>;
    try {
      parsed = parseDockerfile(text);
    } catch (error) {
      if (error instanceof DockerfileError) return fail(error.in(shown), error.line ? { location: locationIn(dirLabel, relative, error.line) } : {});
      throw error;
    }
    const { stages } = parsed;
    const final = stages.at(-1)!;
    const problems: string[] = [];
    // Every problem is the final stage's: too few stages, the wrong base, nothing copied. Its FROM line is the place.
    if (minStages !== undefined && stages.length < minStages) {
      problems.push(`has ${stages.length} stage${stages.length === 1 ? '' : 's'}, needs at least ${minStages} (one FROM per stage)`);
    }
    if (finalFrom !== undefined && final.base.toLowerCase() !== finalFrom.toLowerCase()) {
      problems.push(`its final stage starts FROM ${final.base} (line ${final.line}), not FROM ${finalFrom}`);
    }
    const sources = finalStageCopiesFrom(parsed);
    if (finalCopiesFromStage && sources.length === 0) {
      problems.push(`its final stage (line ${final.line}) copies nothing from an earlier stage: use COPY --from=<stage>`);
    }
    const summary = `${stages.length} stage${stages.length === 1 ? '' : 's'} (${stages.map((stage) => stage.name ?? stage.base).join(', ')})`;
    return problems.length === 0
      ? pass(
          `${shown} has ${summary}${sources.length ? `; the final stage copies from ${sources.map((index) => stages[index]!.name ?? `stage ${index}`).join(', ')}` : ''}`,
        )
      : fail(`${shown} ${problems.join('; ')}`, { actual: summary, location: locationIn(dirLabel, relative, final.line) });
  },
});
