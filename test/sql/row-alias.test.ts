import { describe, expect, it } from 'vitest';
import { analyze, type InsertAnalysis } from '../../src/sql/index.js';

function insertOf(sql: string): InsertAnalysis {
  const write = analyze(sql).write;
  if (write === null || (write.kind !== 'insert' && write.kind !== 'replace')) throw new Error(`not an insert: ${sql}`);
  return write;
}

describe('INSERT row alias', () => {
  it('is recorded with its span and column list, with or without ON DUPLICATE KEY UPDATE', () => {
    const withColumns = 'INSERT INTO t (a, b) VALUES (?, ?) AS new(x, `y`) ON DUPLICATE KEY UPDATE b = new.x';
    const a = insertOf(withColumns);
    expect(a.rowAlias?.name).toBe('new');
    expect(a.rowAlias?.columns).toEqual(['x', 'y']);
    const span = a.rowAlias?.span ?? { start: 0, end: 0 };
    expect(withColumns.slice(span.start, span.end)).toBe('AS new(x, `y`)');
    expect(a.onDuplicateKeyUpdate?.rowAlias).toBe('new');

    const bare = 'INSERT INTO t SET a = 1 AS n';
    const b = insertOf(bare);
    expect(b.rowAlias).toEqual({ name: 'n', span: { start: bare.indexOf('AS'), end: bare.length }, columns: null });
    expect(b.onDuplicateKeyUpdate).toBeNull();
  });

  it('is null when the statement has none', () => {
    expect(insertOf('INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = VALUES(a)').rowAlias).toBeNull();
  });

  it('makes the statement not understood when the alias is malformed', () => {
    const a = analyze('INSERT INTO t (a) VALUES (1) AS new(x + 1)');
    expect(a.class).toBe('write');
    expect(a.understood).toBe(false);
  });
});
