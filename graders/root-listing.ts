// The top-level entries of a running container's root filesystem, as `ls /proc/<pid>/root`
// shows them on the engine's host. A helper container joins the container's pid namespace and
// lists /proc/1/root, which works where the engine runs in a VM (Docker Desktop) too; without a
// usable helper image, the container's export is read instead. What the engine itself adds to
// every container (Docker's .dockerenv, Podman's `run`) is not the image's, and is left out.
import type { DockerEngine } from '../runner/engine/engine.js';
import { boolean, list, optional, string } from '../runner/spec/shapes.js';
import { defineGrader, fail, pass, type ActionUse, type CheckContext } from './types.js';

export const rootListing = defineGrader({
  kind: 'root-listing',
  summary: "A running container's root folder lists exactly the given entries",
  fields: {
    container: string(),
    equals: list(string(), { min: 1 }),
    helperImage: optional(string()),
    hidden: optional(boolean(), false),
  },
  uses: ({ container, helperImage }) => {
    const uses: ActionUse[] = [{ kind: 'start', name: container }];
    if (helperImage) uses.push({ kind: 'build', name: helperImage, reportsFailure: true });
    return uses;
  },
  async run({ container, equals, helperImage, hidden }, context) {
    const started = context.outcome('start', container);
    if (!started.ok) return fail(started.reason);
    const state = await context.engine.inspectContainer(started.id);
    if (!state.running) return fail(`${container} is not running (exit code ${state.exitCode}), so its root cannot be listed`);

    let entries: string[] | undefined;
    const helper = helperImage ? context.outcome('build', helperImage) : undefined;
    if (helper?.ok) {
      const { name, labels } = context.helper('ls-root');
      const listing = await context.engine.run({
        image: helper.ref,
        name,
        labels,
        limits: context.limits,
        entrypoint: ['ls'],
        cmd: ['-1a', '/proc/1/root'],
        pidOf: started.id,
        keepCapabilities: true,
        signal: context.signal,
      });
      if (listing.exitCode === 0 && !listing.stdout.truncated) entries = listing.stdout.text.split('\n').filter(Boolean);
    }
    entries ??= await context.engine.exportListing(started.id);

    const expected = [...equals].sort();
    const listed = entries.filter((entry) => entry !== '.' && entry !== '..').filter((entry) => hidden || !entry.startsWith('.'));
    const engineOwn = await enginesOwn(
      listed.filter((entry) => !expected.includes(entry)),
      started.image,
      context,
    );
    const shown = listed.filter((entry) => !engineOwn.has(entry)).sort();
    const extra = shown.filter((entry) => !expected.includes(entry));
    const missing = expected.filter((entry) => !shown.includes(entry));
    if (extra.length === 0 && missing.length === 0) return pass(`the root of ${container} holds exactly ${shown.join(' ')}`);
    const problems = [extra.length ? `also holds ${extra.join(', ')}` : '', missing.length ? `lacks ${missing.join(', ')}` : ''].filter(Boolean);
    return fail(`the root of ${container} ${problems.join(' and ')}`, { expected: expected.join(' '), actual: shown.join(' ') });
  },
});

/**
 * Which of `unexpected` the engine put there rather than the image: entries a container of an
 * empty image shows too. One the engine adds when the container is created (Docker's .dockerenv)
 * cannot be told from the image's own; one added at start (Podman's `run`) is the engine's only
 * when the image lacks it. Asked of the engine only when something unexpected is listed.
 */
async function enginesOwn(unexpected: string[], image: string, context: Pick<CheckContext, 'engine' | 'helper'>): Promise<Set<string>> {
  if (unexpected.length === 0) return new Set();
  const { atCreate, atStart } = await context.engine.engineRootEntries(context.helper('root-entries').labels);
  const own = new Set<string>();
  const startOnly = unexpected.filter((entry) => !atCreate.includes(entry) && atStart.includes(entry));
  for (const entry of unexpected) if (atCreate.includes(entry)) own.add(entry);
  if (startOnly.length > 0) {
    const inImage = await imageHolds(context.engine, image, startOnly, context.helper('root-probe').labels);
    for (const entry of startOnly) if (!inImage.includes(entry)) own.add(entry);
  }
  return own;
}

async function imageHolds(engine: DockerEngine, image: string, entries: string[], labels: Record<string, string>): Promise<string[]> {
  const present = await engine.pathsPresent(
    image,
    entries.map((entry) => `/${entry}`),
    labels,
  );
  return present.map((path) => path.slice(1));
}
