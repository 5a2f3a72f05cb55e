/**
 * The end-of-run checks, with no dualwrite code: both sides hold the same rows (test/support/compare.ts reads every
 * value as the server's bytes and matches rows by primary key), and each side holds exactly the orders the service
 * handed out — every id it returned, with the status last set and its items — and none of the deleted ones.
 */
import mysql, { type RowDataPacket } from 'mysql2/promise';
import { compareTables, formatComparison } from '../../test/support/compare.js';
import type { OrderRecord } from './clients.js';
import { TABLES } from './schema.js';

/** What the checks found. */
export interface CheckResult {
  readonly ok: boolean;
  /** Lines to print. */
  readonly lines: string[];
  /** Rows per table (the source's; equal on both sides when `ok`). */
  readonly rows: Record<(typeof TABLES)[number], number>;
}

/** Runs the checks on the two databases (URLs with the database in their path). */
export async function checkSides(sourceUrl: string, targetUrl: string, orders: ReadonlyMap<number, OrderRecord>): Promise<CheckResult> {
  const lines: string[] = [];
  const comparison = await compareTables(sourceUrl, targetUrl, TABLES);
  const counts = comparison.tables.map((t) => `${t.table} ${t.sourceCount ?? '-'}/${t.targetCount ?? '-'}`).join(', ');
  lines.push(`row by row (test/support/compare.ts): ${comparison.identical ? 'identical' : 'DIFFERENT'} (rows source/target: ${counts})`);
  if (!comparison.identical) lines.push(formatComparison(comparison, 20).replace(/^/gm, '    '));
  let ok = comparison.identical;
  const rows = { orders: 0, order_items: 0 };
  for (const [side, url] of [['source', sourceUrl], ['target', targetUrl]] as const) {
    const problems = await checkLedger(url, orders);
    if (side === 'source') {
      rows.orders = problems.orders;
      rows.order_items = problems.items;
    }
    ok &&= problems.messages.length === 0;
    const live = [...orders.values()].filter((o) => !o.deleted).length;
    lines.push(
      problems.messages.length === 0
        ? `${side}: all ${live} live order ids the service returned, each with its last status and items; none of the ${orders.size - live} deleted; no other order`
        : `${side}: ${problems.messages.length} problem(s) against what the service returned:\n    ${problems.messages.slice(0, 10).join('\n    ')}`,
    );
  }
  return { ok, lines, rows };
}

async function checkLedger(url: string, orders: ReadonlyMap<number, OrderRecord>): Promise<{ messages: string[]; orders: number; items: number }> {
  const connection = await mysql.createConnection({ uri: url });
  try {
    const [found] = await connection.query<RowDataPacket[]>(
      'SELECT o.id, o.status, (SELECT COUNT(*) FROM order_items i WHERE i.order_id = o.id) AS line_count FROM orders o',
    );
    const [[items]] = await connection.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM order_items');
    const messages: string[] = [];
    const seen = new Set<number>();
    for (const row of found) {
      const id = Number(row.id);
      seen.add(id);
      const expected = orders.get(id);
      if (expected === undefined) messages.push(`order ${id} was never returned by the service`);
      else if (expected.deleted) messages.push(`order ${id} was deleted through the service but is still there`);
      else if (row.status !== expected.status || Number(row.line_count) !== expected.lines) {
        messages.push(`order ${id}: status ${String(row.status)} with ${String(row.line_count)} item(s); the service said ${expected.status} with ${expected.lines}`);
      }
    }
    let lines = 0;
    for (const order of orders.values()) {
      if (order.deleted) continue;
      lines += order.lines;
      if (!seen.has(order.id)) messages.push(`order ${order.id} (returned by the service) is missing`);
    }
    if (Number(items?.n) !== lines) messages.push(`${String(items?.n)} order items; the live orders have ${lines}`);
    return { messages, orders: found.length, items: Number(items?.n) };
  } finally {
    await connection.end();
  }
}
