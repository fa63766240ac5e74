#!/usr/bin/env node
// The `grade` command: grade an exercise in a folder, list the exercises, batch-grade a class and
// merge its shards, validate, describe, scaffold and self-test exercises, check the machine, clean
// up after killed runs. Exit codes: 0 every required check passed, 1 some did not, 2 grading was impossible
// (bad arguments, an invalid spec, no engine), 130/143 interrupted. This entry only parses the
// command line and reports failures; each command (commands/) loads what it uses when it runs.
import { EXIT } from '../results.js';

// A reader that goes away (`grade list | head`) is no error of ours: stop quietly, as `ls` does.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? EXIT.passed);
  });
}

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  // Answered before commander and the command definitions load: they would take more time than
  // Node's own start (issue 12 holds `grade --version` to 150 ms). Same text as commander's.
  const { version } = await import('../version.js');
  process.stdout.write(`${version}\n`);
} else {
  // Dynamic imports only so that the `--version` above loads none of this.
  const [
    { gradeCommand },
    { listCommand },
    { batchCommand },
    { mergeCommand },
    { validateCommand },
    { schemaCommand },
    { newCommand },
    { selftestCommand },
    { doctorCommand },
    { cleanCommand },
  ] = await Promise.all([
    import('./commands/grade.js'),
    import('./commands/list.js'),
    import('./commands/batch.js'),
    import('./commands/merge.js'),
    import('./commands/validate.js'),
    import('./commands/schema.js'),
    import('./commands/new.js'),
    import('./commands/selftest.js'),
    import('./commands/doctor.js'),
    import('./commands/clean.js'),
  ]);
  // Students grade, instructors grade classes, authors write and test exercises, anyone checks the machine.
  const program = [listCommand, batchCommand, mergeCommand, validateCommand, schemaCommand, newCommand, selftestCommand, doctorCommand, cleanCommand].reduce(
    (top, command) => top.addCommand(command()),
    gradeCommand(),
  );
  // Not awaited: a command still pending when nothing is left to run must not end as Node's
  // "unsettled top-level await" (exit 13).
  program.parseAsync(process.argv).catch(async (error: unknown) => {
    process.exitCode = await report(error);
  });
}

/** What the user reads when a command fails, and the exit status. */
async function report(error: unknown): Promise<number> {
  // Loaded with the commands already.
  const [{ CommanderError }, { SettingError, UnknownOptionError, UsageError }] = await Promise.all([import('commander'), import('./command-line.js')]);
  if (error instanceof CommanderError && error.exitCode === 0) return EXIT.passed; // --help, --version
  // One line: a page of usage would push the problem out of sight.
  if (error instanceof UsageError || error instanceof SettingError) {
    process.stderr.write(`grade: ${error.message}\n`);
    return EXIT.cannotGrade;
  }
  if (error instanceof UnknownOptionError) {
    const { suggest } = await import('../spec/shapes.js');
    const guess = error.flag.startsWith('--') ? suggest(error.flag.slice(2), error.candidates) : undefined;
    process.stderr.write(`grade: unknown option ${error.flag} (${guess ? `did you mean --${guess}?` : `${error.helpCommand} lists the options`})\n`);
    return EXIT.cannotGrade;
  }
  if (error instanceof CommanderError) {
    // A parse failure none of our hooks words: commander's text without its "error: " prefix.
    process.stderr.write(`grade: ${error.message.replace(/^error: /, '')}\n`);
    return EXIT.cannotGrade;
  }
  const [{ SpecError }, { EngineError }, { GradingInterrupted }] = await Promise.all([
    import('../spec/shapes.js'),
    import('../engine/engine.js'),
    import('../grading/run.js'),
  ]);
  if (error instanceof SpecError) {
    process.stderr.write(`grade: the exercise spec is invalid:\n${error.message}\n`);
  } else if (error instanceof EngineError) {
    process.stderr.write(`grade: ${error.message}\n${error.advice}\n`);
    // Every engine request is bounded and aborted, but an engine that stopped answering must
    // never keep the process alive: leave shortly even if something is still pending.
    setTimeout(() => process.exit(EXIT.cannotGrade), 1000).unref();
  } else if (error instanceof GradingInterrupted) {
    process.stderr.write('grade: interrupted\n');
  } else {
    process.stderr.write(`grade: internal error: ${(error as Error)?.stack ?? String(error)}\nPlease report this.\n`);
  }
  return EXIT.cannotGrade;
}
