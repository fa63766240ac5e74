// The one narrow interface through which everything reaches Docker. `dockerode/` implements
// it over the Engine API; unit tests implement it with a fake.
import type { Readable } from 'node:stream';

/** How long the engine has to answer a request (and to answer pings during a long one), unless told otherwise. */
export const DEFAULT_ENGINE_TIMEOUT_MS = 30_000;

export interface EngineInfo {
  version: string;
  apiVersion: string;
  os: string;
  arch: string;
  /** CPUs the engine can give a container (`/info` NCPU), when it says. */
  cpus?: number;
}

/** Resource limits applied to every container the grader starts. */
export interface Limits {
  /** Wall-clock bound for one run; the container is SIGKILLed and removed past it. */
  runTimeoutMs: number;
  /** Wall-clock bound for one image build; the build is aborted past it. */
  buildTimeoutMs: number;
  memoryBytes: number;
  pids: number;
  /** CPUs as a fraction, e.g. 1 = one core. */
  cpus: number;
  /** Captured bytes kept per output stream; the rest is dropped and marked. */
  outputBytes: number;
  /** Network for builds: 'none' or 'default' (bridge). Runs never get a network. */
  buildNetwork: 'none' | 'default';
  /** A build context larger than this, in bytes or files, is refused before it is sent. */
  contextBytes: number;
  contextFiles: number;
}

export interface Labels {
  [key: string]: string;
}

export interface BuildRequest {
  /** A tar stream of the build context, already checked and filtered. */
  context: Readable;
  /** Path of the Dockerfile inside the context. */
  dockerfile: string;
  target?: string;
  limits: Limits;
  signal?: AbortSignal;
}

export interface BuildStep {
  /** 1-based, as the builder prints it ("Step 3/8"). */
  index: number;
  instruction: string;
  /** True when the builder said "Using cache"; FROM steps are never "cached". */
  cached: boolean;
  output: string[];
  /** The image the step produced (" ---> <id>"), as the builder printed it (short form). */
  imageId?: string;
}

export interface BuildOutcome {
  ok: boolean;
  imageId?: string;
  steps: BuildStep[];
  /** The whole build log, capped. */
  log: string;
  error?: string;
  timedOut: boolean;
  durationMs: number;
}

export interface CapturedOutput {
  text: string;
  /** Bytes the program wrote; more than were kept when truncated. */
  bytes: number;
  truncated: boolean;
  /** The bytes were not valid UTF-8 (shown with replacement characters). */
  binary: boolean;
}

export interface RunRequest {
  image: string;
  name: string;
  labels: Labels;
  limits: Limits;
  cmd?: string[];
  entrypoint?: string[];
  workingDir?: string;
  /** Tar archives unpacked into the container, in order, before it starts. */
  copyIn?: { dir: string; tar: Buffer }[];
  /** A path fetched (as a tar archive) after the program exits, before the container goes. */
  copyOut?: string;
  /** Join another container's pid namespace (`--pid=container:<id>`). */
  pidOf?: string;
  /** Keep the default capability set: for a helper that must read another process's /proc. */
  keepCapabilities?: boolean;
  signal?: AbortSignal;
}

export interface RunOutcome {
  /** Null when the program never started (see startError). */
  exitCode: number | null;
  stdout: CapturedOutput;
  stderr: CapturedOutput;
  timedOut: boolean;
  oomKilled: boolean;
  /** The engine refused to start the program, e.g. "exec format error". */
  startError?: string;
  copied?: Buffer;
  durationMs: number;
}

export interface StartRequest {
  image: string;
  name: string;
  labels: Labels;
  limits: Limits;
  cmd?: string[];
}

export interface ContainerState {
  running: boolean;
  status: string;
  exitCode: number;
  oomKilled: boolean;
  error: string;
}

export interface ProcessList {
  titles: string[];
  processes: string[][];
}

export interface EngineRootEntries {
  atCreate: string[];
  atStart: string[];
}

export interface ImageInfo {
  id: string;
  /** The unpacked content of the image's layers, the measure of sizes on every engine. */
  sizeBytes: number;
  /** What the engine's own `docker image ls` shows, when that is another figure. */
  listedSizeBytes?: number;
  /** Why it differs, e.g. "on the containerd image store it counts the compressed and the unpacked copy of each layer". */
  listedSizeWhy?: string;
}

export interface PullProgress {
  status: string;
  id?: string;
  progress?: string;
}

export interface OurObjects {
  /** `createdAt`: when the engine made it, in ms since the epoch, when it says. */
  containers: { id: string; name: string; labels: Labels; createdAt?: number }[];
  images: { id: string; tags: string[]; labels: Labels; createdAt?: number }[];
}

export interface DockerEngine {
  info(): Promise<EngineInfo>;
  inspectImage(ref: string): Promise<ImageInfo | undefined>;
  pull(ref: string, onProgress?: (progress: PullProgress) => void, signal?: AbortSignal): Promise<void>;
  build(request: BuildRequest): Promise<BuildOutcome>;
  /** Create, start, capture output, wait (bounded) and remove a container. */
  run(request: RunRequest): Promise<RunOutcome>;
  /** Start a container detached; it stays until `removeContainer`. */
  start(request: StartRequest): Promise<{ id: string; startError?: string }>;
  inspectContainer(id: string): Promise<ContainerState>;
  logs(id: string, limits: Limits): Promise<{ stdout: CapturedOutput; stderr: CapturedOutput }>;
  top(id: string): Promise<ProcessList>;
  /** Top-level entries of a container's root filesystem, by streaming its export. */
  exportListing(id: string): Promise<string[]>;
  /**
   * What the engine itself puts at the top of every container's root, learned once from a
   * container of an empty image: `atCreate` is there as soon as a container exists (Docker's init
   * layer: .dockerenv dev etc proc sys), `atStart` once the runtime has set it up (Podman: dev etc
   * proc run sys). `labels` mark the probe for `grade clean`.
   */
  engineRootEntries(labels: Labels): Promise<EngineRootEntries>;
  /** Which of `paths` exist in the image, without running anything from it. */
  pathsPresent(image: string, paths: string[], labels?: Labels): Promise<string[]>;
  removeContainer(id: string): Promise<void>;
  /** Tags an image (for `--keep`). */
  tagImage(id: string, repoTag: string): Promise<void>;
  /**
   * Deletes an image or untags it, never its parents (they are the layer cache). 'in-use' when a
   * container, a child image or another tag still needs it, or, with `keepTagged`, when the image
   * carries any tag (someone's own image, e.g. a `docker build -t` served from our cache): it stays.
   */
  removeImage(ref: string, options?: { keepTagged?: boolean }): Promise<'removed' | 'absent' | 'in-use'>;
  listOurs(labelFilter: string): Promise<OurObjects>;
}

/** How an engine is set up, as `grade doctor` reports it; grading itself needs only EngineInfo. */
export interface EngineSetup extends EngineInfo {
  /** Docker Engine, or Podman through its Docker-compatible API. */
  engine: 'docker' | 'podman';
  /** The oldest API version the engine still accepts (`/version` MinAPIVersion). */
  minApiVersion?: string;
  /** `/info` Driver: overlay2, or a containerd snapshotter's name (overlayfs, stargz) under the containerd image store. */
  storageDriver: string;
  /** `/info` DriverStatus pairs, e.g. ["Backing Filesystem", "extfs"]. */
  driverStatus: [string, string][];
  /** Images are kept by containerd (DriverStatus driver-type io.containerd.snapshotter.v1), not by a graph driver. */
  containerdImageStore: boolean;
  /** The `/_ping` Builder-Version header: the builder a client gets when it names none ('1' classic, '2' BuildKit). */
  builderVersion?: string;
  cgroupVersion?: string;
  cgroupDriver?: string;
  /** Where the engine keeps its data (`/info` DockerRootDir), on the engine's machine. */
  rootDir?: string;
  /** `/info` MemoryLimit, SwapLimit, PidsLimit: what the engine says its kernel can limit. */
  memoryLimit?: boolean;
  swapLimit?: boolean;
  pidsLimit?: boolean;
  /** `/info` Warnings, e.g. "WARNING: No swap limit support". */
  warnings: string[];
  operatingSystem?: string;
  kernelVersion?: string;
}

export interface LocalImage {
  id: string;
  /** repo:tag names; empty for an untagged image. */
  tags: string[];
  sizeBytes: number;
  labels: Labels;
}

/** What the registry said of an image, asked through the engine without pulling it. */
export type RegistryAnswer = { found: true } | { found: false; message: string };

/** What `grade doctor` asks of an engine beyond what grading asks. */
export interface EngineInspection {
  /** Throws an EngineError, with advice, when the engine cannot be reached. */
  setup(): Promise<EngineSetup>;
  localImages(): Promise<LocalImage[]>;
  /** Asks the registry for the image's manifest (`/distribution`): no layer is pulled. */
  registryLookup(ref: string, signal?: AbortSignal): Promise<RegistryAnswer>;
}

/** A problem with the grader's world, not with the submission: grading cannot go on. */
export class EngineError extends Error {
  constructor(
    message: string,
    readonly advice: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EngineError';
  }
}
