// The JSON report: the ExerciseResult as it is, one document.
import type { ExerciseResult } from '../runner/results.js';

export function jsonReport(result: ExerciseResult): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}
