// `grade doctor [exercise]`: checks this machine for grading and prints a table (or, with
// --reporter json, one document) with a fix for each problem. Exit 0 when grading will work,
// 1 when it will not, 2 for bad arguments; 130/143 when interrupted (what it made is removed first).
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { exercisesRoot } from '../../paths.js';
import { StrictCommand, UsageError } from '../command-line.js';
import { Interrupts } from '../interrupts.js';
import { exerciseNames } from '../exercise-folders.js';

/** After a signal, how long removing the probes may take before the process leaves anyway. */
const CLEANUP_DEADLINE_MS = 5000;

interface DoctorFlags {
  reporter: string;
  dir?: string;
  pull?: boolean;
  exercises?: string;
  [flag: string]: unknown;
}

export function doctorCommand(): StrictCommand {
  return new StrictCommand('doctor')
    .usage('[exercise] [options]')
    .description('check this machine for grading, with a fix for each problem')
    .argument('[exercise]')
    .option('--reporter <NAME>', 'what goes to stdout: table (default) or json', 'table')
    .option('--dir <PATH>', "where a student's Dockerfiles are, for their base images (default: the current folder)")
    .option('--pull', 'pull the base images that are missing (by default they are only looked up)')
    .option('--exercises <DIR>', 'where exercise specs live (default: the ones shipped with grade)')
    .limitFlags(['memoryBytes', 'pids', 'engineTimeoutMs'])
    .runs((exercise: string | undefined, flags: DoctorFlags) => doctor(exercise, flags));
}

async function doctor(name: string | undefined, flags: DoctorFlags): Promise<number> {
  if (flags.reporter !== 'table' && flags.reporter !== 'json') throw new UsageError(`--reporter ${flags.reporter}: expected table or json`);
  const [{ engineTimeoutFromFlags, limitsFromFlags }, { resolveLimits }, { loadExercise }, { suggest }] = await Promise.all([
    import('../flag-values.js'),
    import('../../spec/limits.js'),
    import('../../spec/loader.js'),
    import('../../spec/shapes.js'),
  ]);
  const engineTimeoutMs = engineTimeoutFromFlags(flags);
  const flagLimits = limitsFromFlags(flags);
  const root = path.resolve(flags.exercises ?? exercisesRoot);
  let exercise: Awaited<ReturnType<typeof loadExercise>> | undefined;
  if (name !== undefined) {
    const available = await exerciseNames(root);
    if (!available.includes(name)) {
      const guess = suggest(name, available);
      throw new UsageError(`no exercise "${name}" in ${root} (exercises: ${available.join(', ') || 'none'})${guess ? `: did you mean "${guess}"?` : ''}`);
    }
    exercise = await loadExercise(path.join(root, name));
  }
  const submissionDir = path.resolve(flags.dir ?? '.');
  if (!(await stat(submissionDir).catch(() => undefined))?.isDirectory()) throw new UsageError(`--dir ${submissionDir}: no such folder`);

  const [{ runDoctor, DoctorInterrupted }, { doctorExitCode, doctorJson, doctorTable }, { DockerodeEngine }, { Chalk }, { terminalCapabilities }] =
    await Promise.all([
      import('../../doctor/doctor.js'),
      import('../../doctor/report.js'),
      import('../../engine/dockerode/index.js'),
      import('chalk'),
      import('../progress.js'),
    ]);
  const status = progressLine(process.stderr);
  const interrupts = new Interrupts(
    { stopping: 'stopping and removing what the checks created', left: 'its probe containers may be left', who: 'grade doctor' },
    CLEANUP_DEADLINE_MS,
    () => status.clear(),
  );
  try {
    const report = await runDoctor({
      connect: () => new DockerodeEngine({ timeoutMs: engineTimeoutMs }),
      dockerHost: process.env.DOCKER_HOST,
      apiVersion: process.env.DOCKER_API_VERSION,
      exercise,
      submissionDir,
      limits: resolveLimits(exercise?.limits ?? {}, flagLimits),
      pull: Boolean(flags.pull),
      signal: interrupts.signal,
      onProgress: (text) => status.show(`grade doctor: ${text}...`),
    });
    status.clear();
    if (flags.reporter === 'json') {
      process.stdout.write(doctorJson(report));
    } else {
      const chalk = new Chalk({ level: terminalCapabilities(process.stdout).color ? 1 : 0 });
      const style = { ok: chalk.green, warn: chalk.yellow, fail: chalk.red.bold, skip: chalk.dim, dim: chalk.dim };
      process.stdout.write(`grade doctor${exercise ? ` ${exercise.id}` : ''}: is this machine ready for grading?\n\n`);
      process.stdout.write(doctorTable(report, style));
    }
    return doctorExitCode(report);
  } catch (error) {
    status.clear();
    if (interrupts.interrupted || error instanceof DoctorInterrupted) {
      process.stderr.write('grade doctor stopped; what its checks created was removed\n');
      return interrupts.exitCode;
    }
    throw error;
  } finally {
    interrupts.dispose();
  }
}

/** One line on stderr saying what is being checked, redrawn in place; only in a terminal. */
function progressLine(stream: NodeJS.WriteStream): { show(text: string): void; clear(): void } {
  const live = Boolean(stream.isTTY) && process.env.TERM !== 'dumb' && !process.env.CI;
  let shown = false;
  return {
    show(text) {
      if (!live) return;
      const width = stream.columns && stream.columns > 1 ? stream.columns - 1 : 79;
      stream.write(`\r\u001b[K${text.slice(0, width)}`);
      shown = true;
    },
    clear() {
      if (shown) stream.write('\r\u001b[K');
      shown = false;
    },
  };
}
