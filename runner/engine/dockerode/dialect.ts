// What differs between the engines that speak the Docker Engine API, in one place. Docker (20.10
// to 28, overlay2 or the containerd image store) is the reference; Podman's compatibility API
// (4.x) answers the same calls with the differences below, each found on a real Podman 4.3.
import type Docker from 'dockerode';
import type { DockerodeError } from './errors.js';
import { engineMessage } from './errors.js';

export interface Dialect {
  /** Which engine answered, from `/info` (Podman's names its Buildah). */
  readonly engine: 'docker' | 'podman';
  /**
   * Where images live: Docker's graph drivers (overlay2 and the like), the containerd image store
   * (`/info` DriverStatus driver-type io.containerd.snapshotter.v1), or Podman's storage. It says
   * what the engine's own image listing counts; see `listedSize`.
   */
  readonly imageStore: 'graph' | 'containerd' | 'podman';
  /**
   * The `ps_args` of `GET /containers/{id}/top`. Docker runs the host's `ps` and needs none;
   * Podman without them runs `ps` inside the container (a scratch container has none) and answers
   * with nothing, and the descriptors it takes (`pid,args`) are what Docker's `ps` rejects.
   */
  readonly topArgs?: string;
  /**
   * Whether `State.OOMKilled` says when the kernel killed a container for memory. Podman 4.3 under
   * runc says false; there a SIGKILL (exit 137) that the grader did not send is the memory limit.
   */
  readonly reportsOom: boolean;
  /**
   * Whether closing a build's request stops it. Docker cancels the running step; Podman runs the
   * step on to its end and then gives up, and no API call reaches Buildah's container meanwhile.
   */
  readonly cancelsBuilds: boolean;
  /** The build's `ulimits` parameter: Docker takes `[{Name, Soft, Hard}]`, Podman `["name=soft:hard"]` (400 otherwise). */
  buildUlimits(limits: { name: string; soft: number; hard: number }[]): string;
}

const docker: Dialect = {
  engine: 'docker',
  imageStore: 'graph',
  reportsOom: true,
  cancelsBuilds: true,
  buildUlimits: (limits) => JSON.stringify(limits.map(({ name, soft, hard }) => ({ Name: name, Soft: soft, Hard: hard }))),
};

const podman: Dialect = {
  engine: 'podman',
  imageStore: 'podman',
  topArgs: 'pid,args',
  reportsOom: false,
  cancelsBuilds: false,
  buildUlimits: (limits) => JSON.stringify(limits.map(({ name, soft, hard }) => `${name}=${soft}:${hard}`)),
};

/** The parts of `/info` that tell the engines apart. */
export interface SystemInfoMarks {
  BuildahVersion?: string;
  DriverStatus?: [string, string][] | null;
}

/** The dialect of the engine that gave this `/info` answer. */
export function dialectOf(info: SystemInfoMarks): Dialect {
  if (info?.BuildahVersion) return podman;
  const containerd = (info?.DriverStatus ?? []).some(([key, value]) => key === 'driver-type' && /containerd\.snapshotter/.test(value));
  return containerd ? { ...docker, imageStore: 'containerd' } : docker;
}

/**
 * What the engine's own image listing (`docker image ls`, `podman images`) shows for an image
 * whose inspected `Size` is `inspected` and whose layers hold `layers` bytes, and why, when that
 * differs from the layers: the containerd store lists the compressed blobs plus the unpacked
 * snapshots; Podman adds the image's configuration and manifest.
 */
export function listedSize(dialect: Dialect, inspected: number, layers: number): { bytes: number; why: string } | undefined {
  if (dialect.imageStore === 'containerd') {
    return { bytes: inspected + layers, why: 'on the containerd image store it counts the compressed and the unpacked copy of each layer' };
  }
  if (dialect.imageStore === 'podman') return { bytes: inspected, why: "on Podman it also counts the image's configuration and manifest" };
  return undefined;
}

/**
 * A program the runtime could not start, reported by the attach rather than the start: Podman
 * "prepares" (creates in runc) the container when attaching and answers 409 with the runtime's
 * message, where Docker's start gives it. Undefined for any other failure.
 */
export function attachStartError(error: unknown): string | undefined {
  if ((error as DockerodeError)?.statusCode !== 409) return undefined;
  const said = /for attach: (.+)$/s.exec(engineMessage(error));
  return said?.[1]?.trim();
}

/** Whether the API version a client asks for (`DOCKER_API_VERSION`) lies within what the engine says it serves. */
export function apiVersionServed(requested: string, version: Docker.DockerVersion): string | undefined {
  const wanted = requested.trim().replace(/^v/, '');
  const newest = version.ApiVersion;
  const oldest = (version as { MinAPIVersion?: string }).MinAPIVersion;
  if (newest && compareVersions(wanted, newest) > 0) return `client version ${wanted} is too new. Maximum supported API version is ${newest}`;
  if (oldest && compareVersions(wanted, oldest) < 0) return `client version ${wanted} is too old. Minimum supported API version is ${oldest}`;
  return undefined;
}

function compareVersions(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split('.').map(Number);
  const [bMajor = 0, bMinor = 0] = b.split('.').map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}
