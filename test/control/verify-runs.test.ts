/**
 * verify({ record }) against the spawned servers: a completed run is recorded in `dualwrite_verify_runs` on the
 * target (read back with latestVerifyRuns); an interrupted run records nothing; a bad table name is refused
 * before anything is compared.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { verify } from '../../src/migrate/verify.js';
import { latestVerifyRuns } from '../../src/migrate/verify-runs.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

let db: TestDatabases;

beforeAll(async () => {
  db = await createTestDatabases('verify_runs');
  for (const side of [db.source, db.target]) {
    await side.query('CREATE TABLE a (id INT PRIMARY KEY, v INT NOT NULL)');
    await side.query('CREATE TABLE b (id INT PRIMARY KEY, v INT NOT NULL)');
    await side.query('INSERT INTO a VALUES (1, 1), (2, 2), (3, 3)');
  }
  await db.source.query('INSERT INTO b VALUES (1, 1), (2, 2)');
  await db.target.query('INSERT INTO b VALUES (1, 1), (2, 20)'); // one row differs
});
afterAll(() => db?.drop());

describe('verify runs', () => {
  it('records each completed run with its tables, rows checked, differences and outcome; nothing without record', async () => {
    expect(await latestVerifyRuns(db.target)).toEqual([]); // no table yet
    await verify({ source: db.source, target: db.target, tables: ['a'] });
    expect(await latestVerifyRuns(db.target)).toEqual([]);

    const started = Date.now();
    const clean = await verify({ source: db.source, target: db.target, tables: ['a'], record: true });
    const differing = await verify({ source: db.source, target: db.target, tables: ['a', 'b'], record: true, recheck: { attempts: 0 } });
    expect([clean.identical, differing.identical]).toEqual([true, false]);
    const runs = await latestVerifyRuns(db.target);
    expect(runs.map((run) => [run.tables, run.rowsChecked, run.differences, run.identical, run.normalisation])).toEqual([
      [[`${db.name}.a`, `${db.name}.b`], 5, 1, false, null],
      [[`${db.name}.a`], 3, 0, true, null],
    ]);
    for (const run of runs) {
      expect(run.startedAt).toBeGreaterThanOrEqual(started - 1000); // the clock of this process, recorded as given
      expect(run.finishedAt).toBeGreaterThanOrEqual(run.startedAt);
    }
    expect(await latestVerifyRuns(db.target, { since: Date.now() + 60_000 })).toEqual([]);
  });

  it('records nothing for an interrupted run, and refuses a bad table name before comparing', async () => {
    const before = (await latestVerifyRuns(db.target, { table: 'custom_runs' })).length;
    const controller = new AbortController();
    controller.abort(new Error('stopped by the test'));
    await expect(verify({ source: db.source, target: db.target, tables: ['a'], record: 'custom_runs', signal: controller.signal })).rejects.toThrow('stopped by the test');
    expect(await latestVerifyRuns(db.target, { table: 'custom_runs' })).toHaveLength(before);
    await expect(verify({ source: db.source, target: db.target, tables: ['a'], record: 'x.y.z' })).rejects.toThrow(InvalidOptionError);
    await verify({ source: db.source, target: db.target, tables: ['a'], record: 'custom_runs' });
    expect(await latestVerifyRuns(db.target, { table: 'custom_runs' })).toHaveLength(before + 1);
  });
});
