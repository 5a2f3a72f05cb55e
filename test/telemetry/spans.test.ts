/**
 * The pool's OpenTelemetry spans against the real servers, exported to memory by the OpenTelemetry SDK, with the
 * real mysql2 instrumentation patched onto mysql2 so that its per-query spans show where they land in our tree.
 */
import { createRequire } from 'node:module';
import { context, SpanKind, SpanStatusCode, type AttributeValue } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MySQL2Instrumentation } from '@opentelemetry/instrumentation-mysql2';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import mysql2 from 'mysql2';
import type { RowDataPacket } from 'mysql2';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { InvalidOptionError, TELEMETRY_ATTRIBUTES } from '../../src/index.js';
import { createPool } from '../../src/promise.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('dualwrite-test');
const contextManager = new AsyncLocalStorageContextManager();
const instrumentation = new MySQL2Instrumentation({ enabled: false });
const mysql2Version = (createRequire(import.meta.url)('mysql2/package.json') as { version: string }).version;
let db: TestDatabases;

/** The mysql2 instrumentation's patch of mysql2's Connection (what it does when it hooks `require('mysql2')`). */
function connectionPatch(): { patch(exports: unknown, version?: string): unknown; unpatch(exports?: unknown, version?: string): void } {
  const definition = instrumentation.getModuleDefinitions()[0];
  const file = definition?.files.find((f) => f.name === 'mysql2/lib/connection.js');
  if (definition === undefined || file === undefined) throw new Error('the mysql2 instrumentation has no patch for mysql2/lib/connection.js');
  definition.patch?.(mysql2, mysql2Version);
  return file;
}

beforeAll(async () => {
  context.setGlobalContextManager(contextManager.enable());
  instrumentation.setTracerProvider(provider);
  connectionPatch().patch(mysql2.Connection, mysql2Version);
  db = await createTestDatabases('telemetry_spans');
  for (const side of [db.source, db.target]) {
    await side.query('CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, price DECIMAL(8,2) NOT NULL)');
    await side.query('CREATE TABLE notes (id INT PRIMARY KEY, body VARCHAR(40) NOT NULL)');
  }
  await db.target.query('DROP TABLE notes'); // every replay of a write to notes fails on the target
});
afterAll(async () => {
  connectionPatch().unpatch(mysql2.Connection, mysql2Version);
  context.disable();
  await db?.drop();
});
afterEach(() => exporter.reset());

/** Runs `fn` inside a root span of the test and returns it with every span finished meanwhile. */
async function traced(fn: () => Promise<void>): Promise<{ root: ReadableSpan; spans: ReadableSpan[] }> {
  exporter.reset();
  await tracer.startActiveSpan('test-root', async (span) => {
    try {
      await fn();
    } finally {
      span.end();
    }
  });
  const spans = exporter.getFinishedSpans();
  const root = spans.find((s) => s.name === 'test-root');
  if (root === undefined) throw new Error('no root span');
  return { root, spans };
}

function childrenOf(spans: readonly ReadableSpan[], parent: ReadableSpan, name?: string): ReadableSpan[] {
  const id = parent.spanContext().spanId;
  return spans.filter((s) => s.parentSpanContext?.spanId === id && (name === undefined || s.name === name));
}

function only<T>(list: readonly T[], what: string): T {
  if (list.length !== 1) throw new Error(`expected one ${what}, found ${list.length}`);
  return list[0] as T;
}

/** The statement texts of the mysql2 instrumentation's spans under `parent`. */
function mysqlTexts(spans: readonly ReadableSpan[], parent: ReadableSpan): string[] {
  return childrenOf(spans, parent)
    .filter((s) => s.kind === SpanKind.CLIENT)
    .map((s) => String(s.attributes['db.query.text'] ?? s.attributes['db.statement']));
}

/** Every attribute value of the pool's own spans, for checks that no literal value leaked. */
function ourValues(spans: readonly ReadableSpan[]): AttributeValue[] {
  return spans.filter((s) => s.name.startsWith('dualwrite.')).flatMap((s) => Object.values(s.attributes).filter((v): v is AttributeValue => v !== undefined));
}

it('an autocommit dual write is one span with a child per side; mysql2’s spans are their children; the text shows no literal', async () => {
  const pool = createPool({ source: db.sourceUrl, target: db.targetUrl, mode: 'source_first', telemetry: { tracer, meter: false } });
  try {
    const { root, spans } = await traced(async () => {
      await pool.query("INSERT INTO items (id, name, price) VALUES (101, 'secret-name', 12.5)");
    });
    const write = only(childrenOf(spans, root, 'dualwrite.write'), 'dualwrite.write under the caller’s span');
    expect(write.kind).toBe(SpanKind.INTERNAL);
    expect(write.attributes).toMatchObject({
      'db.system.name': 'mariadb',
      'db.namespace': db.name,
      'db.operation.name': 'INSERT',
      'db.collection.name': 'items',
      'db.query.text': 'INSERT INTO items (id, name, price) VALUES (?, ?, ?)',
      [TELEMETRY_ATTRIBUTES.mode]: 'source_first',
      [TELEMETRY_ATTRIBUTES.side]: 'source',
    });
    const primary = only(childrenOf(spans, write, 'dualwrite.primary'), 'dualwrite.primary');
    expect(primary.attributes[TELEMETRY_ATTRIBUTES.side]).toBe('source');
    const secondary = only(childrenOf(spans, write, 'dualwrite.secondary'), 'dualwrite.secondary');
    expect(secondary.attributes).toMatchObject({
      [TELEMETRY_ATTRIBUTES.side]: 'target',
      [TELEMETRY_ATTRIBUTES.replayKind]: 'statement',
      [TELEMETRY_ATTRIBUTES.replayOutcome]: 'applied',
      'db.query.text': 'INSERT INTO items (id, name, price) VALUES (?, ?, ?)',
    });
    expect(secondary.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(childrenOf(spans, write, 'dualwrite.repair_log')).toEqual([]);
    // The mysql2 instrumentation's query spans sit under the side that ran them.
    expect(mysqlTexts(spans, primary).some((text) => text.startsWith('INSERT INTO items'))).toBe(true);
    expect(mysqlTexts(spans, secondary).some((text) => text.startsWith('INSERT INTO items'))).toBe(true);
    for (const value of ourValues(spans)) expect(String(value)).not.toMatch(/secret-name|12\.5|101/);
    const [rows] = await db.target.query<RowDataPacket[]>('SELECT name FROM items WHERE id = 101');
    expect(rows.map((r) => r.name as string)).toEqual(['secret-name']);
  } finally {
    await pool.end();
  }
});

it('a transaction has a span per write and a COMMIT span whose children are the primary COMMIT and the secondary COMMIT', async () => {
  const pool = createPool({ source: db.sourceUrl, target: db.targetUrl, mode: 'target_first', telemetry: { tracer, meter: false } });
  try {
    const { root, spans } = await traced(async () => {
      const connection = await pool.getConnection();
      try {
        await connection.beginTransaction();
        await connection.query('INSERT INTO items (id, name, price) VALUES (?, ?, ?)', [201, 'tx-secret', 3]);
        await connection.query('UPDATE items SET price = price + 1 WHERE id = ?', [201]);
        await connection.commit();
      } finally {
        connection.release();
      }
    });
    const writes = childrenOf(spans, root, 'dualwrite.write');
    expect(writes.map((w) => w.attributes['db.operation.name'])).toEqual(['INSERT', 'UPDATE']);
    for (const write of writes) {
      expect(write.attributes[TELEMETRY_ATTRIBUTES.side]).toBe('target');
      const primary = only(childrenOf(spans, write, 'dualwrite.primary'), 'dualwrite.primary of a transaction write');
      expect(mysqlTexts(spans, primary)).toHaveLength(1);
      // The replay is queued on the secondary session while the write's span is active: it is the write's child.
      const replay = only(childrenOf(spans, write, 'dualwrite.secondary'), 'dualwrite.secondary of a transaction write');
      expect(replay.attributes).toMatchObject({ [TELEMETRY_ATTRIBUTES.side]: 'source', [TELEMETRY_ATTRIBUTES.replayOutcome]: 'applied' });
    }
    const commit = only(childrenOf(spans, root, 'dualwrite.commit'), 'dualwrite.commit');
    expect(commit.attributes).toMatchObject({ 'db.operation.name': 'COMMIT', [TELEMETRY_ATTRIBUTES.side]: 'target' });
    const primaryCommit = only(childrenOf(spans, commit, 'dualwrite.primary'), 'primary COMMIT');
    expect(primaryCommit.attributes['db.operation.name']).toBe('COMMIT');
    expect(mysqlTexts(spans, primaryCommit)).toEqual(['COMMIT']);
    const secondaryCommit = only(childrenOf(spans, commit, 'dualwrite.secondary'), 'secondary COMMIT');
    expect(secondaryCommit.attributes).toMatchObject({ 'db.operation.name': 'COMMIT', [TELEMETRY_ATTRIBUTES.side]: 'source', [TELEMETRY_ATTRIBUTES.replayOutcome]: 'applied' });
    for (const value of ourValues(spans)) expect(String(value)).not.toMatch(/tx-secret/);
  } finally {
    await pool.end();
  }
});

it('a replay the secondary side refuses: an error on the secondary span, and a repair-log span under the write', async () => {
  const pool = createPool({ source: db.sourceUrl, target: db.targetUrl, mode: 'source_first', circuitBreaker: false, telemetry: { tracer, meter: false } });
  try {
    await pool.query('SELECT 1 FROM items LIMIT 1'); // the repair log's creation is not part of the traced write
    const { root, spans } = await traced(async () => {
      await pool.query("INSERT INTO notes (id, body) VALUES (1, 'kept on the source only')");
    });
    const write = only(childrenOf(spans, root, 'dualwrite.write'), 'dualwrite.write');
    expect(write.status.code).not.toBe(SpanStatusCode.ERROR); // the caller's write succeeded
    const secondary = only(childrenOf(spans, write, 'dualwrite.secondary'), 'dualwrite.secondary');
    expect(secondary.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'ER_NO_SUCH_TABLE' });
    expect(secondary.attributes).toMatchObject({ 'error.type': 'ER_NO_SUCH_TABLE', [TELEMETRY_ATTRIBUTES.replayOutcome]: 'failed', [TELEMETRY_ATTRIBUTES.side]: 'target' });
    const repair = only(childrenOf(spans, write, 'dualwrite.repair_log'), 'dualwrite.repair_log');
    expect(repair.attributes).toMatchObject({ [TELEMETRY_ATTRIBUTES.side]: 'source', 'db.collection.name': 'dualwrite_repair_log', 'dualwrite.repair_log.rows': 1 });
    expect(mysqlTexts(spans, repair).some((text) => text.startsWith('INSERT INTO `dualwrite_repair_log`'))).toBe(true);
    // Span attributes never carry the server's message (it can quote values) nor the statement's literals.
    for (const value of ourValues(spans)) expect(String(value)).not.toMatch(/kept on the source only|doesn't exist/);
  } finally {
    await pool.end();
  }
});

it('a failing primary statement ends the write span with the error’s code only', async () => {
  const pool = createPool({ source: db.sourceUrl, target: db.targetUrl, mode: 'source_first', telemetry: { tracer, meter: false } });
  try {
    await pool.query('INSERT INTO items (id, name, price) VALUES (?, ?, ?)', [301, 'dup-secret', 1]);
    const { root, spans } = await traced(async () => {
      await expect(pool.query('INSERT INTO items (id, name, price) VALUES (?, ?, ?)', [301, 'dup-secret', 1])).rejects.toMatchObject({ code: 'ER_DUP_ENTRY' });
    });
    const write = only(childrenOf(spans, root, 'dualwrite.write'), 'dualwrite.write');
    expect(write.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'ER_DUP_ENTRY' });
    expect(write.attributes['error.type']).toBe('ER_DUP_ENTRY');
    expect(only(childrenOf(spans, write, 'dualwrite.primary'), 'dualwrite.primary').status.code).toBe(SpanStatusCode.ERROR);
    expect(childrenOf(spans, write, 'dualwrite.secondary')).toEqual([]);
    expect(write.events).toEqual([]); // no exception event: its message would quote the duplicate value
  } finally {
    await pool.end();
  }
});

it('without the telemetry option the pool starts no span and works as before; a bad option is refused clearly', async () => {
  const pool = createPool({ source: db.sourceUrl, target: db.targetUrl, mode: 'source_first' });
  try {
    const { root, spans } = await traced(async () => {
      await pool.query('INSERT INTO items (id, name, price) VALUES (?, ?, ?)', [401, 'plain', 2]);
    });
    expect(spans.filter((s) => s.name.startsWith('dualwrite.'))).toEqual([]);
    // mysql2's own spans are still there, directly under the caller's span.
    expect(mysqlTexts(spans, root).length).toBeGreaterThan(0);
    const [rows] = await db.target.query<RowDataPacket[]>('SELECT name FROM items WHERE id = 401');
    expect(rows).toHaveLength(1);
  } finally {
    await pool.end();
  }
  expect(() => createPool({ source: db.sourceUrl, target: db.targetUrl, telemetry: 'yes' as never })).toThrow(InvalidOptionError);
  expect(() => createPool({ source: db.sourceUrl, target: db.targetUrl, telemetry: { tracer: {} as never } })).toThrow(/telemetry\.tracer/);
});
