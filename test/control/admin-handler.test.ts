/**
 * The HTTP admin handler behind a real node:http server on 127.0.0.1 (and mounted in a real Express app), called
 * with fetch: the token is required, status and mode are served, switches go through a real pool's setMode() and
 * through a RedisModeController against the Redis on 127.0.0.1:6379 (a key unique to each test), bad requests get
 * a 4xx with a clear message, and no answer carries a secret.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import express from 'express';
import { Redis } from 'ioredis';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CutoverGuard } from '../../src/control/cutover-guard.js';
import { AdminHandlerOptionsError, createAdminHandler, type AdminHandler, type AdminHandlerOptions, type ModeSwitcher } from '../../src/control/admin-handler.js';
import { InMemoryFlagProvider } from '../../src/mode/in-memory-flag-provider.js';
import { RedisFlagProvider } from '../../src/mode/redis-flag-provider.js';
import { RedisModeController } from '../../src/mode/redis-mode-controller.js';
import { createPool } from '../../src/index.js';
import type { DualPool } from '../../src/pool/dual-pool.js';
import { until } from '../pool/helpers.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const TOKEN = randomBytes(24).toString('hex');
const cleanup: Array<() => Promise<void>> = [];
let db: TestDatabases;
let redis: Redis;

beforeAll(async () => {
  db = await createTestDatabases('admin_handler');
  await Promise.all([db.source.query('CREATE TABLE t (id INT PRIMARY KEY, v INT)'), db.target.query('CREATE TABLE t (id INT PRIMARY KEY, v INT)')]);
  redis = new Redis(REDIS_URL);
});

afterAll(async () => {
  await redis.quit();
  await db.drop();
});

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** A key unique to the test; its instance, audit and ack keys are deleted afterwards. */
function newKey(): string {
  const key = `dwtest:admin:${randomBytes(4).toString('hex')}`;
  cleanup.push(async () => {
    const related = await redis.keys(`${key}*`);
    if (related.length > 0) await redis.del(...related);
  });
  return key;
}

function pool(options: { flags?: RedisFlagProvider | InMemoryFlagProvider } = {}): DualPool {
  const p = createPool({ source: { uri: db.sourceUrl }, target: { uri: db.targetUrl }, ...(options.flags === undefined ? { mode: 'source_only' as const } : { flags: options.flags }) });
  cleanup.push(() => new Promise<void>((resolve) => p.end(() => resolve())));
  return p;
}

function controller(key: string): RedisModeController {
  const c = new RedisModeController({ connection: REDIS_URL, key });
  cleanup.push(() => c.close());
  return c;
}

/** Serves `handler` on 127.0.0.1 and returns the base URL. */
async function serve(handler: AdminHandler | ((req: Parameters<AdminHandler>[0], res: Parameters<AdminHandler>[1]) => void)): Promise<string> {
  const server: Server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return `http://127.0.0.1:${address.port}`;
}

async function admin(options: Omit<AdminHandlerOptions, 'token'> & { token?: AdminHandlerOptions['token'] }): Promise<string> {
  return serve(createAdminHandler({ token: TOKEN, ...options }));
}

interface Answer {
  status: number;
  text: string;
  json: Record<string, unknown>;
  headers: Headers;
}

async function call(url: string, init: { method?: string; body?: string; token?: string | null; contentType?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  const token = init.token === undefined ? TOKEN : init.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['content-type'] = init.contentType ?? 'application/json';
  const response = await fetch(url, { method: init.method ?? (init.body === undefined ? 'GET' : 'POST'), headers, ...(init.body === undefined ? {} : { body: init.body }) });
  const text = await response.text();
  return { status: response.status, text, json: JSON.parse(text) as Record<string, unknown>, headers: response.headers };
}

const post = (url: string, body: unknown): Promise<Answer> => call(url, { body: JSON.stringify(body) });

async function idsOn(side: TestDatabases['source']): Promise<number[]> {
  const [rows] = await side.query<RowDataPacket[]>('SELECT id FROM t ORDER BY id');
  return rows.map((row) => row.id as number);
}

/** No answer may carry the token or the database credentials. */
function expectNoSecrets(answer: Answer): void {
  expect(answer.text).not.toContain(TOKEN);
  for (const url of [db.sourceUrl, db.targetUrl]) {
    const parsed = new URL(url);
    if (parsed.password !== '') expect(answer.text).not.toContain(parsed.password);
    expect(answer.text).not.toContain(url);
  }
}

describe('createAdminHandler', () => {
  it('is never created without a usable token, and the error does not repeat the token', () => {
    const p = pool();
    expect(() => createAdminHandler({ pool: p } as unknown as AdminHandlerOptions)).toThrow(AdminHandlerOptionsError);
    expect(() => createAdminHandler({ token: '', pool: p })).toThrow(/never serves without one/);
    expect(() => createAdminHandler({ token: [], pool: p })).toThrow(/no `token`/);
    const short = 'abc123-short';
    const error = (() => {
      try {
        createAdminHandler({ token: short, pool: p });
      } catch (caught) {
        return caught as Error;
      }
      throw new Error('a short token was accepted');
    })();
    expect(error).toBeInstanceOf(AdminHandlerOptionsError);
    expect(error.message).toMatch(/at least 16 are required/);
    expect(error.message).not.toContain(short);
    expect(() => createAdminHandler({ token: 'a token with spaces inside', pool: p })).toThrow(/whitespace/);
    expect(() => createAdminHandler({ token: TOKEN })).toThrow(/give `pool`, `controller` or both/);
    expect(() => createAdminHandler({ token: TOKEN, pool: p, basePath: 'admin' })).toThrow(/basePath/);
    expect(() => createAdminHandler({ token: TOKEN, pool: p, maxBodyBytes: 0 })).toThrow(/maxBodyBytes/);
    expect(() => createAdminHandler({ token: TOKEN, controller: {} as ModeSwitcher })).toThrow(/switchMode/);
    expect(() => createAdminHandler({ token: TOKEN, pool: {} as DualPool })).toThrow(/dual-write pool/);
  });

  it('answers 401 with no detail to a missing, wrong or malformed token, on every route under basePath', async () => {
    const base = await admin({ pool: pool(), basePath: '/admin/dualwrite' });
    const attempts = [
      await call(`${base}/admin/dualwrite/status`, { token: null }),
      await call(`${base}/admin/dualwrite/status`, { token: randomBytes(24).toString('hex') }),
      await call(`${base}/admin/dualwrite/status`, { token: TOKEN.slice(0, -1) }),
      await call(`${base}/admin/dualwrite/status`, { token: `${TOKEN}x` }),
      await call(`${base}/admin/dualwrite/mode`, { body: '{"mode":"target_only"}', token: null }),
      await call(`${base}/admin/dualwrite/no-such-route`, { token: null }),
    ];
    for (const answer of attempts) {
      expect(answer.status).toBe(401);
      expect(answer.json).toEqual({ error: 'unauthorized', message: 'A valid bearer token is required.' });
      expect(answer.headers.get('www-authenticate')).toBe('Bearer');
    }
    const basic = await fetch(`${base}/admin/dualwrite/status`, { headers: { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` } });
    expect(basic.status).toBe(401);
    // Outside basePath the handler has nothing to say (404 when used alone; Express's next() otherwise).
    expect((await call(`${base}/elsewhere`)).status).toBe(404);
    expect((await call(`${base}/admin/dualwrite/status`)).status).toBe(200);
  });

  it('accepts each token of a list, so a token can be rotated without downtime', async () => {
    const next = randomBytes(24).toString('hex');
    const base = await admin({ pool: pool(), token: [TOKEN, next] });
    expect((await call(`${base}/status`, { token: TOKEN })).status).toBe(200);
    expect((await call(`${base}/status`, { token: next })).status).toBe(200);
    expect((await call(`${base}/status`, { token: randomBytes(24).toString('hex') })).status).toBe(401);
  });

  it('answers a failure it cannot explain with a bare 500 and hands the error to onError, secrets left out', async () => {
    const password = `pw-${randomBytes(12).toString('hex')}`;
    // A Redis that is not there (port 1), with a password: the controller's own error must not reach the client.
    const unreachable = new RedisModeController({ connection: { host: '127.0.0.1', port: 1, password, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true }, key: 'dwtest:admin:unreachable' });
    cleanup.push(() => unreachable.close().catch(() => undefined));
    const logged: unknown[] = [];
    const base = await admin({ controller: unreachable, onError: (error) => logged.push(error) });
    const answer = await post(`${base}/mode`, { mode: 'source_first', actor: 'dave' });
    expect(answer.status).toBe(500);
    expect(answer.json).toEqual({ error: 'internal_error', message: 'The request failed; the details are in the application log (onError).' });
    expect(answer.text).not.toContain(password);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toBeInstanceOf(Error);
  });

  it('shows the status of a pool and switches it through setMode()', async () => {
    const p = pool();
    const base = await admin({ pool: p });
    const status = await call(`${base}/status`);
    expect(status.status).toBe(200);
    expect(status.headers.get('cache-control')).toBe('no-store');
    expect(status.json.pool).toMatchObject({ mode: 'source_only', flagState: { mode: 'source_only', version: 0 }, stats: { refusedWrites: 0 } });
    expectNoSecrets(status);

    await p.promise().query('INSERT INTO t VALUES (1, 1)');
    const switched = await post(`${base}/mode`, { mode: 'source_first', actor: 'alice' });
    expect(switched.status).toBe(200);
    expect(switched.json).toMatchObject({ switched: true, mode: 'source_first', table: null, flagState: { mode: 'source_first', version: 1, source: 'admin-http:alice' } });
    expect(p.mode).toBe('source_first');
    await p.promise().query('INSERT INTO t VALUES (2, 2)');
    expect(await idsOn(db.source)).toEqual([1, 2]);
    expect(await idsOn(db.target)).toEqual([2]);

    const mode = await call(`${base}/mode`);
    expect(mode.json).toMatchObject({ mode: 'source_first', version: 1, source: 'admin-http:alice' });
    const table = await post(`${base}/mode`, { mode: 'target_first', table: `${db.name}.t` });
    expect(table.status).toBe(200);
    expect(p.flagState.tableModes).toEqual({ [`${db.name}.t`]: 'target_first' });
    expect(p.mode).toBe('source_first');
    await db.source.query('DELETE FROM t');
    await db.target.query('DELETE FROM t');
  });

  it('refuses bad requests with a clear 4xx and changes nothing', async () => {
    const p = pool();
    const base = await admin({ pool: p, maxBodyBytes: 256 });
    const cases: Array<[Answer, number, RegExp]> = [
      [await call(`${base}/mode`, { body: '{"mode":' }), 400, /not valid JSON/],
      [await call(`${base}/mode`, { body: '["source_first"]' }), 400, /JSON object/],
      [await post(`${base}/mode`, {}), 400, /"mode" must be one of source_only, source_first, target_first, target_only \(got nothing\)/],
      [await post(`${base}/mode`, { mode: 'SOURCE_FIRST' }), 400, /got "SOURCE_FIRST"/],
      [await post(`${base}/mode`, { mode: 'source_first', tabel: 'shop.orders' }), 400, /unknown field\(s\) "tabel"/],
      [await post(`${base}/mode`, { mode: 'source_first', table: 'orders' }), 400, /"table" must be "schema.table"/],
      [await post(`${base}/mode`, { mode: 'source_first', wait: 'yes' }), 400, /"wait" must be true or false/],
      [await post(`${base}/mode`, { mode: 'source_first', timeoutMs: -5 }), 400, /"timeoutMs"/],
      [await post(`${base}/mode`, { mode: 'source_first', actor: '' }), 400, /"actor"/],
      [await call(`${base}/mode`, { body: 'mode=source_first', contentType: 'application/x-www-form-urlencoded' }), 415, /Content-Type: application\/json/],
      [await post(`${base}/mode`, { mode: 'source_first', actor: 'x'.repeat(400) }), 413, /larger than 256 bytes/],
      [await call(`${base}/nothing-here`), 404, /No such route/],
      [await call(`${base}/audit`), 404, /No audit trail/],
      [await call(`${base}/mode`, { method: 'DELETE' }), 405, /accepts GET and POST/],
      [await call(`${base}/status`, { method: 'POST', body: '{}' }), 405, /accepts GET/],
    ];
    for (const [answer, status, message] of cases) {
      expect({ status: answer.status, text: answer.text }).toMatchObject({ status });
      expect(answer.json.message).toMatch(message);
      expectNoSecrets(answer);
    }
    expect(cases[13]?.[0].headers.get('allow')).toBe('GET, POST');
    expect(p.flagState).toMatchObject({ mode: 'source_only', version: 0 });

    // A pool driven by its own provider cannot be switched with setMode(): 409 and the pool's explanation.
    const external = pool({ flags: new InMemoryFlagProvider('source_only') });
    const base2 = await admin({ pool: external });
    const refused = await post(`${base2}/mode`, { mode: 'source_first' });
    expect(refused.status).toBe(409);
    expect(refused.json).toMatchObject({ error: 'ER_DUALWRITE_EXTERNAL_FLAGS' });
    expect(refused.json.message).toMatch(/takes its mode from the flags provider/);
  });

  it('works as Express middleware, after express.json() has read the body', async () => {
    const p = pool();
    const app = express();
    app.use(express.json());
    app.use('/ops/dualwrite', createAdminHandler({ token: TOKEN, pool: p }));
    app.use((_req, res) => {
      res.status(418).json({ from: 'the app' });
    });
    const base = await serve(app);
    expect((await call(`${base}/ops/dualwrite/status`)).json.pool).toMatchObject({ mode: 'source_only' });
    const switched = await post(`${base}/ops/dualwrite/mode`, { mode: 'source_first', actor: 'express' });
    expect(switched.status).toBe(200);
    expect(p.mode).toBe('source_first');
    expect((await call(`${base}/ops/dualwrite/mode`, { token: null })).status).toBe(401);
    // Routes outside the handler's base reach the rest of the app through next().
    const handler = createAdminHandler({ token: TOKEN, pool: p, basePath: '/admin' });
    const app2 = express();
    app2.use(handler);
    app2.use((_req, res) => {
      res.status(418).json({ from: 'the app' });
    });
    const base2 = await serve(app2);
    expect(await call(`${base2}/shop`)).toMatchObject({ status: 418, json: { from: 'the app' } });
    expect((await call(`${base2}/admin/status`)).status).toBe(200);
  });

  it('switches the fleet through a RedisModeController and reports every instance', async () => {
    const key = newKey();
    const ops = controller(key);
    const base = await admin({ controller: ops });
    expect((await call(`${base}/mode`)).json).toMatchObject({ mode: null });
    expect((await call(`${base}/status`)).json).toEqual({ flags: null });

    await ops.switchMode('source_only', { source: 'setup' });
    const flags = new RedisFlagProvider({ connection: REDIS_URL, key, instanceId: 'admin-test-1', heartbeatMs: 200, instanceTtlMs: 5_000 });
    cleanup.push(() => flags.close());
    await flags.start();
    const p = pool({ flags });
    flags.trackApplied(p);
    const withPool = await admin({ controller: ops, pool: p });

    const switched = await post(`${withPool}/mode`, { mode: 'source_first', wait: true, timeoutMs: 20_000, actor: 'bob' });
    expect(switched.status).toBe(200);
    expect(switched.json).toMatchObject({ switched: true, mode: 'source_first', result: { mode: 'source_first', complete: true, pending: [] } });
    expect((switched.json.result as { applied: Array<{ instanceId: string }> }).applied.map((ack) => ack.instanceId)).toEqual(['admin-test-1']);
    expect(p.mode).toBe('source_first');

    const status = await call(`${withPool}/status`);
    expect(status.json).toMatchObject({
      pool: { mode: 'source_first', flagState: { mode: 'source_first', source: 'admin-http:bob' } },
      flags: { mode: 'source_first', source: 'admin-http:bob' },
      fleet: { mode: 'source_first', complete: true },
    });
    expectNoSecrets(status);

    const table = await post(`${withPool}/mode`, { mode: 'target_first', table: 'shop.orders', actor: 'bob' });
    expect(table.status).toBe(200);
    expect((await call(`${withPool}/mode`)).json).toMatchObject({ mode: 'source_first', tableModes: { 'shop.orders': 'target_first' } });
    await until(() => p.flagState.tableModes?.['shop.orders'] === 'target_first', 'the pool to hear the table switch');

    const audit = await call(`${withPool}/audit?limit=2`);
    expect(audit.json.entries).toMatchObject([
      { actor: 'admin-http:bob', to: 'target_first', table: 'shop.orders', outcome: 'switched' },
      { actor: 'admin-http:bob', to: 'source_first', table: null, outcome: 'switched' },
    ]);
    expect((await call(`${withPool}/audit?limit=0`)).status).toBe(400);
    expect((await post(`${withPool}/mode`, { mode: 'source_first', table: 'no-dot' })).status).toBe(400);
  });

  it('plugs in guarded switching: a refused cut-over is a 409 listing the failed checks', async () => {
    const key = newKey();
    const ops = controller(key);
    await ops.switchMode('source_first', { source: 'setup' });
    const guard = new CutoverGuard({ controller: ops, target: db.target });
    // The application's policy: every switch through HTTP needs a clean verification within the hour.
    const guarded: ModeSwitcher = {
      switchMode: (mode, options) => guard.switchMode(mode, { ...options, requireVerifyWithinMs: 3_600_000, tables: [`${db.name}.t`] }),
      get: () => guard.get(),
      status: () => guard.status(),
      audit: (limit) => guard.audit(limit),
    };
    const base = await admin({ controller: guarded });
    const refused = await post(`${base}/mode`, { mode: 'target_first', actor: 'carol' });
    expect(refused.status).toBe(409);
    expect(refused.json).toMatchObject({ error: 'ER_DUALWRITE_CUTOVER_REFUSED', checks: [{ check: 'verify', passed: false }] });
    expect(refused.json.message).toMatch(/dualwrite verify/);
    expect((await call(`${base}/mode`)).json).toMatchObject({ mode: 'source_first' });
    expect((await call(`${base}/audit?limit=1`)).json.entries).toMatchObject([{ actor: 'admin-http:carol', outcome: 'refused', to: 'target_first' }]);
    // A move back towards the source is never held up.
    expect((await post(`${base}/mode`, { mode: 'source_only' })).status).toBe(200);
    expectNoSecrets(refused);
  });
});
