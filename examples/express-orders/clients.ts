/**
 * The traffic: concurrent HTTP clients of the orders service, and the ledger of what the service told them.
 *
 * Each client owns the orders it created (one request at a time per client, so no two requests race on one order)
 * and remembers each order's last status and item count. A read checks the service's answer against the ledger.
 *
 * Orders created before dual-writing began ("legacy", source only until the backfill copies them) are left alone
 * from just before the switch to `source_first` until the backfill is done: an update the pool replays to a target
 * that does not have the row yet changes nothing there and is recorded as a divergence (harmless — the backfill
 * copies the row as it is afterwards — but the example wants a clean repair log).
 */
import { STATUSES } from './app.js';

/** What the ledger knows of one order. */
export interface OrderRecord {
  readonly id: number;
  status: (typeof STATUSES)[number];
  readonly lines: number;
  /** Created before dual-writing began. */
  readonly legacy: boolean;
  deleted: boolean;
}

/** Counters of the traffic. */
export interface TrafficCounters {
  requests: number;
  created: number;
  reads: number;
  updates: number;
  deletes: number;
  /** Answers that were not what the ledger expected (status codes, ids, a read that disagrees). */
  errors: number;
  readonly firstErrors: string[];
}

const SKUS = ['tea-sencha', 'tea-earl-grey', 'mug-blue', 'kettle-1l', 'honey-250g', 'cookies-oat'];
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;

/** Runs `clients` HTTP clients against the service at `baseUrl` until {@link Traffic.stop}. */
export class Traffic {
  readonly orders = new Map<number, OrderRecord>();
  readonly counters: TrafficCounters = { requests: 0, created: 0, reads: 0, updates: 0, deletes: 0, errors: 0, firstErrors: [] };
  /** Set once the service dual-writes: orders created from then on are not legacy. */
  dualWriting = false;
  /** Legacy orders may be touched (false from just before the switch until the backfill is done). */
  legacyWritable = true;
  readonly #baseUrl: string;
  readonly #clients: number;
  readonly #inFlight = new Set<Promise<unknown>>();
  #legacyInFlight = 0;
  #running = false;
  #loops: Promise<void>[] = [];

  constructor(baseUrl: string, clients: number) {
    this.#baseUrl = baseUrl;
    this.#clients = clients;
  }

  /** Starts the clients. */
  start(): void {
    this.#running = true;
    this.#loops = Array.from({ length: this.#clients }, (_, client) => this.#loop(client));
  }

  /** Stops the clients; resolves once every request in flight has been answered. */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }

  /** Stops touching legacy orders and resolves once no request on one is in flight. */
  async freezeLegacy(): Promise<void> {
    this.legacyWritable = false;
    while (this.#legacyInFlight > 0) await new Promise((resolve) => setTimeout(resolve, 2));
  }

  /** Resolves once every request in flight now has been answered (requests sent later are not waited for). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
  }

  async #loop(client: number): Promise<void> {
    const mine: OrderRecord[] = [];
    while (this.#running) {
      const dice = Math.random();
      const order = this.#pickOwn(mine);
      try {
        if (order === undefined || dice < 0.35) await this.#create(client, mine);
        else if (dice < 0.6) await this.#tracked(order, () => this.#read(order));
        else if (dice < 0.9) await this.#tracked(order, () => this.#update(order));
        else await this.#tracked(order, () => this.#delete(order, mine));
      } catch (error) {
        this.#fail(error instanceof Error ? error.message : String(error));
      }
    }
  }

  #pickOwn(mine: OrderRecord[]): OrderRecord | undefined {
    for (let attempt = 0; attempt < 4 && mine.length > 0; attempt++) {
      const order = pick(mine);
      if (!order.legacy || this.legacyWritable) return order;
    }
    return undefined;
  }

  async #tracked(order: OrderRecord, work: () => Promise<void>): Promise<void> {
    if (order.legacy) this.#legacyInFlight++;
    try {
      await work();
    } finally {
      if (order.legacy) this.#legacyInFlight--;
    }
  }

  async #create(client: number, mine: OrderRecord[]): Promise<void> {
    const legacy = !this.dualWriting;
    const items = Array.from({ length: 1 + Math.floor(Math.random() * 4) }, () => ({
      sku: pick(SKUS),
      qty: 1 + Math.floor(Math.random() * 3),
      unitPrice: (1 + Math.random() * 40).toFixed(2),
    }));
    const { status, body } = await this.#request('POST', '/orders', { customer: `client-${client}`, items });
    const id = (body as { id?: unknown }).id;
    if (status !== 201 || typeof id !== 'number' || !Number.isSafeInteger(id)) return this.#fail(`POST /orders answered ${status} ${JSON.stringify(body)}`);
    if (this.orders.has(id)) return this.#fail(`POST /orders returned the id ${id} twice`);
    const record: OrderRecord = { id, status: 'new', lines: items.length, legacy, deleted: false };
    this.orders.set(id, record);
    mine.push(record);
    this.counters.created++;
  }

  async #read(order: OrderRecord): Promise<void> {
    const { status, body } = await this.#request('GET', `/orders/${order.id}`);
    const found = body as { status?: unknown; items?: unknown[] };
    if (status !== 200 || found.status !== order.status || found.items?.length !== order.lines) {
      return this.#fail(`GET /orders/${order.id} answered ${status} ${JSON.stringify(body)}; expected status ${order.status} with ${order.lines} item(s)`);
    }
    this.counters.reads++;
  }

  async #update(order: OrderRecord): Promise<void> {
    const next = pick(STATUSES.filter((s) => s !== order.status));
    const { status, body } = await this.#request('PATCH', `/orders/${order.id}`, { status: next });
    if (status !== 200) return this.#fail(`PATCH /orders/${order.id} answered ${status} ${JSON.stringify(body)}`);
    order.status = next;
    this.counters.updates++;
  }

  async #delete(order: OrderRecord, mine: OrderRecord[]): Promise<void> {
    const { status, body } = await this.#request('DELETE', `/orders/${order.id}`);
    if (status !== 204) return this.#fail(`DELETE /orders/${order.id} answered ${status} ${JSON.stringify(body)}`);
    order.deleted = true;
    mine.splice(mine.indexOf(order), 1);
    this.counters.deletes++;
  }

  async #request(method: string, path: string, json?: unknown): Promise<{ status: number; body: unknown }> {
    this.counters.requests++;
    const request = fetch(`${this.#baseUrl}${path}`, {
      method,
      ...(json === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) }),
    }).then(async (response) => ({ status: response.status, body: response.status === 204 ? null : await response.json() }));
    this.#inFlight.add(request);
    try {
      return await request;
    } finally {
      this.#inFlight.delete(request);
    }
  }

  #fail(message: string): void {
    this.counters.errors++;
    if (this.counters.firstErrors.length < 5) this.counters.firstErrors.push(message);
  }
}
