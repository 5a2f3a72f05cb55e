import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SchemaCache, refineUnsafeFindings, type TableMetadata } from '../../src/schema/index.js';
import { analyze } from '../../src/sql/index.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

let db: TestDatabases;
let cache: SchemaCache;

beforeAll(async () => {
  db = await createTestDatabases('safety');
  await db.source.query(`CREATE TABLE one_key (id INT AUTO_INCREMENT PRIMARY KEY, v INT)`);
  await db.source.query(`CREATE TABLE two_keys (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(50) UNIQUE, v INT)`);
  await db.source.query(`CREATE TABLE stamped (
    id INT AUTO_INCREMENT PRIMARY KEY,
    v INT,
    created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP)`);
  cache = new SchemaCache(db.source);
});

afterAll(async () => {
  await db?.drop();
});

async function reasons(sql: string, table: string | null): Promise<string[]> {
  const meta: TableMetadata | null = table === null ? null : await cache.get(db.name, table);
  return refineUnsafeFindings(analyze(sql), meta).map((f) => `${f.reason}${f.reason === 'time_default' ? `:${f.detail}` : ''}`);
}

describe('refineUnsafeFindings with real table metadata', () => {
  it('keeps ON DUPLICATE KEY UPDATE unsafe only when the table has more than one unique key', async () => {
    const sql = (t: string) => `INSERT INTO ${t} (id, v) VALUES (?, ?) ON DUPLICATE KEY UPDATE v = VALUES(v)`;
    expect(await reasons(sql('one_key'), 'one_key')).toEqual([]);
    expect(await reasons(sql('two_keys'), 'two_keys')).toEqual(['on_duplicate_key_update']);
    // Without metadata nothing is dropped.
    expect(await reasons(sql('one_key'), null)).toEqual(['on_duplicate_key_update']);
  });

  it('flags an INSERT that leaves a DEFAULT CURRENT_TIMESTAMP column to the server', async () => {
    expect(await reasons('INSERT INTO stamped (v) VALUES (?)', 'stamped')).toEqual(['time_default:created_at']);
    expect(await reasons('INSERT INTO stamped (v, created_at, updated_at) VALUES (?, DEFAULT, ?)', 'stamped')).toEqual(['time_default:created_at']);
    expect(await reasons('INSERT INTO stamped (v, created_at, updated_at) VALUES (?, ?, ?)', 'stamped')).toEqual([]);
    expect(await reasons('INSERT INTO stamped SET v = 1, created_at = ?, updated_at = ?', 'stamped')).toEqual([]);
    // No column list: every column is given, positionally.
    expect(await reasons('INSERT INTO stamped VALUES (NULL, 1, ?, ?)', 'stamped')).toEqual([]);
    expect(await reasons('INSERT INTO stamped VALUES (NULL, 1, DEFAULT, ?)', 'stamped')).toEqual(['time_default:created_at']);
    expect(await reasons('INSERT INTO one_key (v) VALUES (?)', 'one_key')).toEqual([]);
  });

  it('flags an UPDATE or ON DUPLICATE KEY UPDATE that leaves ON UPDATE CURRENT_TIMESTAMP to the server', async () => {
    expect(await reasons('UPDATE stamped SET v = ? WHERE id = ?', 'stamped')).toEqual(['time_default:updated_at']);
    expect(await reasons('UPDATE stamped SET v = ?, updated_at = ? WHERE id = ?', 'stamped')).toEqual([]);
    expect(
      await reasons('INSERT INTO stamped (id, v, created_at, updated_at) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE v = VALUES(v)', 'stamped'),
    ).toEqual(['time_default:updated_at']);
    expect(await reasons('UPDATE one_key SET v = ? WHERE id = ?', 'one_key')).toEqual([]);
  });

  it('checks against what the server really does: the clock columns the test expects are the ones it fills', async () => {
    // An independent check of the metadata the refinement relies on: the server fills created_at itself.
    await db.source.query('INSERT INTO stamped (v) VALUES (1)');
    const [rows] = await db.source.query('SELECT created_at IS NOT NULL AS filled FROM stamped');
    expect(rows).toEqual([{ filled: 1 }]);
    const meta = await cache.get(db.name, 'stamped');
    expect(meta.currentTimestampDefaults).toEqual(['created_at', 'updated_at']);
    expect(meta.onUpdateCurrentTimestamp).toEqual(['updated_at']);
  });
});
