// A unix socket in front of a real engine that passes requests on, except those a test picks: to
// fall silent at (an engine that stops the moment that request reaches it), or to answer itself
// (an engine that refuses one request).
import type { Test } from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

/** What the proxy does with a request: pass it on, fall silent for good, or answer it with `status` and `message`. */
export type ProxyAnswer = 'pass' | 'silence' | { status: number; message: string };

/**
 * Starts the proxy in front of the engine listening on `target` (a socket path); `decide` sees the
 * start of each request ("POST /v1.41/containers/3f2a.../start HTTP/1.1 ..."). Returns its
 * DOCKER_HOST; it goes in the test's teardown.
 */
export async function engineProxy(t: Test, target: string, decide: (request: string) => ProxyAnswer): Promise<string> {
  const dir = await mkdtemp('/tmp/gsp-');
  const socket = path.join(dir, 'proxy.sock');
  const sockets = new Set<net.Socket>();
  let silent = false;
  const server = net.createServer((client) => {
    const engine = net.connect(target);
    for (const end of [client, engine]) {
      sockets.add(end);
      end.on('error', () => undefined);
      end.on('close', () => sockets.delete(end));
    }
    client.on('data', (chunk: Buffer) => {
      if (silent) return;
      const head = chunk.toString('latin1', 0, 200);
      // A chunk that starts a request ("GET /...") is decided on; the rest of one is passed on.
      const answer = /^[A-Z]+ \//.test(head) ? decide(head) : 'pass';
      if (answer === 'silence') {
        silent = true;
        return;
      }
      if (answer === 'pass') {
        engine.write(chunk);
        return;
      }
      const body = JSON.stringify({ message: answer.message });
      client.end(
        `HTTP/1.1 ${answer.status} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      engine.destroy();
    });
    engine.on('data', (chunk: Buffer) => {
      if (!silent) client.write(chunk);
    });
    engine.on('end', () => {
      if (!silent) client.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  t.teardown(async () => {
    for (const end of sockets) end.destroy();
    server.close();
    await rm(dir, { recursive: true, force: true });
  });
  return `unix://${socket}`;
}
