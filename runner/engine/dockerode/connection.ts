// One connection to the engine, shared by builds, runs and image calls: the dockerode client
// with every request bounded, the watchdog that tells a silent engine from a slow operation, and
// the container creation and removal they all use.
import Docker from 'dockerode';
import { EngineError } from '../engine.js';
import { answersWithin, boundRequests, EngineClock, EngineStall, watchEngine } from '../bounds.js';
import { dialectOf, type Dialect, type SystemInfoMarks } from './dialect.js';
import { apiVersionProblem, asEngineError, dockerHostProblem, engineCall, engineMessage, HOST_ADVICE, isNotFound, shownAddress } from './errors.js';

/** When a build or run times out, how long the engine has to answer the ping that tells its fault from ours. */
const TIMEOUT_PING_MS = 5000;

/** The engine named by DOCKER_HOST, at DOCKER_API_VERSION when set; both are checked first. */
export function dockerFromEnvironment(): Docker {
  const host = process.env.DOCKER_HOST;
  const hostProblem = dockerHostProblem(host);
  if (hostProblem) throw new EngineError(`DOCKER_HOST=${shownAddress(host)} is not an engine address: ${hostProblem}`, HOST_ADVICE);
  const version = process.env.DOCKER_API_VERSION;
  const versionProblem = apiVersionProblem(version);
  if (versionProblem) {
    throw new EngineError(
      `DOCKER_API_VERSION=${version}: ${versionProblem}`,
      "Set DOCKER_API_VERSION to an API version the engine supports (`docker version` shows it), or unset it to use the engine's own.",
    );
  }
  const trimmed = version?.trim();
  return new Docker(trimmed ? { version: `v${trimmed.replace(/^v/, '')}` } : undefined);
}

export class EngineConnection {
  readonly clock: EngineClock;
  private dialectAnswer?: Promise<Dialect>;

  constructor(
    readonly docker: Docker,
    timeoutMs: number,
  ) {
    this.clock = new EngineClock(timeoutMs);
    boundRequests(docker.modem, this.clock);
  }

  // @types/dockerode types ping() without options; dockerode passes abortSignal on to the request.
  private ping = (signal: AbortSignal) =>
    (this.docker.ping as (options: { abortSignal: AbortSignal }) => Promise<unknown>).call(this.docker, { abortSignal: signal });

  /** Calls `onStall` with an EngineError when the engine stops answering; returns the stop function. */
  watch(what: string, onStall: (error: EngineError) => void): () => void {
    return watchEngine(this.ping, this.clock, `pings during ${what}`, (stall) => onStall(asEngineError(stall) as EngineError));
  }

  /** Whether the engine still answers, asked when a build or run timed out: if not, the fault is not the submission's. */
  async stalledAt(what: string): Promise<EngineError | undefined> {
    if (await answersWithin(this.ping, TIMEOUT_PING_MS)) return undefined;
    this.clock.silent();
    return asEngineError(new EngineStall(`${what} timed out, and a ping`, TIMEOUT_PING_MS)) as EngineError;
  }

  /** How this engine differs from Docker, from its `/info` answer (asked once). */
  dialect(): Promise<Dialect> {
    if (!this.dialectAnswer) {
      // An engine that cannot be reached fails here; one that answers /info with an error is Docker.
      const asked = engineCall(() => this.docker.info() as Promise<SystemInfoMarks>).then(dialectOf, (error: unknown) => {
        if (error instanceof EngineError) throw error;
        return dialectOf({});
      });
      // A failed answer is asked again next time rather than remembered.
      asked.catch(() => {
        if (this.dialectAnswer === asked) this.dialectAnswer = undefined;
      });
      this.dialectAnswer = asked;
    }
    return this.dialectAnswer;
  }

  /** The `/info` answer someone else already asked for: no need to ask again. */
  learnDialect(info: SystemInfoMarks): Dialect {
    const dialect = dialectOf(info);
    this.dialectAnswer = Promise.resolve(dialect);
    return dialect;
  }

  async create(options: Docker.ContainerCreateOptions): Promise<Docker.Container> {
    return engineCall(() => this.docker.createContainer(options));
  }

  async removeContainer(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (error) {
      if (isNotFound(error) || /already in progress/i.test(engineMessage(error))) return;
      throw asEngineError(error);
    }
  }
}
