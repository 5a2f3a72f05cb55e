/**
 * Flag-provider figures: what a provider check costs, and what a statement costs through a pool driven by each
 * provider, as ratios against a baseline measured in the same run.
 *
 * 1. `current()` of the in-memory, polling, file, Redis and OpenFeature providers vs reading a plain object
 *    field. Pairs of batches time the baseline and the provider back to back (bench/timing.ts); the figure is
 *    the median of the per-pair ratios. Both go through the same call site, so the ratio is the provider's own
 *    cost on top of a field read and a function call.
 * 2. A point SELECT by PK through `pool.query()` of a `source_only` pool driven by each provider vs a raw mysql2
 *    pool on the same server: concurrent A/B (both arms at once, half the callers each, fixed windows, median of
 *    per-window ratios of completed statements), as bench/pool.ts measures, because sequential runs on these
 *    2-core machines scatter by ±30%.
 *
 * Servers: as bench/pool.ts (`DUALWRITE_SOURCE_URL`/`DUALWRITE_TARGET_URL`, else two private servers). Redis:
 * `DUALWRITE_BENCH_REDIS_URL` (default `redis://127.0.0.1:6379`, a key of its own, deleted at the end); without a
 * reachable Redis its rows say so. Settings: `DUALWRITE_BENCH_WINDOW_MS` (1200), `DUALWRITE_BENCH_WINDOWS` (7),
 * `DUALWRITE_BENCH_WARMUP_MS` (1000).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryProvider, OpenFeature } from '@openfeature/server-sdk';
import { Redis } from 'ioredis';
import mysql, { type Pool, type RowDataPacket } from 'mysql2/promise';
import {
  FileFlagProvider,
  InMemoryFlagProvider,
  OpenFeatureFlagProvider,
  PollingFlagProvider,
  RedisFlagProvider,
  RedisModeController,
  type FlagProvider,
} from '../src/index.js';
import { createPool } from '../src/promise.js';
import { devServers } from '../test/support/dev-servers.js';
import { urlWithDatabase } from '../test/support/servers.js';
import { abRun, CALLERS, median, PER_ARM, WARMUP_MS, WINDOW_MS, WINDOWS } from './ab.js';
import { formatNs, medianNsPerCall } from './timing.js';

const PAIRS = 61;
const BATCH = 500_000;
const PRELOAD_ROWS = 10_000;
const REDIS_URL = process.env.DUALWRITE_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A started provider and how to let go of it. */
interface Subject {
  readonly name: string;
  readonly provider: FlagProvider | null;
  /** Why there is no provider (e.g. Redis unreachable). */
  readonly missing?: string;
  close(): Promise<void>;
}

/** Starts one provider of each kind, all in `source_only`. */
async function subjects(): Promise<Subject[]> {
  const list: Subject[] = [];
  const memory = new InMemoryFlagProvider('source_only');
  list.push({ name: 'in-memory', provider: memory, close: () => Promise.resolve() });

  const polling = new PollingFlagProvider({ read: () => 'source_only', intervalMs: 1000 });
  await polling.start();
  list.push({ name: 'polling (1 s)', provider: polling, close: () => polling.close() });

  const dir = await mkdtemp(join(tmpdir(), 'dw-bench-flags-'));
  const path = join(dir, 'flags.json');
  await writeFile(path, '{"mode":"source_only"}');
  const file = new FileFlagProvider({ path });
  await file.start();
  list.push({
    name: 'file',
    provider: file,
    close: async () => {
      await file.close();
      await rm(dir, { recursive: true, force: true });
    },
  });

  list.push(await redisSubject());

  const domain = `dualwrite-bench-${randomBytes(4).toString('hex')}`;
  await OpenFeature.setProviderAndWait(domain, new InMemoryProvider({ 'dualwrite.mode': { variants: { on: 'source_only' }, defaultVariant: 'on', disabled: false } }));
  const openFeature = new OpenFeatureFlagProvider({ client: OpenFeature.getClient(domain) });
  await openFeature.start();
  list.push({
    name: 'OpenFeature (InMemoryProvider)',
    provider: openFeature,
    close: async () => {
      await openFeature.close();
      await OpenFeature.close();
    },
  });
  return list;
}

async function redisSubject(): Promise<Subject> {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    probe.disconnect();
    return { name: 'Redis', provider: null, missing: `no Redis at ${REDIS_URL} (${(error as Error).message})`, close: () => Promise.resolve() };
  }
  const key = `dwbench:flags:${randomBytes(4).toString('hex')}`;
  const controller = new RedisModeController({ redis: probe, key });
  await controller.switchMode('source_only', { source: 'bench' });
  const provider = new RedisFlagProvider({ connection: REDIS_URL, key });
  await provider.start();
  return {
    name: 'Redis',
    provider,
    close: async () => {
      await provider.close();
      const keys = await probe.keys(`${key}*`);
      if (keys.length > 0) await probe.del(...keys);
      await controller.close();
      await probe.quit();
    },
  };
}

/** Part 1: `current()` vs a plain field read, in back-to-back pairs of batches, median of the per-pair ratios. */
function checkCost(list: readonly Subject[]): void {
  console.log('\n### Provider check: `provider.current().mode` vs reading a plain object field\n');
  console.log(`${PAIRS} pairs of batches of ${BATCH.toLocaleString('en')} calls (baseline batch, then provider batch); median and quartiles of the per-pair ratios\n`);
  console.log('| provider | current() | plain field | ratio (median) | quartiles |');
  console.log('|---|---|---|---|---|');
  const plain = { state: { mode: 'source_only' as string } };
  for (const subject of list) {
    const provider = subject.provider;
    if (provider === null) {
      console.log(`| ${subject.name} | — | — | skipped: ${subject.missing ?? 'unavailable'} | |`);
      continue;
    }
    // Fresh functions per provider: closures of one function literal share their inline caches, so the fifth
    // provider class would meet a megamorphic `current()` call the pool never makes (it calls current() on switches only).
    const field = compiled<typeof plain>('plain', 'plain.state.mode')(plain);
    const check = compiled<FlagProvider>('provider', 'provider.current().mode')(provider);
    medianNsPerCall(check, BATCH, 3); // warm-up
    const ratios: number[] = [];
    const providerNs: number[] = [];
    const fieldNs: number[] = [];
    // Pairs close in time share the machine's load (other processes, GC), which a ratio of two long runs would not.
    for (let pair = 0; pair < PAIRS; pair++) {
      const base = medianNsPerCall(field, BATCH, 1);
      const cost = medianNsPerCall(check, BATCH, 1);
      fieldNs.push(base);
      providerNs.push(cost);
      ratios.push(cost / base);
    }
    const sorted = [...ratios].sort((x, y) => x - y);
    const quartile = (q: number): number => sorted[Math.floor(q * (sorted.length - 1))] as number;
    console.log(`| ${subject.name} | ${formatNs(median(providerNs))} | ${formatNs(median(fieldNs))} | ${median(ratios).toFixed(2)} | ${quartile(0.25).toFixed(2)}–${quartile(0.75).toFixed(2)} |`);
  }
}

/** A function `() => <expression>` over `name`, compiled on its own (own inline caches). */
function compiled<T>(name: string, expression: string): (value: T) => () => string {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- a separately compiled function is the point
  return new Function(name, `return () => ${expression};`) as (value: T) => () => string;
}

/** Part 2: a pool driven by each provider vs raw mysql2, point SELECT by PK. */
async function statementCost(list: readonly Subject[]): Promise<void> {
  console.log('\n### Statement through a pool driven by each provider vs raw mysql2 (point SELECT by PK, `source_only`)\n');
  console.log(`concurrent A/B, ${CALLERS} callers (${PER_ARM} per arm), ${WINDOWS} windows of ${WINDOW_MS} ms after ${WARMUP_MS} ms warm-up, median of per-window ratios\n`);
  const servers = await devServers('bench-flags');
  const database = `dw_bench_flags_${randomBytes(4).toString('hex')}`;
  const admins: Pool[] = [];
  try {
    for (const url of [servers.sourceUrl, servers.targetUrl]) {
      const connection = await mysql.createConnection({ uri: url });
      await connection.query(`CREATE DATABASE \`${database}\``).finally(() => connection.end());
      const admin = mysql.createPool({ uri: urlWithDatabase(url, database), connectionLimit: 2 });
      admins.push(admin);
      await admin.query('CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(64) NOT NULL) ENGINE=InnoDB');
      for (let from = 1; from <= PRELOAD_ROWS; from += 1000) {
        const rows: unknown[][] = [];
        for (let id = from; id < from + 1000; id++) rows.push([id, `row ${id}`]);
        await admin.query('INSERT INTO t (id, v) VALUES ?', [rows]);
      }
    }
    console.log(`${servers.description}\n`);
    console.log('| provider driving the pool | ratio pool / raw | spread | pool ops/s | raw ops/s |');
    console.log('|---|---|---|---|---|');
    const sourceUrl = urlWithDatabase(servers.sourceUrl, database);
    const targetUrl = urlWithDatabase(servers.targetUrl, database);
    let next = 0;
    const id = (): number => (next++ % PRELOAD_ROWS) + 1;
    for (const subject of list) {
      const flags = subject.provider;
      if (flags === null) {
        console.log(`| ${subject.name} | skipped: ${subject.missing ?? 'unavailable'} | | | |`);
        continue;
      }
      const pool = createPool({ source: { uri: sourceUrl, connectionLimit: PER_ARM }, target: { uri: targetUrl, connectionLimit: PER_ARM }, flags });
      const raw = mysql.createPool({ uri: sourceUrl, connectionLimit: PER_ARM });
      try {
        const a = (): Promise<unknown> => pool.query<RowDataPacket[]>('SELECT id, v FROM t WHERE id = ?', [id()]);
        const b = (): Promise<unknown> => raw.query<RowDataPacket[]>('SELECT id, v FROM t WHERE id = ?', [id()]);
        const { ratio, spread, aOps, bOps } = await abRun(a, b);
        console.log(`| ${subject.name} | ${ratio.toFixed(3)} | ${spread[0].toFixed(3)}–${spread[1].toFixed(3)} | ${aOps.toFixed(0)} | ${bOps.toFixed(0)} |`);
      } finally {
        await Promise.allSettled([pool.end(), raw.end()]);
      }
    }
  } finally {
    await Promise.allSettled(admins.map((admin) => admin.query(`DROP DATABASE \`${database}\``)));
    await Promise.allSettled(admins.map((admin) => admin.end()));
    await servers.close();
  }
}

/** `npm run bench -- flags`: both tables. */
export async function runFlagsBench(): Promise<void> {
  console.log('\n## Flag providers: cost of a check and of a statement, same run\n');
  const started = performance.now();
  const list = await subjects();
  try {
    checkCost(list);
    await statementCost(list);
  } finally {
    for (const subject of list) await subject.close();
  }
  console.log(`\n(flags bench took ${((performance.now() - started) / 1000).toFixed(0)} s)`);
}
