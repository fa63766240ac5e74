// The extra engines of the engine matrix (issue 11): the ones .ci/engines.sh starts beside the
// main engine, each on its own socket. CI names them in GRADE_ENGINES, and there an engine that
// does not answer is a failure; without GRADE_ENGINES the ones that answer are used.
import path from 'node:path';
import Docker from 'dockerode';
import { DockerodeEngine } from '../../runner/engine/dockerode/index.js';
import type { EngineInfo } from '../../runner/engine/engine.js';
import { missingFixtures } from './engine.js';

/** The engines .ci/engines.sh knows, in its order. */
export const EXTRA_ENGINE_NAMES = ['docker26', 'containerd26', 'podman'] as const;

export interface ExtraEngine {
  name: string;
  socketPath: string;
  engine: DockerodeEngine;
  info: EngineInfo;
}

export interface ExtraEngines {
  /** Engines that answer and hold the fixture images. */
  ready: ExtraEngine[];
  /** Engines GRADE_ENGINES names that cannot be used: the matrix fails on each. */
  broken: { name: string; problem: string }[];
  /** Engines not named (no GRADE_ENGINES) that cannot be used: skipped, with the reason. */
  skipped: { name: string; problem: string }[];
}

/** The socket .ci/engines.sh gives an engine (GRADE_ENGINES_RUN moves them, as in the script). */
export function extraEngineSocket(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.GRADE_ENGINES_RUN || '/run/grade-engines', `${name}.sock`);
}

/** The engines GRADE_ENGINES names (space or comma separated), or undefined when it is unset or empty. */
export function namedEngines(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const names = (env.GRADE_ENGINES ?? '').split(/[\s,]+/).filter(Boolean);
  if (!names.length) return undefined;
  const unknown = names.filter((name) => !(EXTRA_ENGINE_NAMES as readonly string[]).includes(name));
  if (unknown.length) throw new Error(`GRADE_ENGINES names ${unknown.map((name) => `"${name}"`).join(', ')}: the engines are ${EXTRA_ENGINE_NAMES.join(', ')}`);
  return [...new Set(names)];
}

/** Why the engine on `socketPath` cannot grade the fixtures, or its EngineInfo. */
async function probe(engine: DockerodeEngine, socketPath: string): Promise<{ info: EngineInfo } | { problem: string }> {
  let info: EngineInfo;
  try {
    info = await engine.info();
  } catch (error) {
    return { problem: `no engine answers on ${socketPath} (start it with .ci/engines.sh start): ${(error as Error).message}` };
  }
  const missing = await missingFixtures(engine);
  if (missing.length)
    return { problem: `${missing.join(', ')} missing on ${socketPath}: .ci/engines.sh start loads them from the main engine after npm run fixtures` };
  return { info };
}

/** The extra engines to grade on: GRADE_ENGINES's, or every known one that answers. */
export async function extraEngines(env: NodeJS.ProcessEnv = process.env): Promise<ExtraEngines> {
  const named = namedEngines(env);
  const found: ExtraEngines = { ready: [], broken: [], skipped: [] };
  for (const name of named ?? EXTRA_ENGINE_NAMES) {
    const socketPath = extraEngineSocket(name, env);
    const engine = new DockerodeEngine({ docker: new Docker({ socketPath }) });
    const probed = await probe(engine, socketPath);
    if ('info' in probed) found.ready.push({ name, socketPath, engine, info: probed.info });
    else (named ? found.broken : found.skipped).push({ name, problem: probed.problem });
  }
  return found;
}
