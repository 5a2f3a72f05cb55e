/**
 * Passwords never leave through what dualwrite reports: error messages, stacks and cause chains, pool events, the
 * repair log, flag-provider errors and statuses, and the CLI's output (text and --json). Each case makes a pool,
 * a provider or the CLI fail in one way (wrong password, connection refused, unreachable host, malformed URL, a
 * failed replay) with a distinctive password in its settings, then searches everything it produced for it.
 */
import { createServer } from 'node:net';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisFlagProvider } from '../../src/mode/index.js';
import { createPool, type DualPromisePool } from '../../src/promise.js';
import { runCli } from '../cli/helpers.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

/** The real password of the test user, and two wrong ones; none may appear anywhere. */
const PASSWORD = 'Zebra-Secret-7341';
const WRONG = 'Wrong-Zebra-9862';
/** A password with `/`, `@` and `:`: in a URL it must be percent-encoded, and users forget. */
const AWKWARD = 'zeb/ra@Sec:ret-5507';
const SECRETS = [PASSWORD, WRONG, AWKWARD, encodeURIComponent(AWKWARD), 'Zebra-Secret', 'Sec:ret-5507'];
const USER = 'dw_cred_user';

let db: TestDatabases;
let closedPort: number;

/** Where a secret appears in `value` (walking errors' message, stack, cause, errors and own properties), or null. */
function leak(value: unknown, path = '$', seen = new Set<unknown>()): string | null {
  if (typeof value === 'string') {
    const found = SECRETS.find((secret) => value.includes(secret));
    return found === undefined ? null : `${path} holds ${JSON.stringify(found)}: ${JSON.stringify(value.slice(0, 300))}`;
  }
  if (value === null || typeof value !== 'object' || seen.has(value)) return null;
  seen.add(value);
  const keys = new Set<string>(Object.keys(value));
  if (value instanceof Error) for (const k of ['message', 'stack', 'cause', 'errors']) keys.add(k);
  for (const key of keys) {
    let child: unknown;
    try {
      child = (value as Record<string, unknown>)[key];
    } catch {
      continue;
    }
    const found = leak(child, `${path}.${key}`, seen);
    if (found !== null) return found;
  }
  return null;
}

/** A mysql:// URL of a server of the run, as `user:password`, on database `database`. */
function urlWith(serverUrl: string, credentials: string, database = db.name): string {
  const url = new URL(serverUrl);
  return `mysql://${credentials}@${url.host}/${database}`;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error,
  );
}

/** Every event a dual pool emits, with its arguments. */
function recordEvents(pool: DualPromisePool): unknown[] {
  const events: unknown[] = [];
  const emitter = pool.pool as unknown as { emit: (name: string, ...args: unknown[]) => boolean };
  const emit = emitter.emit.bind(emitter);
  emitter.emit = (name: string, ...args: unknown[]) => {
    events.push({ name, args });
    return emit(name, ...args);
  };
  return events;
}

beforeAll(async () => {
  db = await createTestDatabases('sec_cred');
  for (const side of [db.source, db.target]) {
    for (const host of ['%', 'localhost']) {
      await side.query(`CREATE USER IF NOT EXISTS '${USER}'@'${host}' IDENTIFIED BY '${PASSWORD}'`);
      await side.query(`GRANT ALL ON \`${db.name}\`.* TO '${USER}'@'${host}'`);
    }
    await side.query('CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20))');
  }
  // A port nothing listens on: bound, then released.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closedPort = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
});

afterAll(async () => {
  for (const side of [db.source, db.target]) {
    for (const host of ['%', 'localhost']) await side.query(`DROP USER IF EXISTS '${USER}'@'${host}'`).catch(() => undefined);
  }
  await db?.drop();
});

describe('the dual-write pool', () => {
  it('a replay failing on a target that refuses the login: the event, the repair log and stats hold no password', async () => {
    const p = createPool({ source: { uri: urlWith(db.sourceUrl, `${USER}:${PASSWORD}`) }, target: { uri: urlWith(db.targetUrl, `${USER}:${WRONG}`) }, mode: 'source_first' });
    const events = recordEvents(p);
    try {
      await p.query("INSERT INTO t (v) VALUES ('x')");
      expect(events.some((e) => (e as { name: string }).name === 'replayFailure')).toBe(true);
      expect(leak(events)).toBeNull();
      expect(leak(p.stats())).toBeNull();
      const [rows] = await db.source.query<RowDataPacket[]>('SELECT * FROM dualwrite_repair_log');
      expect(rows.length).toBeGreaterThan(0);
      expect(leak(rows)).toBeNull();
    } finally {
      await p.end();
    }
  });

  it('a replay failing with telemetry on: no span name, attribute, event or status holds a password', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const p = createPool({
      source: { uri: urlWith(db.sourceUrl, `${USER}:${PASSWORD}`) },
      target: { uri: urlWith(db.targetUrl, `${USER}:${WRONG}`) },
      mode: 'source_first',
      telemetry: { tracer: provider.getTracer('credentials-test'), meter: false },
    });
    try {
      await p.query("INSERT INTO t (v) VALUES ('w')");
      await p.query('SELECT * FROM t');
    } finally {
      await p.end();
    }
    const spans = exporter.getFinishedSpans().map((span) => ({ name: span.name, attributes: span.attributes, events: span.events, status: span.status }));
    expect(spans.some((span) => span.name === 'dualwrite.secondary')).toBe(true);
    expect(leak(spans)).toBeNull();
    await provider.shutdown();
  });

  it('a repair log that cannot be written (its database does not exist): the repairLogError event holds no password', async () => {
    const p = createPool({
      source: { uri: urlWith(db.sourceUrl, `${USER}:${PASSWORD}`) },
      target: { uri: urlWith(db.targetUrl, `${USER}:${WRONG}`) },
      mode: 'source_first',
      repairLogTable: 'no_such_database_dw.repair_log',
    });
    const events = recordEvents(p);
    const errors: unknown[] = [];
    p.pool.on('repairLogError', (error: unknown, failures: unknown) => errors.push(error, failures)); // emitted only when listened to
    try {
      await p.query("INSERT INTO t (v) VALUES ('z')");
      expect(errors.length).toBeGreaterThanOrEqual(2);
      expect(leak(errors)).toBeNull();
      expect(events.map((e) => (e as { name: string }).name)).toContain('repairLogError');
      expect(leak(events)).toBeNull();
    } finally {
      await p.end();
    }
  });

  it.each([
    ['a wrong password on the source', () => urlWith(db.sourceUrl, `${USER}:${WRONG}`)],
    ['a refused connection', () => `mysql://${USER}:${PASSWORD}@127.0.0.1:${closedPort}/${db.name}`],
    ['an unreachable host', () => `mysql://${USER}:${PASSWORD}@10.255.255.1:3306/${db.name}`],
    ['a URL whose password is not percent-encoded', () => `mysql://${USER}:${AWKWARD}@127.0.0.1:${closedPort}/${db.name}`],
  ])('%s: the caller’s error and the events hold no password', async (_what, url) => {
    let p: DualPromisePool | undefined;
    const error = await rejection(
      (async () => {
        p = createPool({ source: { uri: url(), connectTimeout: 500 }, target: { uri: urlWith(db.targetUrl, `${USER}:${PASSWORD}`) }, mode: 'source_first' });
        const events = recordEvents(p);
        try {
          await p.query("INSERT INTO t (v) VALUES ('y')");
        } finally {
          expect(leak(events)).toBeNull();
        }
      })(),
    );
    await p?.end().catch(() => undefined);
    expect(error).toBeInstanceOf(Error);
    expect(leak(error)).toBeNull();
  });
});

describe('the Redis flag provider', () => {
  it.each([
    ['a refused connection', `redis://:${PASSWORD}@127.0.0.1:CLOSED`],
    ['a wrong password on a running Redis', `redis://default:${WRONG}@127.0.0.1:6379`],
  ])('%s: start()’s error, onError and the statuses hold no password', async (_what, template) => {
    const connection = template.replace('CLOSED', String(closedPort));
    const seen: unknown[] = [];
    const provider = new RedisFlagProvider({
      connection,
      startTimeoutMs: 1_000,
      onError: (error: unknown) => seen.push(error),
      onStatusChange: (status: unknown) => seen.push(status),
    });
    const error = await rejection(provider.start());
    seen.push(provider.status());
    await provider.close().catch(() => undefined);
    expect(leak(error)).toBeNull();
    expect(leak(seen)).toBeNull();
  });
});

describe('the dualwrite command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-cred-'));

  /** Source/target URL pairs that fail in different ways, each with a password in it. */
  const failing = (): Array<[string, string, string]> => [
    ['wrong password', urlWith(db.sourceUrl, `${USER}:${WRONG}`), urlWith(db.targetUrl, `${USER}:${PASSWORD}`)],
    ['refused', `mysql://${USER}:${PASSWORD}@127.0.0.1:${closedPort}/${db.name}`, urlWith(db.targetUrl, `${USER}:${PASSWORD}`)],
    ['target refuses the login', urlWith(db.sourceUrl, `${USER}:${PASSWORD}`), urlWith(db.targetUrl, `${USER}:${WRONG}`)],
    ['password not percent-encoded', `mysql://${USER}:${AWKWARD}@127.0.0.1:${closedPort}/${db.name}`, urlWith(db.targetUrl, `${USER}:${PASSWORD}`)],
    ['not a mysql URL', `http://${USER}:${PASSWORD}@127.0.0.1/${db.name}`, urlWith(db.targetUrl, `${USER}:${PASSWORD}`)],
    ['no database in the URL', `mysql://${USER}:${PASSWORD}@127.0.0.1:${closedPort}/`, urlWith(db.targetUrl, `${USER}:${PASSWORD}`)],
  ];

  it('prints no password when it connects: status, verify and backfill (text and --json) with password URLs', async () => {
    const source = urlWith(db.sourceUrl, `${USER}:${PASSWORD}`);
    const target = urlWith(db.targetUrl, `${USER}:${PASSWORD}`);
    for (const args of [['status'], ['status', '--json'], ['verify', '--tables', 't'], ['verify', '--tables', 't', '--json'], ['backfill', '--tables', 't', '--json']]) {
      const run = await runCli([...args, '--source', source, '--target', target]);
      expect(run.stdout, run.stderr).not.toBe('');
      expect(leak([run.stdout, run.stderr]), args.join(' ')).toBeNull();
    }
  }, 120_000);

  it('prints no password for any failing connection, command, output format or way of passing the URL', async () => {
    // Every failure with `status` (text and --json); every command and the env and --config ways for the two failures
    // whose URL handling differs most (a refused login, an unparsable URL). The commands share the URL checks and the
    // connection code, and each run is a Node start-up, so the full cross product would only repeat them.
    const runs: Array<{ label: string; args: string[]; env?: Record<string, string> }> = [];
    failing().forEach(([what, source, target], i) => {
      const config = join(dir, `config-${i}.json`);
      writeFileSync(config, JSON.stringify({ source, target, tables: ['t'] }));
      const wide = what === 'wrong password' || what === 'password not percent-encoded';
      for (const json of [[], ['--json']]) {
        for (const command of wide ? ['status', 'verify', 'backfill', 'repair'] : ['status']) {
          const extra = command === 'repair' ? ['--tables', 't'] : [];
          runs.push({ label: `${what} / ${command} ${json.join('')} via flags`, args: [command, '--source', source, '--target', target, ...extra, ...json] });
        }
        if (!wide) continue;
        runs.push({ label: `${what} / verify ${json.join('')} via env`, args: ['verify', ...json], env: { DUALWRITE_SOURCE_URL: source, DUALWRITE_TARGET_URL: target } });
        runs.push({ label: `${what} / backfill ${json.join('')} via config`, args: ['backfill', '--config', config, ...json] });
      }
    });
    const leaks: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < runs.length) {
        const { label, args, env } = runs[next++] as (typeof runs)[number];
        const run = await runCli(args, env);
        const found = leak([run.stdout, run.stderr]);
        if (found !== null) leaks.push(`${label} (exit ${run.code}): ${found}`);
        if (run.code === 0) leaks.push(`${label}: exit 0, expected a failure`);
        if (run.stdout + run.stderr === '') leaks.push(`${label}: printed nothing, expected an error`);
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    expect(runs).toHaveLength(failing().length * 2 + 2 * 2 * 5);
    expect(leaks).toEqual([]);
  }, 600_000);
});
