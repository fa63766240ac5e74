// The limits table: the one source the flags, the usage text, the spec's `limits:` and the README
// are made from; values outside its bounds are refused with the value, the bound, why, and the fix.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import {
  DEFAULT_LIMITS,
  fitToEngine,
  formatBound,
  LIMIT_TABLE,
  limitShape,
  limitSpecFields,
  limitsFromSpec,
  outOfBounds,
  resolveLimits,
  type BoundedLimit,
} from '../../runner/spec/limits.js';
import { flagDescription, flagRows, isBounded, limitKeys, limitsReadmeTable } from '../../runner/spec/limit-table.js';
import { DEFAULT_ENGINE_TIMEOUT_MS } from '../../runner/engine/engine.js';
import { packageRoot } from '../../runner/paths.js';
import { Cursor, INVALID } from '../../runner/spec/shapes.js';

const keys = limitKeys.filter((key): key is BoundedLimit => isBounded(LIMIT_TABLE[key]));

/** A spec value read through the limit's shape: the value, or the issue reported. */
function specValue(key: BoundedLimit, text: string): number | string {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const cursor = new Cursor({ file: 'exercise.yaml', lineCounter }, [], null);
  const value = limitShape(key).parse(doc.contents as never, cursor);
  return value === INVALID ? cursor.issues[0]!.message : value;
}

t.test('every default lies inside its bounds', async (t) => {
  t.same(keys, ['runTimeoutMs', 'buildTimeoutMs', 'memoryBytes', 'pids', 'cpus', 'outputBytes', 'engineTimeoutMs', 'submissionTimeoutMs']);
  for (const key of keys) {
    const { min, max, default: value } = LIMIT_TABLE[key];
    t.ok(min <= value && value <= max, `${key}: ${min} <= ${value} <= ${max}`);
  }
  t.equal(LIMIT_TABLE.engineTimeoutMs.default, 30_000, 'the engine timeout the issue asks for');
  t.equal(LIMIT_TABLE.engineTimeoutMs.default, DEFAULT_ENGINE_TIMEOUT_MS, "the engine's own fallback agrees");
  t.same(
    DEFAULT_LIMITS,
    {
      runTimeoutMs: 30_000,
      buildTimeoutMs: 300_000,
      memoryBytes: 512 * 1024 * 1024,
      pids: 512,
      cpus: 1,
      outputBytes: 1024 * 1024,
      buildNetwork: 'none',
      contextBytes: 50_000_000,
      contextFiles: 10_000,
    },
    'the defaults of a run, without the engine timeout',
  );
});

t.test('the minimums the engine needs: memory to build, output for a log', async (t) => {
  t.equal(LIMIT_TABLE.memoryBytes.min, 64 * 1024 * 1024);
  t.equal(LIMIT_TABLE.outputBytes.min, 1024);
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
  const memory = LIMIT_TABLE.memoryBytes;
  const fix = (limit: string) => `--memory ${limit}`;
  t.equal(outOfBounds(memory, 512 * 1024 * 1024, '--memory 512MiB', fix), undefined);
  t.equal(outOfBounds(memory, 64 * 1024 * 1024, '--memory 64MiB', fix), undefined, 'the minimum itself is fine');
  t.equal(outOfBounds(memory, 1_000_000, '--memory 1MB', fix), `--memory 1MB is below the minimum of 64MiB (${memory.belowMin}): use --memory 64MiB or more`);
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

t.test("the spec's limits: one field per row with a spec key, mapped back to the row's key", async (t) => {
  t.same(Object.keys(limitSpecFields()), ['runTimeout', 'buildTimeout', 'memory', 'pids', 'cpus', 'output', 'buildNetwork']);
  t.same(limitsFromSpec({ runTimeout: 5000, output: 2048, buildNetwork: 'default' }), {
    runTimeoutMs: 5000,
    buildTimeoutMs: undefined,
    memoryBytes: undefined,
    pids: undefined,
    cpus: undefined,
    outputBytes: 2048,
    buildNetwork: 'default',
  });
});

t.test('the flags and their help come from the table', async (t) => {
  t.same(
    flagRows().map(([, row]) => row.flag),
    ['run-timeout', 'build-timeout', 'memory', 'pids', 'cpus', 'output-limit', 'build-network', 'engine-timeout', 'submission-timeout'],
  );
  t.equal(flagDescription(LIMIT_TABLE.memoryBytes), 'memory per container and build, swap not allowed (default 512MiB)');
  t.equal(flagDescription(LIMIT_TABLE.buildNetwork), 'network for builds: none or default (default: as the exercise says, else none)');
});

t.test("the README's Limits table is the one the table makes", async (t) => {
  const readme = await readFile(path.join(packageRoot, 'README.md'), 'utf8');
  const start = readme.indexOf('| limit | default | bounds |');
  t.not(start, -1, 'the README has a Limits table');
  const table = readme.slice(start, readme.indexOf('\n\n', start));
  // On a difference, paste limitsReadmeTable()'s output over the README's table.
  t.equal(table, limitsReadmeTable());
  t.match(table, '| memory (runs and builds) | 512MiB | 64MiB to 16GiB | `--memory 512MiB` | `memory` |', 'one row spelled out');
});
