// The top-level entries of a running container's root filesystem, as `ls /proc/<pid>/root`
// shows them on the engine's host. A helper container joins the container's pid namespace and
// lists /proc/1/root, which works where the engine runs in a VM (Docker Desktop) too; without a
// usable helper image, the container's export is read instead.
import { boolean, list, optional, string } from '../runner/spec/shapes.js';
import { defineGrader, fail, pass, type ActionUse } from './types.js';

/** Files Docker itself adds to every container; `ls` without -a hides it anyway. */
const DOCKER_OWN = new Set(['.dockerenv']);

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

    const shown = entries
      .filter((entry) => entry !== '.' && entry !== '..' && !DOCKER_OWN.has(entry))
      .filter((entry) => hidden || !entry.startsWith('.'))
      .sort();
    const expected = [...equals].sort();
    const extra = shown.filter((entry) => !expected.includes(entry));
    const missing = expected.filter((entry) => !shown.includes(entry));
    if (extra.length === 0 && missing.length === 0) return pass(`the root of ${container} holds exactly ${shown.join(' ')}`);
    const problems = [extra.length ? `also holds ${extra.join(', ')}` : '', missing.length ? `lacks ${missing.join(', ')}` : ''].filter(Boolean);
    return fail(`the root of ${container} ${problems.join(' and ')}`, { expected: expected.join(' '), actual: shown.join(' ') });
  },
});
