// `grade doctor`: checks a machine for grading, one row per check with a fix for each problem.
// It asks the engine what it is, then proves what matters by doing it: a tiny build with the
// classic builder and no network, a run of it, and probes past the memory and pids limits that
// grading sets. Everything it creates carries a grading's labels and is removed, whatever happens.
import { pack } from 'tar-stream';
import type { Readable } from 'node:stream';
import { EngineError, type DockerEngine, type EngineInspection, type EngineSetup, type Limits, type RunOutcome } from '../engine/engine.js';
import { pullFailure } from '../grading/actions.js';
import { GradingSession, imagesOfBuild, LABEL } from '../grading/session.js';
import type { Exercise } from '../spec/loader.js';
import { formatSize } from '../text/format.js';
import { ClassicBuilderMissing } from '../engine/dockerode/builder.js';
import { shownAddress } from '../engine/dockerode/errors.js';
import { neededBaseImages, type NeededImage } from './base-images.js';
import {
  diskProbe,
  judgeDisk,
  judgeMemory,
  judgePids,
  judgeProbeRun,
  memoryProbe,
  PRINT_PROBE,
  PROBE_COPIED,
  PROBE_IMAGE_FIX,
  pidsProbe,
  type Probe,
  probeDockerfile,
} from './probes.js';
import { doctorReport, type DoctorCheck, type DoctorCheckId, type DoctorReport } from './report.js';

export type InspectableEngine = DockerEngine & EngineInspection;

/** The oldest Engine API grade supports: Docker 20.10's, the oldest engine it is tested on. */
export const OLDEST_API = '1.41';
/** A probe's time bounds: grading's, but no longer than these (a tiny build or run that takes longer has a problem of its own). */
const PROBE_BUILD_MS = 120_000;
const PROBE_RUN_MS = 30_000;
/** How long the registry may take to say whether it has an image. */
const REGISTRY_LOOKUP_MS = 10_000;
/** Local images tried, smallest first, when looking for one with a shell to build FROM. */
const SHELL_CANDIDATES = 5;

export interface DoctorOptions {
  /** Makes the engine client; throws an EngineError when DOCKER_HOST cannot name an engine. */
  connect: () => InspectableEngine;
  /** DOCKER_HOST as set (undefined: the default socket); shown without credentials. */
  dockerHost: string | undefined;
  /** DOCKER_API_VERSION as set. */
  apiVersion?: string;
  exercise?: Exercise;
  /** Where a student's Dockerfiles are looked for (the current folder, or --dir). */
  submissionDir: string;
  /** The limits grading would use: the probes run under them. */
  limits: Limits;
  /** Pull the base images that are missing (by default they are only looked up). */
  pull?: boolean;
  signal?: AbortSignal;
  /** Told what is being checked, for a progress line. */
  onProgress?: (text: string) => void;
  runId?: string;
}

/** The doctor's signal fired (Ctrl+C): what it created is removed, and no report is made. */
export class DoctorInterrupted extends Error {
  constructor() {
    super('grade doctor was interrupted');
    this.name = 'DoctorInterrupted';
  }
}

const DEFAULT_SOCKET = 'unix:///var/run/docker.sock';

/** DOCKER_HOST as it may be shown: user and password (or a token in their place), query and fragment removed. */
export function shownEngineAddress(dockerHost: string | undefined): string {
  return shownAddress(dockerHost?.trim() || DEFAULT_SOCKET);
}

/** `text` with every occurrence of the raw DOCKER_HOST replaced by its shown form. */
function redact(text: string, dockerHost: string | undefined): string {
  const raw = dockerHost?.trim();
  return raw ? text.split(raw).join(shownEngineAddress(raw)) : text;
}

const compareVersions = (a: string, b: string): number => {
  const [am = 0, an = 0] = a.replace(/^v/, '').split('.').map(Number);
  const [bm = 0, bn = 0] = b.replace(/^v/, '').split('.').map(Number);
  return am - bm || an - bn;
};

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const progress = options.onProgress ?? (() => {});
  const address = shownEngineAddress(options.dockerHost);

  progress(`asking the engine at ${address}`);
  let engine: InspectableEngine;
  let setup: EngineSetup;
  try {
    engine = options.connect();
    setup = await engine.setup();
  } catch (error) {
    if (!(error instanceof EngineError)) throw error;
    checks.push(unreachable(error, options));
    for (const id of ['api', 'storage', 'base-images', 'builder', 'build-run', 'memory-limit', 'pids-limit', 'disk'] as const) {
      checks.push({ id, status: 'skip', found: 'not checked: the engine cannot be reached' });
    }
    return doctorReport(checks);
  }
  checks.push(engineRow(setup, address), apiRow(setup, options.apiVersion), storageRow(setup));

  const session = new GradingSession(engine, options.exercise?.id ?? 'doctor', 'doctor', { runId: options.runId });
  const { signal, dockerHost } = options;
  /**
   * Runs one step of a check. An engine failing meanwhile fails that check (with the engine's
   * advice), not the doctor; a step cut short by Ctrl+C says nothing of the machine.
   */
  const attempt = async <T>(id: DoctorCheckId, work: () => Promise<T>): Promise<{ value: T } | { failed: DoctorCheck }> => {
    if (signal?.aborted) throw new DoctorInterrupted();
    let result: { value: T } | { failed: DoctorCheck };
    try {
      result = { value: await work() };
    } catch (error) {
      if (signal?.aborted) throw new DoctorInterrupted();
      if (!(error instanceof EngineError)) throw error;
      result = { failed: { id, status: 'fail', found: redact(error.message, dockerHost), fix: redact(error.advice, dockerHost) } };
    }
    if (signal?.aborted) throw new DoctorInterrupted();
    return result;
  };
  const guarded = async (id: DoctorCheckId, check: () => Promise<DoctorCheck>): Promise<DoctorCheck> => {
    const result = await attempt(id, check);
    return 'failed' in result ? result.failed : result.value;
  };
  const probeLimits: Limits = {
    ...options.limits,
    buildNetwork: 'none',
    buildTimeoutMs: Math.min(options.limits.buildTimeoutMs, PROBE_BUILD_MS),
    runTimeoutMs: Math.min(options.limits.runTimeoutMs, PROBE_RUN_MS),
  };
  const created: string[] = [];
  try {
    const needed = await neededBaseImages(options.exercise, options.submissionDir);
    progress('looking for the base images');
    checks.push(await guarded('base-images', () => baseImagesRow(engine, needed, options)));

    progress('looking for a local image with /bin/sh');
    const shellSearch = await attempt('build-run', () => imageWithShell(engine, needed, session));
    const shell = 'value' in shellSearch ? shellSearch.value : undefined;

    progress('building a probe image with the classic builder');
    let imageId: string | undefined;
    checks.push(
      await guarded('builder', async () => {
        try {
          const probe = await buildProbe(engine, shell, session, probeLimits, setup, signal);
          created.push(...probe.created);
          imageId = probe.imageId;
          return probe.builder;
        } catch (error) {
          // An engine without the classic builder may have built the probe anyway: it is ours to remove.
          if (error instanceof ClassicBuilderMissing && error.imageId) created.push(error.imageId);
          throw error;
        }
      }),
    );
    checks.push(
      'failed' in shellSearch ? shellSearch.failed : await guarded('build-run', () => buildRunRow(engine, shell, imageId, session, probeLimits, signal)),
    );

    const probe = (purpose: string, { cmd, limits }: Probe) =>
      engine.run({ image: shell!, name: session.helperName(`doctor-${purpose}`), labels: session.labels, limits, cmd, signal });
    const inShell = (id: DoctorCheckId, check: () => Promise<DoctorCheck>) =>
      shell
        ? guarded(id, check)
        : Promise.resolve<DoctorCheck>({ id, status: 'warn', found: 'not checked: no local image has /bin/sh to run the probe in', fix: PROBE_IMAGE_FIX });

    progress('running a program past the memory limit');
    checks.push(await inShell('memory-limit', async () => judgeMemory(await probe('memory', memoryProbe(probeLimits)), probeLimits, setup)));
    progress('running a program past the pids limit');
    checks.push(await inShell('pids-limit', async () => judgePids(await probe('pids', pidsProbe(probeLimits)), probeLimits, setup)));
    progress("measuring the engine's free disk");
    checks.push(await inShell('disk', async () => judgeDisk(await probe('disk', diskProbe(probeLimits)), setup)));
  } finally {
    progress('removing what the checks created');
    await removeProbes(engine, session, created);
  }
  return doctorReport(checks);
}

function unreachable(error: EngineError, options: DoctorOptions): DoctorCheck {
  // Docker Desktop and `docker context use` point the docker CLI elsewhere than DOCKER_HOST's default; grade reads no context.
  const context = options.dockerHost
    ? ''
    : " If `docker info` works in this shell, the docker CLI uses a context grade does not read: export DOCKER_HOST=$(docker context inspect --format '{{.Endpoints.docker.Host}}')";
  return { id: 'engine', status: 'fail', found: redact(error.message, options.dockerHost), fix: `${redact(error.advice, options.dockerHost)}${context}` };
}

function engineRow(setup: EngineSetup, address: string): DoctorCheck {
  const on = setup.operatingSystem ? ` on ${setup.operatingSystem}` : '';
  const found = `${address} answers: ${setup.engine === 'podman' ? 'Podman' : 'Docker'} ${setup.version} (${setup.os}/${setup.arch})${on}`;
  if (setup.os !== 'linux') {
    return {
      id: 'engine',
      status: 'fail',
      found: `${found}, which runs ${setup.os} containers`,
      fix: 'The exercises build Linux images: switch Docker Desktop to Linux containers (its menu: Switch to Linux containers).',
    };
  }
  return { id: 'engine', status: 'ok', found };
}

function apiRow(setup: EngineSetup, requested: string | undefined): DoctorCheck {
  const asked = requested?.trim().replace(/^v/, '');
  const used = asked || setup.apiVersion;
  const accepts = setup.minApiVersion ? `the engine accepts ${setup.minApiVersion} to ${setup.apiVersion}` : `the engine's is ${setup.apiVersion}`;
  const found = `API ${used}${asked ? ' (DOCKER_API_VERSION)' : ''}: ${accepts}; grade needs ${OLDEST_API} or later`;
  if (compareVersions(used, OLDEST_API) >= 0) return { id: 'api', status: 'ok', found };
  return {
    id: 'api',
    status: 'fail',
    found: `${found}`,
    fix: asked
      ? `Unset DOCKER_API_VERSION, or set it to ${OLDEST_API} or later (the engine accepts up to ${setup.apiVersion}).`
      : `Update Docker to 20.10 or later (API ${OLDEST_API}): Docker ${setup.version} is older than grade supports.`,
  };
}

const GRAPH_DRIVER_ADVICE: Record<string, string> = {
  vfs: 'vfs copies every layer in full: builds are slow and use much disk',
  devicemapper: 'devicemapper is deprecated and gone from current Docker',
  aufs: 'aufs is gone from current Docker',
  overlay: 'the legacy overlay driver is gone from current Docker',
};

function storageRow(setup: EngineSetup): DoctorCheck {
  const backing = setup.driverStatus.find(([key]) => key === 'Backing Filesystem')?.[1];
  if (setup.containerdImageStore) {
    return {
      id: 'storage',
      status: 'ok',
      found:
        `the containerd image store (snapshotter ${setup.storageDriver || 'unnamed'}): sizes are the unpacked layers' disk usage, 1 % to 7 % above overlay2's; ` +
        '`docker image ls` here shows the compressed and the unpacked copy together, and reports give both figures',
    };
  }
  if (setup.engine === 'podman') {
    return { id: 'storage', status: 'ok', found: `${setup.storageDriver || 'an unnamed storage driver'}${backing ? ` on ${backing}` : ''} (Podman's storage)` };
  }
  const found = `${setup.storageDriver || 'an unnamed storage driver'}${backing ? ` on ${backing}` : ''} (graph driver image store)`;
  const problem = GRAPH_DRIVER_ADVICE[setup.storageDriver];
  if (problem) {
    return {
      id: 'storage',
      status: 'warn',
      found: `${found}: ${problem}`,
      fix: 'Use overlay2: "storage-driver": "overlay2" in /etc/docker/daemon.json, then restart Docker (images and containers of the old driver are not carried over).',
    };
  }
  return { id: 'storage', status: 'ok', found };
}

async function baseImagesRow(engine: InspectableEngine, needed: NeededImage[], options: DoctorOptions): Promise<DoctorCheck> {
  if (needed.length === 0) {
    return options.exercise
      ? { id: 'base-images', status: 'ok', found: `${options.exercise.id}'s reference solution names no base image` }
      : {
          id: 'base-images',
          status: 'skip',
          found: `not checked: no exercise named, and no Dockerfile in ${options.submissionDir}`,
          fix: 'Name the exercise to check the base images it needs: `grade doctor multi`.',
        };
  }
  const found: string[] = [];
  const fixes: string[] = [];
  /** Missing, and no registry answered: said once for them all. */
  const outOfReach: { image: string; engineSays: string }[] = [];
  for (const { image, namedIn } of needed) {
    const present = await engine.inspectImage(image);
    if (present) {
      found.push(`${image} present (${formatSize(present.sizeBytes)})`);
      continue;
    }
    let engineSays: string;
    if (options.pull) {
      try {
        await engine.pull(image, undefined, options.signal);
        found.push(`${image} pulled`);
        continue;
      } catch (error) {
        if (error instanceof EngineError || options.signal?.aborted) throw error;
        engineSays = (error as Error).message.split('\n')[0]!;
      }
    } else {
      const answer = await lookUp(engine, image, options.signal);
      if (answer.found) {
        found.push(`${image} not present; its registry has it, and grading pulls it (or \`docker pull ${image}\` now)`);
        continue;
      }
      engineSays = answer.message;
    }
    if (pullFailure(image, engineSays).unreachable) {
      outOfReach.push({ image, engineSays });
      continue;
    }
    const where = `named in ${namedIn.join(' and ')}`;
    found.push(`${image} (${where}) does not exist in its registry (${engineSays})`);
    fixes.push(
      namedIn.some((each) => each.startsWith('your '))
        ? `check the FROM line naming ${image} (${where}): is it spelt right, with a tag that exists?`
        : `the exercise names ${image} (${where}), which its registry does not have: tell the exercise's author`,
    );
  }
  if (outOfReach.length) {
    const images = outOfReach.map((each) => each.image);
    const them = images.length === 1 ? 'it' : 'them';
    found.unshift(`${listed(images)} not present, and their registry could not be asked (${outOfReach[0]!.engineSays})`);
    fixes.unshift(
      `${listed(images.map((image) => `\`docker pull ${image}\``))} when a registry can be reached, ` +
        `or \`docker load -i images.tar\` with an archive made by \`docker save ${images.join(' ')} -o images.tar\` on a machine that has ${them}`,
    );
  }
  return {
    id: 'base-images',
    status: fixes.length ? 'fail' : 'ok',
    found: found.join('; '),
    ...(fixes.length ? { fix: `${capitalize(fixes.join('; '))}.` } : {}),
  };
}

const listed = (items: string[]) => (items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`);
const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** The registry's answer, bounded: a registry that does not answer in time is out of reach. */
async function lookUp(engine: InspectableEngine, image: string, signal?: AbortSignal): Promise<{ found: true } | { found: false; message: string }> {
  const controller = new AbortController();
  const forward = () => controller.abort();
  signal?.addEventListener('abort', forward, { once: true });
  const timer = setTimeout(() => controller.abort(), REGISTRY_LOOKUP_MS);
  try {
    return await engine.registryLookup(image, controller.signal);
  } catch (error) {
    if (signal?.aborted || !controller.signal.aborted) throw error;
    return { found: false, message: `the registry did not answer within ${REGISTRY_LOOKUP_MS / 1000} s` };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', forward);
  }
}

/** A local image with /bin/sh: one of the exercise's base images if present, else the smallest tagged image that has one. */
async function imageWithShell(engine: InspectableEngine, needed: NeededImage[], session: GradingSession): Promise<string | undefined> {
  const present: string[] = [];
  for (const { image } of needed) if (await engine.inspectImage(image)) present.push(image);
  const others = (await engine.localImages())
    .filter((image) => image.tags.length > 0 && image.labels[LABEL.tool] !== 'grade')
    .sort((a, b) => a.sizeBytes - b.sizeBytes)
    .map((image) => image.tags[0]!)
    .filter((tag) => !present.includes(tag));
  for (const image of [...present, ...others].slice(0, present.length + SHELL_CANDIDATES)) {
    if ((await engine.pathsPresent(image, ['/bin/sh'], session.labels)).length > 0) return image;
  }
  return undefined;
}

interface BuildProbe {
  builder: DoctorCheck;
  /** The image the build made, when it made one. */
  imageId?: string;
  /** Every image it created, oldest first: the doctor's to remove. */
  created: string[];
}

async function buildProbe(
  engine: InspectableEngine,
  base: string | undefined,
  session: GradingSession,
  limits: Limits,
  { builderVersion, engine: kind }: Pick<EngineSetup, 'builderVersion' | 'engine'>,
  signal: AbortSignal | undefined,
): Promise<BuildProbe> {
  const dockerfile = probeDockerfile(base, session.labels);
  const outcome = await engine.build({ context: contextOf(dockerfile), dockerfile: 'Dockerfile', limits, signal });
  // Never the FROM step's image: that is the base image, someone's own (on the containerd store,
  // where images have no parents to hold them back, removing it by id deletes it).
  const created = [...imagesOfBuild(outcome).created, ...(outcome.imageId ? [outcome.imageId] : [])];
  const lines = dockerfile.trim().split('\n').length;
  const from = `FROM ${base ?? 'scratch'}`;
  // A build without steps grade can follow never gets here: engine.build throws ClassicBuilderMissing.
  if (outcome.ok) {
    // What a client that names no builder gets; grade names the classic one.
    const byDefault = builderVersion === '2' ? " (BuildKit is the engine's default; grade asks for the classic one)" : '';
    return {
      builder: {
        id: 'builder',
        status: 'ok',
        found: `${kind === 'podman' ? "Podman's builder (Buildah)" : 'the classic builder'} built a ${lines}-line Dockerfile ${from} with no network${byDefault}`,
      },
      imageId: outcome.imageId,
      created,
    };
  }
  return {
    builder: {
      id: 'builder',
      status: 'fail',
      found: `the classic builder could not build a ${lines}-line Dockerfile ${from} with no network: ${outcome.error ?? 'no image'}`,
      fix:
        'Try the same by hand: a folder with a file probe.txt and a Dockerfile `FROM <a local image>` / `COPY probe.txt /`, built with `DOCKER_BUILDKIT=0 docker build --network none .`; ' +
        "its error is the engine's own word (a full disk, a storage driver fault, a builder the engine no longer has).",
    },
    created,
  };
}

async function buildRunRow(
  engine: InspectableEngine,
  base: string | undefined,
  imageId: string | undefined,
  session: GradingSession,
  limits: Limits,
  signal: AbortSignal | undefined,
): Promise<DoctorCheck> {
  if (!base) return { id: 'build-run', status: 'warn', found: 'not checked: no local image has /bin/sh to build FROM and run', fix: PROBE_IMAGE_FIX };
  if (!imageId) return { id: 'build-run', status: 'skip', found: 'not checked: the probe image did not build (see builder)' };
  const run: RunOutcome = await engine.run({
    image: imageId,
    name: session.helperName('doctor-run'),
    labels: session.labels,
    limits,
    cmd: PRINT_PROBE,
    signal,
  });
  return judgeProbeRun(base, run);
}

/** A build context of the probe's Dockerfile and the file it copies. */
function contextOf(dockerfile: string): Readable {
  const archive = pack();
  archive.entry({ name: 'Dockerfile', mode: 0o644 }, dockerfile);
  archive.entry({ name: 'probe.txt', mode: 0o644 }, `${PROBE_COPIED}\n`);
  archive.finalize();
  return archive as unknown as Readable;
}

/**
 * Removes the probe containers (by the run's label) and images: the built ones newest first, so
 * each is no one's parent when it goes, then any other image carrying the run's label (a build
 * cut short reports no ids). Bounded by the engine timeout per call; problems are not fatal.
 */
async function removeProbes(engine: InspectableEngine, session: GradingSession, built: string[]): Promise<void> {
  await session.cleanup().catch(() => undefined);
  const labelled = await engine
    .listOurs(`${LABEL.run}=${session.runId}`)
    .then((found) => found.images.map((image) => image.id))
    .catch(() => [] as string[]);
  const pending = [...new Set([...built].reverse().concat(labelled))];
  // A child listed after its parent holds the parent back: a second pass takes what the first left.
  for (let pass = 0; pass < 3 && pending.length > 0; pass++) {
    for (const id of [...pending]) {
      const result = await engine.removeImage(id, { keepTagged: true }).catch(() => 'failed' as const);
      if (result === 'removed' || result === 'absent') pending.splice(pending.indexOf(id), 1);
    }
  }
}
