/**
 * The fault proxy against a real server (the run's SOURCE server) with plain mysql2/promise clients: every control
 * does what it says, the bytes that pass are exactly the bytes sent (checked against the server's own counters and
 * against results read directly), and close() leaves nothing behind.
 *
 * Time is only ever asserted as a lower bound that the fault itself guarantees (a delay is never shorter than asked);
 * the other deadlines are liveness bounds.
 */
import { createHash } from 'node:crypto';
import { createServer, connect as tcpConnect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { createConnection, createPool, type Connection, type ConnectionOptions, type RowDataPacket } from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { seeded } from '../support/random.js';
import { settledWithin, until } from '../pool/helpers.js';
import { FaultProxy, type CutHow, type ProxyConnection } from './fault-proxy.js';

const ROWS = 10_000;
const ROW_TEXT = 200;

let db: TestDatabases;
let proxy: FaultProxy;
const clients: Connection[] = [];

/** A mysql2 connection through the proxy, whose 'error' events are collected (an unheard one would crash the run). */
async function open(options: ConnectionOptions = {}): Promise<{ connection: Connection; errors: (Error & { code?: string })[] }> {
  const connection = await createConnection({ uri: proxy.url, ...options });
  const errors: (Error & { code?: string })[] = [];
  connection.on('error', (error: Error) => errors.push(error));
  clients.push(connection);
  return { connection, errors };
}

/** The proxy's side of a mysql2 connection. */
function viaProxy(connection: Connection): ProxyConnection {
  const found = proxy.connections.find((c) => c.threadId === connection.threadId);
  if (found === undefined) throw new Error(`no proxied connection has thread id ${connection.threadId}`);
  return found;
}

const failure = (promise: Promise<unknown>): Promise<(Error & { code?: string; fatal?: boolean }) | null> =>
  promise.then(
    () => null,
    (error: Error) => error,
  );

/** `length` seeded random letters. */
function randomLetters(length: number, seed: number): string {
  const random = seeded(seed);
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = 97 + Math.floor(random() * 26);
  return bytes.toString('latin1');
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const digestOf = (rows: unknown): string => sha256(JSON.stringify(rows));

/** Waits until the server has ended session `threadId` (and with it rolled back its transaction). */
async function sessionGone(threadId: number): Promise<void> {
  for (const deadline = Date.now() + 30_000; ; ) {
    const [rows] = await db.source.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID = ?', [threadId]);
    if (Number(rows[0]?.n) === 0) return;
    if (Date.now() > deadline) throw new Error(`session ${threadId} is still on the server after 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function ledger(id: number): Promise<RowDataPacket[]> {
  const [rows] = await db.source.query<RowDataPacket[]>('SELECT id, v FROM ledger WHERE id = ?', [id]);
  return rows;
}

beforeAll(async () => {
  db = await createTestDatabases('fault_proxy');
  await db.source.query('CREATE TABLE items (id INT PRIMARY KEY, s VARCHAR(255) NOT NULL) ENGINE=InnoDB');
  await db.source.query('CREATE TABLE blobs (id INT PRIMARY KEY, b LONGTEXT NOT NULL) ENGINE=InnoDB');
  await db.source.query('CREATE TABLE ledger (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB');
  const random = seeded(11);
  for (let start = 0; start < ROWS; start += 2000) {
    const rows = Array.from({ length: 2000 }, (_, i) => [start + i, Array.from({ length: ROW_TEXT }, () => String.fromCharCode(33 + Math.floor(random() * 94))).join('')]);
    await db.source.query('INSERT INTO items (id, s) VALUES ?', [rows]);
  }
});

afterAll(async () => {
  await db?.drop();
});

beforeEach(async () => {
  proxy = await FaultProxy.start({ upstream: db.sourceUrl, random: seeded(5) });
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await proxy.close();
});

describe('FaultProxy', () => {
  it('passes everything through unchanged by default: queries, a large result, a 10 MB statement', async () => {
    const { connection } = await open();
    expect(new URL(proxy.url).hostname).toBe('127.0.0.1');
    expect(new URL(proxy.url).pathname).toBe(`/${db.name}`);
    const [[two]] = await connection.query<RowDataPacket[]>('SELECT 1 + 1 AS two');
    expect(two?.two).toBe(2);

    const [through] = await connection.query<RowDataPacket[]>('SELECT id, s FROM items ORDER BY id');
    const [direct] = await db.source.query<RowDataPacket[]>('SELECT id, s FROM items ORDER BY id');
    expect(through.length).toBe(ROWS);
    expect(digestOf(through)).toBe(digestOf(direct));

    // About 10 MB of text inlined into one COM_QUERY packet (mysql2's query() escapes values into the text).
    const big = randomLetters(10 * 1024 * 1024, 3);
    const sentBefore = proxy.stats.bytesClientToServer;
    await connection.query('INSERT INTO blobs (id, b) VALUES (?, ?)', [1, big]);
    expect(proxy.stats.bytesClientToServer - sentBefore).toBeGreaterThan(big.length);
    const [[stored]] = await db.source.query<RowDataPacket[]>('SELECT LENGTH(b) AS n, SHA2(b, 256) AS h FROM blobs WHERE id = 1');
    expect({ n: Number(stored?.n), h: String(stored?.h) }).toEqual({ n: big.length, h: sha256(big) });
    const [[back]] = await connection.query<RowDataPacket[]>('SELECT b FROM blobs WHERE id = 1');
    expect(sha256(String(back?.b))).toBe(sha256(big));
    expect(proxy.stats).toMatchObject({ accepted: 1, refused: 0, cut: 0 });
  });

  it('latency: adds at least the delay to each direction of a round trip; jitter never reorders bytes', async () => {
    const { connection } = await open();
    await connection.query('SELECT 1');
    const roundTrip = async (): Promise<number> => {
      const started = performance.now();
      await connection.query('SELECT 1');
      return performance.now() - started;
    };
    proxy.setLatency({ ms: 60 });
    expect(await roundTrip()).toBeGreaterThanOrEqual(120);
    proxy.setLatency({ ms: 0 });
    proxy.setLatency({ ms: 80, direction: 'server_to_client' });
    expect(await roundTrip()).toBeGreaterThanOrEqual(80);

    // Every chunk draws its own delay; a later chunk with a shorter one must still wait for the earlier ones.
    proxy.setLatency({ ms: 1, jitterMs: 25 });
    const [through] = await connection.query<RowDataPacket[]>('SELECT id, s FROM items ORDER BY id');
    const [direct] = await db.source.query<RowDataPacket[]>('SELECT id, s FROM items ORDER BY id');
    expect(digestOf(through)).toBe(digestOf(direct));
    expect(() => proxy.setLatency({ ms: -1 })).toThrow(/latency ms must be a finite number ≥ 0/);
  });

  it('bandwidth: N bytes take at least N / limit seconds, in the limited direction', async () => {
    const { connection } = await open();
    const proxied = viaProxy(connection);
    const rate = 4 * 1024 * 1024;
    proxy.setBandwidth({ bytesPerSecond: rate, direction: 'server_to_client' });
    let before = proxied.bytesServerToClient;
    let started = performance.now();
    const [through] = await connection.query<RowDataPacket[]>('SELECT id, s FROM items ORDER BY id');
    let elapsed = performance.now() - started;
    const received = proxied.bytesServerToClient - before;
    expect(through.length).toBe(ROWS);
    expect(received).toBeGreaterThan(ROWS * ROW_TEXT);
    expect(elapsed).toBeGreaterThanOrEqual((received / rate) * 1000);

    proxy.setBandwidth({ bytesPerSecond: 0 });
    const upload = 1024 * 1024;
    proxy.setBandwidth({ bytesPerSecond: upload, direction: 'client_to_server' });
    before = proxied.bytesClientToServer;
    started = performance.now();
    const [[length]] = await connection.query<RowDataPacket[]>('SELECT LENGTH(?) AS n', ['u'.repeat(512 * 1024)]);
    elapsed = performance.now() - started;
    expect(Number(length?.n)).toBe(512 * 1024);
    expect(elapsed).toBeGreaterThanOrEqual(((proxied.bytesClientToServer - before) / upload) * 1000);
  });

  it.each<CutHow>(['reset', 'fin'])('refuse (%s): a new connection fails at once with a connection error; open ones keep working', async (how) => {
    const { connection } = await open();
    proxy.refuseNew(how);
    const attempt = createConnection({ uri: proxy.url, connectTimeout: 10_000 });
    attempt.then((c) => c.destroy(), () => undefined);
    // One second: a liveness bound (a proxy that does not accept would make mysql2 wait for connectTimeout).
    const outcome = await settledWithin(attempt, 1000);
    expect(outcome.status).toBe('rejected');
    const code = outcome.status === 'rejected' ? (outcome.reason as { code?: string }).code : undefined;
    expect(code).toBe(how === 'reset' ? 'ECONNRESET' : 'PROTOCOL_CONNECTION_LOST');
    const [[one]] = await connection.query<RowDataPacket[]>('SELECT 1 AS one');
    expect(one?.one).toBe(1);
    expect(proxy.stats).toMatchObject({ accepted: 1, refused: 1, active: 1 });
    proxy.acceptNew();
    const { connection: again } = await open();
    await again.query('SELECT 1');
    expect(proxy.stats).toMatchObject({ accepted: 2, refused: 1 });
  });

  it.each<[CutHow, string]>([
    ['reset', 'ECONNRESET'],
    ['fin', 'PROTOCOL_CONNECTION_LOST'],
  ])('cut now (%s): the chosen connection is lost, the others keep working, new ones work after restore', async (how, code) => {
    const a = await open();
    const b = await open();
    expect(proxy.cut({ how, where: (c) => c.threadId === a.connection.threadId })).toBe(1);
    await until(() => a.errors.length > 0, 'the client to see the cut');
    expect(a.errors.map((e) => e.code)).toEqual([code]);
    const next = await failure(a.connection.query('SELECT 1'));
    expect(next).toMatchObject({ fatal: true, message: expect.stringMatching(/closed state/) as unknown });
    await b.connection.query('SELECT 1');
    expect(b.errors).toEqual([]);
    await until(() => proxy.stats.active === 1, 'the cut connection to close');
    expect(proxy.stats.cut).toBe(1);

    // A query in flight when the cut happens fails with the connection error itself.
    const inFlight = failure(b.connection.query('SELECT SLEEP(1)'));
    await until(() => viaProxy(b.connection).lastCommand?.sql === 'SELECT SLEEP(1)', 'the query to reach the proxy');
    expect(proxy.cut({ how })).toBe(1);
    expect(await inFlight).toMatchObject({ code, fatal: true });
    proxy.restore();
    const c = await open();
    const [[one]] = await c.connection.query<RowDataPacket[]>('SELECT 1 AS one');
    expect(one?.one).toBe(1);
    expect(proxy.stats.cut).toBe(2);
  });

  describe('cut on a statement', () => {
    it('before COMMIT: the client gets a connection error and the server rolled the transaction back', async () => {
      const pool = createPool({ uri: proxy.url, connectionLimit: 2 });
      try {
        const connection = await pool.getConnection();
        const threadId = connection.threadId;
        await connection.beginTransaction();
        await connection.query('INSERT INTO ledger (id, v) VALUES (?, ?)', [1, 1]);
        const trap = proxy.cutOnStatement(/^\s*COMMIT\b/i);
        const error = await failure(connection.commit());
        connection.release();
        expect(error).toMatchObject({ code: 'ECONNRESET', fatal: true });
        const fired = await trap.fired;
        expect(fired.command).toMatchObject({ kind: 'query', sql: 'COMMIT' });
        expect(fired.connection.threadId).toBe(threadId);
        expect(trap.count).toBe(1);

        // The server ended the session without a COMMIT: the row is not there, and its key is free (no lock left).
        await sessionGone(threadId);
        expect(await ledger(1)).toEqual([]);
        await db.source.query('INSERT INTO ledger (id, v) VALUES (?, ?)', [1, 2]);
        expect(await ledger(1)).toEqual([{ id: 1, v: 2 }]);

        // The trap fired once: the pool's next transaction commits normally.
        const next = await pool.getConnection();
        await next.beginTransaction();
        await next.query('INSERT INTO ledger (id, v) VALUES (?, ?)', [2, 1]);
        await next.commit();
        next.release();
        expect(await ledger(2)).toEqual([{ id: 2, v: 1 }]);
      } finally {
        await pool.end();
      }
    });

    it('on the reply to COMMIT: the server committed but the client got a connection error (the ambiguous commit)', async () => {
      const pool = createPool({ uri: proxy.url, connectionLimit: 2 });
      try {
        const connection = await pool.getConnection();
        const threadId = connection.threadId;
        await connection.beginTransaction();
        await connection.query('INSERT INTO ledger (id, v) VALUES (?, ?)', [3, 1]);
        const trap = proxy.cutOnStatement(/^\s*COMMIT\b/i, { at: 'reply' });
        const error = await failure(connection.commit());
        connection.release();
        expect(error).toMatchObject({ code: 'ECONNRESET', fatal: true });
        expect((await trap.fired).connection.threadId).toBe(threadId);
        await sessionGone(threadId);
        expect(await ledger(3)).toEqual([{ id: 3, v: 1 }]);
      } finally {
        await pool.end();
      }
    });

    it('matches an execute() of an already prepared statement by its text, and cuts before it runs', async () => {
      const { connection } = await open();
      const sql = 'INSERT INTO ledger (id, v) VALUES (?, ?)';
      await connection.execute(sql, [4, 1]); // prepared and run; mysql2 keeps the prepared statement
      const trap = proxy.cutOnStatement(/^INSERT INTO ledger/);
      const error = await failure(connection.execute(sql, [5, 1]));
      expect(error).toMatchObject({ code: 'ECONNRESET' });
      // Only COM_STMT_EXECUTE went out the second time: the proxy knew its text from the earlier prepare.
      expect((await trap.fired).command).toMatchObject({ kind: 'execute', sql });
      await sessionGone(connection.threadId);
      expect(await ledger(4)).toEqual([{ id: 4, v: 1 }]);
      expect(await ledger(5)).toEqual([]);
    });

    it('only on the connections `where` selects, `times` times', async () => {
      const a = await open();
      const b = await open();
      const trap = proxy.cutOnStatement(/^SELECT 'marked'/, { where: (c) => c.threadId === b.connection.threadId, times: 2 });
      await a.connection.query("SELECT 'marked'");
      expect(trap.count).toBe(0);
      expect(await failure(b.connection.query("SELECT 'marked'"))).toMatchObject({ code: 'ECONNRESET' });
      const c = await open();
      const trap2 = proxy.cutOnStatement(/^SELECT 'marked'/);
      expect(await failure(c.connection.query("SELECT 'marked'"))).toMatchObject({ code: 'ECONNRESET' });
      expect([trap.count, trap2.count]).toEqual([1, 1]); // the first trap's `where` did not select c
      trap.cancel();
      const d = await open();
      await d.connection.query("SELECT 'marked'");
      expect(proxy.stats.cut).toBe(2);
    });
  });

  it('cut after N bytes: exactly N bytes pass, then the connection is cut (mid-result, and mid-statement)', async () => {
    const a = await open();
    const proxied = viaProxy(a.connection);
    const before = proxied.bytesServerToClient;
    expect(proxy.cutAfter({ bytes: 1000, direction: 'server_to_client', where: (c) => c === proxied })).toBe(1);
    // With bytes still unread on the client when the RST arrives, Linux may report an end of stream instead of a reset.
    const midResult = await failure(a.connection.query('SELECT id, s FROM items ORDER BY id'));
    expect(midResult).toMatchObject({ fatal: true });
    expect(['ECONNRESET', 'PROTOCOL_CONNECTION_LOST']).toContain(midResult?.code);
    expect(proxied.bytesServerToClient - before).toBe(1000);

    // 10 bytes of a 60-byte INSERT reach the server: it never runs.
    const b = await open();
    const proxiedB = viaProxy(b.connection);
    const sent = proxiedB.bytesClientToServer;
    proxy.cutAfter({ bytes: 10, direction: 'client_to_server', where: (c) => c === proxiedB });
    expect(await failure(b.connection.query('INSERT INTO ledger (id, v) VALUES (6, 1)'))).toMatchObject({ code: 'ECONNRESET' });
    expect(proxiedB.bytesClientToServer - sent).toBe(10);
    await sessionGone(b.connection.threadId);
    expect(await ledger(6)).toEqual([]);
    expect(proxy.stats.cut).toBe(2);
  });

  it('stall: a black hole until resume; held bytes then go through in order', async () => {
    const a = await open();
    const b = await open();
    proxy.stall();
    const timedOut = await failure(a.connection.query({ sql: 'SELECT 1', timeout: 300 }));
    expect(timedOut).toMatchObject({ code: 'PROTOCOL_SEQUENCE_TIMEOUT' });
    const held = b.connection.query<RowDataPacket[]>('SELECT 42 AS answer');
    // Cannot settle while stalled: nothing reaches the server.
    expect((await settledWithin(held, 200)).status).toBe('pending');
    expect(await failure(createConnection({ uri: proxy.url, connectTimeout: 300 }))).toMatchObject({ code: 'ETIMEDOUT' });
    expect(proxy.stats.cut).toBe(0);
    proxy.resume();
    const [[answer]] = await held;
    expect(answer?.answer).toBe(42);
    const c = await open();
    await c.connection.query('SELECT 1');
    expect(b.errors).toEqual([]);
  });

  it('restore: back to pass-through for open connections (held and delayed bytes flow) and new ones', async () => {
    const a = await open();
    proxy.setLatency({ ms: 60_000 });
    proxy.setBandwidth({ bytesPerSecond: 1 });
    proxy.refuseNew();
    proxy.cutOnStatement(/^SELECT 'never'/);
    proxy.cutAfter({ bytes: 0, direction: 'client_to_server' });
    const held = a.connection.query<RowDataPacket[]>('SELECT 7 AS seven');
    expect((await settledWithin(held, 100)).status).toBe('pending');
    proxy.restore();
    const [[seven]] = await held;
    expect(seven?.seven).toBe(7);
    await a.connection.query("SELECT 'never'");
    const b = await open();
    await b.connection.query('SELECT 1');
    expect(proxy.stats).toMatchObject({ cut: 0, refused: 0, accepted: 2 });
  });

  it('counters: connections accepted, active and cut; bytes each way exactly as the server counted them', async () => {
    const a = await open();
    const b = await open();
    expect(proxy.stats).toMatchObject({ accepted: 2, active: 2, cut: 0, refused: 0 });
    await a.connection.query('SELECT id, s FROM items WHERE id < 500');
    await a.connection.query('SELECT LENGTH(?)', ['x'.repeat(100_000)]);
    const proxied = viaProxy(a.connection);
    // The server's Bytes_received includes this statement; its Bytes_sent stops before this result.
    const sentBefore = proxied.bytesServerToClient;
    const [status] = await a.connection.query<RowDataPacket[]>("SHOW SESSION STATUS WHERE Variable_name IN ('Bytes_received', 'Bytes_sent')");
    const server = Object.fromEntries(status.map((row) => [String(row.Variable_name), Number(row.Value)]));
    expect(server.Bytes_received).toBe(proxied.bytesClientToServer);
    expect(server.Bytes_sent).toBe(sentBefore);
    expect(proxy.stats.bytesClientToServer).toBe(proxy.connections.reduce((sum, c) => sum + c.bytesClientToServer, 0));
    expect(proxy.stats.bytesServerToClient).toBe(proxy.connections.reduce((sum, c) => sum + c.bytesServerToClient, 0));

    proxy.cut({ where: (c) => c === proxied });
    await until(() => proxy.stats.active === 1, 'the cut connection to close');
    await b.connection.end();
    await until(() => proxy.stats.active === 0, 'the ended connection to close');
    expect(proxy.stats).toMatchObject({ accepted: 2, active: 0, cut: 1, refused: 0 });
  });

  it('refuses bad controls with errors that say what is wrong (and never echo a password)', async () => {
    await expect(FaultProxy.start({ upstream: 'not a url secret' })).rejects.toThrow(/is not a URL/);
    await expect(FaultProxy.start({ upstream: { host: '127.0.0.1', port: 0 } })).rejects.toThrow(/port in 1–65535/);
    const error = await failure(FaultProxy.start({ upstream: 'mysql://root:hunter2@' }));
    expect(error?.message).toMatch(/not a URL|names no host/);
    expect(error?.message).not.toContain('hunter2');
    expect(() => proxy.setBandwidth({ bytesPerSecond: Number.NaN })).toThrow(/bytesPerSecond must be a finite number ≥ 0/);
    expect(() => proxy.cutAfter({ bytes: -1, direction: 'client_to_server' })).toThrow(/bytes must be/);
    expect(() => proxy.cutAfter({ bytes: 1, direction: 'sideways' as never })).toThrow(/unknown direction "sideways"/);
    expect(() => proxy.cutOnStatement(/x/, { times: 0 })).toThrow(/times must be ≥ 1/);
    expect(() => proxy.refuseNew('slam' as never)).toThrow(/'reset' or 'fin'/);
    const { connection } = await open();
    await connection.query('SELECT 1'); // none of these changed anything
    expect(proxy.stats.cut).toBe(0);
  });

  it('listens on 127.0.0.1 only', async () => {
    const others = Object.values(networkInterfaces())
      .flatMap((list) => list ?? [])
      .filter((address) => address.family === 'IPv4' && !address.internal)
      .map((address) => address.address);
    for (const host of others) {
      const error = await new Promise<(Error & { code?: string }) | null>((resolve) => {
        const socket = tcpConnect({ host, port: proxy.port });
        socket.once('connect', () => {
          socket.destroy();
          resolve(null);
        });
        socket.once('error', resolve);
      });
      expect(error?.code, `connecting to ${host}:${proxy.port}`).toBe('ECONNREFUSED');
    }
    expect(new URL(proxy.url).hostname).toBe('127.0.0.1');
  });

  it('close(): ends open connections, clears its timers and releases the port', async () => {
    const handles = (): string[] =>
      process
        .getActiveResourcesInfo()
        .filter((kind) => ['TCPServerWrap', 'TCPSocketWrap', 'Timeout'].includes(kind))
        .sort();
    // A closed handle leaves the list in the event loop's close phase, which follows the check phase (setImmediate).
    const settle = async (): Promise<void> => {
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    await proxy.close();
    await settle();
    const baseline = handles();
    proxy = await FaultProxy.start({ upstream: db.sourceUrl });
    const port = proxy.port;
    const { connection } = await open();
    proxy.setLatency({ ms: 60_000 });
    const pending = failure(connection.query('SELECT 1'));
    await until(() => proxy.connections[0]?.commands === 1, 'the query to reach the proxy');
    // The listener, the proxy's two sockets and mysql2's, and the latency timer holding the query.
    const count = (list: string[], kind: string): number => list.filter((k) => k === kind).length;
    const during = handles();
    expect(count(during, 'TCPServerWrap')).toBe(count(baseline, 'TCPServerWrap') + 1);
    expect(count(during, 'TCPSocketWrap')).toBe(count(baseline, 'TCPSocketWrap') + 3);
    expect(count(during, 'Timeout')).toBeGreaterThan(count(baseline, 'Timeout'));
    await proxy.close();
    expect(await pending).toMatchObject({ code: 'PROTOCOL_CONNECTION_LOST' });
    clients.splice(0);
    await settle();
    expect(handles()).toEqual(baseline);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  });
});
