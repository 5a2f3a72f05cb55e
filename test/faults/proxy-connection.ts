/**
 * One client connection through the fault proxy: the client's socket, the socket to the upstream server, a
 * {@link Pipe} each way, and the protocol watchers that name the client's commands.
 */
import type { Socket } from 'node:net';
import { ClientStreamParser, ServerStreamWatcher, type ClientCommand } from './mysql-protocol.js';
import { Pipe, type CutHow, type DirectionShaping } from './pipe.js';

/** A direction of the byte stream. */
export type Direction = 'client_to_server' | 'server_to_client';

/** What a command hook decides: let the command through, or cut the connection. */
export type CommandVerdict =
  | 'forward'
  | {
      /**
       * `before`: the command never reaches the server; the connection is cut where it would have been sent.
       * `reply`: the command reaches the server; the connection is cut when the server's answer arrives at the proxy,
       * before any byte of it reaches the client (the server has run it; the client cannot know).
       */
      readonly cut: 'before' | 'reply';
      /** RST (default) or FIN. */
      readonly how?: CutHow;
    };

/** What a {@link ProxyConnection} needs from its proxy. */
export interface ConnectionHost {
  shaping(direction: Direction): DirectionShaping;
  random(): number;
  forwarded(direction: Direction, bytes: number): void;
  /** Asks the command hooks; called when a whole command packet has arrived from the client. */
  inspect(command: ClientCommand, connection: ProxyConnection): CommandVerdict;
  /** The connection cut itself (a fault fired). */
  wasCut(connection: ProxyConnection): void;
  /** Both sockets are closed. */
  closed(connection: ProxyConnection): void;
}

/** Where a connection is in its life. */
export type ConnectionState = 'open' | 'cut' | 'closed';

/** A client connection through the proxy, as predicates and hooks see it. */
export class ProxyConnection {
  /** 1, 2, 3, … in the order the proxy accepted connections. */
  readonly id: number;
  /** The client's TCP port (mysql2: `connection.stream.localPort`). */
  readonly clientPort: number;
  readonly #client: Socket;
  readonly #server: Socket;
  readonly #host: ConnectionHost;
  readonly #toServer: Pipe;
  readonly #toClient: Pipe;
  readonly #parser: ClientStreamParser;
  readonly #watcher: ServerStreamWatcher;
  /** Statement texts by prepared-statement id, and texts of prepares still awaiting their id. */
  readonly #statements = new Map<number, string>();
  readonly #pendingPrepares: string[] = [];
  #threadId: number | null = null;
  #lastCommand: ClientCommand | null = null;
  #commands = 0;
  #bytesToServer = 0;
  #bytesToClient = 0;
  #state: ConnectionState = 'open';
  #socketsOpen = 2;

  /** @internal created by the proxy for each accepted client socket and its upstream socket */
  constructor(id: number, client: Socket, server: Socket, host: ConnectionHost) {
    this.id = id;
    this.clientPort = client.remotePort ?? 0;
    this.#client = client;
    this.#server = server;
    this.#host = host;
    const pipeHost = (direction: Direction): ConstructorParameters<typeof Pipe>[2] => ({
      shaping: () => host.shaping(direction),
      random: () => host.random(),
      forwarded: (bytes) => {
        if (direction === 'client_to_server') this.#bytesToServer += bytes;
        else this.#bytesToClient += bytes;
        host.forwarded(direction, bytes);
      },
      cut: (how, flush) => this.cut(how, flush),
    });
    this.#toServer = new Pipe(client, server, pipeHost('client_to_server'));
    this.#toClient = new Pipe(server, client, pipeHost('server_to_client'));
    this.#parser = new ClientStreamParser((statementId) => this.#statements.get(statementId) ?? null);
    this.#watcher = new ServerStreamWatcher({
      greeting: (threadId) => {
        this.#threadId = threadId;
      },
      prepared: (statementId) => {
        const sql = this.#pendingPrepares.shift();
        if (statementId !== null && sql !== undefined) this.#statements.set(statementId, sql);
      },
    });
    client.on('data', (chunk: Buffer) => this.#fromClient(chunk));
    server.on('data', (chunk: Buffer) => this.#fromServer(chunk));
    for (const [socket, pipe, other] of [
      [client, this.#toServer, server],
      [server, this.#toClient, client],
    ] as const) {
      socket.on('end', () => pipe.pushEnd());
      // A peer's abrupt end is passed on abruptly: the other peer sees a reset, as it would without the proxy.
      socket.on('error', () => {
        if (this.#state === 'open') this.#teardown(other);
      });
      socket.on('close', () => {
        if (--this.#socketsOpen === 0) this.#finish();
        // Closed without its peer's FIN (and without an error): end the other side abruptly too.
        else if (this.#state === 'open' && !socket.readableEnded) this.#teardown(other);
      });
    }
  }

  /** The server's thread id for this connection (`CONNECTION_ID()`, mysql2's `connection.threadId`), once greeted. */
  get threadId(): number | null {
    return this.#threadId;
  }

  /** The last command the client sent (as it arrived at the proxy), or null. */
  get lastCommand(): ClientCommand | null {
    return this.#lastCommand;
  }

  /** How many commands the client has sent. */
  get commands(): number {
    return this.#commands;
  }

  /** Bytes forwarded client → server. */
  get bytesClientToServer(): number {
    return this.#bytesToServer;
  }

  /** Bytes forwarded server → client. */
  get bytesServerToClient(): number {
    return this.#bytesToClient;
  }

  /** `open`, `cut` (by a fault, sockets closing) or `closed`. */
  get state(): ConnectionState {
    return this.#state;
  }

  /**
   * Cuts both sockets now: with `reset`, a TCP RST to both peers; with `fin`, a normal close of both. Queued bytes
   * are dropped; with `flush`, the bytes last written to that socket leave before a RST.
   */
  cut(how: CutHow = 'reset', flush?: Socket): void {
    if (this.#state !== 'open') return;
    this.#state = 'cut';
    this.#disposePipes();
    this.#host.wasCut(this);
    const finish = (): void => {
      for (const socket of [this.#client, this.#server]) {
        if (socket.destroyed) continue;
        if (how === 'reset') {
          socket.resetAndDestroy();
        } else {
          // Keep reading (and dropping) so unread bytes do not turn the close into a RST.
          socket.removeAllListeners('data');
          socket.resume();
          socket.destroySoon();
        }
      }
    };
    if (how === 'reset' && flush !== undefined && flush.writableLength > 0 && !flush.destroyed) {
      flush.once('drain', finish);
      flush.once('close', finish);
    } else {
      finish();
    }
  }

  /** Cut when byte `bytes + 1` from now would be forwarded in `direction`. */
  cutAfter(bytes: number, direction: Direction, how: CutHow = 'reset'): void {
    this.#pipe(direction).cutAfter(bytes, how);
  }

  /** Cut when the next chunk arrives from the server, before any of it reaches the client. */
  cutOnServerReply(how: CutHow = 'reset'): void {
    this.#toClient.cutOnNextArrival(how);
  }

  /** @internal drops armed cuts and byte budgets */
  disarm(): void {
    this.#toServer.disarm();
    this.#toClient.disarm();
  }

  /** @internal re-reads shaping */
  kick(): void {
    this.#toServer.kick();
    this.#toClient.kick();
  }

  /** @internal ends the connection without counting it as a fault (proxy shutdown) */
  destroy(): void {
    if (this.#state === 'closed') return;
    if (this.#state === 'open') this.#state = 'cut';
    this.#disposePipes();
    this.#client.destroy();
    this.#server.destroy();
  }

  #pipe(direction: Direction): Pipe {
    return direction === 'client_to_server' ? this.#toServer : this.#toClient;
  }

  #fromClient(chunk: Buffer): void {
    if (this.#state !== 'open') return;
    for (const segment of this.#parser.push(chunk)) {
      const command = segment.command;
      if (command === null) {
        this.#toServer.push(segment.bytes);
        continue;
      }
      this.#commands++;
      this.#lastCommand = command;
      const verdict = this.#host.inspect(command, this);
      if (this.#state !== 'open') return; // a hook cut the connection itself
      if (verdict !== 'forward' && verdict.cut === 'before') {
        this.#toServer.pushCut(verdict.how ?? 'reset');
        return; // nothing after it will ever be sent
      }
      this.#toServer.push(segment.bytes, () => {
        if (command.kind === 'prepare' && command.sql !== null) {
          this.#pendingPrepares.push(command.sql);
          this.#watcher.expectPrepareAnswer();
        } else if (command.kind === 'close_statement' && command.statementId !== null) {
          this.#statements.delete(command.statementId);
        }
        if (verdict !== 'forward') this.#toClient.cutOnNextArrival(verdict.how ?? 'reset');
      });
    }
  }

  #fromServer(chunk: Buffer): void {
    if (this.#state !== 'open') return;
    this.#watcher.observe(chunk);
    this.#toClient.push(chunk);
  }

  /** One peer went away abruptly: reset the other (not counted as a proxy fault). */
  #teardown(other: Socket): void {
    this.#state = 'cut';
    this.#disposePipes();
    if (!other.destroyed) other.resetAndDestroy();
  }

  #disposePipes(): void {
    this.#toServer.dispose();
    this.#toClient.dispose();
  }

  #finish(): void {
    this.#state = 'closed';
    this.#disposePipes();
    this.#host.closed(this);
  }
}
