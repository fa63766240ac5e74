// The compiles grader over the outcome of a compile action: warnings, errors, timeouts.
import t from 'tap';
import { compiles } from '../../../graders/compiles.js';
import type { RunOutcome } from '../../../runner/engine/engine.js';
import type { OutcomeByKind } from '../../../graders/outcomes.js';
import { contextOf } from '../../support/graders.js';
import { captured, runOutcome } from '../../support/fake-engine.js';

t.test('compiles', async (t) => {
  const gcc = ['gcc', '-Wall', 'hello.c', '-o', 'hello'];
  const compiled = (compiler: Partial<RunOutcome>): OutcomeByKind['compile'] => ({
    ok: true,
    image: 'toolchain',
    command: gcc,
    compiler: runOutcome(compiler),
    binaryPath: '/grade/work/hello',
  });
  const run = (outcome: OutcomeByKind['compile'], warnings: 'forbid' | 'allow' = 'forbid') =>
    compiles.run({ compile: 'hello', warnings }, contextOf({ hello: outcome }));
  const warning = "hello.c:3:1: warning: return type defaults to 'int' [-Wimplicit-int]";

  t.same(await run(compiled({})), { status: 'pass', message: 'gcc -Wall hello.c -o hello compiled without warnings' });
  t.same(await run(compiled({ stderr: captured(`${warning}\n    3 | main() {}\n`) })), {
    status: 'fail',
    message: 'gcc -Wall hello.c -o hello printed 1 warning',
    log: `${warning}\n    3 | main() {}`,
    logKind: 'compiler',
    expected: 'no warnings',
    actual: warning,
  });
  t.same(await run(compiled({ stderr: captured(`${warning}\n${warning}\n`) }), 'allow'), {
    status: 'pass',
    message: 'gcc -Wall hello.c -o hello compiled with 2 warning(s)',
  });
  t.same(await run(compiled({ exitCode: 1, stderr: captured("hello.c:4:3: error: expected ';' before '}' token\n") })), {
    status: 'fail',
    message: 'gcc -Wall hello.c -o hello failed (exit 1)',
    log: "hello.c:4:3: error: expected ';' before '}' token",
    logKind: 'compiler',
    actual: 'exit 1',
    expected: 'exit 0',
  });
  t.same(await run(compiled({ exitCode: null, timedOut: true })), { status: 'fail', message: 'gcc -Wall hello.c -o hello timed out after 10 s' });
  t.same(await run(compiled({ exitCode: null, startError: 'exec: "gcc": executable file not found in $PATH' })), {
    status: 'fail',
    message: 'could not start the compiler: exec: "gcc": executable file not found in $PATH',
  });
  t.same(await run({ ok: false, reason: 'the compiler runs in toolchain, which did not build: no Dockerfile' }), {
    status: 'fail',
    message: 'the compiler runs in toolchain, which did not build: no Dockerfile',
  });
});
