/**
 * The demo's live workload: async workers doing what a shop does — signups, orders with their items in a
 * transaction (a few rolled back), status updates, profile updates, cancellations that delete an order and its
 * items, and reads — all through the dual-write pool, exactly as application code would use mysql2/promise.
 *
 * Rows written while the pool is in `source_only` exist on the source only. The workload remembers which rows
 * those are ("legacy" rows) and leaves them alone once dual-writing has begun, until the demo has copied them to
 * the target (a stand-in for the backfill): an update of a row the target does not have yet could not be replayed.
 */
import type { PoolConnection, ResultSetHeader } from 'mysql2/promise';
import type { DualPromisePool, Mode } from '../../src/promise.js';

/** A set with O(1) add, delete and random pick. */
class RandomSet {
  readonly #items: number[] = [];
  readonly #index = new Map<number, number>();

  get size(): number {
    return this.#items.length;
  }

  add(id: number): void {
    if (this.#index.has(id)) return;
    this.#index.set(id, this.#items.length);
    this.#items.push(id);
  }

  delete(id: number): void {
    const at = this.#index.get(id);
    if (at === undefined) return;
    const last = this.#items.pop() as number;
    this.#index.delete(id);
    if (last !== id) {
      this.#items[at] = last;
      this.#index.set(last, at);
    }
  }

  has(id: number): boolean {
    return this.#index.has(id);
  }

  random(): number | undefined {
    return this.#items[Math.floor(Math.random() * this.#items.length)];
  }

  values(): readonly number[] {
    return this.#items;
  }
}

/** What the workload knows of the rows it wrote. */
export class Registry {
  readonly users = new RandomSet();
  readonly orders = new RandomSet();
  /** Rows written in `source_only` (source only until copied). */
  readonly legacyUsers = new RandomSet();
  readonly legacyOrders = new RandomSet();
  /** Rows some worker is working on right now (no two workers write one row at once). */
  readonly #claimed = new Set<string>();
  /** True once the legacy rows are on the target too. */
  legacyCopied = false;
  /** Operations running under `source_only` (or tagged so): the copy waits for them. */
  legacyInFlight = 0;

  /**
   * A random row of `kind` that no worker holds and that may be written now; claims it. `pinned` is the mode of the
   * checked-out connection the write will run on, or `null` for a write on the pool itself: such a write runs
   * under whatever mode is in force when it reaches the pool's gate — `source_first` if a switch lands in
   * between — so it may touch a legacy row only once the legacy rows are on the target too.
   */
  claim(kind: 'user' | 'order', pinned: Mode | null): number | null {
    const all = kind === 'user' ? this.users : this.orders;
    const legacy = kind === 'user' ? this.legacyUsers : this.legacyOrders;
    const anyRow = pinned === 'source_only' || this.legacyCopied;
    for (let attempt = 0; attempt < 8; attempt++) {
      const id = all.random();
      if (id === undefined) return null;
      if (!anyRow && legacy.has(id)) continue;
      const key = `${kind}:${id}`;
      if (this.#claimed.has(key)) continue;
      this.#claimed.add(key);
      return id;
    }
    return null;
  }

  release(kind: 'user' | 'order', id: number): void {
    this.#claimed.delete(`${kind}:${id}`);
  }

  addUser(id: number, legacy: boolean): void {
    this.users.add(id);
    if (legacy) this.legacyUsers.add(id);
  }

  addOrder(id: number, legacy: boolean): void {
    this.orders.add(id);
    if (legacy) this.legacyOrders.add(id);
  }

  deleteOrder(id: number): void {
    this.orders.delete(id);
    this.legacyOrders.delete(id);
  }
}

/** Counters of the workload. */
export interface WorkloadCounters {
  /** Write statements acknowledged to the workers (committed), by the mode they ran under. */
  readonly writes: Record<Mode, number>;
  /** Transactions committed / rolled back on purpose. */
  committed: number;
  rolledBack: number;
  /** Write statements of the rolled-back transactions (not in `writes`). */
  rolledBackWrites: number;
  reads: number;
  /** Errors the workers got (none expected). */
  errors: number;
  readonly firstErrors: string[];
}

const SKUS = ['tea-earl-grey', 'tea-sencha', 'mug-blue', 'kettle-1l', 'cookies-oat', 'honey-250g'];
const STATUSES = ['paid', 'shipped', 'cancelled'] as const;

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;
const money = (min: number, max: number): string => (min + Math.random() * (max - min)).toFixed(2);

/** Runs `workers` async workers against `pool` until {@link Workload.stop}. */
export class Workload {
  readonly counters: WorkloadCounters = {
    writes: { source_only: 0, source_first: 0, target_first: 0, target_only: 0 },
    committed: 0,
    rolledBack: 0,
    rolledBackWrites: 0,
    reads: 0,
    errors: 0,
    firstErrors: [],
  };
  readonly #pool: DualPromisePool;
  readonly #registry: Registry;
  readonly #workers: number;
  #running = false;
  #loops: Promise<void>[] = [];
  #signups = 0;

  constructor(pool: DualPromisePool, registry: Registry, workers: number) {
    this.#pool = pool;
    this.#registry = registry;
    this.#workers = workers;
  }

  /** Starts the workers. */
  start(): void {
    this.#running = true;
    this.#loops = Array.from({ length: this.#workers }, (_, worker) => this.#loop(worker));
  }

  /** Stops the workers and resolves once every operation in flight has finished. */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }

  async #loop(worker: number): Promise<void> {
    while (this.#running) {
      const dice = Math.random();
      try {
        if (dice < 0.22) await this.#signup(worker);
        else if (dice < 0.52) await this.#placeOrder();
        else if (dice < 0.7) await this.#updateStatus();
        else if (dice < 0.82) await this.#updateProfile();
        else if (dice < 0.9) await this.#cancelOrder();
        else await this.#readOrder();
      } catch (error) {
        this.counters.errors++;
        if (this.counters.firstErrors.length < 3) this.counters.firstErrors.push(error instanceof Error ? error.message : String(error));
      }
    }
  }

  /** Runs `work` as one legacy-or-not operation: the copy of legacy rows waits for legacy operations in flight. */
  async #tracked<T>(legacy: boolean, work: () => Promise<T>): Promise<T> {
    if (legacy) this.#registry.legacyInFlight++;
    try {
      return await work();
    } finally {
      if (legacy) this.#registry.legacyInFlight--;
    }
  }

  /** A new user, on the pool (autocommit): NOW(6) and two CURRENT_TIMESTAMP defaults pinned on both sides. */
  async #signup(worker: number): Promise<void> {
    const mode = this.#pool.mode;
    await this.#tracked(mode === 'source_only', async () => {
      const n = ++this.#signups;
      const profile = { plan: pick(['free', 'pro', 'team']), locale: pick(['en-GB', 'fr-FR', 'de-DE', 'ja-JP']), tags: ['demo', `w${worker}`], visits: 0 };
      const [result] = await this.#pool.query<ResultSetHeader>(
        'INSERT INTO users (email, name, profile, balance, last_login) VALUES (?, ?, ?, ?, NOW(6))',
        [`user${n}.w${worker}.${Date.now().toString(36)}@example.com`, `User ${n} — ü`, JSON.stringify(profile), money(0, 500)],
      );
      this.counters.writes[mode]++;
      this.#registry.addUser(result.insertId, mode === 'source_only');
    });
  }

  /** An order, its items and its total in a transaction on a checked-out connection; about 1 in 12 is rolled back. */
  async #placeOrder(): Promise<void> {
    await this.#withConnection(async (connection, mode) => {
      const userId = this.#registry.claim('user', mode);
      if (userId === null) return;
      try {
        await connection.beginTransaction();
        let writes = 0;
        try {
          const [order] = await connection.query<ResultSetHeader>('INSERT INTO orders (user_id, placed_at) VALUES (?, NOW(6))', [userId]);
          writes++;
          const orderNo = order.insertId;
          const lines = 1 + Math.floor(Math.random() * 4);
          const items = Array.from({ length: lines }, (_, i) => [orderNo, i + 1, pick(SKUS), 1 + Math.floor(Math.random() * 3), money(2, 40)]);
          await connection.query(`INSERT INTO order_items (order_no, line_no, sku, qty, unit_price) VALUES ${items.map(() => '(?, ?, ?, ?, ?)').join(', ')}`, items.flat());
          writes++;
          // A subquery: replayed as a row image (the rows the source ended up with), not as the statement.
          await connection.query('UPDATE orders SET total = (SELECT SUM(qty * unit_price) FROM order_items WHERE order_no = ?) WHERE order_no = ?', [orderNo, orderNo]);
          writes++;
          await connection.query('UPDATE users SET balance = balance - 1.50 WHERE id = ?', [userId]);
          writes++;
          if (Math.random() < 1 / 12) {
            await connection.rollback();
            this.counters.rolledBack++;
            this.counters.rolledBackWrites += writes;
            return;
          }
          await connection.commit();
          this.counters.committed++;
          this.counters.writes[mode] += writes;
          this.#registry.addOrder(orderNo, mode === 'source_only');
        } catch (error) {
          await connection.rollback().catch(() => undefined);
          throw error;
        }
      } finally {
        this.#registry.release('user', userId);
      }
    });
  }

  /** An order's status, on the pool (autocommit; ON UPDATE CURRENT_TIMESTAMP pinned on both sides). */
  async #updateStatus(): Promise<void> {
    const mode = this.#pool.mode;
    const orderNo = this.#registry.claim('order', null);
    if (orderNo === null) return this.#readOrder();
    try {
      await this.#tracked(mode === 'source_only', async () => {
        await this.#pool.query('UPDATE orders SET status = ? WHERE order_no = ?', [pick(STATUSES), orderNo]);
        this.counters.writes[mode]++;
      });
    } finally {
      this.#registry.release('order', orderNo);
    }
  }

  /** A user's JSON profile, last login and balance, on a checked-out connection (autocommit statements). */
  async #updateProfile(): Promise<void> {
    await this.#withConnection(async (connection, mode) => {
      const userId = this.#registry.claim('user', mode);
      if (userId === null) return;
      try {
        await connection.query("UPDATE users SET profile = JSON_SET(profile, '$.visits', JSON_VALUE(profile, '$.visits') + 1), last_login = NOW(6) WHERE id = ?", [
          userId,
        ]);
        await connection.query('UPDATE users SET balance = balance + ? WHERE id = ?', [money(1, 20), userId]);
        this.counters.writes[mode] += 2;
      } finally {
        this.#registry.release('user', userId);
      }
    });
  }

  /** Deletes an order and its items in a transaction. */
  async #cancelOrder(): Promise<void> {
    await this.#withConnection(async (connection, mode) => {
      const orderNo = this.#registry.claim('order', mode);
      if (orderNo === null) return;
      try {
        await connection.beginTransaction();
        try {
          await connection.query('DELETE FROM order_items WHERE order_no = ?', [orderNo]);
          await connection.query('DELETE FROM orders WHERE order_no = ?', [orderNo]);
          await connection.commit();
        } catch (error) {
          await connection.rollback().catch(() => undefined);
          throw error;
        }
        this.counters.committed++;
        this.counters.writes[mode] += 2;
        this.#registry.deleteOrder(orderNo);
      } finally {
        this.#registry.release('order', orderNo);
      }
    });
  }

  /** An order with its items: a read, answered by the primary side. */
  async #readOrder(): Promise<void> {
    const orderNo = this.#registry.orders.random();
    if (orderNo === undefined) return;
    await this.#pool.query('SELECT o.order_no, o.status, o.total, i.sku, i.qty FROM orders o JOIN order_items i USING (order_no) WHERE o.order_no = ?', [orderNo]);
    this.counters.reads++;
  }

  /** Checks a connection out (it keeps the mode in force now until released) and runs `work` on it. */
  async #withConnection(work: (connection: PoolConnection, mode: Mode) => Promise<void>): Promise<void> {
    const connection = await this.#pool.getConnection();
    try {
      // The promise connection wraps the pool's own connection, which knows the mode it is pinned to.
      const mode = (connection.connection as unknown as { mode: Mode }).mode;
      await this.#tracked(mode === 'source_only', () => work(connection, mode));
    } finally {
      connection.release();
    }
  }
}
