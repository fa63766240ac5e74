// `grade merge DIR... --out DIR`: combine the gradebooks of `grade batch --shard i/N` into the one
// a single run writes. What merging needs is loaded only when it runs.
import path from 'node:path';
import { exercisesRoot } from '../../paths.js';
import { EXIT } from '../../results.js';
import { StrictCommand, UsageError } from '../command-line.js';

interface MergeOptions {
  out?: string;
  exercises?: string;
  dryRun?: boolean;
}

export function mergeCommand(): StrictCommand {
  return new StrictCommand('merge')
    .usage('<dir...> --out DIR [options]')
    .description('combine the shard gradebooks of `grade batch --shard i/N` into one')
    .argument('[dir...]')
    .option('--out <DIR>', 'where the merged gradebook goes (a new or empty folder, or an earlier merge)')
    .option('--exercises <DIR>', 'where the exercise specs live (default: the ones shipped with grade)')
    .option('--dry-run', 'check the shards and say what would be merged, writing nothing')
    .runs((dirs: string[], options: MergeOptions) => merge(dirs, options));
}

async function merge(dirs: string[], options: MergeOptions): Promise<number> {
  if (dirs.length === 0) throw new UsageError('name the shard folders to merge, e.g. `grade merge gradebook-* --out gradebook`');
  if (!options.out) throw new UsageError('--out DIR is needed: the folder the merged gradebook goes to');
  const { MergeError, mergeGradebooks } = await import('../../batch/merge.js');
  let merged: Awaited<ReturnType<typeof mergeGradebooks>>;
  try {
    merged = await mergeGradebooks({
      dirs,
      out: options.out,
      exercisesRoot: path.resolve(options.exercises ?? exercisesRoot),
      dryRun: Boolean(options.dryRun),
    });
  } catch (error) {
    if (error instanceof MergeError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
  const { plan, summary } = merged;
  const students = plan.shards.reduce((sum, shard) => sum + shard.students.length, 0);
  for (const shard of plan.shards) {
    const { index, total } = shard.manifest.shard;
    process.stdout.write(`shard ${index}/${total}: ${shard.students.length} student${shard.students.length === 1 ? '' : 's'} from ${shard.dir}\n`);
  }
  const skipped = plan.manifest.skipped.length ? `, ${plan.manifest.skipped.length} skipped entr${plan.manifest.skipped.length === 1 ? 'y' : 'ies'}` : '';
  const what = `${plan.total} shard${plan.total === 1 ? '' : 's'} of ${plan.exercise}: ${students} student${students === 1 ? '' : 's'}${skipped}`;
  if (!summary) {
    process.stdout.write(`grade merge --dry-run: would merge ${what} into ${plan.out}; nothing written\n`);
    return EXIT.passed;
  }
  const maxScore = summary.columns.reduce((sum, column) => sum + column.maxPoints, 0);
  const mean = Math.round(summary.scores.mean * 10) / 10;
  process.stdout.write(
    `grade merge: merged ${what} into ${plan.out} (mean score ${mean}/${maxScore}); the dashboard is ${path.join(plan.out, 'index.html')}\n`,
  );
  return EXIT.passed;
}
