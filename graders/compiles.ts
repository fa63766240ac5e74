// A program compiled cleanly: the compiler (run inside the submission's own toolchain image,
// never on the host) exited 0 and, unless allowed, printed no warning.
import { oneOf, optional, string } from '../runner/spec/shapes.js';
import { tail } from '../runner/text/format.js';
import { defineGrader, fail, logOf, pass } from './types.js';

export const compiles = defineGrader({
  kind: 'compiles',
  summary: 'A compile action succeeded without warnings',
  fields: {
    compile: string(),
    warnings: optional(oneOf(['forbid', 'allow'] as const), 'forbid'),
  },
  uses: ({ compile }) => [{ kind: 'compile', name: compile }],
  async run({ compile, warnings }, context) {
    const program = context.outcome('compile', compile);
    if (!program.ok) return fail(program.reason);
    const { compiler, command } = program;
    const shown = command.join(' ');
    const diagnostics = [compiler.stderr.text, compiler.stdout.text].filter(Boolean).join('\n').trim();
    if (compiler.timedOut) return fail(`${shown} timed out after ${Math.round(context.limits.runTimeoutMs / 1000)} s`);
    if (compiler.startError) return fail(`could not start the compiler: ${compiler.startError}`);
    if (compiler.exitCode !== 0) {
      return fail(`${shown} failed (exit ${compiler.exitCode})`, {
        ...logOf('compiler', tail(diagnostics)),
        actual: `exit ${compiler.exitCode}`,
        expected: 'exit 0',
      });
    }
    const warningLines = diagnostics.split('\n').filter((line) => /\bwarning:/i.test(line));
    if (warnings === 'forbid' && warningLines.length > 0) {
      return fail(`${shown} printed ${warningLines.length} warning${warningLines.length === 1 ? '' : 's'}`, {
        ...logOf('compiler', tail(diagnostics)),
        expected: 'no warnings',
        actual: warningLines[0],
      });
    }
    return pass(`${shown} compiled ${warningLines.length ? `with ${warningLines.length} warning(s)` : 'without warnings'}`);
  },
});
