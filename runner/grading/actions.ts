// Performs a step's actions: builds images, compiles programs, runs and starts containers. Each
// action's outcome is either its product or a reason a student can act on; nothing here throws
// for a submission's fault, only for the grader's world (EngineError).
import path from 'node:path';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { ContextError, packContext } from '../submission/build-context.js';
import { readDockerfile } from '../dockerfile/read.js';
import { DockerfileError, externalBaseImages, parseDockerfile, remoteSources, toolchainText, type Dockerfile } from '../dockerfile/parser.js';
import { EngineError, type BuildOutcome, type DockerEngine, type Limits } from '../engine/engine.js';
import type { BuiltImage, CompiledProgram, FailedBuild, Failed, FinishedRun, Outcome, OutcomeByKind, StartedContainer } from '../../graders/outcomes.js';
import type { GradingSession, PullFailure } from './session.js';
import type { Action } from '../spec/loader.js';
import { readSubmissionFile, statSubmissionFile } from '../submission/file.js';
import type { ImageFact } from '../results.js';

/** The generated Dockerfile of a toolchain build; a name no student file should have. */
const TOOLCHAIN_DOCKERFILE = '.grade-toolchain.Dockerfile';
const WORK = '/grade/work';
const MAX_SOURCE_BYTES = 1024 * 1024;

export interface ActionEnv {
  engine: DockerEngine;
  limits: Limits;
  session: GradingSession;
  step: string;
  dir: string | undefined;
  dirLabel: string;
  outcomes: Map<string, Outcome>;
  images: ImageFact[];
  /** What the grader is doing now, for the progress display. */
  activity(text: string): void;
  signal: AbortSignal;
  /** Waits `ms` or until `signal` fires: a started container's settle time (a test's own clock in unit tests). */
  wait(ms: number, signal: AbortSignal): Promise<void>;
  /** Settle times under way: the step's later actions run meanwhile, its checks only after. */
  settling: Promise<void>[];
}

const failed = (reason: string): Failed => ({ ok: false, reason });
/** An action that cannot go on because an earlier one failed; a fault of the grading machine stays one. */
const failedAfter = (upstream: Failed, reason: string): Failed =>
  upstream.environment ? { ok: false, reason: upstream.reason, environment: true } : failed(reason);

function outcomeOf<K extends keyof OutcomeByKind>(env: ActionEnv, _kind: K, name: string): OutcomeByKind[K] {
  // The spec loader has checked that `name` is an earlier action of this kind.
  return env.outcomes.get(name) as OutcomeByKind[K];
}

export async function perform(action: Action, env: ActionEnv): Promise<Outcome> {
  if (env.dir === undefined) return failed(`${env.dirLabel} does not exist`);
  switch (action.kind) {
    case 'build':
      return build(action, env, env.dir);
    case 'compile':
      return compile(action, env, env.dir);
    case 'run':
      return run(action, env);
    case 'start':
      return start(action, env);
  }
}

/** Something other than a folder is at this name: chosen, so a FIFO or a link out is reported, not skipped. */
async function exists(dir: string, relative: string): Promise<boolean> {
  const found = await statSubmissionFile(dir, relative, { expect: 'file' });
  return found.ok || (found.refusal !== 'not-found' && found.refusal !== 'folder');
}

async function build(action: Extract<Action, { kind: 'build' }>, env: ActionEnv, dir: string): Promise<BuiltImage | FailedBuild> {
  let choice = action.from[0]!;
  for (const candidate of action.from) {
    if (await exists(dir, candidate.dockerfile)) {
      choice = candidate;
      break;
    }
  }
  const { target } = choice;
  const shown = `${env.dirLabel}${choice.dockerfile}`;
  const failure = (reason: string, outcome?: BuildOutcome): FailedBuild => ({ ok: false, reason, dockerfile: choice.dockerfile, target, build: outcome });

  const source = await readDockerfile(dir, choice.dockerfile, shown);
  if (!source.ok) {
    return failure(
      source.refusal === 'not-found'
        ? `no ${action.from.map((candidate) => `${env.dirLabel}${candidate.dockerfile}`).join(' or ')} to build ${action.name} from`
        : source.reason,
    );
  }
  let parsed: Dockerfile;
  try {
    parsed = parseDockerfile(source.text);
  } catch (error) {
    if (error instanceof DockerfileError) return failure(error.in(shown));
    throw error;
  }
  const remote = remoteSources(parsed)[0];
  if (remote) {
    return failure(
      `${shown}:${remote.instruction.line}: ADD of a remote URL (${remote.url}) is not allowed: download it in a RUN step, or add the file to your folder`,
    );
  }
  if (target && !parsed.stages.some((stage) => stage.name === target)) {
    const names = parsed.stages.map((stage) => stage.name ?? `unnamed stage ${stage.index}`).join(', ');
    return failure(`${shown} has no stage named "${target}" for --target ${target} (stages: ${names}); name one with FROM <image> AS ${target}`);
  }

  let dockerfile = choice.dockerfile;
  const extraFiles: { name: string; content: string }[] = [];
  if (action.part === 'toolchain') {
    const toolchain = toolchainText(parsed);
    parsed = parseDockerfile(toolchain);
    dockerfile = TOOLCHAIN_DOCKERFILE;
    extraFiles.push({ name: TOOLCHAIN_DOCKERFILE, content: toolchain });
  }

  // Builds of one folder take turns: the later one takes the earlier one's layers from the cache.
  const endTurn = await env.session.buildTurn(dir);
  try {
    for (const base of externalBaseImages(parsed)) {
      const problem = await ensureImage(base, env);
      if (problem) return { ...failure(problem.reason), environment: problem.unreachable || undefined, hint: problem.hint };
    }

    let context: Awaited<ReturnType<typeof packContext>>;
    try {
      context = await packContext(dir, {
        dockerfile,
        limits: { maxBytes: env.limits.contextBytes, maxFiles: env.limits.contextFiles },
        extraFiles,
      });
    } catch (error) {
      if (error instanceof ContextError) return failure(error.message);
      throw error;
    }
    for (const warning of context.warnings) env.activity(`warning: ${warning}`);

    env.activity(`building ${action.name} from ${shown}${target ? ` --target ${target}` : ''}`);
    const outcome = await env.engine.build({
      context: readableOf(context.tar),
      dockerfile,
      target: action.part === 'toolchain' ? undefined : target,
      limits: env.limits,
      signal: env.signal,
    });
    await env.session.builtImage(action.name, outcome);
    if (!outcome.ok) return failure(describeBuildFailure(outcome, shown, parsed), outcome);
    // Untagged, the image is known by its id alone.
    const image = await env.engine.inspectImage(outcome.imageId!);
    if (!image) return failure(`${shown} built, but the engine has no image ${outcome.imageId} afterwards`, outcome);
    // A toolchain cut from the student's Dockerfile is the grader's, to compile or probe in.
    env.images.push({ name: action.name, step: env.step, sizeBytes: image.sizeBytes, helper: action.part === 'toolchain' });
    const { sizeBytes, listedSizeBytes, listedSizeWhy } = image;
    return { ok: true, ref: image.id, id: image.id, sizeBytes, listedSizeBytes, listedSizeWhy, dockerfile: choice.dockerfile, target, build: outcome };
  } finally {
    endTurn();
  }
}

function readableOf(buffer: Buffer): Readable {
  return Readable.from([buffer]);
}

/**
 * Present locally: used as is. Missing: pulled, with progress. When the registry says the image
 * does not exist, that is the student's to fix; when no registry answers, the grading machine's.
 */
async function ensureImage(ref: string, env: ActionEnv): Promise<PullFailure | undefined> {
  const known = env.session.pullFailures.get(ref);
  if (known) return known;
  if (await env.engine.inspectImage(ref)) return undefined;
  env.activity(`pulling ${ref}`);
  try {
    await env.engine.pull(ref, (progress) => env.activity(`pulling ${ref}: ${progress.status}${progress.progress ? ` ${progress.progress}` : ''}`), env.signal);
  } catch (error) {
    // The engine itself failing is no registry's answer.
    if (error instanceof EngineError) throw error;
    const failure = pullFailure(ref, (error as Error).message.split('\n')[0]!);
    env.session.pullFailures.set(ref, failure);
    return failure;
  }
  const pulled = await env.engine.inspectImage(ref);
  if (pulled) await env.session.pulledImage(pulled.id);
  return undefined;
}

// What the engine says when the registry answered that there is no such image or tag (Docker
// Hub answers "pull access denied" for a repository that does not exist).
const NO_SUCH_IMAGE = /manifest unknown|not found|repository does not exist|pull access denied|invalid reference format/i;

export function pullFailure(ref: string, engineSays: string): PullFailure {
  if (NO_SUCH_IMAGE.test(engineSays)) {
    return {
      reason: `base image ${ref} does not exist in its registry (${engineSays})`,
      unreachable: false,
      hint: `Check the FROM line: is ${ref} spelt right, with a tag that exists? \`docker pull ${ref}\` shows what the registry says.`,
    };
  }
  return {
    reason:
      `base image ${ref} is not on this machine and no registry could be reached (${engineSays}): ` +
      `connect to the network and grade again, or make the image available with \`docker pull ${ref}\` (online) or \`docker load\``,
    unreachable: true,
  };
}

/** "Dockerfile:7: RUN gcc -Wall hello.c -o bin/hello failed: ... returned a non-zero code: 1". */
export function describeBuildFailure(outcome: BuildOutcome, shown: string, parsed: Dockerfile): string {
  if (outcome.timedOut) return `${shown}: ${outcome.error}`;
  const failing = outcome.steps.at(-1);
  if (!failing) return `${shown} did not build: ${outcome.error}`;
  // The builder numbers every instruction, the ARGs before the first FROM included.
  const line = parsed.instructions[failing.index - 1]?.line;
  return `${shown}${line ? `:${line}` : ''}: ${failing.instruction} failed: ${outcome.error}`;
}

async function tarOf(files: { name: string; content?: Buffer; mode?: number; type?: 'directory' }[]): Promise<Buffer> {
  const archive = pack();
  for (const file of files) {
    if (file.type === 'directory') archive.entry({ name: file.name, type: 'directory', mode: 0o755 });
    else archive.entry({ name: file.name, mode: file.mode ?? 0o644 }, file.content!);
  }
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const workFolders = () =>
  tarOf([
    { name: 'grade/', type: 'directory' },
    { name: 'grade/work/', type: 'directory' },
  ]);

async function compile(action: Extract<Action, { kind: 'compile' }>, env: ActionEnv, dir: string): Promise<CompiledProgram | Failed> {
  const toolchain = outcomeOf(env, 'build', action.image.value);
  if (!toolchain.ok) return failedAfter(toolchain, `the compiler runs in ${action.image.value}, which did not build: ${toolchain.reason}`);
  const sources: { name: string; content: Buffer }[] = [];
  for (const source of action.sources) {
    const read = await readSubmissionFile(dir, source, { maxBytes: MAX_SOURCE_BYTES, what: 'a source file', shown: `${env.dirLabel}${source}` });
    if (!read.ok) return failed(read.reason);
    sources.push({ name: source, content: read.bytes });
  }
  env.activity(`compiling ${action.sources.join(', ')} in ${action.image.value}`);
  const compiler = await env.engine.run({
    image: toolchain.ref,
    name: env.session.containerName(`${action.name}-compile`),
    labels: env.session.labels,
    limits: env.limits,
    cmd: action.command,
    workingDir: WORK,
    copyIn: [
      { dir: '/', tar: await workFolders() },
      { dir: WORK, tar: await tarOf(sources) },
    ],
    copyOut: path.posix.join(WORK, action.output),
    signal: env.signal,
  });
  return { ok: true, image: toolchain.ref, command: action.command, compiler, binary: compiler.copied, binaryPath: path.posix.join(WORK, action.output) };
}

async function run(action: Extract<Action, { kind: 'run' }>, env: ActionEnv): Promise<FinishedRun | Failed> {
  let image: string;
  let command = action.command;
  const copyIn: { dir: string; tar: Buffer }[] = [];
  if (action.program) {
    const program = outcomeOf(env, 'compile', action.program.value);
    if (!program.ok) return failedAfter(program, program.reason);
    if (program.compiler.exitCode !== 0 || !program.binary) return failed(`${action.program.value} did not compile, so there is nothing to run`);
    image = program.image;
    command ??= [program.binaryPath];
    copyIn.push({ dir: '/', tar: await workFolders() }, { dir: path.posix.dirname(program.binaryPath), tar: program.binary });
  } else {
    const built = outcomeOf(env, 'build', action.image!.value);
    if (!built.ok) return failedAfter(built, `image ${action.image!.value} did not build`);
    image = built.ref;
  }
  env.activity(`running ${command?.join(' ') ?? action.image?.value}`);
  const outcome = await env.engine.run({
    image,
    name: env.session.containerName(action.name),
    labels: env.session.labels,
    limits: env.limits,
    cmd: command,
    copyIn,
    signal: env.signal,
  });
  return { ok: true, image, command: command ?? [], run: outcome };
}

async function start(action: Extract<Action, { kind: 'start' }>, env: ActionEnv): Promise<StartedContainer | Failed> {
  const built = outcomeOf(env, 'build', action.image.value);
  if (!built.ok) return failedAfter(built, `image ${action.image.value} did not build`);
  env.activity(`starting ${action.name} from ${action.image.value}`);
  const started = await env.engine.start({
    image: built.ref,
    name: env.session.containerName(action.name),
    labels: env.session.labels,
    limits: env.limits,
    cmd: action.command,
  });
  env.session.trackContainer(started.id);
  if (!started.startError) env.settling.push(env.wait(action.settleMs, env.signal));
  return { ok: true, id: started.id, image: built.ref, startError: started.startError };
}

export function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    // The listener goes when the time is up: a signal shared by many gradings must not gather one per wait.
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (signal.aborted) done();
    else signal.addEventListener('abort', done, { once: true });
  });
}
