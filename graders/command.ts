// A program's exit code, stdout and stderr: the run action ran it in a container with the
// grader's limits; this decides whether what it did is what the exercise asks.
import type { RunOutcome } from '../runner/engine/engine.js';
import { number, optional, string } from '../runner/spec/shapes.js';
import { formatDuration, quoteOutput, tail } from '../runner/text/format.js';
import { describeMatcher, matches, outputMatcher } from './output-matcher.js';
import { defineGrader, fail, logOf, pass, type CheckContext, type Verdict } from './types.js';

export const command = defineGrader({
  kind: 'command',
  summary: "A run action's exit code, stdout and stderr",
  fields: {
    run: string(),
    exitCode: optional(number({ integer: true, min: 0, max: 255 }), 0),
    stdout: optional(outputMatcher()),
    stderr: optional(outputMatcher()),
  },
  uses: ({ run }) => [{ kind: 'run', name: run }],
  async run({ run, exitCode, stdout, stderr }, context) {
    const finished = context.outcome('run', run);
    if (!finished.ok) return fail(finished.reason);
    const shown = finished.command.length ? finished.command.join(' ') : `the image's default command`;
    if (finished.run.startError || finished.run.exitCode === 127) {
      const program = await unrunnableProgram(`${finished.run.startError ?? ''}\n${finished.run.stderr.text}`, finished.image, context);
      if (program) return dynamicallyLinked(program, `${shown} could not run`, tail(finished.run.stderr.text || finished.run.startError || ''));
    }
    const broken = abnormalEnd(finished.run, shown, context.limits.runTimeoutMs);
    if (broken) return broken;
    const output = [finished.run.stdout.text, finished.run.stderr.text].filter(Boolean).join('\n');
    if (finished.run.exitCode !== exitCode) {
      return fail(`${shown} exited with ${finished.run.exitCode}, expected ${exitCode}`, {
        expected: `exit ${exitCode}`,
        actual: `exit ${finished.run.exitCode}`,
        ...logOf('program', output ? tail(output) : undefined),
      });
    }
    for (const [stream, matcher] of [
      ['stdout', stdout],
      ['stderr', stderr],
    ] as const) {
      if (!matcher) continue;
      const captured = finished.run[stream];
      if (!matches(matcher, captured)) {
        const cut = captured.truncated ? ` (cut at ${Buffer.byteLength(captured.text)} of ${captured.bytes} bytes)` : '';
        return fail(`${shown} printed ${quoteOutput(captured.text)} on ${stream}${cut}, expected ${describeMatcher(matcher)}`, {
          expected: 'equals' in matcher ? matcher.equals : describeMatcher(matcher),
          actual: captured.text,
        });
      }
    }
    return pass(
      `${shown} exited ${exitCode}${stdout ? ` and printed ${quoteOutput(finished.run.stdout.text)}` : ''} in ${formatDuration(finished.run.durationMs)}`,
    );
  },
});

/** A run that did not end by itself: never started, timed out, or was killed for memory. */
export function abnormalEnd(run: RunOutcome, shown: string, timeoutMs: number): Verdict | undefined {
  if (run.startError) {
    return fail(`${shown} could not start: ${run.startError}`, { hint: startErrorHint(run.startError) });
  }
  if (run.timedOut) {
    return fail(`${shown} timed out after ${formatDuration(timeoutMs)} and was killed`, {
      hint: 'The program must finish by itself: look for a loop that never ends, or a read from input that never comes.',
    });
  }
  if (run.oomKilled) {
    return fail(`${shown} was killed for using more memory than allowed`, { hint: 'Look for memory allocated in a loop and never freed.' });
  }
  return undefined;
}

// How "not found" reads when a program cannot be executed: from a shell (`CMD /app/hello`: busybox
// and dash, exit 127) and from runc 1.1 (`CMD ["/sleep"]`). Both also mean a missing program.
const NOT_FOUND = [/^(?:\/bin\/)?sh: (?:\d+: )?(\/\S+): not found$/m, /\bexec (\/\S+): no such file or directory/];

/**
 * The program a "not found" names, when the image does hold it: then what is missing is its
 * dynamic loader and C library, and saying "not found" would send the student the wrong way.
 */
export async function unrunnableProgram(output: string, image: string, context: CheckContext): Promise<string | undefined> {
  const program = NOT_FOUND.map((pattern) => pattern.exec(output)?.[1]).find((found) => found !== undefined);
  if (!program) return undefined;
  const present = await context.engine.pathsPresent(image, [program], context.helper('probe').labels);
  return present.includes(program) ? program : undefined;
}

export const DYNAMIC_LINKING_HINT =
  'Link the program statically (gcc -static ...), or start the final stage FROM a base image that has the C library ' +
  "it was compiled against (the build stage's base, e.g. the same alpine).";

export function dynamicallyLinked(program: string, what: string, log?: string): Verdict {
  return fail(`${what}: ${program} is in the image, but it is dynamically linked and the image has no C library or loader to run it`, {
    hint: DYNAMIC_LINKING_HINT,
    ...logOf('program', log),
  });
}

/** Why a binary cannot be executed, in words a student can act on. */
export function startErrorHint(error: string): string | undefined {
  if (/exec format error/i.test(error)) {
    return 'The file is not a program this machine can run: was it built for another CPU architecture, or is it a script without a #! line?';
  }
  if (/no such file or directory/i.test(error)) {
    return 'The program or its dynamic loader is missing from the image. A binary copied into a scratch or minimal image must be linked statically (gcc -static).';
  }
  if (/permission denied/i.test(error)) return 'The file is not executable: check its mode (chmod +x) in the Dockerfile.';
  return undefined;
}
