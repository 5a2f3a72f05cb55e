/**
 * The bad-input corpus against real servers. Each statement is sent twice: through a raw mysql2 pool on a copy of
 * the data (same source server, its own database), and through a source_first dual-write pool. Through the pool,
 * each one must either behave exactly as with raw mysql2 (the same error code, errno, SQLSTATE and message, or
 * the same result), or be refused with a DualWriteError naming the reason, and then nothing ran on either side.
 * The target sits behind a fault proxy that logs every command it receives: a statement the primary rejected
 * never reaches it. At the end the two sides are identical.
 */
import type { Pool as PromisePool, RowDataPacket } from 'mysql2/promise';
import { createPool as createRawPool } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DualWriteError } from '../../src/errors.js';
import type { ReplayFailure } from '../../src/index.js';
import { analyze } from '../../src/sql/index.js';
import type { DualPromisePool } from '../../src/promise.js';
import { spawnProxiedServers, type ProxiedDatabases, type ProxiedServers } from '../faults/proxied-servers.js';
import { expectSidesIdentical } from '../support/compare.js';
import { urlWithDatabase } from '../support/databases.js';
import { ITEMS_DDL, ITEMS_SEED, badInputs, tenMegabytes, type BadInput } from './corpus/index.js';

let servers: ProxiedServers;
let db: ProxiedDatabases;
let raw: PromisePool;
let rawName: string;
let dual: DualPromisePool;
const failures: Array<{ entry: number; failure: ReplayFailure }> = [];
/** Commands the target received, tagged with the corpus entry being run. */
const targetLog: Array<{ entry: number; kind: string; sql: string | null }> = [];
let current = -1;

beforeAll(async () => {
  servers = await spawnProxiedServers('badinput');
  db = await servers.createDatabases('bi');
  rawName = `${db.name}_raw`;
  await db.source.query(`CREATE DATABASE \`${rawName}\` CHARACTER SET utf8mb4`);
  // One connection: session state (user variables, PREPARE) behaves the same from one statement to the next.
  raw = createRawPool({ uri: urlWithDatabase(servers.source.directUrl, rawName), connectionLimit: 1 });
  for (const side of [db.source, db.target, raw]) {
    await side.query(ITEMS_DDL);
    await side.query(ITEMS_SEED);
  }
  servers.target.proxy.onClientCommand((command) => {
    targetLog.push({ entry: current, kind: command.kind, sql: command.sql === null ? null : command.sql.slice(0, 300) });
  });
  dual = db.createPool({ mode: 'source_first' });
  dual.pool.on('replayFailure', (failure: ReplayFailure) => failures.push({ entry: current, failure }));
}, 180_000);

afterAll(async () => {
  await raw?.end();
  await db?.source.query(`DROP DATABASE IF EXISTS \`${rawName}\``).catch(() => undefined);
  await servers?.destroy();
});

/** What a call gave, in a form two calls can be compared by. */
type Outcome =
  | { kind: 'result'; result: unknown }
  | { kind: 'error'; name: string; code: unknown; errno: unknown; sqlState: unknown; message: string }
  | { kind: 'refused'; code: string; message: string };

const names = (): RegExp => new RegExp(`${rawName}|${db.name}`, 'g');

function plain(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return `0x${value.toString('hex')}`;
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

async function outcome(run: () => Promise<[unknown, unknown]>): Promise<Outcome> {
  try {
    const [result] = await run();
    if (Array.isArray(result)) return { kind: 'result', result: plain(result) };
    const r = result as { affectedRows?: number; insertId?: number; warningStatus?: number; changedRows?: number; info?: string };
    return { kind: 'result', result: { affectedRows: r.affectedRows, insertId: r.insertId, warningStatus: r.warningStatus, changedRows: r.changedRows, info: r.info } };
  } catch (e) {
    const error = e as Error & { code?: unknown; errno?: unknown; sqlState?: unknown };
    if (error instanceof DualWriteError) return { kind: 'refused', code: error.code, message: error.message };
    return {
      kind: 'error',
      name: error.constructor.name,
      code: error.code,
      errno: error.errno,
      sqlState: error.sqlState,
      message: String(error.message).replace(names(), '<db>'),
    };
  }
}

function send(pool: Pick<PromisePool, 'query' | 'execute'>, b: BadInput): Promise<[unknown, unknown]> {
  const values = b.values as unknown[] | undefined;
  if (b.method === 'execute') return values === undefined ? pool.execute(b.sql) : pool.execute(b.sql, values as never);
  return values === undefined ? pool.query(b.sql) : pool.query(b.sql, values);
}

async function checksums(): Promise<string> {
  const read = async (side: Pick<PromisePool, 'query'>): Promise<string> => {
    const [rows] = await side.query<RowDataPacket[]>('CHECKSUM TABLE items');
    return String(rows[0]?.Checksum);
  };
  return `${await read(db.source)}/${await read(db.target)}`;
}

/** Puts the raw copy back in step with the dual pool's source side (after a statement only one of them ran). */
async function resyncRaw(): Promise<void> {
  await raw.query('DELETE FROM items');
  await raw.query(`INSERT INTO items SELECT * FROM \`${db.name}\`.items`);
  const [rows] = await db.source.query<RowDataPacket[]>(
    "SELECT AUTO_INCREMENT AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'items'",
  );
  await raw.query(`ALTER TABLE items AUTO_INCREMENT = ${Number(rows[0]?.n)}`);
}

/** A statement the target received that could change data: what a rejected statement must never cause. */
function writesData(sql: string | null): boolean {
  if (sql === null) return true;
  const a = analyze(sql);
  return a.class === 'write' || a.class === 'ddl' || a.class === 'other';
}

interface Report {
  same: number;
  refused: Map<string, number>;
  mismatches: string[];
  leaks: string[];
  changedOnRefusal: string[];
}

async function runEntries(entries: ReadonlyArray<{ index: number; b: BadInput }>, report: Report): Promise<void> {
  for (const { index, b } of entries) {
    current = index;
    const before = await checksums();
    const expected = await outcome(() => send(raw, b));
    const logStart = targetLog.length;
    const got = await outcome(() => send(dual, b));
    const label = `#${index} [${b.group}] ${b.note}`;
    if (got.kind === 'refused') {
      report.refused.set(got.code, (report.refused.get(got.code) ?? 0) + 1);
      if (!/^ER_DUALWRITE_/.test(got.code) || got.message.length < 40) report.mismatches.push(`${label}: refusal without a clear reason: ${got.code} ${got.message}`);
      const after = await checksums();
      if (after !== before) report.changedOnRefusal.push(`${label}: ${before} -> ${after}`);
      await resyncRaw();
    } else if (JSON.stringify(got) === JSON.stringify(expected)) {
      report.same++;
    } else {
      report.mismatches.push(`${label}: raw ${JSON.stringify(expected).slice(0, 300)} / dual ${JSON.stringify(got).slice(0, 300)}`);
      await resyncRaw();
    }
    if (got.kind === 'error' || got.kind === 'refused') {
      // Wait for nothing: a rejected statement's replay would have been sent before the caller got the error.
      for (const c of targetLog.slice(logStart)) {
        if ((c.kind === 'query' || c.kind === 'prepare' || c.kind === 'execute') && writesData(c.sql)) {
          report.leaks.push(`${label}: the target received ${c.kind} ${JSON.stringify(c.sql)}`);
        }
      }
    }
  }
}

describe('the bad-input corpus through a source_first dual-write pool, against raw mysql2', () => {
  it(`gives raw mysql2's outcome or a DualWriteError for all ${badInputs.length + 1} statements; the target never sees a rejected one; the sides end identical`, async () => {
    const report: Report = { same: 0, refused: new Map(), mismatches: [], leaks: [], changedOnRefusal: [] };
    await runEntries(
      [...badInputs.map((b, index) => ({ index, b })), { index: badInputs.length, b: tenMegabytes }],
      report,
    );
    current = -1;
    console.log(
      `[bad-input] ${badInputs.length + 1} statements: ${report.same} as raw mysql2, refused ${JSON.stringify(Object.fromEntries(report.refused))}, ` +
        `${report.mismatches.length} mismatches, ${report.leaks.length} leaks to the target, ${failures.length} replay failures`,
    );
    expect(report.mismatches).toEqual([]);
    expect(report.changedOnRefusal).toEqual([]);
    expect(report.leaks).toEqual([]);
    expect(failures.map(({ entry, failure }) => `#${entry} ${failure.kind}: ${String(failure.error?.message ?? '')}`)).toEqual([]);
    // Most statements reach the server: the corpus is not just refused wholesale; and the target's log does see the
    // replays of the writes that ran (the leak check above watches a live stream).
    expect(report.same).toBeGreaterThan(badInputs.length / 2);
    expect(targetLog.filter((c) => c.entry >= 0 && c.kind === 'query' && writesData(c.sql)).length).toBeGreaterThan(50);
    await expectSidesIdentical(db.source, db.target, ['items']);
  }, 600_000);

  it('refuses a write whose values array is longer or shorter than its `?` count, by execute() and query(), before it runs', async () => {
    // Found by the corpus: execute() with an extra value ran on the source, and the explicit-ID replay (one `?` more)
    // sent the server a values array it misread, so the row never reached the target.
    for (const [method, values] of [
      ['execute', ['x', 1, 'extra']],
      ['query', ['x', 1, 'extra']],
      ['execute', ['x']],
    ] as const) {
      const before = await checksums();
      const got = await outcome(() => send(dual, { group: 'fix', note: 'count', sql: 'INSERT INTO items (name, qty) VALUES (?, ?)', values, method }));
      expect(got).toMatchObject({ kind: 'refused', code: 'ER_DUALWRITE_UNSAFE_STATEMENT' });
      expect((got as { message: string }).message).toMatch(/values? (was|were) given for 2 placeholders/);
      expect(await checksums()).toBe(before);
    }
  });
});
