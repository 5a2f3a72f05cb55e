/**
 * A TCP proxy for fault-injection tests: it sits between a real client (mysql2, the dual-write pool) and a real
 * server, passes bytes through unchanged by default, and on request delays, throttles, stalls, refuses or cuts
 * connections — at once, after N bytes, or exactly when the client sends a statement matching a pattern.
 * See README.md in this folder.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { redactUrl } from '../support/servers.js';
import type { ClientCommand, CommandKind } from './mysql-protocol.js';
import type { CutHow, DirectionShaping } from './pipe.js';
import { ProxyConnection, type CommandVerdict, type Direction } from './proxy-connection.js';

export type { ClientCommand, CommandKind } from './mysql-protocol.js';
export type { CutHow, DirectionShaping } from './pipe.js';
export { ProxyConnection, type CommandVerdict, type ConnectionState, type Direction } from './proxy-connection.js';

const LOOPBACK = '127.0.0.1';

/** A direction, or both. */
export type Directions = Direction | 'both';

/** Options of {@link FaultProxy.start}. */
export interface FaultProxyOptions {
  /**
   * The server to forward to: a `mysql://user:password@host:port/database?…` URL (then {@link FaultProxy.url} is the
   * same URL pointing at the proxy), or a host and port.
   */
  readonly upstream: string | { readonly host: string; readonly port: number };
  /** Port to listen on, on 127.0.0.1 only. Default 0: a free port. */
  readonly port?: number;
  /** Numbers in [0, 1) for jitter (pass a seeded generator to replay a run). Default `Math.random`. */
  readonly random?: () => number;
}

/** Options of {@link FaultProxy.setLatency}. */
export interface LatencyOptions {
  /** Every chunk waits at least this long (ms) before it is forwarded. */
  readonly ms: number;
  /** Plus a random extra wait in [0, jitterMs) ms, per chunk. Default 0. */
  readonly jitterMs?: number;
  /** Default `both`. */
  readonly direction?: Directions;
}

/** Options of {@link FaultProxy.setBandwidth}. */
export interface BandwidthOptions {
  /** At most this many bytes per second, per connection and direction; 0 lifts the limit. */
  readonly bytesPerSecond: number;
  /** Default `both`. */
  readonly direction?: Directions;
}

/** Which open connections a fault applies to. */
export type ConnectionFilter = (connection: ProxyConnection) => boolean;

/** Options of {@link FaultProxy.cut}. */
export interface CutOptions {
  /** `reset` (default): TCP RST, the peers see ECONNRESET. `fin`: a normal close, the peers see the stream end. */
  readonly how?: CutHow;
  /** Only the connections for which this returns true. Default: all. */
  readonly where?: ConnectionFilter;
}

/** Options of {@link FaultProxy.cutAfter}. */
export interface CutAfterOptions extends CutOptions {
  /** This many more bytes pass; the connection is cut when one more would. 0: cut when the next byte would pass. */
  readonly bytes: number;
  /** The direction the bytes are counted in. */
  readonly direction: Direction;
}

/** Options of {@link FaultProxy.cutOnStatement}. */
export interface StatementCutOptions {
  /**
   * `before` (default): the statement never reaches the server; the connection is cut where it would have been
   * sent (a cut mid-transaction: the server rolls back). `reply`: the statement reaches the server and runs; the
   * connection is cut when the answer arrives, before the client sees any of it (for COMMIT: committed, but the
   * client gets a connection error — the ambiguous commit).
   */
  readonly at?: 'before' | 'reply';
  /** Default `reset`. */
  readonly how?: CutHow;
  /** Only on connections for which this returns true. */
  readonly where?: ConnectionFilter;
  /**
   * Which commands are matched. Default `['query', 'execute']`: text statements and executions of prepared ones
   * (matched by the text the connection prepared). A `prepare` only parses the statement.
   */
  readonly kinds?: readonly CommandKind[];
  /** How many matching statements are cut before the trap disarms itself. Default 1; `Infinity` for all. */
  readonly times?: number;
}

/** A statement cut that {@link FaultProxy.cutOnStatement} armed. */
export interface StatementTrap {
  /** Resolves when the trap first fires, with the connection and the command. Stays pending if it never fires. */
  readonly fired: Promise<{ readonly connection: ProxyConnection; readonly command: ClientCommand }>;
  /** How many times it fired. */
  readonly count: number;
  /** Disarms it (a cut already decided still happens). */
  cancel(): void;
}

/** Counters of a {@link FaultProxy} since it started. */
export interface FaultProxyStats {
  /** Client connections accepted and forwarded. */
  readonly accepted: number;
  /** Client connections refused while {@link FaultProxy.refuseNew} was in force. */
  readonly refused: number;
  /** Connections not fully closed yet. */
  readonly active: number;
  /** Connections the proxy cut (now, after N bytes, or on a statement). */
  readonly cut: number;
  /** Bytes forwarded from clients to the server. */
  readonly bytesClientToServer: number;
  /** Bytes forwarded from the server to clients. */
  readonly bytesServerToClient: number;
}

/** A hook on every whole command a client sends; see {@link FaultProxy.onClientCommand}. */
export type CommandHook = (command: ClientCommand, connection: ProxyConnection) => CommandVerdict | void;

const PASS_THROUGH: DirectionShaping = { latencyMs: 0, jitterMs: 0, bytesPerSecond: 0, stalled: false };

function directionsOf(direction: Directions): Direction[] {
  if (direction === 'both') return ['client_to_server', 'server_to_client'];
  if (direction === 'client_to_server' || direction === 'server_to_client') return [direction];
  throw new TypeError(`FaultProxy: unknown direction ${JSON.stringify(direction)}; use 'client_to_server', 'server_to_client' or 'both'.`);
}

/** Host and port of the upstream server; never echoes a password in its error. */
function upstreamAddress(upstream: FaultProxyOptions['upstream']): { host: string; port: number } {
  if (typeof upstream === 'string') {
    let url: URL;
    try {
      url = new URL(upstream);
    } catch {
      // Not echoed: text that does not parse cannot have its password masked.
      throw new TypeError('FaultProxy: upstream is not a URL; give a mysql://user@host:port/ URL or { host, port }.');
    }
    if (url.hostname === '') throw new TypeError(`FaultProxy: upstream ${redactUrl(upstream)} names no host.`);
    return { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port === '' ? 3306 : Number(url.port) };
  }
  const { host, port } = upstream ?? {};
  if (typeof host !== 'string' || host === '' || !Number.isInteger(port) || port <= 0 || port > 65_535) {
    throw new TypeError(`FaultProxy: upstream must be a mysql:// URL or { host, port } with a port in 1–65535, got ${JSON.stringify({ host, port })}.`);
  }
  return { host, port };
}

function requireNonNegative(what: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`FaultProxy: ${what} must be a finite number ≥ 0, got ${value}.`);
}

/**
 * A TCP fault proxy on 127.0.0.1 in front of one server. Create with {@link FaultProxy.start}; always
 * {@link FaultProxy.close} it. Every control takes effect at once, on open connections and on new ones, and
 * {@link FaultProxy.restore} undoes them all.
 *
 * @example
 * const proxy = await FaultProxy.start({ upstream: server.url });
 * const pool = mysql.createPool({ uri: proxy.urlFor(databaseUrl) });
 * proxy.cutOnStatement(/^COMMIT/i);            // the next COMMIT never reaches the server
 * await expect(connection.commit()).rejects.toMatchObject({ code: 'ECONNRESET' });
 * proxy.restore();
 * await proxy.close();
 */
export class FaultProxy {
  readonly #server: Server;
  readonly #upstream: { readonly host: string; readonly port: number };
  readonly #upstreamUrl: string | null;
  readonly #random: () => number;
  readonly #connections = new Set<ProxyConnection>();
  readonly #shaping: Record<Direction, DirectionShaping> = { client_to_server: PASS_THROUGH, server_to_client: PASS_THROUGH };
  readonly #hooks: CommandHook[] = [];
  #refusing: CutHow | null = null;
  #nextId = 1;
  #counters = { accepted: 0, refused: 0, cut: 0, bytesClientToServer: 0, bytesServerToClient: 0 };
  #closing: Promise<void> | undefined;

  private constructor(server: Server, options: FaultProxyOptions) {
    this.#server = server;
    this.#random = options.random ?? Math.random;
    this.#upstreamUrl = typeof options.upstream === 'string' ? options.upstream : null;
    this.#upstream = upstreamAddress(options.upstream);
    server.on('connection', (socket: Socket) => this.#accept(socket));
  }

  /**
   * Starts listening on 127.0.0.1 and resolves once it does.
   *
   * @throws TypeError when `upstream` is neither a URL with a host nor a host and a port
   */
  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    upstreamAddress(options.upstream);
    const server = createServer({ allowHalfOpen: true });
    const proxy = new FaultProxy(server, options);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: LOOPBACK, port: options.port ?? 0 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // After listening, an accept error (EMFILE) must not crash the test process; the client sees it anyway.
    server.on('error', () => undefined);
    return proxy;
  }

  /** The port the proxy listens on. */
  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /**
   * The upstream URL with host and port replaced by the proxy's (user, password, database and parameters kept),
   * or `mysql://127.0.0.1:PORT/` when the upstream was given as host and port.
   */
  get url(): string {
    return this.urlFor(this.#upstreamUrl ?? 'mysql://localhost/');
  }

  /** `url` (any `mysql://` URL of the upstream server, e.g. one naming a database) pointed at the proxy instead. */
  urlFor(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = LOOPBACK;
    parsed.port = String(this.port);
    return parsed.toString();
  }

  /** Counters since the start. */
  get stats(): FaultProxyStats {
    return { ...this.#counters, active: this.#connections.size };
  }

  /** The connections not fully closed yet, oldest first. */
  get connections(): readonly ProxyConnection[] {
    return [...this.#connections];
  }

  /** Every chunk waits `ms` (+ jitter) before it is forwarded; `ms: 0` removes the delay. Byte order is kept. */
  setLatency(options: LatencyOptions): void {
    requireNonNegative('latency ms', options.ms);
    requireNonNegative('jitterMs', options.jitterMs ?? 0);
    this.#shape(options.direction ?? 'both', { latencyMs: options.ms, jitterMs: options.jitterMs ?? 0 });
  }

  /** Limits each connection to `bytesPerSecond` in the given direction(s); 0 lifts the limit. */
  setBandwidth(options: BandwidthOptions): void {
    requireNonNegative('bytesPerSecond', options.bytesPerSecond);
    this.#shape(options.direction ?? 'both', { bytesPerSecond: options.bytesPerSecond });
  }

  /** Stops forwarding (a black hole): connections stay open, bytes wait, nothing is lost; {@link FaultProxy.resume} lets them go. */
  stall(direction: Directions = 'both'): void {
    this.#shape(direction, { stalled: true });
  }

  /** Forwards again what {@link FaultProxy.stall} held, in order. */
  resume(direction: Directions = 'both'): void {
    this.#shape(direction, { stalled: false });
  }

  /**
   * Refuses new connections until {@link FaultProxy.acceptNew} or {@link FaultProxy.restore}: each is accepted and
   * closed at once — `reset` (default) with a RST, so mysql2 fails at once with ECONNRESET; `fin` with a normal
   * close (PROTOCOL_CONNECTION_LOST). The proxy keeps its port: a closed port could be taken by another process.
   * Open connections are untouched.
   */
  refuseNew(how: CutHow = 'reset'): void {
    if (how !== 'reset' && how !== 'fin') throw new TypeError(`FaultProxy.refuseNew: how must be 'reset' or 'fin', got ${JSON.stringify(how)}.`);
    this.#refusing = how;
  }

  /** Accepts new connections again. */
  acceptNew(): void {
    this.#refusing = null;
  }

  /** Cuts the open connections (those `where` selects) now; returns how many. */
  cut(options: CutOptions = {}): number {
    const chosen = this.#select(options.where);
    for (const connection of chosen) connection.cut(options.how ?? 'reset');
    return chosen.length;
  }

  /** Arms a byte budget on the open connections (those `where` selects); returns how many. New connections are not affected. */
  cutAfter(options: CutAfterOptions): number {
    requireNonNegative('bytes', options.bytes);
    directionsOf(options.direction);
    const chosen = this.#select(options.where);
    for (const connection of chosen) connection.cutAfter(Math.floor(options.bytes), options.direction, options.how ?? 'reset');
    return chosen.length;
  }

  /**
   * Cuts the connection on which a client sends a statement matching `pattern` (tested against the whole statement
   * text), before it reaches the server or when its answer comes back (see {@link StatementCutOptions.at}).
   * Applies to open and new connections until it fired `times` times, is cancelled, or {@link FaultProxy.restore}.
   */
  cutOnStatement(pattern: RegExp, options: StatementCutOptions = {}): StatementTrap {
    const times = options.times ?? 1;
    if (!(times >= 1)) throw new RangeError(`FaultProxy.cutOnStatement: times must be ≥ 1, got ${times}.`);
    const at = options.at ?? 'before';
    if (at !== 'before' && at !== 'reply') throw new TypeError(`FaultProxy.cutOnStatement: at must be 'before' or 'reply', got ${JSON.stringify(at)}.`);
    const kinds = new Set(options.kinds ?? ['query', 'execute']);
    const how = options.how ?? 'reset';
    let fire: (value: { connection: ProxyConnection; command: ClientCommand }) => void = () => undefined;
    const fired = new Promise<{ connection: ProxyConnection; command: ClientCommand }>((resolve) => (fire = resolve));
    let count = 0;
    const hook: CommandHook = (command, connection) => {
      if (!kinds.has(command.kind) || command.sql === null) return;
      pattern.lastIndex = 0; // a /g or /y pattern keeps state between test() calls
      if (!pattern.test(command.sql) || (options.where !== undefined && !options.where(connection))) return;
      if (++count >= times) unsubscribe();
      fire({ connection, command });
      return { cut: at, how };
    };
    const unsubscribe = this.onClientCommand(hook);
    return {
      fired,
      get count() {
        return count;
      },
      cancel: unsubscribe,
    };
  }

  /**
   * Calls `hook` with every whole command a client sends (a command split over several TCP chunks is gathered
   * first; several in one chunk come one by one), before it is forwarded. Returning a {@link CommandVerdict} other
   * than `forward` cuts the connection; the first hook that does decides. Returns a function that removes the hook.
   */
  onClientCommand(hook: CommandHook): () => void {
    this.#hooks.push(hook);
    return () => {
      const at = this.#hooks.indexOf(hook);
      if (at >= 0) this.#hooks.splice(at, 1);
    };
  }

  /**
   * Back to pass-through for open and new connections: no delay, no limit, no stall (held bytes are forwarded),
   * new connections accepted, byte budgets, statement traps and command hooks removed.
   */
  restore(): void {
    this.#shaping.client_to_server = PASS_THROUGH;
    this.#shaping.server_to_client = PASS_THROUGH;
    this.#refusing = null;
    this.#hooks.length = 0;
    for (const connection of this.#connections) {
      connection.disarm();
      connection.kick();
    }
  }

  /** Stops listening, destroys every connection and clears every timer; resolves once the port is released. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#hooks.length = 0;
      this.#server.close(() => resolve());
      for (const connection of this.#connections) connection.destroy();
    });
    return this.#closing;
  }

  #select(where: ConnectionFilter | undefined): ProxyConnection[] {
    return [...this.#connections].filter((connection) => connection.state === 'open' && (where === undefined || where(connection)));
  }

  #shape(direction: Directions, change: Partial<DirectionShaping>): void {
    for (const d of directionsOf(direction)) this.#shaping[d] = { ...this.#shaping[d], ...change };
    for (const connection of this.#connections) connection.kick();
  }

  #accept(client: Socket): void {
    client.on('error', () => undefined);
    if (this.#closing !== undefined) {
      client.destroy();
      return;
    }
    if (this.#refusing !== null) {
      this.#counters.refused++;
      if (this.#refusing === 'reset') client.resetAndDestroy();
      else client.destroySoon();
      return;
    }
    this.#counters.accepted++;
    client.setNoDelay(true);
    const upstream = connect({ host: this.#upstream.host, port: this.#upstream.port, allowHalfOpen: true, noDelay: true });
    const connection = new ProxyConnection(this.#nextId++, client, upstream, {
      shaping: (direction) => this.#shaping[direction],
      random: this.#random,
      forwarded: (direction, bytes) => {
        if (direction === 'client_to_server') this.#counters.bytesClientToServer += bytes;
        else this.#counters.bytesServerToClient += bytes;
      },
      inspect: (command, conn) => this.#inspect(command, conn),
      wasCut: () => {
        this.#counters.cut++;
      },
      closed: (conn) => {
        this.#connections.delete(conn);
      },
    });
    this.#connections.add(connection);
  }

  #inspect(command: ClientCommand, connection: ProxyConnection): CommandVerdict {
    for (const hook of [...this.#hooks]) {
      const verdict = hook(command, connection);
      if (verdict !== undefined && verdict !== 'forward') return verdict;
    }
    return 'forward';
  }
}
