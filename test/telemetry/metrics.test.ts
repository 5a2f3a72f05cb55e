/**
 * The pool's OpenTelemetry metrics against the real servers, read through an OpenTelemetry SDK MetricReader.
 */
import { MeterProvider, MetricReader, type DataPoint, type Histogram, type MetricData } from '@opentelemetry/sdk-metrics';
import type { RowDataPacket } from 'mysql2';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { InMemoryFlagProvider, TELEMETRY_ATTRIBUTES } from '../../src/index.js';
import { createPool } from '../../src/promise.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { until } from '../pool/helpers.js';

/** A reader the test collects from when it wants. */
class TestReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

let db: TestDatabases;

beforeAll(async () => {
  db = await createTestDatabases('telemetry_metrics');
  for (const side of [db.source, db.target]) {
    await side.query('CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL)');
    await side.query('CREATE TABLE notes (id INT PRIMARY KEY, body VARCHAR(40) NOT NULL)');
  }
  await db.target.query('DROP TABLE notes'); // every replay of a write to notes fails on the target
  await db.source.query("INSERT INTO items VALUES (900, 'on the source')");
  await db.target.query("INSERT INTO items VALUES (900, 'on the target')"); // a shadow read of id 900 mismatches
});
afterAll(async () => {
  await db?.drop();
});

function meterFor(): { reader: TestReader; provider: MeterProvider } {
  const reader = new TestReader();
  return { reader, provider: new MeterProvider({ readers: [reader] }) };
}

async function collect(reader: TestReader): Promise<Map<string, MetricData>> {
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  return new Map(resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).map((metric) => [metric.descriptor.name, metric]));
}

function points<T>(metrics: Map<string, MetricData>, name: string): DataPoint<T>[] {
  const metric = metrics.get(name);
  if (metric === undefined) throw new Error(`no metric ${name}; have ${[...metrics.keys()].join(', ')}`);
  return metric.dataPoints as DataPoint<T>[];
}

it('reports side latency, replay failures by reason, repair-log backlog, modes per table and the gray-read share', async () => {
  const { reader, provider } = meterFor();
  const flags = new InMemoryFlagProvider('source_first', { tableModes: { [`${db.name}.items`]: 'source_only' } });
  const pool = createPool({
    source: db.sourceUrl,
    target: db.targetUrl,
    flags,
    circuitBreaker: false,
    readRouting: { grayReadPercent: 25 },
    telemetry: { tracer: false, meter: provider.getMeter('dualwrite'), repairLogBacklog: true },
  });
  try {
    await pool.query('INSERT INTO notes (id, body) VALUES (?, ?)', [1, 'a']);
    await pool.query('INSERT INTO notes (id, body) VALUES (?, ?)', [2, 'b']);
    await expect(pool.query('INSERT INTO notes (id, body) VALUES (?, ?)', [2, 'dup'])).rejects.toMatchObject({ code: 'ER_DUP_ENTRY' });
    await pool.query('SELECT 1'); // no table: whichever side gray routing picks can serve it
    const metrics = await collect(reader);

    const health = pool.stats().health;
    const durations = points<Histogram>(metrics, 'dualwrite.side.duration');
    expect(metrics.get('dualwrite.side.duration')?.descriptor.unit).toBe('s');
    const count = (attributes: Record<string, unknown>): number =>
      durations.filter((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v) && Object.keys(p.attributes).length === Object.keys(attributes).length).reduce((n, p) => n + p.value.count, 0);
    const allSource = durations.filter((p) => p.attributes[TELEMETRY_ATTRIBUTES.side] === 'source').reduce((n, p) => n + p.value.count, 0);
    const allTarget = durations.filter((p) => p.attributes[TELEMETRY_ATTRIBUTES.side] === 'target').reduce((n, p) => n + p.value.count, 0);
    expect(allSource + allTarget).toBe(4);
    expect(allSource).toBe(health.source.statements);
    expect(allTarget).toBe(health.target.statements);
    expect(count({ [TELEMETRY_ATTRIBUTES.side]: 'source', 'error.type': 'ER_DUP_ENTRY' })).toBe(1);

    const failures = points<number>(metrics, 'dualwrite.replay.failures');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      value: 2,
      attributes: { [TELEMETRY_ATTRIBUTES.side]: 'target', [TELEMETRY_ATTRIBUTES.replayKind]: 'statement', [TELEMETRY_ATTRIBUTES.recorded]: true, 'error.type': 'ER_NO_SUCH_TABLE' },
    });

    const [pending] = await db.source.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM dualwrite_repair_log WHERE repaired_at IS NULL');
    const backlog = points<number>(metrics, 'dualwrite.repair_log.backlog');
    expect(backlog.find((p) => p.attributes[TELEMETRY_ATTRIBUTES.side] === 'source')?.value).toBe(Number(pending[0]?.n));
    expect(Number(pending[0]?.n)).toBe(2);
    expect(backlog.find((p) => p.attributes[TELEMETRY_ATTRIBUTES.side] === 'target')?.value).toBe(0); // no repair log there yet

    const modes = points<number>(metrics, 'dualwrite.mode');
    const modeOf = (table: string): number | undefined => modes.find((p) => p.attributes[TELEMETRY_ATTRIBUTES.table] === table)?.value;
    expect(modeOf('*')).toBe(1); // source_first
    expect(modeOf(`${db.name}.items`)).toBe(0); // source_only
    expect(points<number>(metrics, 'dualwrite.read.gray_share').map((p) => p.value)).toEqual([0.25]);

    // The backlog follows the log: marking a row repaired shows at the next collection.
    await db.source.query('UPDATE dualwrite_repair_log SET repaired_at = NOW(6) ORDER BY id LIMIT 1');
    const later = points<number>(await collect(reader), 'dualwrite.repair_log.backlog');
    expect(later.find((p) => p.attributes[TELEMETRY_ATTRIBUTES.side] === 'source')?.value).toBe(1);
  } finally {
    await pool.end();
  }
  await provider.shutdown();
});

it('counts shadow-read mismatches from the pool’s shadowReadMismatch event', async () => {
  const { reader, provider } = meterFor();
  const pool = createPool({
    source: db.sourceUrl,
    target: db.targetUrl,
    mode: 'source_first',
    readRouting: { shadowReadPercent: 100 },
    telemetry: { tracer: false, meter: provider.getMeter('dualwrite') },
  });
  try {
    await pool.query('SELECT name FROM items WHERE id = ?', [900]);
    await until(() => pool.stats().shadowReadMismatches === 1, 'the shadow read to be compared');
    expect(points<number>(await collect(reader), 'dualwrite.read.shadow_mismatches').map((p) => p.value)).toEqual([1]);
  } finally {
    await pool.end();
    await provider.shutdown();
  }
});
