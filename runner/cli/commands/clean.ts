// `grade clean`: remove what killed runs left behind, and with --cache every image gradings built.
import { EXIT } from '../../results.js';
import { StrictCommand } from '../command-line.js';

export function cleanCommand(): StrictCommand {
  return new StrictCommand('clean')
    .description('remove containers and images left by killed runs')
    .option('--all', 'also those of runs still grading')
    .option('--other-hosts-after <DURATION>', "another machine's run sharing the engine counts as grading until its objects are this old (default 6h)")
    .option('--cache', 'also every image a grading built, the layer cache included')
    .limitFlags(['engineTimeoutMs'])
    .runs((options: { all?: boolean; cache?: boolean; otherHostsAfter?: string; [flag: string]: unknown }) => clean(options));
}

async function clean(options: { all?: boolean; cache?: boolean; otherHostsAfter?: string; [flag: string]: unknown }): Promise<number> {
  const [{ engineTimeoutFromFlags, parseDurationFlag }, { DockerodeEngine, where }, { cleanCache, cleanLeftovers, OTHER_HOST_RUN_MS }, { ImageLedger }] =
    await Promise.all([
      import('../flag-values.js'),
      import('../../engine/dockerode/index.js'),
      import('../../grading/clean.js'),
      import('../../grading/image-ledger.js'),
    ]);
  const engine = new DockerodeEngine({ timeoutMs: engineTimeoutFromFlags(options) });
  await engine.info();
  const otherHostMs = options.otherHostsAfter === undefined ? OTHER_HOST_RUN_MS : parseDurationFlag('--other-hosts-after', String(options.otherHostsAfter));
  const { removed, inUse } = await cleanLeftovers(engine, { all: Boolean(options.all), otherHostMs });
  for (const object of removed) process.stdout.write(`removed ${object}\n`);
  for (const object of inUse) {
    process.stdout.write(`kept ${object}: its run may still be grading, here or on another machine sharing this engine (grade clean --all removes it too)\n`);
  }
  process.stdout.write(`grade clean: removed ${removed.length}, kept ${inUse.length} in use\n`);
  if (options.cache) {
    const cache = await cleanCache(engine, ImageLedger.forEngine(where()));
    const kept = cache.inUse.length ? `; kept ${cache.inUse.length} that a container, a tag or another image still uses` : '';
    process.stdout.write(`grade clean --cache: removed ${cache.removed.length} image${cache.removed.length === 1 ? '' : 's'} gradings built${kept}\n`);
  }
  return EXIT.passed;
}
