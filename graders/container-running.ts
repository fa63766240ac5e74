// A container started detached is still running after it settled. When it is not, the student
// learns how it ended, and why that probably happened.
import { string } from '../runner/spec/shapes.js';
import { dynamicallyLinked, startErrorHint, unrunnableProgram } from './command.js';
import { tail } from '../runner/text/format.js';
import { defineGrader, fail, logOf, pass } from './types.js';

export const containerRunning = defineGrader({
  kind: 'container-running',
  summary: 'A started container is still running',
  fields: { container: string() },
  uses: ({ container }) => [{ kind: 'start', name: container }],
  async run({ container }, context) {
    const started = context.outcome('start', container);
    if (!started.ok) return fail(started.reason);
    if (started.startError) {
      const program = await unrunnableProgram(started.startError, started.image, context);
      if (program) return dynamicallyLinked(program, `${container} could not start`, started.startError);
      return fail(`${container} could not start: ${started.startError}`, { hint: startErrorHint(started.startError) });
    }
    const state = await context.engine.inspectContainer(started.id);
    if (state.running) return pass(`${container} is running`);
    const logs = await context.engine.logs(started.id, context.limits);
    const output = [logs.stdout.text, logs.stderr.text].filter(Boolean).join('\n');
    const program = await unrunnableProgram(`${state.error}\n${output}`, started.image, context);
    if (program) return dynamicallyLinked(program, `${container} is not running`, output ? tail(output) : undefined);
    const cause = state.oomKilled ? 'killed for using too much memory' : `exited with code ${state.exitCode}`;
    return fail(`${container} is not running: it ${cause}${state.error ? ` (${state.error})` : ''}`, {
      expected: 'running',
      actual: state.status,
      ...logOf('program', output ? tail(output) : undefined),
      hint: startErrorHint(`${state.error}\n${output}`),
    });
  },
});
