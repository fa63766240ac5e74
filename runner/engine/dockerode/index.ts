// The DockerEngine interface over the Engine API, with dockerode: this class wires one bounded
// connection to the concerns beside it (build.ts, runs.ts, images.ts); errors.ts turns engine
// trouble into EngineErrors that say what to do.
import type Docker from 'dockerode';
import {
  DEFAULT_ENGINE_TIMEOUT_MS,
  EngineError,
  type BuildOutcome,
  type BuildRequest,
  type CapturedOutput,
  type ContainerState,
  type DockerEngine,
  type EngineInfo,
  type EngineInspection,
  type EngineRootEntries,
  type EngineSetup,
  type ImageInfo,
  type Labels,
  type Limits,
  type LocalImage,
  type OurObjects,
  type ProcessList,
  type PullProgress,
  type RegistryAnswer,
  type RunOutcome,
  type RunRequest,
  type StartRequest,
} from '../engine.js';
import { build } from './build.js';
import { dockerFromEnvironment, EngineConnection } from './connection.js';
import { apiVersionServed, type SystemInfoMarks } from './dialect.js';
import { API_VERSION_ADVICE, asFirstAnswer, engineCall, notAnEngine } from './errors.js';
import * as images from './images.js';
import { learnRootEntries } from './root-entries.js';
import * as runs from './runs.js';
import * as inspection from './setup.js';

export { apiVersionProblem, asEngineError, dockerHostProblem, engineMessage, where } from './errors.js';

export interface DockerodeEngineOptions {
  /** The engine to talk to; by default the one DOCKER_HOST names. */
  docker?: Docker;
  /** How long any request may go unanswered (the --engine-timeout flag). */
  timeoutMs?: number;
}

export class DockerodeEngine implements DockerEngine, EngineInspection {
  private readonly engine: EngineConnection;
  private rootEntries?: Promise<EngineRootEntries>;

  constructor(options: DockerodeEngineOptions = {}) {
    this.engine = new EngineConnection(options.docker ?? dockerFromEnvironment(), options.timeoutMs ?? DEFAULT_ENGINE_TIMEOUT_MS);
  }

  async info(): Promise<EngineInfo> {
    const { docker } = this.engine;
    let version: Docker.DockerVersion;
    let system: { NCPU?: number } & SystemInfoMarks;
    try {
      // One after the other: a failed first answer then leaves no second request pending.
      version = await docker.version();
      if (typeof version?.ApiVersion !== 'string') throw notAnEngine('its answer to GET /version is not a Docker version');
      // Docker refuses an API version it does not serve; Podman serves any, so ask for it here.
      const refused = process.env.DOCKER_API_VERSION?.trim() ? apiVersionServed(process.env.DOCKER_API_VERSION, version) : undefined;
      if (refused) throw new EngineError(`the Docker engine refused our API version: ${refused}`, API_VERSION_ADVICE);
      system = await docker.info();
      this.engine.learnDialect(system);
    } catch (error) {
      throw asFirstAnswer(error);
    }
    return { version: version.Version, apiVersion: version.ApiVersion, os: version.Os, arch: version.Arch, cpus: system?.NCPU };
  }

  setup(): Promise<EngineSetup> {
    return inspection.setup(this.engine);
  }

  localImages(): Promise<LocalImage[]> {
    return inspection.localImages(this.engine);
  }

  registryLookup(ref: string, signal?: AbortSignal): Promise<RegistryAnswer> {
    return inspection.registryLookup(this.engine, ref, signal);
  }

  build(request: BuildRequest): Promise<BuildOutcome> {
    return build(this.engine, request);
  }

  run(request: RunRequest): Promise<RunOutcome> {
    return runs.run(this.engine, request);
  }

  start(request: StartRequest): Promise<{ id: string; startError?: string }> {
    return runs.start(this.engine, request);
  }

  inspectContainer(id: string): Promise<ContainerState> {
    return runs.inspectContainer(this.engine, id);
  }

  logs(id: string, limits: Limits): Promise<{ stdout: CapturedOutput; stderr: CapturedOutput }> {
    return runs.logs(this.engine, id, limits);
  }

  top(id: string): Promise<ProcessList> {
    return runs.top(this.engine, id);
  }

  exportListing(id: string): Promise<string[]> {
    return runs.exportListing(this.engine, id);
  }

  engineRootEntries(labels: Labels): Promise<EngineRootEntries> {
    if (!this.rootEntries) {
      const learned = learnRootEntries(this.engine, labels);
      // Learned once per engine; a failure is asked again next time.
      learned.catch(() => {
        if (this.rootEntries === learned) this.rootEntries = undefined;
      });
      this.rootEntries = learned;
    }
    return this.rootEntries;
  }

  removeContainer(id: string): Promise<void> {
    return this.engine.removeContainer(id);
  }

  inspectImage(ref: string): Promise<ImageInfo | undefined> {
    return images.inspectImage(this.engine, ref);
  }

  pull(ref: string, onProgress?: (progress: PullProgress) => void, signal?: AbortSignal): Promise<void> {
    return images.pull(this.engine, ref, onProgress, signal);
  }

  pathsPresent(image: string, paths: string[], labels?: Labels): Promise<string[]> {
    return images.pathsPresent(this.engine, image, paths, labels);
  }

  tagImage(id: string, repoTag: string): Promise<void> {
    return images.tagImage(this.engine, id, repoTag);
  }

  removeImage(ref: string, options?: { keepTagged?: boolean }): Promise<'removed' | 'absent' | 'in-use'> {
    return images.removeImage(this.engine, ref, options);
  }

  /** Every container and image carrying the label: what a run (or a killed one) left. */
  async listOurs(labelFilter: string): Promise<OurObjects> {
    const { docker } = this.engine;
    const filters = JSON.stringify({ label: [labelFilter] });
    const [containers, found] = await engineCall(() => Promise.all([docker.listContainers({ all: true, filters }), docker.listImages({ filters })]));
    return {
      containers: containers.map((container) => ({
        id: container.Id,
        name: (container.Names[0] ?? '').replace(/^\//, ''),
        labels: container.Labels ?? {},
        createdAt: container.Created * 1000,
      })),
      images: found.map((image) => ({
        id: image.Id,
        tags: (image.RepoTags ?? []).filter((tag) => tag !== '<none>:<none>'),
        labels: image.Labels ?? {},
        createdAt: image.Created * 1000,
      })),
    };
  }
}
