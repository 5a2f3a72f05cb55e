/**
 * Replay planning refuses what the analyzer cannot read exactly (found by the bad-input work): a values array whose
 * length is not the statement's `?` count, and quoting the primary side's sql_mode reads differently from the
 * analyzer (NO_BACKSLASH_ESCAPES, ANSI_QUOTES). Pure planning, no server: the pool-level behaviour is in
 * bad-input.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { planReplay } from '../../src/replay/plan.js';
import type { ServerSettings } from '../../src/schema/types.js';
import { analyze } from '../../src/sql/index.js';

const settings = (sqlMode: string): ServerSettings => ({
  flavor: 'mariadb',
  version: '10.11.0-MariaDB',
  versionNumber: 101100,
  autoIncrementIncrement: 1,
  autoIncrementOffset: 1,
  innodbAutoincLockMode: 1,
  lowerCaseTableNames: 0,
  sqlMode,
  timeZone: 'SYSTEM',
  systemTimeZone: 'UTC',
  binlogFormat: 'ROW',
  serverId: 1,
  explicitDefaultsForTimestamp: true,
});

const plan = (sql: string, values: unknown[] | undefined, sqlMode = 'STRICT_TRANS_TABLES'): ReturnType<typeof planReplay> =>
  planReplay({ sql, analysis: analyze(sql), values, table: null, settings: settings(sqlMode) });

describe('planReplay guards', () => {
  it('plans a statement replay when the values match the placeholders, and refuses one more or one fewer', () => {
    const sql = 'UPDATE t SET a = ? WHERE id = ?';
    expect(plan(sql, [1, 2]).kind).toBe('statement');
    expect(plan(sql, undefined).kind).toBe('statement');
    for (const values of [[1], [1, 2, 3], []]) {
      const p = plan(sql, values);
      expect(p).toMatchObject({ kind: 'unreplayable' });
      expect((p as { reason: string }).reason).toContain(`given for 2 placeholders`);
    }
  });

  it('refuses a backslash under NO_BACKSLASH_ESCAPES, where the analyzer would miss the code after it', () => {
    // Under NO_BACKSLASH_ESCAPES the server reads 'a\' as a whole string: the subquery after it is code.
    const sql = "UPDATE t SET a = 'a\\', b = (SELECT MAX(x) FROM other) -- ' WHERE id = 1";
    expect(analyze(sql).unsafe.map((f) => f.reason)).not.toContain('subquery'); // what the analyzer sees
    expect(plan(sql, undefined).kind).toBe('statement');
    expect(plan(sql, undefined, 'STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES')).toMatchObject({ kind: 'unreplayable' });
    expect(plan("UPDATE t SET a = 'plain' WHERE id = 1", undefined, 'NO_BACKSLASH_ESCAPES').kind).toBe('statement');
  });

  it('refuses a double quote under ANSI_QUOTES', () => {
    const sql = 'UPDATE t SET a = "x" WHERE id = 1';
    expect(plan(sql, undefined).kind).toBe('statement');
    expect(plan(sql, undefined, 'ANSI_QUOTES')).toMatchObject({ kind: 'unreplayable' });
    expect(plan("UPDATE t SET a = 'x' WHERE id = 1", undefined, 'ANSI,ANSI_QUOTES').kind).toBe('statement');
  });
});
