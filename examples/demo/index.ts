/**
 * `npm run demo`: a zero-downtime migration of a small shop database, end to end, on two local servers.
 *
 * 1. A source database with data in it (users with JSON, DECIMAL, DATETIME(6) and TIMESTAMP defaults; orders
 *    whose auto-increment key is `order_no`; order items with a composite primary key). The target gets the same
 *    tables, copied from the source's SHOW CREATE TABLE.
 * 2. A live workload of async workers runs through `createPool()` from dualwrite/promise while the pool moves
 *    source_only → source_first → target_first. Rows written before dual-writing began are copied to the target
 *    with raw connections once no source_only write is left (the backfill's job; see backfill.ts).
 * 3. The workload stops, and an independent comparison (each server checksums its own rows; then a row-by-row
 *    comparison from test/support/compare.ts) must find both sides identical.
 * 4. The pool moves to target_only and the workload runs again: the source no longer changes.
 *
 * Servers: DUALWRITE_SOURCE_URL / DUALWRITE_TARGET_URL when set, else two private servers (test/support/servers.ts).
 */
import { randomBytes } from 'node:crypto';
import mysql, { type Connection, type ResultSetHeader, type RowDataPacket } from 'mysql2/promise';
import { createPool, type Mode } from '../../src/promise.js';
import { compareTables, formatComparison } from '../../test/support/compare.js';
import { copyRows, rawTextConnection } from './backfill.js';
import { fingerprint, prepareSession, type TableFingerprint } from './compare.js';
import { copySchema, createSourceSchema, TABLES, type TableName } from './schema.js';
import { urlWithDatabase as withDatabase } from '../../test/support/servers.js';
import { devServers } from '../../test/support/dev-servers.js';
import { Registry, Workload } from './workload.js';

const WORKERS = 12;
const PHASE_MS = { source_only: 3000, source_first: 6000, target_first: 6000, target_only: 2000 };
const SEED = { users: 150, orders: 200 };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
let startedAt = performance.now();
const clock = (): string => `t=${((performance.now() - startedAt) / 1000).toFixed(1).padStart(4)}s`;
const say = (line: string): void => console.log(line);
const event = (line: string): void => console.log(`  ${clock()}  ${line}`);

async function main(): Promise<number> {
  say('dualwrite demo: a live shop database moves from SOURCE to TARGET without downtime\n');
  const servers = await devServers('demo');
  say(`servers   ${servers.description}`);
  const database = `dualwrite_demo_${randomBytes(3).toString('hex')}`;
  for (const url of [servers.sourceUrl, servers.targetUrl]) {
    const connection = await mysql.createConnection({ uri: url });
    await connection.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4`).finally(() => connection.end());
  }
  const sourceUrl = withDatabase(servers.sourceUrl, database);
  const targetUrl = withDatabase(servers.targetUrl, database);
  const [adminSource, adminTarget] = await Promise.all([mysql.createConnection({ uri: sourceUrl }), mysql.createConnection({ uri: targetUrl })]);
  await Promise.all([prepareSession(adminSource), prepareSession(adminTarget)]);
  try {
    return await story(sourceUrl, targetUrl, adminSource, adminTarget, database);
  } finally {
    await Promise.allSettled([adminSource.end(), adminTarget.end()]);
    if (process.env.DUALWRITE_SOURCE_URL) {
      for (const url of [servers.sourceUrl, servers.targetUrl]) {
        const connection = await mysql.createConnection({ uri: url });
        await connection.query(`DROP DATABASE IF EXISTS \`${database}\``).finally(() => connection.end());
      }
    }
    await servers.close();
  }
}

async function story(sourceUrl: string, targetUrl: string, adminSource: Connection, adminTarget: Connection, database: string): Promise<number> {
  // 1. The source as it is before the migration, and the target's empty tables.
  await createSourceSchema(adminSource);
  const registry = new Registry();
  await seed(adminSource, registry);
  await copySchema(adminSource, adminTarget);
  say(`database  ${database}: users (JSON, DECIMAL, DATETIME(6), TIMESTAMP defaults), orders (AUTO_INCREMENT order_no), order_items (PK order_no+line_no)`);
  say(`          source seeded with ${SEED.users} users and ${SEED.orders} orders; target tables copied from the source's SHOW CREATE TABLE (empty)\n`);

  // 2. The application's pool, and what it reports.
  const pool = createPool({
    source: { uri: sourceUrl, connectionLimit: WORKERS + 4 },
    target: { uri: targetUrl, connectionLimit: WORKERS + 4 },
    mode: 'source_only',
  });
  const switches: string[] = [];
  const failures: string[] = [];
  pool.pool.on('modeChange', (change: { from: Mode; to: Mode; info: { drainMs: number; pinsUnderOtherModes: number } }) => {
    const line = `${change.from} → ${change.to}`;
    switches.push(line);
    event(`modeChange  ${line}  (waited ${change.info.drainMs} ms for writes in flight; ${change.info.pinsUnderOtherModes} checked-out connection(s) keep the old mode until released)`);
  });
  pool.pool.on('replayFailure', (failure: { kind: string; secondarySide: string; sql: string; error: Error | null }, recorded: boolean) => {
    failures.push(`${failure.kind} on ${failure.secondarySide}: ${failure.error?.message ?? '(no error)'} — ${failure.sql.slice(0, 80)}${recorded ? '' : ' [NOT in the repair log]'}`);
  });
  pool.pool.on('circuit', (side: string, state: string) => event(`circuit breaker of the ${side} side: ${state}`));
  pool.pool.on('repairLogError', (error: Error) => event(`repair log could not be written: ${error.message}`));

  const workload = new Workload(pool, registry, WORKERS);
  startedAt = performance.now();
  say(`timeline (${WORKERS} workers: signups, orders with items in transactions, status and profile updates, cancellations, reads)`);
  const phaseMs: Record<Mode, number> = { source_only: 0, source_first: 0, target_first: 0, target_only: 0 };
  let phaseStart = performance.now();
  const endPhase = (mode: Mode): void => {
    const now = performance.now();
    phaseMs[mode] += now - phaseStart;
    phaseStart = now;
  };
  workload.start();
  event('workload started in source_only: writes go to the source only');
  await sleep(PHASE_MS.source_only);

  await pool.setMode('source_first');
  endPhase('source_only');
  const waitStarted = performance.now();
  while (registry.legacyInFlight > 0) await sleep(5);
  event(`no source_only write left in flight (waited ${(performance.now() - waitStarted).toFixed(0)} ms for connections checked out before the switch)`);
  const copied = await copyLegacyRows(sourceUrl, targetUrl, registry);
  registry.legacyCopied = true;
  event(
    `copied the rows written before dual-writing began to the target with raw connections: ${copied.users} users, ${copied.orders} orders, ${copied.items} order items` +
      ` (${copied.already} already on the target); workers may update them from now on`,
  );
  await sleep(PHASE_MS.source_first);

  const raised = await raiseTargetAutoIncrement(adminSource, adminTarget);
  event(`target AUTO_INCREMENT raised above the source's before the primary changes (${raised}), so IDs from the two sides cannot collide while connections of both modes are open`);
  await pool.setMode('target_first');
  endPhase('source_first');
  await sleep(PHASE_MS.target_first);

  await workload.stop();
  endPhase('target_first');
  event('workload stopped (every write and replay in flight has finished)');

  // 3. The independent comparison.
  say('\nindependent comparison (no dualwrite code: each server counts and checksums its own rows in primary-key order)');
  const before = await fingerprints(adminSource);
  const after = await fingerprints(adminTarget);
  say('  table        source rows  target rows  source sha256   target sha256   ');
  let identical = true;
  for (const { name } of TABLES) {
    const s = before[name];
    const t = after[name];
    const same = s.rows === t.rows && s.checksum === t.checksum;
    identical &&= same;
    say(`  ${name.padEnd(12)} ${String(s.rows).padStart(11)}  ${String(t.rows).padStart(11)}  ${s.checksum.slice(0, 14)}  ${t.checksum.slice(0, 14)}  ${same ? 'identical' : 'DIFFERENT'}`);
  }
  const rowByRow = await compareTables(sourceUrl, targetUrl, TABLES.map((t) => t.name));
  say(`  row by row (test/support/compare.ts, every value as the server's bytes): ${rowByRow.identical ? 'identical' : 'DIFFERENT'}`);
  if (!rowByRow.identical) say(formatComparison(rowByRow, 20).replace(/^/gm, '    '));
  identical &&= rowByRow.identical;
  const repairLog = await repairLogRows(adminSource, adminTarget);
  say(`  repair log rows (writes a side is missing): source ${repairLog.source}, target ${repairLog.target}`);
  say(`  => ${identical ? 'SOURCE AND TARGET ARE IDENTICAL' : 'SOURCE AND TARGET DIFFER'}\n`);

  // 4. The last step: the target alone.
  const writesBefore = workload.counters.writes.target_only;
  await pool.setMode('target_only');
  phaseStart = performance.now();
  workload.start();
  event('workload restarted in target_only');
  await sleep(PHASE_MS.target_only);
  await workload.stop();
  endPhase('target_only');
  const sourceAfter = await fingerprints(adminSource);
  const sourceUnchanged = TABLES.every(({ name }) => sourceAfter[name].checksum === before[name].checksum && sourceAfter[name].rows === before[name].rows);
  const targetAfter = await fingerprints(adminTarget);
  event(
    `workload stopped: ${workload.counters.writes.target_only - writesBefore} writes went to the target only; ` +
      `source unchanged since the comparison: ${sourceUnchanged ? 'yes' : 'NO'}; target now has ${targetAfter.users.rows} users, ${targetAfter.orders.rows} orders`,
  );

  // Summary.
  const c = workload.counters;
  const w = c.writes;
  const total = w.source_only + w.source_first + w.target_first + w.target_only;
  const stats = pool.stats();
  say('\nsummary');
  say(`  writes acknowledged to the workers  ${total}  (source_only ${w.source_only}, source_first ${w.source_first}, target_first ${w.target_first}, target_only ${w.target_only})`);
  say(`  write rate by mode                  ${(Object.keys(w) as Mode[]).map((mode) => `${mode} ${(w[mode] / (phaseMs[mode] / 1000)).toFixed(0)}/s`).join(', ')}`);
  say(`  transactions                        ${c.committed} committed, ${c.rolledBack} rolled back on purpose (${c.rolledBackWrites} writes undone on both sides); ${c.reads} reads`);
  say(`  writes per side (workload's count)   source ${w.source_only + w.source_first + w.target_first}, target ${w.source_first + w.target_first + w.target_only} (+ ${copied.users + copied.orders + copied.items - copied.already} rows copied before dual-writing)`);
  say(
    `  pool.stats()                         acknowledged by source ${stats.acknowledgedWrites.source} / target ${stats.acknowledgedWrites.target}; ` +
      `replayed on target ${stats.replayedWrites.target} / source ${stats.replayedWrites.source} (${stats.rowImageReplays} by row image); failures ${stats.replayFailures.source + stats.replayFailures.target}; refused ${stats.refusedWrites}`,
  );
  say(`  mode switches (modeChange events)   ${switches.length}: ${switches.join(', ')}`);
  say(`  secondary failures (replayFailure)  ${failures.length}${failures.length > 0 ? `\n    ${failures.slice(0, 5).join('\n    ')}` : ''}`);
  say(`  application errors                  ${c.errors}${c.firstErrors.length > 0 ? `\n    ${c.firstErrors.join('\n    ')}` : ''}`);
  await pool.end();
  const ok = identical && sourceUnchanged && failures.length === 0 && c.errors === 0;
  const problems = [
    identical ? null : 'the sides differed at the comparison',
    sourceUnchanged ? null : 'the source changed in target_only',
    failures.length === 0 ? null : `${failures.length} replay failure(s)`,
    c.errors === 0 ? null : `${c.errors} application error(s)`,
  ].filter((p): p is string => p !== null);
  say(ok ? '\nOK: both sides were identical after the live switches, and the source stayed untouched in target_only.' : `\nNOT OK: ${problems.join('; ')}.`);
  return ok ? 0 : 1;
}

/** Rows on the source before the migration starts, written with a plain connection. */
async function seed(source: Connection, registry: Registry): Promise<void> {
  const users = Array.from({ length: SEED.users }, (_, i) => [
    `seed${i + 1}@example.com`,
    `Seed user ${i + 1}`,
    JSON.stringify({ plan: i % 3 === 0 ? 'pro' : 'free', locale: 'en-GB', tags: ['seed'], visits: i % 7 }),
    ((i * 37) % 1000) + 0.25,
  ]);
  await source.query('INSERT INTO users (email, name, profile, balance, last_login) VALUES ' + users.map(() => '(?, ?, ?, ?, NOW(6) - INTERVAL 1 DAY)').join(', '), users.flat());
  const [userRows] = await source.query<RowDataPacket[]>('SELECT id FROM users');
  for (const row of userRows) registry.addUser(Number(row.id), true);
  for (let i = 0; i < SEED.orders; i++) {
    const userId = 1 + (i % SEED.users);
    const [result] = await source.query<ResultSetHeader>(
      "INSERT INTO orders (user_id, status, total, placed_at) VALUES (?, 'paid', 19.90, NOW(6) - INTERVAL ? MINUTE)",
      [userId, SEED.orders - i],
    );
    await source.query("INSERT INTO order_items (order_no, line_no, sku, qty, unit_price) VALUES (?, 1, 'tea-sencha', 2, 9.95)", [result.insertId]);
    registry.addOrder(result.insertId, true);
  }
}

/** Copies the rows written before dual-writing began (seed and source_only writes) to the target. */
async function copyLegacyRows(sourceUrl: string, targetUrl: string, registry: Registry): Promise<{ users: number; orders: number; items: number; already: number }> {
  const [source, target] = await Promise.all([rawTextConnection(sourceUrl), rawTextConnection(targetUrl)]);
  try {
    const users = await copyRows(source, target, 'users', 'id', [...registry.legacyUsers.values()]);
    const orders = await copyRows(source, target, 'orders', 'order_no', [...registry.legacyOrders.values()]);
    const items = await copyRows(source, target, 'order_items', 'order_no', [...registry.legacyOrders.values()]);
    const already = users.read - users.inserted + (orders.read - orders.inserted) + (items.read - items.inserted);
    return { users: users.read, orders: orders.read, items: items.read, already };
  } finally {
    await Promise.allSettled([source.end(), target.end()]);
  }
}

/** Sets the target's AUTO_INCREMENT of users and orders to the source's next value plus a margin (docs/modes.md). */
async function raiseTargetAutoIncrement(source: Connection, target: Connection): Promise<string> {
  const parts: string[] = [];
  for (const [table, column] of [
    ['users', 'id'],
    ['orders', 'order_no'],
  ] as const) {
    const [rows] = await source.query<RowDataPacket[]>(
      `SELECT GREATEST(COALESCE(MAX(\`${column}\`), 0) + 1,
              (SELECT COALESCE(AUTO_INCREMENT, 1) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?)) AS next FROM \`${table}\``,
      [table],
    );
    const next = Number((rows[0] as { next: number | string }).next) + 100_000;
    await target.query(`ALTER TABLE \`${table}\` AUTO_INCREMENT = ${next}`);
    parts.push(`${table} → ${next}`);
  }
  return parts.join(', ');
}

async function fingerprints(connection: Connection): Promise<Record<TableName, TableFingerprint>> {
  const out = {} as Record<TableName, TableFingerprint>;
  for (const { name, primaryKey } of TABLES) out[name] = await fingerprint(connection, name, primaryKey);
  return out;
}

async function repairLogRows(source: Connection, target: Connection): Promise<{ source: string; target: string }> {
  const count = async (connection: Connection): Promise<string> => {
    const [exists] = await connection.query<RowDataPacket[]>(
      "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'dualwrite_repair_log'",
    );
    if (Number((exists[0] as { n: number }).n) === 0) return '0 (no table)';
    const [rows] = await connection.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM dualwrite_repair_log');
    return String((rows[0] as { n: number }).n);
  };
  return { source: await count(source), target: await count(target) };
}

const started = performance.now();
main().then(
  (code) => {
    console.log(`(demo took ${((performance.now() - started) / 1000).toFixed(1)} s)`);
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error('demo failed:', error);
    process.exitCode = 1;
  },
);
