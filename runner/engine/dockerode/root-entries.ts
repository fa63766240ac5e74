// What the engine itself puts at the top of a container's root, learned rather than listed: a
// container of an empty image holds nothing of its own, so whatever its root shows once it exists
// and once the runtime has tried to start it is the engine's (Docker: .dockerenv dev etc proc sys;
// Podman also `run`, for /run/.containerenv).
import { Readable } from 'node:stream';
import type { EngineRootEntries, Labels } from '../engine.js';
import type { EngineConnection } from './connection.js';
import { asEngineError, engineCall, engineMessage } from './errors.js';
import { exportListing } from './runs.js';

/** An empty tar archive: two zero blocks. */
const EMPTY_ARCHIVE = Buffer.alloc(1024);

export async function learnRootEntries(engine: EngineConnection, labels: Labels): Promise<EngineRootEntries> {
  const image = await importEmptyImage(engine, labels);
  try {
    const container = await engine.create({
      Image: image,
      Cmd: ['/grade-probe-never-runs'],
      Labels: labels,
      NetworkDisabled: true,
      HostConfig: { NetworkMode: 'none', CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'] },
    });
    try {
      const atCreate = await exportListing(engine, container.id);
      // The start fails (the image holds no program), after the runtime has set up the root.
      await container.start().catch((error: unknown) => {
        const converted = asEngineError(error);
        if (converted !== error) throw converted;
      });
      const atStart = await exportListing(engine, container.id);
      return { atCreate, atStart };
    } finally {
      await engine.removeContainer(container.id);
    }
  } finally {
    await engine.docker
      .getImage(image)
      .remove()
      .catch(() => undefined);
  }
}

async function importEmptyImage(engine: EngineConnection, labels: Labels): Promise<string> {
  const changes = Object.entries(labels).map(([key, value]) => `LABEL ${key}=${JSON.stringify(value)}`);
  const abort = new AbortController();
  const stopWatching = engine.watch('the import of an empty image', (stall) => abort.abort(stall));
  try {
    const stream = (await engineCall(() =>
      engine.docker.importImage(Readable.from([EMPTY_ARCHIVE]) as unknown as NodeJS.ReadableStream, { changes, abortSignal: abort.signal } as object),
    )) as Readable;
    let answer = '';
    for await (const chunk of stream) answer += String(chunk);
    // The last status line names the image: {"status":"sha256:..."}.
    const id = /"status":\s*"(sha256:[0-9a-f]{64})"/.exec(answer)?.[1];
    if (!id) throw new Error(`the engine imported an empty image but named none: ${answer.slice(0, 200)}`);
    return id;
  } catch (error) {
    if (abort.signal.reason) throw abort.signal.reason;
    const converted = asEngineError(error);
    throw converted === error ? new Error(`could not import an empty image to learn the engine's own root entries: ${engineMessage(error)}`) : converted;
  } finally {
    stopWatching();
  }
}
