// The real Docker engine for integration tests. Without one, tests skip locally but fail loudly
// in CI (CI=true), where a skipped Docker test would hide that nothing was tested.
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DockerodeEngine } from '../../runner/engine/dockerode/index.js';
import type { DockerEngine } from '../../runner/engine/engine.js';
import { resolveLimits } from '../../runner/spec/limits.js';
import { packageRoot } from '../../runner/paths.js';

export const FIXTURE_IMAGES = ['grade-fixture/toolchain:latest', 'grade-fixture/runtime:latest'];
export const submissions = path.join(packageRoot, 'test/fixtures/submissions');

interface Plannable {
  plan(count: number, reason?: string): void;
}

/** The engine, or undefined after skipping the file (never in CI: there it throws). */
export async function realEngine(t: Plannable): Promise<DockerodeEngine | undefined> {
  const engine = new DockerodeEngine();
  let problem: string | undefined;
  try {
    await engine.info();
    const missing = await missingFixtures(engine);
    if (missing.length) problem = `the offline base images ${missing.join(', ')} are missing: run npm run fixtures`;
  } catch (error) {
    problem = `no Docker engine answers: ${(error as Error).message}`;
  }
  if (!problem) return engine;
  if (process.env.CI) throw new Error(`Docker tests cannot run in CI: ${problem}`);
  t.plan(0, problem);
  return undefined;
}

/** The offline base images an engine lacks. */
export async function missingFixtures(engine: DockerEngine): Promise<string[]> {
  const missing: string[] = [];
  for (const image of FIXTURE_IMAGES) if (!(await engine.inspectImage(image))) missing.push(image);
  return missing;
}

/** Limits for tests: the exercise's own, with the network off since no registry is reachable. */
export const testLimits = resolveLimits({ buildNetwork: 'none' });

/**
 * The reference solution as a student would hand it in, rebuilt on the offline stand-ins: the
 * alpine build stages on grade-fixture/toolchain (gcc, and an `apk` that does nothing) and the
 * alpine runtime stage on grade-fixture/runtime. Everything else is the solution's own text.
 */
export async function standInSolution(into: string): Promise<string> {
  await cp(path.join(packageRoot, 'exercises/multi/solution'), into, { recursive: true });
  for (const dockerfile of await findDockerfiles(into)) {
    const text = await readFile(dockerfile, 'utf8');
    await writeFile(
      dockerfile,
      text
        .replace(/^FROM alpine:[\d.]+ AS build$/gim, 'FROM grade-fixture/toolchain AS build')
        .replace(/^FROM alpine:[\d.]+$/gim, 'FROM grade-fixture/runtime'),
    );
  }
  return into;
}

async function findDockerfiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await findDockerfiles(full)));
    else if (entry.name === 'Dockerfile') found.push(full);
  }
  return found;
}

/**
 * Counts a test file's hostile-input and broken-world cases. Each file prints its count when it
 * ends (`# fault suite: N cases in FILE`), and .ci/run adds the counts up.
 */
export function faultSuite(t: { teardown(fn: () => void): void }, file: string): { add(count?: number): void } {
  let cases = 0;
  t.teardown(() => console.log(`# fault suite: ${cases} cases in ${path.basename(file)}`));
  return {
    add(count = 1) {
      cases += count;
    },
  };
}
