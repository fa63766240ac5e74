// --shard i/N: parsed strictly, 1-based, and a student's shard depends on the name alone.
import { createHash } from 'node:crypto';
import t from 'tap';
import { MAX_SHARDS, parseShard, ShardError, shardOf } from '../../runner/batch/shard.js';

t.test('i/N parses to a 1-based index and a total', async (t) => {
  t.same(parseShard('2/5'), { index: 2, total: 5 });
  t.same(parseShard('1/1'), { index: 1, total: 1 });
  t.same(parseShard('5/5'), { index: 5, total: 5 });
  t.same(parseShard(` 3 / ${MAX_SHARDS} `), { index: 3, total: MAX_SHARDS });
});

t.test('anything else is refused in one line naming the value and the bound', async (t) => {
  const refusals: [string, RegExp][] = [
    ['0/3', /^--shard 0\/3: the shard must be 1 to 3 \(shards count from 1\), not 0$/],
    ['4/3', /^--shard 4\/3: the shard must be 1 to 3 \(shards count from 1\), not 4$/],
    ['1/0', /^--shard 1\/0: the number of shards must be 1 to 1000, not 0$/],
    [`1/${MAX_SHARDS + 1}`, /^--shard 1\/1001: the number of shards must be 1 to 1000, not 1001$/],
    ['2', /^--shard 2: expected i\/N/],
    ['a/b', /^--shard a\/b: expected i\/N/],
    ['-1/3', /^--shard -1\/3: expected i\/N/],
    ['1.5/3', /^--shard 1\.5\/3: expected i\/N/],
    ['1/3/5', /^--shard 1\/3\/5: expected i\/N/],
    ['', /^--shard : expected i\/N/],
  ];
  for (const [text, message] of refusals) {
    const error = t.throws(() => parseShard(text)) as Error;
    t.ok(error instanceof ShardError, `${text} throws a ShardError`);
    t.match(error.message, message, text);
    t.notMatch(error.message, /\n/, `${text}: one line`);
  }
});

t.test('a student belongs to the shard of the first 8 bytes of sha256(name), mod N, plus one', async (t) => {
  for (const [student, total] of [
    ['alice', 3],
    ['bob', 7],
    ['multi-ołga', 1000],
    ['', 2],
  ] as const) {
    const expected = Number(BigInt(`0x${createHash('sha256').update(student).digest('hex').slice(0, 16)}`) % BigInt(total)) + 1;
    t.equal(shardOf(student, total), expected, `${student || '(empty)'} of ${total}`);
  }
  t.equal(shardOf('anyone', 1), 1, 'one shard holds everyone');
});

t.test('shards are within 1..N, spread the class, and never move as the class grows', async (t) => {
  const total = 4;
  const before = Array.from({ length: 200 }, (_, i) => `student-${i}`);
  const assigned = new Map(before.map((student) => [student, shardOf(student, total)]));
  const counts = [0, 0, 0, 0];
  for (const shard of assigned.values()) counts[shard - 1]!++;
  t.equal(
    counts.reduce((sum, count) => sum + count, 0),
    before.length,
    'every shard is within 1..4',
  );
  // 200 names over 4 shards: each shard gets some (a hash that ignored the name would not).
  for (const [i, count] of counts.entries()) t.ok(count > 20, `shard ${i + 1} holds ${count} of 200`);
  const grown = [...before, ...Array.from({ length: 50 }, (_, i) => `late-${i}`)].sort();
  const moved = grown.filter((student) => assigned.has(student) && shardOf(student, total) !== assigned.get(student));
  t.same(moved, [], 'nobody moves when 50 students join');
});

t.test('a number of shards out of range is a programming error, not a shard', async (t) => {
  t.throws(() => shardOf('alice', 0), RangeError);
  t.throws(() => shardOf('alice', 1.5), RangeError);
  t.throws(() => shardOf('alice', MAX_SHARDS + 1), RangeError);
});
