/**
 * Keyset chunking against a real server: every row is seen exactly once, in the server's own
 * primary-key order, for composite keys with negatives and zero, BIGINT (UNSIGNED) extremes where
 * a DOUBLE comparison would merge neighbours, long DECIMALs, and binary keys of every byte.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { queryExact } from '../../src/migrate/codec.js';
import { keyOfRow, keysetChunkQuery, tupleComparison, type KeyTuple } from '../../src/migrate/keyset.js';
import { loadServerSettings, loadTable, type ServerSettings, type TableMetadata } from '../../src/schema/index.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

let db: TestDatabases;
let settings: ServerSettings;

beforeAll(async () => {
  db = await createTestDatabases('keyset');
  settings = await loadServerSettings(db.source);
});

afterAll(async () => {
  await db?.drop();
});

async function table(ddl: string, name: string): Promise<TableMetadata> {
  await db.source.query(ddl);
  return loadTable(db.source, db.name, name, settings);
}

/** A comparable text of a key (bytes as hex). */
function show(key: KeyTuple): string {
  return JSON.stringify(key.map((value) => (Buffer.isBuffer(value) ? `0x${value.toString('hex')}` : value)));
}

/** Walks the whole table in keyset chunks of `limit`; returns every key seen, in order. */
async function walk(metadata: TableMetadata, limit: number): Promise<string[]> {
  const seen: string[] = [];
  let after: KeyTuple | null = null;
  for (let round = 0; round < 100_000; round++) {
    const query = keysetChunkQuery(metadata, { after, limit, columns: metadata.primaryKey });
    const rows = await queryExact(db.source, query.sql, query.values);
    expect(rows.length).toBeLessThanOrEqual(limit);
    for (const row of rows) seen.push(show(keyOfRow(query, row)));
    const last = rows.at(-1);
    if (rows.length < limit || last === undefined) return seen;
    after = keyOfRow(query, last);
  }
  throw new Error('the walk did not end');
}

/** The server's own primary-key order. */
async function serverOrder(metadata: TableMetadata): Promise<string[]> {
  const keys = metadata.primaryKey.map((name) => `\`${name}\``).join(', ');
  const rows = await queryExact(db.source, `SELECT ${keys} FROM \`${metadata.name}\` ORDER BY ${keys}`);
  return rows.map(show);
}

async function expectWalkMatches(metadata: TableMetadata, limits: number[]): Promise<void> {
  const expected = await serverOrder(metadata);
  expect(new Set(expected).size).toBe(expected.length);
  for (const limit of limits) expect(await walk(metadata, limit)).toEqual(expected);
}

describe('keysetChunkQuery SQL', () => {
  let composite: TableMetadata;
  beforeAll(async () => {
    composite = await table('CREATE TABLE shape (a INT NOT NULL, b VARCHAR(20) NOT NULL, c INT NOT NULL, v INT, g INT AS (v + 1), PRIMARY KEY (a, b, c))', 'shape');
  });

  it('starts at the smallest key, orders by the key, never uses OFFSET, and reads no generated column by default', () => {
    const query = keysetChunkQuery(composite, { after: null, limit: 7 });
    expect(query.sql).toBe(`SELECT \`a\`, \`b\`, \`c\`, \`v\` FROM \`${db.name}\`.\`shape\` ORDER BY \`a\`, \`b\`, \`c\` LIMIT ?`);
    expect(query.values).toEqual([7]);
    expect(query.keyPositions).toEqual([0, 1, 2]);
  });

  it('continues strictly after a key with the expanded predicate, numbers inlined, strings bound', () => {
    const query = keysetChunkQuery(composite, { after: ['-5', 'x', '0'], limit: 3, columns: ['v'], lock: 'share' });
    expect(query.sql).toBe(
      `SELECT \`v\`, \`a\`, \`b\`, \`c\` FROM \`${db.name}\`.\`shape\` WHERE \`a\` >= -5 AND ((\`a\` > -5) OR (\`a\` = -5 AND \`b\` > ?) OR (\`a\` = -5 AND \`b\` = ? AND \`c\` > 0)) ORDER BY \`a\`, \`b\`, \`c\` LIMIT ? LOCK IN SHARE MODE`,
    );
    expect(query.values).toEqual(['x', 'x', 3]);
    expect(query.keyPositions).toEqual([1, 2, 3]);
    expect(query.sql).not.toMatch(/OFFSET/i);
  });

  it('writes inclusive bounds with <= and >= on the last column only', () => {
    const columns = composite.primaryKey.map((name) => composite.columnsByName.get(name.toLowerCase())!);
    expect(tupleComparison(columns, '<=', ['1', 'y', '2']).sql).toBe('`a` <= 1 AND ((`a` < 1) OR (`a` = 1 AND `b` < ?) OR (`a` = 1 AND `b` = ? AND `c` <= 2))');
    expect(tupleComparison(columns.slice(0, 1), '>=', ['1']).sql).toBe('`a` >= 1');
  });

  it('refuses what it cannot chunk exactly', async () => {
    const noKey = await table('CREATE TABLE nokey (a INT)', 'nokey');
    const enumKey = await table("CREATE TABLE enumkey (e ENUM('b','a') NOT NULL PRIMARY KEY)", 'enumkey');
    expect(() => keysetChunkQuery(noKey, { after: null, limit: 1 })).toThrow(InvalidOptionError);
    expect(() => keysetChunkQuery(enumKey, { after: null, limit: 1 })).toThrow(/ENUM or SET/);
    expect(() => keysetChunkQuery(composite, { after: null, limit: 0 })).toThrow(InvalidOptionError);
    expect(() => keysetChunkQuery(composite, { after: ['1', 'x'], limit: 1 })).toThrow(/3 values/);
    expect(() => keysetChunkQuery(composite, { after: ['1 OR 1', 'x', '0'], limit: 1 })).toThrow(/a number/);
    expect(() => keysetChunkQuery(composite, { after: ['1', null, '0'], limit: 1 })).toThrow(/non-NULL/);
    expect(() => keysetChunkQuery(composite, { after: null, limit: 1, columns: ['nope'] })).toThrow(InvalidOptionError);
  });
});

describe('keyset walks on a real server', () => {
  it('composite (INT, VARCHAR) key with negatives, zero and empty strings', async () => {
    const metadata = await table('CREATE TABLE comp (a INT NOT NULL, b VARCHAR(10) NOT NULL, PRIMARY KEY (a, b))', 'comp');
    const values: string[] = [];
    for (const a of [-2147483648, -10, -1, 0, 1, 2, 2147483647]) for (const b of ['', ' x', '0', '10', '9', 'a', 'b', 'é', '😀']) values.push(`(${a}, '${b}')`);
    await db.source.query(`INSERT INTO comp VALUES ${values.join(', ')}`);
    await expectWalkMatches(metadata, [1, 2, 7, 9, 10, 1000]);
  });

  it('BIGINT UNSIGNED and BIGINT extremes, where neighbours are equal as DOUBLEs', async () => {
    const unsigned = await table('CREATE TABLE ubig (id BIGINT UNSIGNED NOT NULL PRIMARY KEY)', 'ubig');
    await db.source.query(
      'INSERT INTO ubig VALUES (0), (1), (9007199254740992), (9007199254740993), (9223372036854775807), (9223372036854775808), (18446744073709551613), (18446744073709551614), (18446744073709551615)',
    );
    await expectWalkMatches(unsigned, [1, 2, 4]);
    expect((await walk(unsigned, 1)).slice(-3)).toEqual(['["18446744073709551613"]', '["18446744073709551614"]', '["18446744073709551615"]']);

    const signed = await table('CREATE TABLE sbig (id BIGINT NOT NULL PRIMARY KEY)', 'sbig');
    await db.source.query('INSERT INTO sbig VALUES (-9223372036854775808), (-9223372036854775807), (-9007199254740993), (-9007199254740992), (-1), (0), (9223372036854775806), (9223372036854775807)');
    await expectWalkMatches(signed, [1, 3]);
  });

  it('DECIMAL(65,30) key whose values differ in the last digit', async () => {
    const metadata = await table('CREATE TABLE dec_key (d DECIMAL(65,30) NOT NULL PRIMARY KEY)', 'dec_key');
    const big = '12345678901234567890123456789012345';
    await db.source.query(
      `INSERT INTO dec_key VALUES (-${big}.000000000000000000000000000001), (-${big}), (-0.000000000000000000000000000001), (0), ` +
        `(0.000000000000000000000000000001), (0.000000000000000000000000000002), (${big}.000000000000000000000000000001), (${big}.000000000000000000000000000002)`,
    );
    await expectWalkMatches(metadata, [1, 2, 3]);
    expect(await walk(metadata, 1)).toHaveLength(8);
  });

  it('VARBINARY key with every byte value, 0x00 and 0xFF prefixes included', async () => {
    const metadata = await table('CREATE TABLE bin_key (k VARBINARY(4) NOT NULL PRIMARY KEY)', 'bin_key');
    const keys: Buffer[] = [Buffer.alloc(0), Buffer.from([0, 0]), Buffer.from([0xff, 0xff]), Buffer.from([0xff, 0]), Buffer.from([0x20]), Buffer.from([0x20, 0x20])];
    for (let byte = 0; byte < 256; byte++) if (byte !== 0x20) keys.push(Buffer.from([byte]));
    await db.source.query('INSERT INTO bin_key VALUES ?', [keys.map((key) => [key])]);
    const walked = await walk(metadata, 7);
    expect(walked).toEqual(await serverOrder(metadata));
    expect(walked).toHaveLength(keys.length);
  });

  it('a few thousand rows in chunks of 7: each row exactly once, in order, under a share lock, using the primary key', async () => {
    const metadata = await table('CREATE TABLE many (a SMALLINT NOT NULL, b INT NOT NULL, v VARCHAR(8), PRIMARY KEY (a, b))', 'many');
    const rows: [number, number, string][] = [];
    for (let i = 0; i < 3000; i++) rows.push([(i % 61) - 30, Math.floor(i / 61) * (i % 2 === 0 ? 1 : -1), `v${i}`]);
    await db.source.query('INSERT INTO many VALUES ?', [rows]);
    await expectWalkMatches(metadata, [7]);

    const connection = await db.source.getConnection();
    try {
      await connection.query('BEGIN');
      let after: KeyTuple | null = null;
      let seen = 0;
      for (;;) {
        const query = keysetChunkQuery(metadata, { after, limit: 7, lock: 'share' });
        const chunk = await queryExact(connection, query.sql, query.values);
        seen += chunk.length;
        const last = chunk.at(-1);
        if (chunk.length < 7 || last === undefined) break;
        after = keyOfRow(query, last);
      }
      await connection.query('COMMIT');
      expect(seen).toBe(3000);
    } finally {
      await connection.query('ROLLBACK');
      connection.release();
    }

    // `skip` reads the key `skip` rows on: stepping by 100 from the start lands on every 100th key of the walk.
    const order = await serverOrder(metadata);
    let boundary: KeyTuple | null = null;
    const boundaries: KeyTuple[] = [];
    for (;;) {
      const query = keysetChunkQuery(metadata, { after: boundary, limit: 1, skip: 99, columns: ['a', 'b'] });
      expect(query.sql).toMatch(/ LIMIT \?, \?$/);
      const [row] = await queryExact(db.source, query.sql, query.values);
      if (row === undefined) break;
      boundary = keyOfRow(query, row);
      boundaries.push(boundary);
    }
    expect(boundaries.map(show)).toEqual(order.filter((_, i) => i % 100 === 99));
    expect(() => keysetChunkQuery(metadata, { after: null, limit: 1, skip: -1 })).toThrow(/skip/);

    await db.source.query('ANALYZE TABLE many');
    const query = keysetChunkQuery(metadata, { after: ['3', '-20'], limit: 7 });
    const [explained] = await db.source.query(`EXPLAIN ${query.sql}`, [...query.values]);
    const plan = (explained as Record<string, unknown>[])[0];
    expect(plan?.key).toBe('PRIMARY');
    expect(plan?.type).toBe('range');
  });
});
