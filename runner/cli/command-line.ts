// How every `grade` command reads its command line: commander does the parsing and the dispatch,
// this file gives it our words (one line naming the problem, never commander's "error: ..." text)
// and our help layout. It loads nothing but commander and the limits table.
import { Command, type Help, type Option } from 'commander';
import { flagDescription, flagRows, flagValueName, type LimitKey } from '../spec/limit-table.js';

/** The command line is wrong: one line, then exit 2. */
export class UsageError extends Error {}

/** A setting out of its bounds: one line naming the value and the fix, without the usage. */
export class SettingError extends Error {}

/** An unknown option, worded once the suggestion (which needs the spec's edit distance) is loaded. */
export class UnknownOptionError extends Error {
  constructor(
    readonly flag: string,
    readonly candidates: string[],
    readonly helpCommand: string,
  ) {
    super(`unknown option ${flag}`);
  }
}

/** `--dir <PATH>` as the usage shows it: `--dir PATH`. */
const shownFlags = (option: Option) => option.flags.replace(/<([^>]+)>/g, '$1');

/** The usage text of a command and, for the top command, of every subcommand. */
function formatHelp(command: Command, helper: Help): string {
  const path = commandPath(command);
  const all = [command, ...helper.visibleCommands(command)];
  const synopses = all.map((each) => `${each === command ? path : `${path} ${each.name()}`} ${each.usage()}`);
  const width = Math.max(...synopses.map((line) => line.length)) + 3;
  const usage = synopses.map((line, i) => `${i === 0 ? 'Usage: ' : '       '}${line.padEnd(width)}${all[i]!.description()}`);
  const sections = all.map((each) => {
    const options = helper.visibleOptions(each);
    const flagWidth = Math.max(21, ...options.map((option) => shownFlags(option).length)) + 2;
    const heading = each === command ? 'Options:' : `Options of ${path} ${each.name()}:`;
    return [heading, ...options.map((option) => `  ${shownFlags(option).padEnd(flagWidth)}${option.description}`)].join('\n');
  });
  const epilog = command.parent ? [] : ['Exit status: 0 all required checks passed, 1 some did not, 2 could not grade.'];
  return `${[usage.join('\n'), ...sections, ...epilog].join('\n\n')}\n`;
}

function commandPath(command: Command): string {
  return command.parent ? `${commandPath(command.parent)} ${command.name()}` : command.name();
}

/** A command whose errors are ours: commander's own messages never reach the user. */
export class StrictCommand extends Command {
  constructor(name: string) {
    super(name);
    this.exitOverride()
      .configureOutput({ writeErr: () => {}, outputError: () => {} })
      .configureHelp({ formatHelp })
      .helpCommand(false)
      .helpOption('-h, --help', 'show this help')
      .allowExcessArguments(false);
  }

  /** Runs `fn` as the command's action; its result is the exit status. */
  runs<Args extends unknown[]>(fn: (...args: Args) => Promise<number>): this {
    return this.action(async (...args: unknown[]) => {
      process.exitCode = await fn(...(args as Args));
    });
  }

  /** Adds the flags of these rows of the limits table, with the table's help. */
  limitFlags(keys: readonly LimitKey[]): this {
    for (const [key, row] of flagRows()) {
      if (keys.includes(key)) this.option(`--${row.flag} <${flagValueName(row)}>`, flagDescription(row));
    }
    return this;
  }

  // Before commander reads the arguments: a flag's separate value that looks like an option is more
  // likely a forgotten value than a value (commander would take it as the value).
  override parseOptions(args: string[]): { operands: string[]; unknown: string[] } {
    for (let i = 0; i < args.length; i++) {
      const arg = args[i]!;
      if (arg === '--' || this.commands.some((command) => command.name() === arg)) break;
      const option = this.options.find((each) => each.long === arg || each.short === arg);
      if (!option?.required) continue;
      const value = args[i + 1];
      if (value !== undefined && /^-./.test(value)) {
        throw new UsageError(`${arg} needs a value: ${value} looks like an option (to mean it as the value, write ${option.long}=${value})`);
      }
      i++;
    }
    return super.parseOptions(args);
  }

  // commander 14 calls these hooks while parsing to word a problem; they are not in its typings,
  // hence the exact version in package.json and a test per message in test/cli/cli.test.ts.
  unknownOption(flag: string): never {
    const name = flag.split('=')[0]!;
    const option = this.options.find((each) => each.long === name);
    if (option && !option.required && !option.optional) throw new UsageError(`${name} takes no value (write ${name} alone)`);
    const longs = this.options.flatMap((each) => (each.long ? [each.long.slice(2)] : []));
    throw new UnknownOptionError(name, longs, `${commandPath(this)} --help`);
  }

  optionMissingArgument(option: Option): never {
    throw new UsageError(`${option.long ?? option.short} needs a value`);
  }

  _excessArguments(received: string[]): never {
    const extra = received.slice(this.registeredArguments.length);
    throw new UsageError(`unexpected argument${extra.length > 1 ? 's' : ''}: ${extra.join(' ')}`);
  }
}
