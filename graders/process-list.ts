// The process list of a running container, as `docker top` shows it.
import { string } from '../runner/spec/shapes.js';
import { defineGrader, fail, pass } from './types.js';

export const processList = defineGrader({
  kind: 'process-list',
  summary: 'A running container runs a given command (docker top)',
  fields: { container: string(), command: string() },
  uses: ({ container }) => [{ kind: 'start', name: container }],
  async run({ container, command }, context) {
    const started = context.outcome('start', container);
    if (!started.ok) return fail(started.reason);
    const state = await context.engine.inspectContainer(started.id);
    if (!state.running) return fail(`${container} is not running (exit code ${state.exitCode}), so it has no processes to list`);
    const { titles, processes } = await context.engine.top(started.id);
    const column = Math.max(titles.indexOf('CMD'), titles.indexOf('COMMAND'));
    const commands = processes.map((row) => (column >= 0 ? row[column] : row.at(-1)) ?? '');
    const found = commands.some((line) => line === command || line.split(/\s+/)[0] === command);
    return found
      ? pass(`docker top ${container} shows ${command}`)
      : fail(`docker top ${container} does not show ${command}`, { expected: command, actual: commands.join('\n') || '(no processes)' });
  },
});
