// `--shard i/N`: which part of a class one batch grades. A student's shard depends on the name
// alone, never on the class listing, so a student added later moves nobody else.
import { createHash } from 'node:crypto';
import type { Shard } from './gradebook.js';

/** More shards than this is a typo, not a class: no CI matrix or Indexed Job runs that many. */
export const MAX_SHARDS = 1000;

/** The --shard value is malformed or out of range: one line naming the value. */
export class ShardError extends Error {}

/** "2/5" -> { index: 2, total: 5 }: 1-based, as in Playwright and Jest. */
export function parseShard(text: string): Shard {
  const match = /^\s*(\d{1,9})\s*\/\s*(\d{1,9})\s*$/.exec(text);
  if (!match) throw new ShardError(`--shard ${text}: expected i/N, the shard to grade and the number of shards (e.g. 2/5, counting from 1)`);
  const index = Number(match[1]);
  const total = Number(match[2]);
  if (total < 1 || total > MAX_SHARDS) throw new ShardError(`--shard ${text}: the number of shards must be 1 to ${MAX_SHARDS}, not ${total}`);
  if (index < 1 || index > total) throw new ShardError(`--shard ${text}: the shard must be 1 to ${total} (shards count from 1), not ${index}`);
  return { index, total };
}

/** The 1-based shard `student` belongs to among `total`: sha256 of the name, first 8 bytes, mod total. */
export function shardOf(student: string, total: number): number {
  if (!Number.isInteger(total) || total < 1 || total > MAX_SHARDS)
    throw new RangeError(`shardOf: the number of shards must be 1 to ${MAX_SHARDS}, not ${total}`);
  const digest = createHash('sha256').update(student, 'utf8').digest();
  return Number(digest.readBigUInt64BE(0) % BigInt(total)) + 1;
}
