// Finding checks in an ExerciseResult by `step/check`, the id a reader sees in every report.
import type { CheckResult, ExerciseResult } from '../../runner/results.js';

/** Every check of a result, keyed `step/check`, in the order the run graded them. */
export function checksById(result: ExerciseResult): Record<string, CheckResult> {
  return Object.fromEntries(result.steps.flatMap((step) => step.checks.map((check) => [`${step.id}/${check.id}`, check])));
}

/** The check `step/check` of a result; a test that names a check the result lacks fails here, naming the ones it has. */
export function checkOf(result: ExerciseResult, id: string): CheckResult {
  const checks = checksById(result);
  const found = checks[id];
  if (!found) throw new Error(`no check ${id} in the result (checks: ${Object.keys(checks).join(', ')})`);
  return found;
}
