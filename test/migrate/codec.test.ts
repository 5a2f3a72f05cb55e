/**
 * The lossless value codec: raw text-protocol bytes decoded by the result's
 * field types (real server), TIMESTAMP as Unix time turned into UTC text, and
 * the session time zone set for a piece of work and restored.
 */
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplayPlanError } from '../../src/errors.js';
import { columnReadExpression, decodeColumnValue, queryExact, quoteIdentifier, unixTimeToUtcText, withSessionTimeZone } from '../../src/migrate/codec.js';
import { loadServerSettings, loadTable, type TableMetadata } from '../../src/schema/index.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

let db: TestDatabases;
let connection: Connection;
let table: TableMetadata;

beforeAll(async () => {
  db = await createTestDatabases('codec');
  connection = await createConnection({ uri: db.sourceUrl });
  await connection.query('CREATE TABLE t (id INT PRIMARY KEY, ts TIMESTAMP(6) NULL, f FLOAT, d2 DOUBLE(10,2), d DOUBLE, `we``ird` INT)');
  table = await loadTable(connection, db.name, 't', await loadServerSettings(connection));
});

afterAll(async () => {
  await connection?.end();
  await db?.drop();
});

function column(name: string) {
  const found = table.columnsByName.get(name);
  if (found === undefined) throw new Error(`no column ${name}`);
  return found;
}

describe('unixTimeToUtcText', () => {
  it('keeps the fractional digits as given and never goes through a time zone', () => {
    expect(unixTimeToUtcText('1700000000.123456')).toBe('2023-11-14 22:13:20.123456');
    expect(unixTimeToUtcText('2147483647')).toBe('2038-01-19 03:14:07');
    expect(unixTimeToUtcText('1')).toBe('1970-01-01 00:00:01');
  });

  it('reads 0 as the zero TIMESTAMP', () => {
    expect(unixTimeToUtcText('0')).toBe('0000-00-00 00:00:00');
    expect(unixTimeToUtcText('0.000000')).toBe('0000-00-00 00:00:00.000000');
  });

  it('refuses anything that is not a Unix time', () => {
    expect(() => unixTimeToUtcText('-1')).toThrow(ReplayPlanError);
    expect(() => unixTimeToUtcText('2023-11-14')).toThrow(ReplayPlanError);
  });
});

describe('read expressions', () => {
  it('reads TIMESTAMP as Unix time, FLOAT and DOUBLE(M,D) as a DOUBLE, the rest as they are', () => {
    expect(columnReadExpression(column('ts'))).toBe('UNIX_TIMESTAMP(`ts`)');
    expect(columnReadExpression(column('f'), '`t`')).toBe('(`t`.`f` + 0e0)');
    expect(columnReadExpression(column('d2'))).toBe('(`d2` + 0e0)');
    expect(columnReadExpression(column('d'))).toBe('`d`');
    expect(columnReadExpression(column('we`ird'))).toBe('`we``ird`');
    expect(quoteIdentifier('a`b')).toBe('`a``b`');
  });

  it('FLOAT read through its expression round-trips where its plain text does not', async () => {
    await connection.query('INSERT INTO t (id, f) VALUES (1, 0.1), (2, 16777217), (3, 3.4028234e38)');
    const exact = await queryExact(connection, `SELECT id, ${columnReadExpression(column('f'))} FROM t ORDER BY id`);
    for (const [id, text] of exact) {
      const [rows] = await connection.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM t WHERE id = ? AND f = ?', [id, text]);
      expect(rows[0]?.n).toBe(1);
    }
    const plain = await queryExact(connection, 'SELECT f FROM t WHERE id = 1');
    expect(plain[0]?.[0]).toBe('0.1');
    expect(exact[0]?.[1]).toBe('0.10000000149011612');
  });

  it('a TIMESTAMP reads the same instant in every session time zone', async () => {
    await connection.query("SET time_zone = '+00:00'");
    await connection.query("INSERT INTO t (id, ts) VALUES (10, '2023-10-29 01:30:00.000001')");
    const read = async (zone: string) => {
      await connection.query('SET time_zone = ?', [zone]);
      const [row] = await queryExact(connection, `SELECT ${columnReadExpression(column('ts'))} FROM t WHERE id = 10`);
      return decodeColumnValue(column('ts'), row?.[0] ?? null);
    };
    expect(await read('+05:30')).toBe('2023-10-29 01:30:00.000001');
    expect(await read('-11:00')).toBe('2023-10-29 01:30:00.000001');
    await connection.query("SET time_zone = 'SYSTEM'");
  });
});

describe('decodeExactRows (through queryExact)', () => {
  it('keeps the server text of numbers, dates and JSON; strings as strings; bytes as Buffers; NULL as null', async () => {
    const [row] = await queryExact(
      connection,
      "SELECT 1.50, CAST(18446744073709551615 AS UNSIGNED), 1e300 * 10, 'é😀', X'00FF', b'101', NULL, DATE '2024-02-29', CAST(? AS DATETIME(6)), JSON_OBJECT('a', 0.1), TIME '-838:59:59'",
      ['2024-02-29 23:59:59.999999'],
    );
    expect(row).toEqual([
      '1.50',
      '18446744073709551615',
      '1e301',
      'é😀',
      Buffer.from([0, 255]),
      Buffer.from([5]),
      null,
      '2024-02-29',
      '2024-02-29 23:59:59.999999',
      '{"a": 0.1}',
      '-838:59:59',
    ]);
  });

  it('refuses character strings over a connection that is not utf8mb4', async () => {
    const latin1 = await createConnection({ uri: db.sourceUrl, charset: 'LATIN1_SWEDISH_CI' });
    try {
      await expect(queryExact(latin1, "SELECT 'abc'")).rejects.toThrow(ReplayPlanError);
      // Numbers and bytes do not depend on the character set.
      expect(await queryExact(latin1, "SELECT 7, X'01'")).toEqual([['7', Buffer.from([1])]]);
    } finally {
      await latin1.end();
    }
  });
});

describe('withSessionTimeZone', () => {
  it('sets the zone for the work and restores it, also when the work fails', async () => {
    await connection.query("SET time_zone = '-04:00'");
    const inside = await withSessionTimeZone(connection, '+00:00', async () => (await queryExact(connection, 'SELECT @@session.time_zone'))[0]?.[0]);
    expect(inside).toBe('+00:00');
    await expect(withSessionTimeZone(connection, '+00:00', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect((await queryExact(connection, 'SELECT @@session.time_zone'))[0]?.[0]).toBe('-04:00');
    await connection.query("SET time_zone = 'SYSTEM'");
  });
});
