// What engine trouble means for the user: transport and engine failures become EngineErrors with
// advice (unreachable, permission, API version, disk, an engine gone silent or away), and
// DOCKER_HOST / DOCKER_API_VERSION are checked before anything is asked of them.
import { EngineError } from '../engine.js';
import { EngineStall } from '../bounds.js';

/** The fields dockerode and docker-modem put on the errors they throw. */
export interface DockerodeError extends Error {
  statusCode?: number;
  code?: string;
  json?: { message?: string };
  reason?: string;
}

/** The engine's endpoint as the user named it (docker-modem reads DOCKER_HOST the same way). */
export function where(): string {
  return process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
}

/**
 * An engine address as it may be printed: user and password (or a token in their place), query
 * and fragment removed. Messages end up in CI logs and reports; DOCKER_HOST may carry a secret.
 */
export function shownAddress(address: string = where()): string {
  const value = address.trim() || 'unix:///var/run/docker.sock';
  return value.replace(/^((?:[a-z][a-z0-9+.-]*:\/\/)?)[^/@]*@/i, '$1***@').replace(/[?#].*$/, '');
}

/** Turns transport and version failures into EngineErrors; other errors pass through. */
export function asEngineError(error: unknown): unknown {
  if (error instanceof EngineError) return error;
  const failure = error as DockerodeError;
  const code = failure?.code;
  if (error instanceof EngineStall) {
    return new EngineError(`the Docker engine at ${shownAddress()} stopped answering (${error.message})`, STALLED_ADVICE, { cause: error });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    const host = (failure as DockerodeError & { hostname?: string }).hostname ?? where();
    return new EngineError(
      `DOCKER_HOST=${shownAddress()} names host ${host}, which does not resolve (${code})`,
      'Check the host name in DOCKER_HOST (and your network or DNS), or unset DOCKER_HOST to use the local engine.',
      { cause: error },
    );
  }
  if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ETIMEDOUT') {
    return new EngineError(
      `cannot reach the Docker engine at ${shownAddress()} (${code})`,
      'Start Docker (Docker Desktop, or `sudo systemctl start docker` / `sudo dockerd &`), or point DOCKER_HOST at a running engine.',
      { cause: error },
    );
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new EngineError(
      `permission denied on the Docker socket ${shownAddress()}`,
      'Add your user to the docker group (`sudo usermod -aG docker $USER`, then log in again), or run grade with sudo.',
      { cause: error },
    );
  }
  if (code === 'ECONNRESET' || code === 'EPIPE' || /socket hang up/i.test(failure?.message ?? '')) {
    return new EngineError(
      `the Docker engine at ${shownAddress()} went away during grading (${code ?? 'socket hang up'})`,
      'Check that Docker is running and has not restarted, then grade again.',
      { cause: error },
    );
  }
  const message = engineMessage(error);
  if (failure?.statusCode === 400 && /client version .* too (new|old)|minimum supported API version/i.test(message)) {
    return new EngineError(`the Docker engine refused our API version: ${message}`, API_VERSION_ADVICE, { cause: error });
  }
  if (/no space left on device/i.test(message)) {
    return new EngineError(
      `the Docker engine ran out of disk space: ${message}`,
      'Free space with `docker system prune` (and `grade clean`), then grade again.',
      { cause: error },
    );
  }
  return error;
}

export const API_VERSION_ADVICE = 'Update Docker, or set DOCKER_API_VERSION to a version the engine supports.';

const STALLED_ADVICE =
  'Check `docker info`: if it hangs too, restart Docker (`sudo systemctl restart docker`, or restart Docker Desktop). ' +
  'Then run `grade clean` to remove what this run left, and grade again. A slow but working engine can be given longer with --engine-timeout.';

/** The engine's own message for an API error, without dockerode's "(HTTP code 404) ..." prefix. */
export function engineMessage(error: unknown): string {
  const failure = error as DockerodeError;
  const message = failure?.json?.message ?? failure?.message ?? failure?.reason ?? String(error);
  return String(message)
    .replace(/^\(HTTP code \d+\)\s*[\w ]*-\s*/, '')
    .trim();
}

export function isNotFound(error: unknown): boolean {
  return (error as DockerodeError)?.statusCode === 404;
}

/** Runs one engine call, with its failure converted by `asEngineError`. */
export async function engineCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw asEngineError(error);
  }
}

export const HOST_ADVICE =
  'Set DOCKER_HOST to unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://USER@HOST (npipe:////./pipe/docker_engine on Windows), or unset it to use the local engine.';

/** Why DOCKER_HOST cannot name an engine, or undefined when it can (docker-modem reads it). */
export function dockerHostProblem(value: string | undefined, platform: NodeJS.Platform = process.platform): string | undefined {
  if (!value) return undefined;
  // Without a scheme it is host:port, read as tcp:// (as docker-modem and the docker CLI do).
  const address = value.includes('://') ? value : `tcp://${value}`;
  const scheme = /^([^:/]*):\/\//.exec(address)?.[1]?.toLowerCase();
  if (scheme === 'unix') return undefined;
  if (scheme === 'npipe') return platform === 'win32' ? undefined : 'npipe:// works only on Windows';
  if (scheme !== 'tcp' && scheme !== 'ssh') return `${scheme ? `${scheme}://` : 'an empty scheme'} is not a scheme Docker uses`;
  let host = '';
  try {
    host = new URL(address).hostname;
  } catch {
    return 'it is not a valid address';
  }
  return host ? undefined : 'it names no host';
}

/** Why DOCKER_API_VERSION is malformed, or undefined when it is unset or well-formed. */
export function apiVersionProblem(value: string | undefined): string | undefined {
  if (!value?.trim()) return undefined;
  return /^v?\d+\.\d+$/.test(value.trim()) ? undefined : 'expected a version such as 1.41';
}

/** An answer from something at DOCKER_HOST that is not a Docker engine (a web server, another protocol). */
export function notAnEngine(detail: string, cause?: unknown): EngineError {
  return new EngineError(
    `the service at ${shownAddress()} answered, but not as a Docker engine (${detail})`,
    'Point DOCKER_HOST at a Docker engine (its socket, or the TCP port dockerd listens on), or unset it to use the local engine.',
    { cause },
  );
}

/** The first request's failure: besides `asEngineError`, an answer that is not the engine's. */
export function asFirstAnswer(error: unknown): unknown {
  const converted = asEngineError(error);
  if (converted instanceof EngineError) return converted;
  const failure = error as DockerodeError;
  if (failure?.statusCode !== undefined) {
    const said = engineMessage(error).split('\n')[0]!.slice(0, 80);
    return notAnEngine(`HTTP ${failure.statusCode} to GET /version${said ? `: ${said}` : ''}`, error);
  }
  if (failure?.code?.startsWith('HPE_')) return notAnEngine(`its answer is not HTTP: ${failure.code}`, error);
  return error;
}
