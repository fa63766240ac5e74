// An image's size: under (or over) an absolute bound, and as a ratio to another image's size.
import { number, optional, refine, size, string } from '../runner/spec/shapes.js';
import { formatPercent, formatSize } from '../runner/text/format.js';
import type { BuiltImage } from './outcomes.js';
import { defineGrader, fail, pass, type ActionUse } from './types.js';

/** The engine's own listing figure where it differs, so the student can match it to the grader's. */
function listedNote(built: BuiltImage): string {
  const { sizeBytes, listedSizeBytes, listedSizeWhy } = built;
  if (listedSizeBytes === undefined || formatSize(listedSizeBytes) === formatSize(sizeBytes)) return '';
  return ` (your \`docker image ls\` shows ${formatSize(listedSizeBytes)}${listedSizeWhy ? `: ${listedSizeWhy}` : ''})`;
}

export const imageSize = defineGrader({
  kind: 'image-size',
  summary: "An image's size against absolute bounds and against another image",
  fields: {
    image: string(),
    max: optional(size()),
    min: optional(size()),
    ratioTo: optional(string()),
    maxRatio: optional(refine(number({ min: 0 }), (value) => (value > 0 ? undefined : 'maxRatio must be above 0'))),
    minRatio: optional(number({ min: 0 })),
  },
  uses: ({ image, ratioTo }) => {
    const uses: ActionUse[] = [{ kind: 'build', name: image }];
    if (ratioTo) uses.push({ kind: 'build', name: ratioTo });
    return uses;
  },
  async run({ image, max, min, ratioTo, maxRatio, minRatio }, context) {
    const built = context.outcome('build', image);
    if (!built.ok) return fail(built.reason);
    const actual = built.sizeBytes;
    // Reports draw the bound beside the image's size; they cannot read it from the spec.
    const bound = max !== undefined ? { imageBound: { image, maxBytes: max } } : {};
    const problems: string[] = [];
    const bounds: string[] = [];
    if (max !== undefined) {
      bounds.push(`<= ${formatSize(max)}`);
      if (actual > max) problems.push(`${formatSize(actual)} is over the ${formatSize(max)} limit`);
    }
    if (min !== undefined) {
      bounds.push(`>= ${formatSize(min)}`);
      if (actual < min) problems.push(`${formatSize(actual)} is under the ${formatSize(min)} minimum`);
    }
    let comparison = '';
    if (ratioTo) {
      const other = context.outcome('build', ratioTo);
      if (!other.ok) return fail(other.reason, bound);
      const ratio = actual / other.sizeBytes;
      comparison = `${formatPercent(ratio)} of ${ratioTo} (${formatSize(other.sizeBytes)})`;
      if (maxRatio !== undefined) {
        bounds.push(`<= ${formatPercent(maxRatio)} of ${ratioTo}`);
        if (ratio > maxRatio) problems.push(`it is ${comparison}, more than ${formatPercent(maxRatio)}`);
      }
      if (minRatio !== undefined) {
        bounds.push(`>= ${formatPercent(minRatio)} of ${ratioTo}`);
        if (ratio < minRatio) problems.push(`it is ${comparison}, less than ${formatPercent(minRatio)}`);
      }
    }
    const facts = { ...bound, expected: bounds.join(' and '), actual: comparison ? `${formatSize(actual)}, ${comparison}` : formatSize(actual) };
    const note = listedNote(built);
    return problems.length === 0
      ? pass(`${image} is ${formatSize(actual)}${comparison ? `, ${comparison}` : ''}${note}`, facts)
      : fail(`${image}: ${problems.join('; ')}${note}`, facts);
  },
});
