/**
 * The orders service: an Express app on plain mysql2/promise code. Nothing in this file knows about dual-writing —
 * it takes a mysql2/promise-shaped pool, and db.ts decides which one.
 *
 * POST   /orders       { customer, items: [{ sku, qty, unitPrice }] } → 201 { id, total }   (one transaction)
 * GET    /orders/:id   → 200 { id, customer, status, total, items: [...] } | 404
 * PATCH  /orders/:id   { status } → 200 { id, status } | 404
 * DELETE /orders/:id   → 204 | 404   (the order and its items, in one transaction)
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';

/** What the app needs of its pool: mysql2/promise's `Pool` fits, and so does any pool shaped like it. */
export type Db = Pick<Pool, 'query' | 'getConnection'>;

/** Order statuses the service accepts. */
export const STATUSES = ['new', 'paid', 'shipped', 'cancelled'] as const;
type Status = (typeof STATUSES)[number];

interface ItemInput {
  sku: string;
  qty: number;
  unitPrice: string;
}

/** A request the service refuses, with the status and message to send. */
class BadRequest extends Error {
  readonly status = 400;
}

/** The Express app of the orders service, on `db`. */
export function createApp(db: Db): express.Express {
  const app = express();
  app.use(express.json());

  app.post('/orders', async (req, res) => {
    const { customer, items } = parseOrder(req.body);
    const total = items.reduce((sum, item) => sum + item.qty * Math.round(Number(item.unitPrice) * 100), 0);
    const connection = await db.getConnection();
    try {
      await connection.beginTransaction();
      try {
        const [order] = await connection.query<ResultSetHeader>('INSERT INTO orders (customer, total) VALUES (?, ?)', [customer, (total / 100).toFixed(2)]);
        const lines = items.map((item, index) => [order.insertId, index + 1, item.sku, item.qty, item.unitPrice]);
        await connection.query('INSERT INTO order_items (order_id, line_no, sku, qty, unit_price) VALUES ?', [lines]);
        await connection.commit();
        res.status(201).json({ id: order.insertId, total: (total / 100).toFixed(2) });
      } catch (error) {
        await connection.rollback();
        throw error;
      }
    } finally {
      connection.release();
    }
  });

  app.get('/orders/:id', async (req, res) => {
    const id = parseId(req.params.id);
    const [orders] = await db.query<RowDataPacket[]>('SELECT id, customer, status, total FROM orders WHERE id = ?', [id]);
    const order = orders[0];
    if (order === undefined) {
      res.status(404).json({ error: `no order ${id}` });
      return;
    }
    const [items] = await db.query<RowDataPacket[]>('SELECT line_no AS lineNo, sku, qty, unit_price AS unitPrice FROM order_items WHERE order_id = ? ORDER BY line_no', [id]);
    res.json({ ...order, items });
  });

  app.patch('/orders/:id', async (req, res) => {
    const id = parseId(req.params.id);
    const status = parseStatus((req.body as { status?: unknown } | undefined)?.status);
    const [result] = await db.query<ResultSetHeader>('UPDATE orders SET status = ? WHERE id = ?', [status, id]);
    if (result.affectedRows === 0) res.status(404).json({ error: `no order ${id}` });
    else res.json({ id, status });
  });

  app.delete('/orders/:id', async (req, res) => {
    const id = parseId(req.params.id);
    const connection = await db.getConnection();
    try {
      await connection.beginTransaction();
      try {
        await connection.query('DELETE FROM order_items WHERE order_id = ?', [id]);
        const [result] = await connection.query<ResultSetHeader>('DELETE FROM orders WHERE id = ?', [id]);
        await connection.commit();
        if (result.affectedRows === 0) res.status(404).json({ error: `no order ${id}` });
        else res.status(204).end();
      } catch (error) {
        await connection.rollback();
        throw error;
      }
    } finally {
      connection.release();
    }
  });

  // Express 5 passes a rejected handler here.
  app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof BadRequest) res.status(error.status).json({ error: error.message });
    else res.status(500).json({ error: error.message });
  });
  return app;
}

function parseId(text: string | undefined): number {
  const id = Number(text);
  if (!Number.isSafeInteger(id) || id < 1) throw new BadRequest(`order id must be a positive integer, got ${JSON.stringify(text)}`);
  return id;
}

function parseStatus(value: unknown): Status {
  if (!STATUSES.includes(value as Status)) throw new BadRequest(`status must be one of ${STATUSES.join(', ')}, got ${JSON.stringify(value)}`);
  return value as Status;
}

function parseOrder(body: unknown): { customer: string; items: ItemInput[] } {
  const { customer, items } = (body ?? {}) as { customer?: unknown; items?: unknown };
  if (typeof customer !== 'string' || customer === '' || customer.length > 100) throw new BadRequest('customer must be a string of 1 to 100 characters');
  if (!Array.isArray(items) || items.length === 0 || items.length > 50) throw new BadRequest('items must be a list of 1 to 50 items');
  return {
    customer,
    items: items.map((item: unknown, index) => {
      const { sku, qty, unitPrice } = (item ?? {}) as { sku?: unknown; qty?: unknown; unitPrice?: unknown };
      if (typeof sku !== 'string' || sku === '' || sku.length > 40) throw new BadRequest(`items[${index}].sku must be a string of 1 to 40 characters`);
      if (!Number.isSafeInteger(qty) || (qty as number) < 1) throw new BadRequest(`items[${index}].qty must be a positive integer`);
      if (typeof unitPrice !== 'string' || !/^\d{1,8}\.\d{2}$/.test(unitPrice)) throw new BadRequest(`items[${index}].unitPrice must be a decimal string such as "9.95"`);
      return { sku, qty: qty as number, unitPrice };
    }),
  };
}
