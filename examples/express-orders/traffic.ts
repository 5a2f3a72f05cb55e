/**
 * `npm run example:orders`: the orders service (server.ts) under live traffic while an operator moves it
 * source_only → source_first → target_first → source_first (a rollback of the last step), then an independent
 * check that both databases hold the same rows and every order id the service returned.
 *
 * The operator's part, in order (docs/playbook.md):
 * 1. create the tables on both sides, the target's order ids starting far above the source's;
 * 2. start the service (mode `source_only`: the source alone, as before the migration) and the traffic;
 * 3. switch to `source_first` through the admin port; once no request sent before the switch is still running,
 *    backfill the orders written before it (dualwrite/migrate `backfill()`: a locked keyset copy, safe under writes);
 * 4. switch to `target_first` (the target answers and numbers new orders);
 * 5. raise the source's next order id above everything the target numbered, and switch back to `source_first`;
 * 6. stop the traffic and the service, and check.
 *
 * Exit code 0 only when both sides are identical, every id is where it should be, and nothing went wrong.
 */
import mysql from 'mysql2/promise';
import { backfill } from '../../src/migrate/index.js';
import { runExample, say, type ExampleDatabases } from '../shared/run.js';
import { checkSides } from './checks.js';
import { Traffic } from './clients.js';
import { createSchema, raiseNextOrderId, TABLES } from './schema.js';
import { adminMode, startService, type AdminStatus } from './service-process.js';

const CLIENTS = 8;
const PHASE_MS = 2000;
/** Where each side's order ids start when it becomes the primary side (so the summary shows who numbered what). */
const FIRST_ID = { sourceAtStart: 1, target: 1_000_000, sourceAfterRollback: 2_000_000 };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

runExample('orders', async (db: ExampleDatabases): Promise<boolean> => {
  const started = performance.now();
  const event = (line: string): void => say(`  t=${((performance.now() - started) / 1000).toFixed(1).padStart(4)}s  ${line}`);
  const [source, target] = await Promise.all([mysql.createConnection({ uri: db.sourceUrl }), mysql.createConnection({ uri: db.targetUrl })]);
  try {
    await createSchema(source, FIRST_ID.sourceAtStart);
    await createSchema(target, FIRST_ID.target);
    say(`schema    ${TABLES.join(', ')} on both sides; order ids start at ${FIRST_ID.sourceAtStart} on the source, ${FIRST_ID.target.toLocaleString('en')} on the target\n`);

    const service = await startService({ DATABASE_URL: db.sourceUrl, NEW_DATABASE_URL: db.targetUrl });
    const traffic = new Traffic(service.url, CLIENTS);
    let status: AdminStatus;
    try {
      traffic.start();
      event(`${CLIENTS} clients sending orders (create in a transaction, read, update status, delete) in source_only`);
      await sleep(PHASE_MS);

      await traffic.freezeLegacy();
      await adminMode(service.adminUrl, 'source_first');
      traffic.dualWriting = true;
      event('switched to source_first: every write now reaches both sides');
      await traffic.settled();
      const copied = await backfillOrders(db);
      traffic.legacyWritable = true;
      event(`backfill copied the orders written before the switch: ${copied.rowsRead} rows read, ${copied.rowsInserted} inserted (${copied.rowsRead - copied.rowsInserted} already there), ${copied.chunks} chunks`);
      await sleep(PHASE_MS);

      await adminMode(service.adminUrl, 'target_first');
      event('switched to target_first: the target answers and numbers new orders; the source receives the replay');
      await sleep(PHASE_MS);

      await raiseNextOrderId(source, FIRST_ID.sourceAfterRollback);
      await adminMode(service.adminUrl, 'source_first');
      event(`rolled back to source_first (source's next order id raised to ${FIRST_ID.sourceAfterRollback.toLocaleString('en')} first)`);
      await sleep(PHASE_MS);

      await traffic.stop();
      status = await adminMode(service.adminUrl);
      event('traffic stopped');
    } finally {
      await traffic.stop();
      const code = await service.stop();
      if (code !== 0) say(`  the service exited with code ${code}`);
    }

    say('\nchecks (no dualwrite code)');
    const result = await checkSides(db.sourceUrl, db.targetUrl, traffic.orders);
    for (const line of result.lines) say(`  ${line}`);
    const c = traffic.counters;
    const s = status.stats;
    const failures = s.replayFailures.source + s.replayFailures.target + s.unrecordedFailures;
    say('\nsummary');
    say(`  requests           ${c.requests}: ${c.created} orders created, ${c.reads} reads, ${c.updates} status updates, ${c.deletes} deletes; ${c.errors} unexpected answers`);
    for (const error of c.firstErrors) say(`                     ${error}`);
    say(`  order ids          ${idRanges([...traffic.orders.keys()])}`);
    say(
      `  pool.stats()       acknowledged by source ${s.acknowledgedWrites.source} / target ${s.acknowledgedWrites.target}; replayed on target ${s.replayedWrites.target} / ` +
        `source ${s.replayedWrites.source}; replay failures ${failures}; refused ${s.refusedWrites}`,
    );
    const ok = result.ok && c.errors === 0 && failures === 0 && s.refusedWrites === 0 && c.created > 0;
    const live = [...traffic.orders.values()].filter((o) => !o.deleted).length;
    say(
      ok
        ? `\nOK: ${c.requests} requests through source_only → source_first → target_first → source_first; source and target identical ` +
            `(${result.rows.orders} orders, ${result.rows.order_items} items); all ${live} live order ids the service returned are on both sides.`
        : `\nNOT OK: ${[result.ok ? null : 'the sides differ from each other or from what the service returned', c.errors === 0 ? null : `${c.errors} unexpected answer(s)`, failures === 0 ? null : `${failures} replay failure(s)`, s.refusedWrites === 0 ? null : `${s.refusedWrites} refused write(s)`].filter(Boolean).join('; ')}.`,
    );
    return ok;
  } finally {
    await Promise.allSettled([source.end(), target.end()]);
  }
});

/** dualwrite/migrate's backfill of the service's tables, through plain mysql2 pools of the operator's own. */
async function backfillOrders(db: ExampleDatabases): Promise<{ rowsRead: number; rowsInserted: number; chunks: number }> {
  const source = mysql.createPool({ uri: db.sourceUrl, connectionLimit: 6 });
  const target = mysql.createPool({ uri: db.targetUrl, connectionLimit: 6 });
  try {
    const report = await backfill({ source, target, tables: [...TABLES] });
    if (!report.done) throw new Error('the backfill stopped before every table was copied');
    return report;
  } finally {
    await Promise.allSettled([source.end(), target.end()]);
  }
}

/** "1–312 (source), 1,000,000–1,000,290 (target), …": which side numbered the orders. */
function idRanges(ids: number[]): string {
  const sides = [
    { side: 'source, before the switch to target_first', low: FIRST_ID.sourceAtStart, high: FIRST_ID.target },
    { side: 'target, in target_first', low: FIRST_ID.target, high: FIRST_ID.sourceAfterRollback },
    { side: 'source, after the rollback', low: FIRST_ID.sourceAfterRollback, high: Number.MAX_SAFE_INTEGER },
  ];
  return sides
    .map(({ side, low, high }) => {
      const inRange = ids.filter((id) => id >= low && id < high);
      return inRange.length === 0 ? null : `${inRange.length} numbered by the ${side} (${Math.min(...inRange).toLocaleString('en')}–${Math.max(...inRange).toLocaleString('en')})`;
    })
    .filter(Boolean)
    .join('; ');
}
