// A second Docker engine that a test may stall (SIGSTOP) without touching the shared one: its own
// socket, data root, exec root, pidfile and bridge. Never `--bridge=none`: that deletes the main
// engine's docker0, and every build on the machine that needs a network then fails.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import Docker from 'dockerode';

export interface SecondEngine {
  /** DOCKER_HOST for the second engine. */
  host: string;
  docker: Docker;
  /** SIGSTOP: the engine accepts connections and answers none. */
  stall(): void;
  /** SIGCONT. */
  resume(): void;
  teardown(): Promise<void>;
}

/** Why a second engine cannot run here, or undefined when it can (root, dockerd and ip present). */
export function secondEngineProblem(): string | undefined {
  if (process.getuid?.() !== 0) return 'a second dockerd needs root';
  for (const tool of ['dockerd', 'ip']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  return undefined;
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr || result.error?.message}`);
}

/** A /24 in 10.213.0.0/16 that no interface on this machine uses yet. */
function freeSubnet(): number {
  const used = spawnSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' }).stdout;
  for (let attempt = 0; attempt < 50; attempt++) {
    const third = 1 + Math.floor(Math.random() * 250);
    if (!used.includes(`10.213.${third}.`)) return third;
  }
  throw new Error('no free 10.213.x.0/24 subnet for the second engine bridge');
}

async function answers(docker: Docker): Promise<boolean> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 2000);
  try {
    await (docker.ping as (options: { abortSignal: AbortSignal }) => Promise<unknown>).call(docker, { abortSignal: abort.signal });
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts a dockerd of its own and loads `images` into it from the main engine (`docker save` |
 * `docker load`). Everything it starts and creates goes in `teardown`.
 */
export async function startSecondEngine(images: string[]): Promise<SecondEngine> {
  // Short paths: a unix socket path must stay under 108 bytes.
  const dir = await mkdtemp('/tmp/gse-');
  const bridge = `gse${randomBytes(4).toString('hex')}`;
  const socket = path.join(dir, 'docker.sock');
  const host = `unix://${socket}`;
  let daemon: ChildProcess | undefined;
  let bridgeMade = false;

  // Should the test process end without teardown (a failed assertion that throws, a timeout), the
  // daemon, its bridge and its folder still go.
  const onExit = () => {
    if (daemon?.pid && daemon.exitCode === null && daemon.signalCode === null) {
      daemon.kill('SIGCONT');
      daemon.kill('SIGKILL');
    }
    stopOwnedProcesses(dir);
    unmountUnder(dir);
    if (bridgeMade) spawnSync('ip', ['link', 'del', bridge]);
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const teardown = async () => {
    process.off('exit', onExit);
    if (daemon?.pid && daemon.exitCode === null && daemon.signalCode === null) {
      const exited = new Promise<void>((resolve) => daemon!.once('exit', () => resolve()));
      daemon.kill('SIGCONT');
      daemon.kill('SIGTERM');
      const timer = setTimeout(() => daemon!.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    stopOwnedProcesses(dir);
    unmountUnder(dir);
    if (bridgeMade) spawnSync('ip', ['link', 'del', bridge]);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    run('ip', ['link', 'add', bridge, 'type', 'bridge']);
    bridgeMade = true;
    run('ip', ['addr', 'add', `10.213.${freeSubnet()}.1/24`, 'dev', bridge]);
    run('ip', ['link', 'set', bridge, 'up']);
    const log = await open(path.join(dir, 'dockerd.log'), 'w');
    daemon = spawn(
      'dockerd',
      [
        '--host',
        host,
        '--data-root',
        path.join(dir, 'data'),
        '--exec-root',
        path.join(dir, 'exec'),
        '--pidfile',
        path.join(dir, 'docker.pid'),
        '--bridge',
        bridge,
        '--iptables=false',
        '--ip-masq=false',
      ],
      { stdio: ['ignore', log.fd, log.fd] },
    );
    await log.close();
    const docker = new Docker({ socketPath: socket });
    for (let waited = 0; !(await answers(docker)); waited += 250) {
      if (daemon.exitCode !== null || waited > 60_000) {
        const tail = (await readFile(path.join(dir, 'dockerd.log'), 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
        throw new Error(`the second dockerd did not come up:\n${tail}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const main = new Docker();
    for (const image of images) {
      const saved = (await main.getImage(image).get()) as unknown as Readable;
      const loading = (await docker.loadImage(saved)) as unknown as Readable;
      await new Promise<void>((resolve, reject) =>
        docker.modem.followProgress(loading, (error: Error | null, events: { error?: string }[]) => {
          const failed = error ?? events.find((event) => event.error);
          if (failed) reject(new Error(`loading ${image} into the second engine: ${error?.message ?? (failed as { error: string }).error}`));
          else resolve();
        }),
      );
    }
    const pid = daemon.pid!;
    return {
      host,
      docker,
      stall: () => process.kill(pid, 'SIGSTOP'),
      resume: () => process.kill(pid, 'SIGCONT'),
      teardown,
    };
  } catch (error) {
    await teardown();
    throw error;
  }
}

/** containerd and shims the second dockerd started, found by its exec root in their command line. */
function stopOwnedProcesses(dir: string): void {
  const owned: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    if (cmdline.includes(dir) && Number(entry) !== process.pid) owned.push(Number(entry));
  }
  for (const pid of owned) {
    try {
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((target) => target.startsWith(`${dir}/`))
    .reverse();
  for (const target of mounts) spawnSync('umount', ['-l', target]);
}
