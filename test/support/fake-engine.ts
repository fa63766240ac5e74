// A scripted DockerEngine for unit tests: answers come from what a test set up, every call is
// recorded, and what the code under test created (built images, started containers) is tracked
// against what it removed, so a test can assert nothing was left behind.
import type {
  BuildOutcome,
  BuildRequest,
  BuildStep,
  CapturedOutput,
  ContainerState,
  DockerEngine,
  EngineInfo,
  EngineInspection,
  EngineRootEntries,
  EngineSetup,
  ImageInfo,
  Labels,
  Limits,
  LocalImage,
  OurObjects,
  ProcessList,
  PullProgress,
  RegistryAnswer,
  RunOutcome,
  RunRequest,
  StartRequest,
} from '../../runner/engine/engine.js';
import { DEFAULT_LIMITS } from '../../runner/spec/limits.js';

export type EngineMethod = keyof DockerEngine | keyof EngineInspection;

/** Output as a container would have written it, `bytes` counted in UTF-8. */
export function captured(text: string, extra: Partial<CapturedOutput> = {}): CapturedOutput {
  return { text, bytes: Buffer.byteLength(text), truncated: false, binary: false, ...extra };
}

export function runOutcome(extra: Partial<RunOutcome> = {}): RunOutcome {
  return { exitCode: 0, stdout: captured(''), stderr: captured(''), timedOut: false, oomKilled: false, durationMs: 12, ...extra };
}

export function buildStep(index: number, instruction: string, cached = false, output: string[] = []): BuildStep {
  return { index, instruction, cached, output };
}

export function buildOutcome(extra: Partial<BuildOutcome> = {}): BuildOutcome {
  const ok = extra.ok ?? true;
  return {
    ok,
    imageId: ok ? 'sha256:built' : undefined,
    steps: [buildStep(1, 'FROM alpine:3.19')],
    log: '',
    error: ok ? undefined : 'the build failed',
    timedOut: false,
    durationMs: 1500,
    ...extra,
  };
}

/** Limits for tests: the defaults, with a short run timeout so messages are predictable. */
export const testLimits: Limits = { ...DEFAULT_LIMITS, runTimeoutMs: 10_000 };

export interface BuildMatch {
  dockerfile?: string;
  target?: string;
}

export interface BuildAnswer {
  /** Merged over a successful default outcome; `ok: false` makes a failed build. */
  outcome?: Partial<BuildOutcome>;
  /** Size of the image a successful build leaves (under its `imageId`). */
  sizeBytes?: number;
}

export interface RunMatch {
  image?: string;
  cmd?: string[];
}

export type RunAnswer = Partial<RunOutcome> | ((request: RunRequest) => RunOutcome);

export interface ContainerScript {
  state?: Partial<ContainerState>;
  logs?: { stdout: CapturedOutput; stderr: CapturedOutput };
  top?: ProcessList;
  listing?: string[];
}

const sameList = (a: readonly string[] | undefined, b: readonly string[] | undefined) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

export class FakeEngine implements DockerEngine, EngineInspection {
  /** Every call, in order, with its first argument. */
  readonly calls: { method: EngineMethod; arg?: unknown }[] = [];
  readonly builds: BuildRequest[] = [];
  readonly runs: RunRequest[] = [];
  readonly starts: StartRequest[] = [];
  readonly pulls: string[] = [];
  readonly probes: { image: string; paths: string[]; labels?: Labels }[] = [];
  /** Images builds made: the layer cache, which may stay. */
  readonly createdImages: string[] = [];
  /** Tags the code under test added (`--keep`): these must not stay unless asked for. */
  readonly taggedImages: string[] = [];
  readonly createdContainers: string[] = [];
  readonly removedImages: string[] = [];
  readonly removedContainers: string[] = [];

  private readonly images = new Map<string, ImageInfo>();
  private readonly buildAnswers: { match: BuildMatch; answer: BuildAnswer }[] = [];
  private readonly runAnswers: { match: RunMatch; answer: RunAnswer }[] = [];
  private readonly startAnswers = new Map<string, { id?: string; startError?: string }>();
  private readonly containers = new Map<string, ContainerScript>();
  private readonly present = new Map<string, string[]>();
  private readonly failures = new Map<EngineMethod, Error>();
  private readonly registryAnswers = new Map<string, RegistryAnswer>();
  private setupAnswer: EngineSetup = {
    engine: 'docker',
    version: '27.0.0-fake',
    apiVersion: '1.46',
    minApiVersion: '1.24',
    os: 'linux',
    arch: 'amd64',
    storageDriver: 'overlay2',
    driverStatus: [['Backing Filesystem', 'extfs']],
    containerdImageStore: false,
    cgroupVersion: '2',
    cgroupDriver: 'systemd',
    rootDir: '/var/lib/docker',
    memoryLimit: true,
    swapLimit: true,
    pidsLimit: true,
    warnings: [],
  };
  /** What the engine adds to every container's root: Docker's, unless `rootEntries` says otherwise. */
  private ownRootEntries: EngineRootEntries = { atCreate: ['.dockerenv', 'dev', 'etc', 'proc', 'sys'], atStart: ['.dockerenv', 'dev', 'etc', 'proc', 'sys'] };
  private nextId = 1;

  // ---- scripting -------------------------------------------------------------------------

  /** An image the engine has, e.g. a base image, so it is not pulled. */
  image(ref: string, sizeBytes: number, id = `sha256:${ref}`): this {
    this.images.set(ref, { id, sizeBytes });
    return this;
  }

  /** How builds matching every given field end; later scripts win over earlier ones. */
  onBuild(match: BuildMatch, answer: BuildAnswer): this {
    this.buildAnswers.unshift({ match, answer });
    return this;
  }

  /** How runs of `image` (and `cmd`, when given) end; later scripts win. */
  onRun(match: RunMatch, answer: RunAnswer): this {
    this.runAnswers.unshift({ match, answer });
    return this;
  }

  /** What starting a container from `image` gives. */
  onStart(image: string, answer: { id?: string; startError?: string }): this {
    this.startAnswers.set(image, answer);
    return this;
  }

  /** State, logs, process list and root listing of a container. */
  container(id: string, script: ContainerScript): this {
    this.containers.set(id, { ...this.containers.get(id), ...script });
    return this;
  }

  /** Paths that exist in an image, for pathsPresent. */
  paths(image: string, present: string[]): this {
    this.present.set(image, present);
    return this;
  }

  /** What `setup()` says of the engine, merged over a current Linux engine with overlay2 and cgroup v2. */
  engineSetup(extra: Partial<EngineSetup>): this {
    this.setupAnswer = { ...this.setupAnswer, ...extra };
    return this;
  }

  /** What the registry says of `ref` (by default: no registry can be reached). */
  registry(ref: string, answer: RegistryAnswer): this {
    this.registryAnswers.set(ref, answer);
    return this;
  }

  /** Make every call of `method` throw `error` from now on. */
  failOn(method: EngineMethod, error: Error): this {
    this.failures.set(method, error);
    return this;
  }

  /** Containers created and tags added that were never removed (built images are the cache). */
  leftovers(): { containers: string[]; images: string[] } {
    return {
      containers: this.createdContainers.filter((id) => !this.removedContainers.includes(id)),
      images: this.taggedImages.filter((ref) => !this.removedImages.includes(ref)),
    };
  }

  methods(): EngineMethod[] {
    return this.calls.map((call) => call.method);
  }

  private record(method: EngineMethod, arg?: unknown): void {
    this.calls.push({ method, arg });
    const failure = this.failures.get(method);
    if (failure) throw failure;
  }

  // ---- DockerEngine ----------------------------------------------------------------------

  async info(): Promise<EngineInfo> {
    this.record('info');
    return { version: '27.0.0-fake', apiVersion: '1.46', os: 'linux', arch: 'amd64' };
  }

  async setup(): Promise<EngineSetup> {
    this.record('setup');
    return this.setupAnswer;
  }

  /** The images set up or built: each named image (not an id) is a tag of its id. */
  async localImages(): Promise<LocalImage[]> {
    this.record('localImages');
    const byId = new Map<string, LocalImage>();
    for (const [ref, image] of this.images) {
      const entry = byId.get(image.id) ?? { id: image.id, tags: [], sizeBytes: image.sizeBytes, labels: {} };
      if (ref !== image.id && !ref.startsWith('sha256:')) entry.tags.push(ref);
      byId.set(image.id, entry);
    }
    return [...byId.values()];
  }

  async registryLookup(ref: string): Promise<RegistryAnswer> {
    this.record('registryLookup', ref);
    return (
      this.registryAnswers.get(ref) ?? { found: false, message: 'Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host' }
    );
  }

  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    this.record('inspectImage', ref);
    return this.images.get(ref);
  }

  async pull(ref: string, onProgress?: (progress: PullProgress) => void): Promise<void> {
    this.record('pull', ref);
    this.pulls.push(ref);
    onProgress?.({ status: 'Downloading', id: 'layer', progress: '[=>  ]' });
    this.images.set(ref, { id: `sha256:${ref}`, sizeBytes: 5_000_000 });
  }

  async build(request: BuildRequest): Promise<BuildOutcome> {
    this.record('build', request);
    this.builds.push(request);
    request.context.resume();
    const answer =
      this.buildAnswers.find(
        ({ match }) =>
          (match.dockerfile === undefined || match.dockerfile === request.dockerfile) && (match.target === undefined || match.target === request.target),
      )?.answer ?? {};
    const outcome = buildOutcome(answer.outcome);
    if (outcome.ok) {
      const id = outcome.imageId!;
      this.createdImages.push(id);
      this.images.set(id, { id, sizeBytes: answer.sizeBytes ?? 10_000_000 });
    }
    return outcome;
  }

  async run(request: RunRequest): Promise<RunOutcome> {
    this.record('run', request);
    this.runs.push(request);
    const answer = this.runAnswers.find(
      ({ match }) => (match.image === undefined || match.image === request.image) && (match.cmd === undefined || sameList(match.cmd, request.cmd)),
    )?.answer;
    return typeof answer === 'function' ? answer(request) : runOutcome(answer);
  }

  async start(request: StartRequest): Promise<{ id: string; startError?: string }> {
    this.record('start', request);
    this.starts.push(request);
    const answer = this.startAnswers.get(request.image) ?? {};
    const id = answer.id ?? `container-${this.nextId++}`;
    this.createdContainers.push(id);
    return answer.startError ? { id, startError: answer.startError } : { id };
  }

  async inspectContainer(id: string): Promise<ContainerState> {
    this.record('inspectContainer', id);
    return { running: true, status: 'running', exitCode: 0, oomKilled: false, error: '', ...this.containers.get(id)?.state };
  }

  async logs(id: string): Promise<{ stdout: CapturedOutput; stderr: CapturedOutput }> {
    this.record('logs', id);
    return this.containers.get(id)?.logs ?? { stdout: captured(''), stderr: captured('') };
  }

  async top(id: string): Promise<ProcessList> {
    this.record('top', id);
    return this.containers.get(id)?.top ?? { titles: ['PID', 'CMD'], processes: [] };
  }

  async exportListing(id: string): Promise<string[]> {
    this.record('exportListing', id);
    return this.containers.get(id)?.listing ?? [];
  }

  /** Scripts what the engine adds to a container's root (Podman: `run` once started). */
  rootEntries(entries: EngineRootEntries): this {
    this.ownRootEntries = entries;
    return this;
  }

  async engineRootEntries(labels: Labels): Promise<EngineRootEntries> {
    this.record('engineRootEntries', labels);
    return this.ownRootEntries;
  }

  async pathsPresent(image: string, paths: string[], labels?: Labels): Promise<string[]> {
    this.record('pathsPresent', image);
    this.probes.push({ image, paths, labels });
    const present = this.present.get(image) ?? [];
    return paths.filter((path) => present.includes(path));
  }

  async removeContainer(id: string): Promise<void> {
    this.record('removeContainer', id);
    this.removedContainers.push(id);
  }

  async tagImage(id: string, repoTag: string): Promise<void> {
    this.record('tagImage', repoTag);
    this.taggedImages.push(repoTag);
    this.images.set(repoTag, this.images.get(id) ?? { id, sizeBytes: 0 });
  }

  async removeImage(ref: string, options: { keepTagged?: boolean } = {}): Promise<'removed' | 'absent' | 'in-use'> {
    this.record('removeImage', ref);
    if (!this.images.has(ref)) return 'absent';
    if (options.keepTagged && this.taggedImages.some((tag) => this.images.get(tag)?.id === ref)) return 'in-use';
    this.removedImages.push(ref);
    this.images.delete(ref);
    return 'removed';
  }

  async listOurs(labelFilter: string): Promise<OurObjects> {
    this.record('listOurs', labelFilter);
    const { containers, images } = this.leftovers();
    return {
      containers: containers.map((id) => ({ id, name: id, labels: {} })),
      images: images.map((ref) => ({ id: this.images.get(ref)?.id ?? ref, tags: [ref], labels: {} })),
    };
  }
}
