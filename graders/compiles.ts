// A program compiled cleanly: the compiler (run inside the submission's own toolchain image,
// never on the host) exited 0 and, unless allowed, printed no warning.
import path from 'node:path';
import type { SubmissionLocation } from '../runner/results.js';
import { oneOf, optional, string } from '../runner/spec/shapes.js';
import { statSubmissionFile } from '../runner/submission/file.js';
import { tail } from '../runner/text/format.js';
import { defineGrader, fail, locationIn, logOf, pass } from './types.js';

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
    const parsed = compilerDiagnostics(diagnostics);
    if (compiler.exitCode !== 0) {
      return fail(`${shown} failed (exit ${compiler.exitCode})`, {
        ...logOf('compiler', tail(diagnostics)),
        actual: `exit ${compiler.exitCode}`,
        expected: 'exit 0',
        ...(await firstInSubmission(parsed, ['error', 'fatal error'], context)),
      });
    }
    const warningLines = diagnostics.split('\n').filter((line) => /\bwarning:/i.test(line));
    if (warnings === 'forbid' && warningLines.length > 0) {
      return fail(`${shown} printed ${warningLines.length} warning${warningLines.length === 1 ? '' : 's'}`, {
        ...logOf('compiler', tail(diagnostics)),
        expected: 'no warnings',
        actual: warningLines[0],
        ...(await firstInSubmission(parsed, ['warning'], context)),
      });
    }
    return pass(`${shown} compiled ${warningLines.length ? `with ${warningLines.length} warning(s)` : 'without warnings'}`);
  },
});

/** One gcc or clang diagnostic: `hello.c:5:9: warning: unused variable 'x'` (the column is optional). */
export interface CompilerDiagnostic {
  file: string;
  line: number;
  column?: number;
  severity: string;
}

const DIAGNOSTIC = /^([^\s:][^:]*):(\d+):(?:(\d+):)? (warning|error|fatal error|note): /;

/** The diagnostics in a compiler's output, in order; other lines (`In function`, carets, the linker's) are passed over. */
export function compilerDiagnostics(output: string): CompilerDiagnostic[] {
  return output.split('\n').flatMap((text) => {
    const match = DIAGNOSTIC.exec(text);
    if (!match) return [];
    const [, file, line, column, severity] = match;
    return [{ file: file!, line: Number(line), ...(column ? { column: Number(column) } : {}), severity: severity! }];
  });
}

/**
 * The place of the first diagnostic of `severities` (else of any severity) in a file of the
 * submission: a relative path, inside the step's folder, that is a file there. A system header
 * (`/usr/include/stdio.h`) or a file the compiler made up is no place in the student's work.
 */
async function firstInSubmission(
  diagnostics: CompilerDiagnostic[],
  severities: string[],
  context: { dir: string | undefined; dirLabel: string },
): Promise<{ location?: SubmissionLocation }> {
  const { dir } = context;
  if (dir === undefined) return {};
  const ordered = [...diagnostics.filter((each) => severities.includes(each.severity)), ...diagnostics];
  for (const diagnostic of ordered) {
    const file = path.posix.normalize(diagnostic.file);
    if (path.posix.isAbsolute(file) || file === '..' || file.startsWith('../')) continue;
    if (!(await statSubmissionFile(dir, file, { expect: 'file' })).ok) continue;
    return { location: locationIn(context.dirLabel, file, diagnostic.line, diagnostic.column) };
  }
  return {};
}
