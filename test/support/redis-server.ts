/**
 * A private redis-server for tests (spawned on a free loopback port, no persistence) and a byte-for-byte TCP proxy
 * in front of it that can cut connections and refuse new ones (test/faults/fault-proxy.ts frames the MySQL
 * protocol, so it cannot carry Redis traffic).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { until } from '../pool/helpers.js';

/** A spawned redis-server and an ioredis admin client connected to it. */
export interface PrivateRedis {
  /** Its port on 127.0.0.1. */
  readonly port: number;
  /** A client for set-up and checks. */
  readonly admin: Redis;
  /** Closes the admin client and kills the server. */
  stop(): Promise<void>;
}

/** Spawns a redis-server on a free port and waits until it answers. */
export async function spawnRedisServer(): Promise<PrivateRedis> {
  const port = await freePort();
  const server: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const admin = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 50 });
  admin.on('error', () => undefined); // refused until the server listens
  await until(() => admin.status === 'ready' || (void admin.connect().catch(() => undefined), false), 'the private redis-server');
  return {
    port,
    admin,
    async stop() {
      await admin.quit();
      server.kill();
    },
  };
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** A byte-for-byte TCP proxy to the private server that can cut its connections and refuse new ones. */
export class CutProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #refusing = false;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(upstreamPort: number): Promise<CutProxy> {
    const server = createServer();
    const proxy = new CutProxy(server);
    server.on('connection', (client) => proxy.#accept(client, upstreamPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    const address = this.#server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** Resets every open connection. */
  cut(): void {
    for (const socket of this.#sockets) socket.resetAndDestroy();
    this.#sockets.clear();
  }

  /** Resets new connections as they arrive (until {@link acceptNew}). */
  refuseNew(): void {
    this.#refusing = true;
  }

  acceptNew(): void {
    this.#refusing = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  #accept(client: Socket, upstreamPort: number): void {
    if (this.#refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(upstreamPort, '127.0.0.1');
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.#sockets.add(from);
      from.pipe(to);
      from.on('error', () => to.destroy());
      from.on('close', () => {
        this.#sockets.delete(from);
        to.destroy();
      });
    }
  }
}

