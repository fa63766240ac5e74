// The bounds of the limits: one table that the flags, the spec's `limits:` and the README follow;
// values outside it are refused with the value, the bound, why, and what to write instead.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import {
  DEFAULT_LIMITS, ENGINE_TIMEOUT, fitToEngine, formatBound, LIMIT_BOUNDS, limitShape, outOfBounds, resolveLimits, type BoundedLimit,
} from '../../runner/spec/limits.js';
import { packageRoot } from '../../runner/paths.js';
import { Cursor, INVALID } from '../../runner/spec/shapes.js';

const keys = Object.keys(LIMIT_BOUNDS) as BoundedLimit[];

/** A spec value read through the limit's shape: the value, or the issue reported. */
function specValue(key: BoundedLimit, text: string): number | string {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const cursor = new Cursor({ file: 'exercise.yaml', lineCounter }, [], null);
  const value = limitShape(key).parse(doc.contents as never, cursor);
  return value === INVALID ? cursor.issues[0]!.message : value;
}

t.test('every default lies inside its bounds', async (t) => {
  for (const key of keys) {
    const { min, max } = LIMIT_BOUNDS[key];
    t.ok(min <= DEFAULT_LIMITS[key] && DEFAULT_LIMITS[key] <= max, `${key}: ${min} <= ${DEFAULT_LIMITS[key]} <= ${max}`);
  }
  t.ok(ENGINE_TIMEOUT.min <= ENGINE_TIMEOUT.defaultMs && ENGINE_TIMEOUT.defaultMs <= ENGINE_TIMEOUT.max);
  t.equal(ENGINE_TIMEOUT.defaultMs, 30_000, 'the engine timeout the issue asks for');
});

t.test('the minimums the engine needs: memory to build, output for a log', async (t) => {
  t.equal(LIMIT_BOUNDS.memoryBytes.min, 64 * 1024 * 1024);
  t.equal(LIMIT_BOUNDS.outputBytes.min, 1024);
});

t.test('bounds are written as a user would write them', async (t) => {
  t.equal(formatBound('size', 64 * 1024 * 1024), '64MiB');
  t.equal(formatBound('size', 16 * 1024 ** 3), '16GiB');
  t.equal(formatBound('size', 1024), '1KiB');
  t.equal(formatBound('size', 1_000_000), '1MB');
  t.equal(formatBound('size', 1500), '1500B');
  t.equal(formatBound('size', 0), '0');
  t.equal(formatBound('duration', 600_000), '10m');
  t.equal(formatBound('duration', 30_000), '30s');
  t.equal(formatBound('duration', 500), '500ms');
  t.equal(formatBound('cpus', 0.1), '0.1');
});

t.test('a value out of bounds names itself, the bound, why, and the fix', async (t) => {
  const memory = LIMIT_BOUNDS.memoryBytes;
  const fix = (limit: string) => `--memory ${limit}`;
  t.equal(outOfBounds(memory, 512 * 1024 * 1024, '--memory 512MiB', fix), undefined);
  t.equal(outOfBounds(memory, 64 * 1024 * 1024, '--memory 64MiB', fix), undefined, 'the minimum itself is fine');
  t.equal(
    outOfBounds(memory, 1_000_000, '--memory 1MB', fix),
    `--memory 1MB is below the minimum of 64MiB (${memory.belowMin}): use --memory 64MiB or more`,
  );
  t.equal(
    outOfBounds(memory, 32 * 1024 ** 3, '--memory 32GiB', fix),
    `--memory 32GiB is above the maximum of 16GiB (${memory.aboveMax}): use --memory 16GiB or less`,
  );
});

t.test("the spec's limits are read with the same bounds", async (t) => {
  t.equal(specValue('memoryBytes', '256MiB'), 256 * 1024 * 1024);
  t.match(specValue('memoryBytes', '0'), /^memory 0 is below the minimum of 64MiB \(.*\): use memory: 64MiB or more$/);
  t.match(specValue('memoryBytes', '1MB'), /^memory 1MB is below the minimum of 64MiB/);
  t.match(specValue('outputBytes', '0'), /^output 0 is below the minimum of 1KiB/);
  t.match(specValue('outputBytes', '1GiB'), /^output 1GiB is above the maximum of 64MiB/);
  t.match(specValue('runTimeoutMs', '11m'), /^runTimeout 11m is above the maximum of 10m/);
  t.match(specValue('buildTimeoutMs', '2s'), /^buildTimeout 2s is below the minimum of 10s/);
  t.match(specValue('pids', '8'), /^pids 8 is below the minimum of 16/);
  t.match(specValue('cpus', '0.01'), /^cpus 0.01 is below the minimum of 0.1/);
  t.match(specValue('memoryBytes', '10 furlongs'), /^expected a size such as 10MB/, 'the form is still checked first');
  t.equal(specValue('pids', '16'), 16);
});

t.test('more CPUs than the engine has are lowered to what it has, with one note', async (t) => {
  const asked = resolveLimits({ cpus: 64 });
  const fitted = fitToEngine(asked, { cpus: 2 });
  t.equal(fitted.limits.cpus, 2);
  t.equal(fitted.note, 'cpus 64: the engine has 2 CPUs; using 2');
  t.same(fitToEngine(resolveLimits({ cpus: 1.5 }), { cpus: 2 }), { limits: resolveLimits({ cpus: 1.5 }) }, 'within: unchanged, no note');
  t.same(fitToEngine(asked, {}), { limits: asked }, 'an engine that does not say: unchanged');
  t.equal(fitToEngine(asked, { cpus: 1 }).note, 'cpus 64: the engine has 1 CPU; using 1');
});

t.test("the README's Limits table states each bound", async (t) => {
  const readme = await readFile(path.join(packageRoot, 'README.md'), 'utf8');
  const rows = readme.split('\n').filter((line) => line.startsWith('| '));
  for (const key of keys) {
    const { flag, specKey, unit, min, max } = LIMIT_BOUNDS[key];
    const row = rows.find((line) => line.includes(`\`--${flag} `));
    t.ok(row, `a row for --${flag}`);
    t.match(row ?? '', `${formatBound(unit, min)} to ${formatBound(unit, max)}`, `--${flag} bounds`);
    t.match(row ?? '', `\`${specKey}\``, `--${flag} spec key`);
    t.match(row ?? '', `| ${formatBound(unit, DEFAULT_LIMITS[key])} |`, `--${flag} default`);
  }
  const engineRow = rows.find((line) => line.includes(`\`--${ENGINE_TIMEOUT.flag} `));
  t.match(engineRow ?? '', `${formatBound('duration', ENGINE_TIMEOUT.min)} to ${formatBound('duration', ENGINE_TIMEOUT.max)}`);
});
