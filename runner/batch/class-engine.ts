// The engine as the students of one batch share it. Two things are done once for the class here,
// beneath the unchanged single-submission grading: a base image is pulled once (every student
// waiting on the same pull, a registry that cannot be reached asked once), and a student's own
// layers are removed only while no build runs, so no build can pick from the cache an image that
// is being removed under it; the layers students share (a toolchain's `RUN apk add`) stay.
import type { BuildOutcome, BuildRequest, DockerEngine, PullProgress } from '../engine/engine.js';

/** Readers (builds) share it; a writer (a removal) waits for them and holds off new ones. */
class BuildGate {
  private readers = 0;
  private writing = false;
  private readonly waitingWriters: (() => void)[] = [];
  private readonly waitingReaders: (() => void)[] = [];

  async shared<T>(work: () => Promise<T>): Promise<T> {
    // A waiting writer goes first: removals are short, and builds must not starve them. A woken
    // reader was counted in by `wake`.
    if (this.writing || this.waitingWriters.length) await new Promise<void>((resolve) => this.waitingReaders.push(resolve));
    else this.readers++;
    try {
      return await work();
    } finally {
      this.readers--;
      this.wake();
    }
  }

  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    // A woken writer was handed the gate by `wake`.
    if (this.writing || this.readers) await new Promise<void>((resolve) => this.waitingWriters.push(resolve));
    else this.writing = true;
    try {
      return await work();
    } finally {
      this.writing = false;
      this.wake();
    }
  }

  private wake(): void {
    if (this.writing || this.readers) return;
    const writer = this.waitingWriters.shift();
    if (writer) {
      this.writing = true;
      writer();
      return;
    }
    const readers = this.waitingReaders.splice(0);
    this.readers += readers.length;
    for (const reader of readers) reader();
  }
}

/** A short image id as every builder prints at least, whatever form it came in: Docker prints 12 hex digits, Podman 11. */
const shortId = (id: string) => id.replace(/^sha256:/, '').slice(0, 11);

export class ClassEngine implements DockerEngine {
  private readonly gate = new BuildGate();
  private readonly pulls = new Map<string, Promise<void>>();
  /** Per student still grading: every image its builds made or used. */
  private readonly inUse = new Map<string, Set<string>>();
  /** Layers made before any submission file went in, by the student who made them, until a second student uses them. */
  private readonly deferred = new Map<string, { id: string; student: string }>();

  constructor(
    private readonly inner: DockerEngine,
    /** Fires when the batch stops: a shared pull outlives any one student's signal, not the batch. */
    private readonly batchSignal: AbortSignal,
  ) {}

  info = () => this.inner.info();
  inspectImage: DockerEngine['inspectImage'] = (ref) => this.inner.inspectImage(ref);
  run: DockerEngine['run'] = (request) => this.inner.run(request);
  start: DockerEngine['start'] = (request) => this.inner.start(request);
  inspectContainer: DockerEngine['inspectContainer'] = (id) => this.inner.inspectContainer(id);
  logs: DockerEngine['logs'] = (id, limits) => this.inner.logs(id, limits);
  top: DockerEngine['top'] = (id) => this.inner.top(id);
  exportListing: DockerEngine['exportListing'] = (id) => this.inner.exportListing(id);
  pathsPresent: DockerEngine['pathsPresent'] = (image, paths, labels) => this.inner.pathsPresent(image, paths, labels);
  removeContainer: DockerEngine['removeContainer'] = (id) => this.inner.removeContainer(id);
  tagImage: DockerEngine['tagImage'] = (id, repoTag) => this.inner.tagImage(id, repoTag);
  removeImage: DockerEngine['removeImage'] = (ref, options) => this.inner.removeImage(ref, options);
  engineRootEntries: DockerEngine['engineRootEntries'] = (labels) => this.inner.engineRootEntries(labels);
  listOurs: DockerEngine['listOurs'] = (filter) => this.inner.listOurs(filter);

  build(request: BuildRequest): Promise<BuildOutcome> {
    return this.gate.shared(() => this.inner.build(request));
  }

  /** The first student to need an image pulls it; the others wait on that pull and share its outcome. */
  pull(ref: string, onProgress?: (progress: PullProgress) => void, signal?: AbortSignal): Promise<void> {
    let pull = this.pulls.get(ref);
    if (!pull) {
      // Kept, failed or not: a registry that cannot be reached is asked once for the class.
      pull = this.inner.pull(ref, onProgress, this.batchSignal);
      this.pulls.set(ref, pull);
    }
    return signal ? untilAborted(pull, signal) : pull;
  }

  /** A student's grading begins: what its builds use is theirs until `finished`. */
  begin(student: string): void {
    this.inUse.set(student, new Set());
  }

  /**
   * What a build of `student` used: no other student's removal may take these while it grades.
   * A layer another student's build made before any file went in (`RUN apk add ...`), now used
   * by this one too, is shared cache from here on: it stays.
   */
  used(student: string, ids: string[]): void {
    const set = this.inUse.get(student);
    for (const id of ids.map(shortId)) {
      set?.add(id);
      if (this.deferred.has(id) && this.deferred.get(id)!.student !== student) this.deferred.delete(id);
    }
  }

  /**
   * The student is graded: removes the images its builds created from its own files, newest first
   * (children before parents), unless a student still grading has used them. The layers it made
   * before any of its files went in are kept until the class is done, in case another student's
   * build shares them; `finish` removes those no one shared. A layer another build uses as its
   * parent or a container runs from stays (the engine refuses): it is shared cache now.
   */
  async finished(student: string, images: { created: string[]; contextFree: string[] }): Promise<{ removed: number; kept: number }> {
    this.inUse.delete(student);
    const contextFree = new Set(images.contextFree.map(shortId));
    for (const id of images.contextFree) if (!this.deferred.has(shortId(id))) this.deferred.set(shortId(id), { id, student });
    return this.remove(images.created.filter((id) => !contextFree.has(shortId(id))));
  }

  /** The class is graded: the layers made before any file went in that no second student used go too. */
  async finish(): Promise<{ removed: number; kept: number }> {
    const unshared = [...this.deferred.values()].map(({ id }) => id);
    this.deferred.clear();
    return this.remove(unshared);
  }

  private async remove(ids: string[]): Promise<{ removed: number; kept: number }> {
    if (ids.length === 0) return { removed: 0, kept: 0 };
    return this.gate.exclusive(async () => {
      const shared = new Set([...this.inUse.values()].flatMap((each) => [...each]));
      let removed = 0;
      let kept = 0;
      for (const id of [...ids].reverse()) {
        if (shared.has(shortId(id))) {
          kept++;
          continue;
        }
        const outcome = await this.inner.removeImage(id, { keepTagged: true });
        if (outcome === 'in-use') kept++;
        else removed++;
      }
      return { removed, kept };
    });
  }
}

/** The promise, or a rejection as soon as `signal` fires: a student past its time stops waiting on the class's pull. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('the pull was stopped'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('the pull was stopped'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
