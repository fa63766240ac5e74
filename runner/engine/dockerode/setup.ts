// How the engine is set up, for `grade doctor`: its versions, storage, default builder and what
// its kernel can limit; the images it holds; and what the registry says of an image, asked
// through the engine without pulling it.
import type Docker from 'dockerode';
import type { IncomingMessage } from 'node:http';
import type { EngineSetup, LocalImage, RegistryAnswer } from '../engine.js';
import type { EngineConnection } from './connection.js';
import { dialectOf } from './dialect.js';
import { asEngineError, asFirstAnswer, engineCall, engineMessage, notAnEngine, type DockerodeError } from './errors.js';

interface DialOptions {
  path: string;
  method: string;
  isStream?: boolean;
  statusCodes: Record<number, boolean | string>;
  abortSignal?: AbortSignal;
}
type Dial = (options: DialOptions, callback: (error: DockerodeError | null, data: unknown) => void) => void;

function dial<T>(docker: Docker, options: DialOptions): Promise<T> {
  const modem = docker.modem as { dial: Dial };
  return new Promise<T>((resolve, reject) => modem.dial(options, (error, data) => (error ? reject(error) : resolve(data as T))));
}

/** The `/info` fields read here (@types/dockerode types them loosely). */
interface SystemInfo {
  NCPU?: number;
  Driver?: string;
  DriverStatus?: [string, string][] | null;
  CgroupVersion?: string;
  CgroupDriver?: string;
  DockerRootDir?: string;
  MemoryLimit?: boolean;
  SwapLimit?: boolean;
  PidsLimit?: boolean;
  Warnings?: string[] | null;
  OperatingSystem?: string;
  KernelVersion?: string;
}

export async function setup(engine: EngineConnection): Promise<EngineSetup> {
  const { docker } = engine;
  let version: Docker.DockerVersion & { MinAPIVersion?: string };
  let system: SystemInfo;
  let builderVersion: string | undefined;
  try {
    // One after the other, as info() asks: a failed first answer leaves nothing pending.
    version = await docker.version();
    if (typeof version?.ApiVersion !== 'string') throw notAnEngine('its answer to GET /version is not a Docker version');
    system = (await docker.info()) as SystemInfo;
    // The body of /_ping says only "OK": what it tells is in its headers.
    const ping = await dial<IncomingMessage>(docker, { path: '/_ping', method: 'GET', isStream: true, statusCodes: { 200: true, 500: 'server error' } });
    const header = ping.headers['builder-version'];
    builderVersion = typeof header === 'string' && header.trim() ? header.trim() : undefined;
    ping.resume();
  } catch (error) {
    throw asFirstAnswer(error);
  }
  const driverStatus = (system.DriverStatus ?? [])
    .filter((pair): pair is [string, string] => Array.isArray(pair) && pair.length >= 2)
    .map(([key, value]) => [String(key), String(value)] as [string, string]);
  // Which engine and image store: the same reading grading makes of /info.
  const dialect = dialectOf(system);
  return {
    engine: dialect.engine,
    version: version.Version,
    apiVersion: version.ApiVersion,
    minApiVersion: version.MinAPIVersion,
    os: version.Os,
    arch: version.Arch,
    cpus: system.NCPU,
    storageDriver: system.Driver ?? '',
    driverStatus,
    containerdImageStore: dialect.imageStore === 'containerd',
    builderVersion,
    cgroupVersion: system.CgroupVersion,
    cgroupDriver: system.CgroupDriver,
    rootDir: system.DockerRootDir,
    memoryLimit: system.MemoryLimit,
    swapLimit: system.SwapLimit,
    pidsLimit: system.PidsLimit,
    warnings: system.Warnings ?? [],
    operatingSystem: system.OperatingSystem,
    kernelVersion: system.KernelVersion,
  };
}

export async function localImages(engine: EngineConnection): Promise<LocalImage[]> {
  const images = await engineCall(() => engine.docker.listImages());
  return images.map((image) => ({
    id: image.Id,
    tags: (image.RepoTags ?? []).filter((tag) => tag !== '<none>:<none>'),
    sizeBytes: image.Size,
    labels: image.Labels ?? {},
  }));
}

/** The characters an image reference can hold; anything else would not even make a request path. */
const REFERENCE_CHARACTERS = /^[A-Za-z0-9._\-/:@]+$/;

export async function registryLookup(engine: EngineConnection, ref: string, signal?: AbortSignal): Promise<RegistryAnswer> {
  if (!REFERENCE_CHARACTERS.test(ref)) return { found: false, message: `invalid reference format: ${JSON.stringify(ref)}` };
  if ((await engine.dialect()).engine === 'podman')
    return { found: false, message: 'Podman cannot ask a registry without pulling (it has no /distribution endpoint)' };
  try {
    await dial<unknown>(engine.docker, {
      path: `/distribution/${ref}/json`,
      method: 'GET',
      // The engine relays the registry's refusal as 401/403/404, and a registry out of reach as 500.
      statusCodes: { 200: true, 401: 'unauthorized', 403: 'forbidden', 404: 'not found', 500: 'server error' },
      abortSignal: signal,
    });
    return { found: true };
  } catch (error) {
    if (signal?.aborted) throw error;
    if ((error as DockerodeError)?.statusCode !== undefined) return { found: false, message: engineMessage(error) };
    throw asEngineError(error);
  }
}
