/**
 * Identifier and value injection through every path where dualwrite builds SQL: the explicit-ID replay, the
 * nondeterministic pins, the row-image replays (INSERT IGNORE, REPLACE, UPDATE … LIMIT), the repair-log insert and
 * its drain, backfill (the source-rendered literal fast path and the codec path), repair and verify. The table and
 * column names hold a backtick, quotes, a backslash, `*\/` and `--`; the values hold quotes, backslashes, `*\/`, NUL,
 * Ctrl-Z and characters whose GBK / Shift-JIS encoding ends in 0x5C (a backslash byte), sent over utf8mb4, GBK and
 * SJIS connections. Checks: nothing beyond the intended rows changes (a canary table, row counts), and the stored
 * bytes are identical on both sides (and, over utf8mb4, equal to the values sent).
 */
import { createHash } from 'node:crypto';
import mysql from 'mysql2';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DualWriteError } from '../../src/errors.js';
import type { ReplayFailure } from '../../src/index.js';
import { backfill, drainRepairLog, repair, verify } from '../../src/migrate/index.js';
import { rowLiteralExpression } from '../../src/migrate/row-literals.js';
import { createPool, type DualPromisePool } from '../../src/promise.js';
import { loadTable } from '../../src/schema/load-table.js';
import { loadServerSettings } from '../../src/schema/server-settings.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

/** A table name and a column name that break naive quoting. */
const TABLE = 'we`ird\'"\\*/-- t';
const COLUMN = 'c`ol\'"\\*/#';
const q = (name: string): string => mysql.escapeId(name, true);
const T = q(TABLE);
const C = q(COLUMN);

/** Values that leave a naively quoted string, plus multi-byte characters ending in 0x5C in GBK (縗 = BF 5C) and SJIS (ソ = 83 5C, 表 = 95 5C). */
const PAYLOADS: readonly string[] = [
  "'",
  "\\'",
  '\\',
  '`',
  '*/',
  "'; DELETE FROM canary; -- ",
  "x' OR '1'='1",
  '\u0000',
  'a\u0000\'b',
  '\u001a',
  "縗'",
  '縗\\',
  "ソ'",
  '表\\',
  "丁' OR 1=1 -- ",
  '¿\'',
];

const FAST = { recheck: { delayMs: 0, attempts: 0 }, loopCheck: { delayMs: 0, attempts: 0 } } as const;
const CHARSETS = ['UTF8MB4_GENERAL_CI', 'GBK_CHINESE_CI', 'SJIS_JAPANESE_CI'] as const;

let db: TestDatabases;
const failures: ReplayFailure[] = [];

/** The payload table's DDL: an auto-increment key, the payload column (unique, for IGNORE/REPLACE), bytes, a UUID, a counter. */
const ddl = (charset: string): string =>
  `CREATE TABLE ${T} (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, ${C} VARCHAR(100) CHARACTER SET ${charset} NULL, ` +
  `b VARBINARY(200) NULL, u CHAR(36) NULL, n INT NOT NULL DEFAULT 0, UNIQUE KEY uk (${C}))`;

async function reset(charset = 'utf8mb4'): Promise<void> {
  for (const side of [db.source, db.target]) {
    await side.query(`DROP TABLE IF EXISTS ${T}, canary, dualwrite_repair_log`);
    await side.query(ddl(charset));
    await side.query('CREATE TABLE canary (id INT PRIMARY KEY, v VARCHAR(20))');
    await side.query("INSERT INTO canary VALUES (1, 'alive'), (2, 'alive')");
  }
}

/** Every row of the payload table as hex, on one side. */
async function image(side: Pick<Pool, 'query'>): Promise<string[]> {
  const [rows] = await side.query<RowDataPacket[]>(`SELECT id, HEX(${C}) AS c, HEX(b) AS b, u, n FROM ${T} ORDER BY id`);
  return rows.map((r) => `${r.id}|${r.c}|${r.b}|${r.u}|${r.n}`);
}

/** The canary is untouched and both sides hold the same bytes. */
async function expectContained(): Promise<string[]> {
  for (const side of [db.source, db.target]) {
    const [rows] = await side.query<RowDataPacket[]>('SELECT id, v FROM canary ORDER BY id');
    expect(rows.map((r) => `${r.id}:${r.v}`)).toEqual(['1:alive', '2:alive']);
  }
  const source = await image(db.source);
  expect(await image(db.target)).toEqual(source);
  return source;
}

function dualPool(charset: string): DualPromisePool {
  const p = createPool({ source: { uri: db.sourceUrl, charset }, target: { uri: db.targetUrl, charset }, mode: 'source_first' });
  p.pool.on('replayFailure', (failure: ReplayFailure) => failures.push(failure));
  return p;
}

/** A value as stored on the source, read back as text in the connection's own charset. */
async function storedValues(p: DualPromisePool): Promise<Array<string | null>> {
  const [rows] = await p.query<RowDataPacket[]>(`SELECT ${C} AS c FROM ${T} ORDER BY id`);
  return rows.map((r) => r.c as string | null);
}

beforeAll(async () => {
  db = await createTestDatabases('sec_inject');
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(() => {
  failures.length = 0;
});

describe.each(CHARSETS)('the pool over %s connections', (charset) => {
  // GBK and SJIS cannot hold every payload: those columns are in the connection's charset, the payloads filtered to it.
  const columnCharset = charset.startsWith('GBK') ? 'gbk' : charset.startsWith('SJIS') ? 'sjis' : 'utf8mb4';
  const payloads = PAYLOADS.filter((p) => columnCharset === 'utf8mb4' || !/[丁¿]/.test(p) || columnCharset === 'gbk');

  it('explicit-ID replay: payloads bound by query() and execute(), and escaped into the text, stored byte for byte', async () => {
    await reset(columnCharset);
    const p = dualPool(charset);
    try {
      for (const [i, payload] of payloads.entries()) {
        await p.query(`INSERT INTO ${T} (${C}, b) VALUES (?, ?)`, [`q${i}${payload}`, Buffer.from(payload)]);
        await p.execute(`INSERT INTO ${T} (${C}, b) VALUES (?, ?)`, [`e${i}${payload}`, Buffer.from(payload)]);
        await p.query(`INSERT INTO ${T} (${C}, b) VALUES (${p.escape(`l${i}${payload}`)}, ${p.escape(Buffer.from(payload))})`);
      }
      const rows = await expectContained();
      expect(rows).toHaveLength(payloads.length * 3);
      if (columnCharset === 'utf8mb4') {
        expect(await storedValues(p)).toEqual(payloads.flatMap((payload, i) => [`q${i}${payload}`, `e${i}${payload}`, `l${i}${payload}`]));
      }
      expect(failures).toEqual([]);
    } finally {
      await p.end();
    }
  });

  it('nondeterministic pins: UUID() and RAND() next to payload values', async () => {
    await reset(columnCharset);
    const p = dualPool(charset);
    try {
      for (const [i, payload] of payloads.entries()) {
        await p.execute(`INSERT INTO ${T} (${C}, u, n) VALUES (?, UUID(), FLOOR(RAND() * 1000))`, [`p${i}${payload}`]);
      }
      const rows = await expectContained();
      expect(rows).toHaveLength(payloads.length);
      expect(p.stats().rowImageReplays).toBe(0); // pinned, not copied
      expect(failures).toEqual([]);
    } finally {
      await p.end();
    }
  });

  it('row-image replays: INSERT IGNORE, REPLACE and UPDATE … LIMIT with payload values', async () => {
    await reset(columnCharset);
    const p = dualPool(charset);
    try {
      if (columnCharset !== 'utf8mb4') {
        // Row images are read and written exactly only over utf8mb4 connections (src/migrate/codec.ts); over GBK the
        // read refuses, and over SJIS the table (whose name holds a backslash) is not even found in information_schema
        // (mysql2 encodes the bound name to Shift_JIS). Either way: a DualWriteError, and nothing ran on either side.
        for (const payload of payloads) {
          const error = await p.query(`INSERT IGNORE INTO ${T} (${C}, b) VALUES (?, ?)`, [payload, Buffer.from(payload)]).then(() => null, (e: unknown) => e);
          expect(error).toBeInstanceOf(DualWriteError);
        }
        expect(await expectContained()).toEqual([]);
        return;
      }
      for (const [i, payload] of payloads.entries()) {
        const value = `r${i}${payload}`;
        await p.query(`INSERT IGNORE INTO ${T} (${C}, b) VALUES (?, ?), (?, ?)`, [value, Buffer.from(payload), value, Buffer.from('dup')]);
        await p.execute(`REPLACE INTO ${T} (${C}, n) VALUES (?, 5)`, [value]);
        await p.query(`UPDATE ${T} SET n = n + 1, b = ? WHERE ${C} = ? LIMIT 1`, [Buffer.from(`${payload}!`), value]);
      }
      const rows = await expectContained();
      expect(rows).toHaveLength(payloads.length);
      expect(rows.every((r) => r.endsWith('|6'))).toBe(true);
      expect(p.stats().rowImageReplays).toBeGreaterThanOrEqual(payloads.length * 3);
      expect(failures).toEqual([]);
    } finally {
      await p.end();
    }
  });
});

describe('the repair log and its drain', () => {
  it('logs a failed replay of a payload statement byte for byte, and the drain copies exactly those rows', async () => {
    await reset();
    const p = dualPool('UTF8MB4_GENERAL_CI');
    try {
      await p.query(`INSERT INTO ${T} (${C}) VALUES ('seed')`);
      // The target loses the table for a while: every replay fails and goes to the repair log.
      await db.target.query(`RENAME TABLE ${T} TO away`);
      const texts = PAYLOADS.map((payload, i) => `INSERT INTO ${T} (${C}, b) VALUES (${p.escape(`g${i}${payload}`)}, ${p.escape(Buffer.from(payload))})`);
      for (const sql of texts) await p.query(sql);
      await db.target.query(`RENAME TABLE away TO ${T}`);
      const [logged] = await db.source.query<RowDataPacket[]>('SELECT statement, statement_digest, table_name FROM dualwrite_repair_log ORDER BY id');
      // The texts as run (explicit IDs are in the replay, not the log), and the digest of each.
      expect(logged.map((r) => String(r.statement))).toEqual(texts);
      expect(logged.map((r) => String(r.statement_digest))).toEqual(texts.map((t) => createHash('sha256').update(t).digest('hex')));
      expect(logged.every((r) => r.table_name === TABLE)).toBe(true);
      const result = await drainRepairLog({ primary: db.source, secondary: db.target, ...FAST });
      expect(result.failed).toEqual([]);
      expect(result.marked).toBe(PAYLOADS.length);
      const rows = await expectContained();
      expect(rows).toHaveLength(PAYLOADS.length + 1);
    } finally {
      await p.end();
    }
  });
});

describe('the migration tools', () => {
  /** Fills the source table with one row per payload (in the name column and as bytes). */
  async function fillSource(): Promise<void> {
    for (const [i, payload] of PAYLOADS.entries()) {
      await db.source.query(`INSERT INTO ${T} (${C}, b, u, n) VALUES (?, ?, ?, ?)`, [`m${i}${payload}`, Buffer.from(payload), payload.slice(0, 36), i]);
    }
  }

  it('backfill copies payload rows byte for byte on the literal fast path and on the codec path (a UUID column)', async () => {
    for (const codec of [false, true]) {
      await reset();
      if (codec) {
        // MariaDB's UUID type has no source-side rendering: the table is copied through the codec.
        for (const side of [db.source, db.target]) await side.query(`ALTER TABLE ${T} ADD COLUMN g UUID NULL`);
      }
      await fillSource();
      if (codec) await db.source.query(`UPDATE ${T} SET g = UUID()`);
      // Which path the copy takes: a source-side rendering of the whole row exists, or not.
      const metadata = await loadTable(db.source, db.name, TABLE, await loadServerSettings(db.source));
      expect(rowLiteralExpression(metadata.columns) === null).toBe(codec);
      const report = await backfill({ source: db.source, target: db.target, tables: [TABLE], job: codec ? 'codec' : 'literal' });
      expect(report.rowsInserted).toBe(PAYLOADS.length);
      await expectContained();
      if (codec) {
        const [s] = await db.source.query<RowDataPacket[]>(`SELECT GROUP_CONCAT(g ORDER BY id) AS g FROM ${T}`);
        const [t] = await db.target.query<RowDataPacket[]>(`SELECT GROUP_CONCAT(g ORDER BY id) AS g FROM ${T}`);
        expect(t[0]?.g).toBe(s[0]?.g);
      }
      await db.source.query('DROP TABLE IF EXISTS dualwrite_backfill_checkpoints');
      await db.target.query('DROP TABLE IF EXISTS dualwrite_backfill_checkpoints');
    }
  });

  it('verify finds exactly the payload rows that differ, and repair fixes them and nothing else', async () => {
    await reset();
    await fillSource();
    await backfill({ source: db.source, target: db.target, tables: [TABLE], job: 'for-repair' });
    await db.target.query(`UPDATE ${T} SET b = x'00' WHERE id IN (1, 3)`);
    await db.target.query(`DELETE FROM ${T} WHERE id = 5`);
    await db.target.query(`INSERT INTO ${T} (id, ${C}) VALUES (999, ?)`, ["'); DROP TABLE canary; --"]);
    const found = await verify({ source: db.source, target: db.target, tables: [TABLE], ...FAST });
    expect(found.identical).toBe(false);
    const report = await repair({ source: db.source, target: db.target, tables: [TABLE], authoritative: 'source', ...FAST });
    expect(report.repaired).toBe(4);
    await expectContained();
    const again = await verify({ source: db.source, target: db.target, tables: [TABLE], ...FAST });
    expect(again.identical).toBe(true);
    await db.target.query('DROP TABLE IF EXISTS dualwrite_backfill_checkpoints');
    await db.source.query('DROP TABLE IF EXISTS dualwrite_backfill_checkpoints');
  });
});
