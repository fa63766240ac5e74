// Images: inspect, pull (bounded), tag and remove one, and which paths an image holds without
// running anything from it.
import type { Readable } from 'node:stream';
import { EngineError, type ImageInfo, type Labels, type PullProgress } from '../engine.js';
import type { EngineConnection } from './connection.js';
import { listedSize } from './dialect.js';
import { asEngineError, engineCall, engineMessage, isNotFound, type DockerodeError } from './errors.js';

/** A pull is the engine's to bound, but one that trickles on forever must still end. */
const PULL_TIMEOUT_MS = 15 * 60_000;

/**
 * An image's size is the unpacked content of its layers, the sum of the layer sizes its history
 * gives, asked the same way of every engine: on overlay2 exactly the `Size` `docker image ls`
 * shows; on the containerd store the unpacked snapshots' disk usage (1 % to 7 % over overlay2's
 * figure, where `Size` is the stored blobs, compressed for a built layer: 342 kB for a 763 kB
 * scratch image); on Podman the layers' tar streams (0.2 % to 2.1 % over). Where the engine's own
 * listing shows another figure, it comes along with the reason, so a student can match the two.
 */
export async function inspectImage(engine: EngineConnection, ref: string): Promise<ImageInfo | undefined> {
  try {
    const image = await engine.docker.getImage(ref).inspect();
    const history = (await engine.docker.getImage(image.Id).history()) as { Size?: number }[];
    const layers = history.reduce((sum, entry) => sum + Math.max(0, entry.Size ?? 0), 0);
    // An image whose history records no sizes still has the engine's own figure.
    const sizeBytes = layers > 0 ? layers : image.Size;
    const listed = listedSize(await engine.dialect(), image.Size, layers);
    return listed && listed.bytes !== sizeBytes
      ? { id: image.Id, sizeBytes, listedSizeBytes: listed.bytes, listedSizeWhy: listed.why }
      : { id: image.Id, sizeBytes };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw asEngineError(error);
  }
}

export async function pull(engine: EngineConnection, ref: string, onProgress?: (progress: PullProgress) => void, signal?: AbortSignal): Promise<void> {
  const abort = new AbortController();
  let stalled: EngineError | undefined;
  let timedOut = false;
  const onOuterAbort = () => abort.abort(signal?.reason);
  if (signal?.aborted) abort.abort(signal.reason);
  else signal?.addEventListener('abort', onOuterAbort, { once: true });
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, PULL_TIMEOUT_MS);
  const stopWatching = engine.watch(`the pull of ${ref}`, (error) => {
    stalled = error;
    abort.abort(error);
  });
  try {
    const stream = (await engine.docker.pull(ref, { abortSignal: abort.signal })) as Readable;
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        stream.destroy();
        reject(new Error('the pull was stopped'));
      };
      if (abort.signal.aborted) onAbort();
      abort.signal.addEventListener('abort', onAbort, { once: true });
      engine.docker.modem.followProgress(
        stream,
        (error: Error | null, events: { error?: string }[]) => {
          abort.signal.removeEventListener('abort', onAbort);
          const failed = error ?? events.find((event) => event.error);
          if (failed) reject(new Error(error ? engineMessage(error) : String((failed as { error: string }).error).trim(), { cause: error ?? undefined }));
          else resolve();
        },
        (event: PullProgress) => onProgress?.(event),
      );
    });
  } catch (error) {
    if (stalled) throw stalled;
    if (timedOut) throw new Error(`the pull of ${ref} did not finish within ${PULL_TIMEOUT_MS / 60_000} min`, { cause: error });
    const converted = asEngineError(error instanceof Error && error.cause ? error.cause : error);
    throw converted instanceof EngineError ? converted : new Error(engineMessage(error), { cause: error });
  } finally {
    clearTimeout(timer);
    stopWatching();
    signal?.removeEventListener('abort', onOuterAbort);
  }
}

export async function pathsPresent(engine: EngineConnection, image: string, paths: string[], labels: Labels = {}): Promise<string[]> {
  // Created, never started: the archive API reads the image's filesystem without running it.
  const container = await engine.create({ Image: image, Cmd: ['/grade-probe-never-runs'], Labels: labels, NetworkDisabled: true });
  try {
    const present: string[] = [];
    for (const path of paths) {
      try {
        // A HEAD (infoArchive) leaves its socket open when the path exists: ask for the
        // archive and drop it unread once the engine has answered.
        const archive = (await container.getArchive({ path })) as unknown as Readable;
        archive.destroy();
        present.push(path);
      } catch (error) {
        if (!isNotFound(error)) throw asEngineError(error);
      }
    }
    return present;
  } finally {
    await engine.removeContainer(container.id);
  }
}

export async function tagImage(engine: EngineConnection, id: string, repoTag: string): Promise<void> {
  const colon = repoTag.lastIndexOf(':');
  const [repo, tag] = colon > repoTag.lastIndexOf('/') ? [repoTag.slice(0, colon), repoTag.slice(colon + 1)] : [repoTag, 'latest'];
  await engineCall(() => engine.docker.getImage(id).tag({ repo, tag }));
}

export async function removeImage(engine: EngineConnection, ref: string, options: { keepTagged?: boolean } = {}): Promise<'removed' | 'absent' | 'in-use'> {
  try {
    if (options.keepTagged && ((await engine.docker.getImage(ref).inspect()).RepoTags ?? []).some((tag) => tag !== '<none>:<none>')) return 'in-use';
    await engine.docker.getImage(ref).remove({ noprune: true });
    return 'removed';
  } catch (error) {
    if (isNotFound(error)) return 'absent';
    // 409: a container, a child image or another repository still uses it.
    if ((error as DockerodeError)?.statusCode === 409) return 'in-use';
    throw asEngineError(error);
  }
}
