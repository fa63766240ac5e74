// How the GitHub Actions runner reads a step's log, line by line, as its ActionCommandManager does
// (actions/runner src/Runner.Worker/ActionCommandManager.cs, src/Runner.Common/ActionCommand.cs):
// `::name props::data` once leading blanks are trimmed, else `##[name props]data` anywhere in the
// line; `::stop-commands::TOKEN` makes every line text until `::TOKEN::` (or `##[TOKEN]`).

/** The commands the runner knows (an unknown name is text). */
const REGISTERED = [
  'add-mask',
  'add-matcher',
  'add-path',
  'debug',
  'echo',
  'endgroup',
  'error',
  'group',
  'notice',
  'remove-matcher',
  'save-state',
  'set-env',
  'set-output',
  'stop-commands',
  'warning',
];

export interface WorkflowCommand {
  name: string;
  properties: Record<string, string>;
  data: string;
  /** The line of the log it was read from, counting from 0. */
  line: number;
}

export interface ReadLog {
  /** The commands the runner would carry out, stop-commands and resumes included. */
  commands: WorkflowCommand[];
  /** The lines read as text while commands were stopped. */
  stoppedLines: string[];
  /** Whether the log ended with commands stopped. */
  endsStopped: boolean;
}

const unescapeData = (text: string) => text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
const unescapeProperty = (text: string) => unescapeData(text.replace(/%3A/g, ':').replace(/%2C/g, ','));

function parse(line: string, registered: Set<string>): Omit<WorkflowCommand, 'line'> | undefined {
  const trimmed = line.trimStart();
  if (trimmed.startsWith('::')) {
    const end = trimmed.indexOf('::', 2);
    if (end >= 0) {
      const info = trimmed.slice(2, end);
      const space = info.indexOf(' ');
      const name = space < 0 ? info : info.slice(0, space);
      if (registered.has(name.toLowerCase())) {
        const properties: Record<string, string> = {};
        if (space > 0) {
          for (const pair of info
            .slice(space + 1)
            .trim()
            .split(',')
            .filter(Boolean)) {
            const equals = pair.indexOf('=');
            if (equals > 0 && equals < pair.length - 1) properties[pair.slice(0, equals)] = unescapeProperty(pair.slice(equals + 1));
          }
        }
        return { name, properties, data: unescapeData(trimmed.slice(end + 2)) };
      }
    }
  }
  const prefix = line.indexOf('##[');
  if (prefix < 0) return undefined;
  const close = line.indexOf(']', prefix);
  if (close < 0) return undefined;
  const info = line.slice(prefix + 3, close);
  const name = info.split(' ')[0]!;
  return registered.has(name.toLowerCase()) ? { name, properties: {}, data: line.slice(close + 1) } : undefined;
}

/** Reads a log as the runner does; `\r`, `\n` and `\r\n` each end a line (.NET's ReadLine). */
export function readWorkflowLog(log: string): ReadLog {
  const registered = new Set(REGISTERED);
  const commands: WorkflowCommand[] = [];
  const stoppedLines: string[] = [];
  let token: string | undefined;
  log.split(/\r\n|\r|\n/).forEach((text, line) => {
    const command = parse(text, registered);
    if (token !== undefined) {
      if (command && command.name.toLowerCase() === token.toLowerCase()) {
        commands.push({ ...command, line });
        registered.delete(token.toLowerCase());
        token = undefined;
      } else {
        stoppedLines.push(text);
      }
      return;
    }
    if (!command) return;
    commands.push({ ...command, line });
    if (command.name === 'stop-commands') {
      token = command.data;
      registered.add(token.toLowerCase());
    }
  });
  return { commands, stoppedLines, endsStopped: token !== undefined };
}
