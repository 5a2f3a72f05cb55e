/**
 * verify() with a normalisation profile, against the two real servers: a table whose column types
 * changed between the sides (FLOAT → DOUBLE, DECIMAL(10,1) → DECIMAL(12,3), TIMESTAMP(3) → DATETIME(6)
 * holding UTC, CHAR latin1 → VARCHAR utf8mb4, a case-insensitive copy of a name, JSON re-spelled) holds
 * the same data on both sides by each rule's meaning. Compared exactly, every covered column differs;
 * with the profile the tables are identical and the report says which columns were equal only after
 * normalisation; a real difference is still found under the profile; and each rule left out brings
 * back the differences of its own column only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { normalizedColumn, type NormalizationProfile } from '../../src/migrate/normalize.js';
import { loadServerSettings, loadTable } from '../../src/schema/index.js';
import { verifyKeys } from '../../src/migrate/verify-incremental.js';
import { verify, type Difference, type VerifyOptions } from '../../src/migrate/verify.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

let db: TestDatabases;
const ROWS = 120;

const SOURCE_DDL = `CREATE TABLE t (
  id INT NOT NULL PRIMARY KEY,
  f FLOAT, d DECIMAL(10,1), ts TIMESTAMP(3) NULL, c CHAR(12) CHARACTER SET latin1, name VARCHAR(20), doc JSON, same INT
)`;
const TARGET_DDL = `CREATE TABLE t (
  id INT NOT NULL PRIMARY KEY,
  f DOUBLE, d DECIMAL(12,3), ts DATETIME(6) NULL, c VARCHAR(12) CHARACTER SET utf8mb4, name VARCHAR(20), doc JSON, same INT
)`;

const ALL_RULES: NormalizationProfile = { floatDigits: 7, decimals: 'value', temporal: 'instant', trailingSpaces: 'ignore', letterCase: 'ignore', json: 'document' };

/** Row i on each side: the same data by the rules' meaning, spelled as each side's type stores it. */
function rows(): { source: unknown[][]; target: unknown[][] } {
  const source: unknown[][] = [];
  const target: unknown[][] = [];
  for (let i = 1; i <= ROWS; i++) {
    const float = `${i}.1`; // FLOAT keeps 0.1 as 0.100000001490116…; the DOUBLE side gets 0.1 from the text
    const decimal = `${i}.5`;
    const time = `2024-03-${String(1 + (i % 28)).padStart(2, '0')} 10:${String(i % 60).padStart(2, '0')}:00.123`;
    const text = i % 5 === 0 ? null : `café ${i}  `; // CHAR drops trailing spaces; VARCHAR keeps them
    const doc = JSON.stringify({ id: i, tags: ['a', 'b'], price: 15 });
    source.push([i, float, decimal, time, text, `Name ${i}`, doc, i]);
    target.push([i, float, `${decimal}00`, `${time}000`, text, `NAME ${i}`, `{"tags": ["a", "b"],   "price": 15, "id": ${i}}`, i]);
  }
  return { source, target };
}

beforeAll(async () => {
  db = await createTestDatabases('normalize');
  const data = rows();
  for (const [side, ddl, values] of [
    [db.source, SOURCE_DDL, data.source],
    [db.target, TARGET_DDL, data.target],
  ] as const) {
    await side.query(ddl);
    const connection = await side.getConnection();
    try {
      await connection.query("SET time_zone = '+00:00'");
      await connection.query('INSERT INTO t (id, f, d, ts, c, name, doc, same) VALUES ?', [values]);
      await connection.query("SET time_zone = 'SYSTEM'");
    } finally {
      connection.release();
    }
  }
});

afterAll(async () => {
  await db?.drop();
});

function options(extra: Partial<VerifyOptions> = {}): VerifyOptions {
  return { source: db.source, target: db.target, tables: ['t'], chunkRows: 50, recheck: { delayMs: 0, attempts: 1 }, collect: true, ...extra };
}

/** The columns reported different, with how many rows each. */
function columnCounts(differences: readonly Difference[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const difference of differences) for (const column of difference.columns ?? []) counts[column] = (counts[column] ?? 0) + 1;
  return counts;
}

describe('a changed schema holding the same data', () => {
  it('differs in every covered column when compared exactly', async () => {
    const report = await verify(options());
    expect(report.identical).toBe(false);
    const table = report.tables[0];
    expect(table?.different).toBe(ROWS);
    const counts = columnCounts(table?.differences ?? []);
    // Every row differs in f, d, ts, name and doc; c only where it is not NULL; `same` never.
    expect(counts).toEqual({ f: ROWS, d: ROWS, ts: ROWS, c: ROWS - ROWS / 5, name: ROWS, doc: ROWS });
    expect(table?.normalised).toBeUndefined();
  });

  it('is identical under the profile, and the report names the columns equal only after normalisation', async () => {
    const report = await verify(options({ normalize: ALL_RULES }));
    expect(report.identical).toBe(true);
    const table = report.tables[0];
    expect(table).toMatchObject({ rowsChecked: ROWS, candidates: 0, different: 0 });
    const chunks = table?.chunks ?? 0;
    expect(chunks).toBe(3);
    expect(table?.normalised).toEqual([
      { column: 'f', rules: 'floats rounded to 7 significant digits', chunksEqualOnlyAfterNormalisation: chunks },
      { column: 'd', rules: 'decimals compared by value', chunksEqualOnlyAfterNormalisation: chunks },
      { column: 'ts', rules: 'date-times compared as UTC instants (DATETIME in +00:00)', chunksEqualOnlyAfterNormalisation: chunks },
      { column: 'c', rules: 'trailing spaces ignored; letter case ignored', chunksEqualOnlyAfterNormalisation: chunks },
      { column: 'name', rules: 'trailing spaces ignored; letter case ignored', chunksEqualOnlyAfterNormalisation: chunks },
      { column: 'doc', rules: 'JSON compared as documents', chunksEqualOnlyAfterNormalisation: chunks },
    ]);
  });

  it.each([
    ['floatDigits', 'f'],
    ['decimals', 'd'],
    ['temporal', 'ts'],
    ['json', 'doc'],
  ] as const)('brings back the differences of its own column only when %s is left out', async (rule, column) => {
    const profile: Record<string, unknown> = { ...ALL_RULES };
    delete profile[rule];
    const report = await verify(options({ normalize: profile }));
    expect(columnCounts(report.tables[0]?.differences ?? [])).toEqual({ [column]: ROWS });
  });

  it('still finds real differences under the profile, and leaves their chunk out of the normalised counts', async () => {
    const changes = [
      ['f = f + 0.01', 7, 'f'],
      ['d = d + 0.001', 17, 'd'],
      ['ts = ts + INTERVAL 1 MICROSECOND', 27, 'ts'],
      ["c = 'cafe 37'", 37, 'c'],
      ["doc = JSON_SET(doc, '$.price', 16)", 47, 'doc'],
      ['same = same + 1', 57, 'same'],
    ] as const;
    for (const [set, id] of changes) await db.target.query(`UPDATE t SET ${set} WHERE id = ?`, [id]);
    try {
      const report = await verify(options({ normalize: ALL_RULES }));
      const table = report.tables[0];
      expect(report.identical).toBe(false);
      expect(table?.differences?.map((d) => `${String(d.key.id)}:${(d.columns ?? []).join(',')}`).sort()).toEqual(changes.map(([, id, column]) => `${id}:${column}`).sort());
      // Rows 1–50 and 51–100 held real differences; only the last chunk counts as equal only after normalisation.
      expect(table?.normalised?.every((column) => column.chunksEqualOnlyAfterNormalisation === 1)).toBe(true);
    } finally {
      // Put the changed rows back as they were written.
      const data = rows().target;
      const connection = await db.target.getConnection();
      try {
        await connection.query("SET time_zone = '+00:00'");
        await connection.query('REPLACE INTO t (id, f, d, ts, c, name, doc, same) VALUES ?', [changes.map(([, id]) => data[id - 1])]);
      } finally {
        await connection.query("SET time_zone = 'SYSTEM'");
        connection.release();
      }
    }
    expect((await verify(options({ normalize: ALL_RULES }))).identical).toBe(true);
  });

  it('applies to verifyKeys too (the keys of a repair log, say)', async () => {
    const keys = [{ id: '3' }, { id: '64' }, { id: '120' }];
    const exact = await verifyKeys({ source: db.source, target: db.target, table: 't', keys, recheck: { delayMs: 0, attempts: 0 } });
    expect(exact.tables[0]?.different).toBe(3);
    const normalised = await verifyKeys({ source: db.source, target: db.target, table: 't', keys, normalize: ALL_RULES, recheck: { delayMs: 0, attempts: 0 } });
    expect(normalised.identical).toBe(true);
  });

  it('refuses a DATETIME zone a server does not know, and never lets a failed conversion make values equal', async () => {
    await expect(verify(options({ normalize: { temporal: 'instant', datetimeZone: 'Mars/Olympus_Mons' } }))).rejects.toThrow(
      /a time zone the source server knows: it has no zone named "Mars\/Olympus_Mons"/,
    );
    await expect(verifyKeys({ source: db.source, target: db.target, table: 't', keys: [{ id: '1' }], normalize: { temporal: 'instant', datetimeZone: 'Mars/Olympus_Mons' } })).rejects.toThrow(/time zone/);
    // The normal form itself: a conversion the server cannot make keeps the value (marked), never NULL.
    const table = await loadTable(db.target, db.name, 't', await loadServerSettings(db.target));
    const column = table.columnsByName.get('ts');
    const expression = normalizedColumn(column as NonNullable<typeof column>, { temporal: 'instant', datetimeZone: 'Mars/Olympus_Mons' }, 'mariadb').expression;
    const [rows] = await db.target.query(`SELECT ${expression ?? 'NULL'} AS v FROM t WHERE id IN (1, 2) ORDER BY id`);
    const values = (rows as { v: string | null }[]).map((row) => row.v);
    expect(values[0]).toMatch(/^unconverted 2024-03-02 10:01:00/);
    expect(values[0]).not.toBe(values[1]);
    // A zone given as an offset needs no tables, and a DATETIME read in it is compared as the UTC instant.
    const shifted = await verify(options({ normalize: { ...ALL_RULES, datetimeZone: '+01:00' } }));
    expect(shifted.tables[0]?.differences?.map((d) => d.columns)).toContainEqual(['ts']);
  });

  it('refuses an unknown rule or a bad value, saying what is accepted', async () => {
    await expect(verify(options({ normalize: { floatDigits: 0 } }))).rejects.toThrow(/from 1 to 17/);
    await expect(verify(options({ normalize: { colour: 'blue' } as unknown as NormalizationProfile }))).rejects.toThrow(/one of the rules/);
    await expect(verify(options({ normalize: { datetimeZone: "'; DROP TABLE t; --" } }))).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(verify(options({ normalize: { temporal: 'wall' as 'instant' } }))).rejects.toThrow(/'instant'/);
  });
});
