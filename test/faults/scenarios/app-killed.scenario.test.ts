/**
 * Scenario 7 (reliability issue): the application process itself is killed (SIGKILL) in the middle of the workload.
 * A child process (`app-child.ts`, through tsx) runs a `source_first` pool with the library's defaults and the
 * seeded 16-caller workload, journaling every write before it is sent and every acknowledgement as it is given
 * (`app-journal.ts`): acknowledged = in the journal before the kill. After each kill the parent measures how many
 * rows differ between the sides (before any repair), drains the repair log, runs an incremental verify
 * (`verifyIncremental` on an `updated_at … ON UPDATE CURRENT_TIMESTAMP(6)` column, `since` = just before the child
 * started, reverse pass on) and repairs the keys it found. Asserted: the drain plus the incremental verify find
 * every row that differed (the independent comparison finds none left), the ledger holds on the source, nothing the
 * ledger cannot account for is on either side, and the sides end identical.
 *
 * What the kill leaves with the default settings (the window; `intents: true` closes it, see
 * app-killed-intents.scenario.test.ts and docs/intents.md): a replay the target committed whose
 * source transaction the kill rolled back (the pool replays while the source still holds its locks and commits
 * after), and a transaction the source committed whose target COMMIT the kill prevented. Neither is in the repair
 * log — the log row of a failure is written inside the source transaction, and these did not fail — so only the
 * verify finds them. The output prints the counts per kill.
 *
 * A row deleted on the primary whose delete never reached the secondary (a transaction with a DELETE killed between
 * the two COMMITs) has no changed row left on the source: only the reverse pass finds it. The second test shows
 * that on that state directly. A row older than `since` whose UPDATE the target got and the source did not is not
 * found by the incremental verify at all (the third test; a full verify finds it). `DUALWRITE_SOAK=1` runs 15 kills
 * instead of 3.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainRepairLog, repairKeys, verify, verifyIncremental, type Difference } from '../../../src/migrate/index.js';
import { seeded } from '../../support/random.js';
import { compareTables } from '../../support/compare.js';
import { canSpawnServers } from '../../support/servers.js';
import { readJournal } from '../app-journal.js';
import { CHILD_DEADLINE_MS, runAndKill } from '../app-kill.js';
import { LEDGER_TABLES, Ledger } from '../ledger.js';
import { spawnProxiedServers, type ProxiedDatabases, type ProxiedServers } from '../proxied-servers.js';
import { settle } from '../settle.js';
import { createWorkloadTables, scenarioSeed } from '../workload.js';

const KILLS = process.env.DUALWRITE_SOAK === '1' ? 15 : 3;
/** Liveness bound of the whole run (about 15 s for 3 kills on an idle machine; each child starts tsx). */
const RUN_DEADLINE_MS = 60_000 + KILLS * CHILD_DEADLINE_MS;
const NO_WAIT = { recheck: { delayMs: 0, attempts: 0 } } as const;

/** `table:id` of every row that differs between the sides (missing, extra or different). */
async function differingRows(db: ProxiedDatabases): Promise<Set<string>> {
  const comparison = await compareTables(db.source, db.target, [...LEDGER_TABLES]);
  const rows = new Set<string>();
  // The comparison shows keys as display text ('29'); verify's keys are values.
  for (const t of comparison.tables) for (const key of [...t.missing, ...t.extra, ...t.different.map((d) => d.key)]) rows.add(`${t.table}:${String(key.id).replace(/^'|'$/g, '')}`);
  return rows;
}

/** The source's UTC time `secondsAgo` seconds ago, as verifyIncremental's `since` wants it. */
async function utcSince(source: Pool, secondsAgo: number): Promise<string> {
  const [rows] = await source.query<RowDataPacket[]>("SELECT DATE_FORMAT(UTC_TIMESTAMP(6) - INTERVAL ? SECOND, '%Y-%m-%d %H:%i:%s.%f') AS since", [secondsAgo]);
  return String(rows[0]?.since);
}

/** Pending rows of the source's repair log (the pool creates it on its first write). */
async function pendingLogRows(source: Pool): Promise<number> {
  const [rows] = await source.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM dualwrite_repair_log WHERE repaired_at IS NULL');
  return Number(rows[0]?.n);
}

/** Keys of `differences`, per table, as repairKeys wants them. */
function keysByTable(differences: readonly Difference[]): Map<string, Difference['key'][]> {
  const byTable = new Map<string, Difference['key'][]>();
  for (const d of differences) byTable.set(d.table, [...(byTable.get(d.table) ?? []), d.key]);
  return byTable;
}

describe.skipIf(!canSpawnServers())('scenario 7: the application process is killed (SIGKILL) mid-workload', () => {
  let servers: ProxiedServers | undefined;
  let dir = '';
  beforeAll(async () => {
    servers = await spawnProxiedServers('s7_app');
    dir = mkdtempSync(join(tmpdir(), 'dualwrite-s7-'));
  });
  afterAll(async () => {
    await servers?.destroy();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it(`the repair log plus an incremental verify find and fix every row a killed process left on one side (${KILLS} kills)`, async () => {
    const seed = scenarioSeed('scenario 7 application killed', 7_007);
    const random = seeded(seed);
    const db = await (servers as ProxiedServers).createDatabases('app');
    await createWorkloadTables([db.source, db.target]);
    for (const side of [db.source, db.target]) {
      for (const table of LEDGER_TABLES) {
        await side.query(`ALTER TABLE ${table} ADD COLUMN updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), ADD KEY (updated_at)`);
      }
    }
    const ledger = new Ledger();
    const lines: string[] = [];
    const totals = { acknowledged: 0, inFlight: 0, differed: 0, inLog: 0, onlyVerify: 0 };
    for (let kill = 1; kill <= KILLS; kill++) {
      const since = await utcSince(db.source, 1);
      const journal = join(dir, `journal-${kill}.jsonl`);
      const acks = 100 + Math.floor(random() * 150);
      const stderr = await runAndKill({ sourceUrl: db.sourceUrl, targetUrl: db.targetUrl, seed: seed + kill, tagPrefix: `k${kill}c`, journal }, acks);
      expect(stderr, 'the child reported nothing unexplained').not.toMatch(/anomalies/);
      const read = readJournal(journal, ledger);

      // Right after the kill, before any repair.
      const differed = await differingRows(db);
      const logRows = await pendingLogRows(db.source);
      const drain = logRows > 0 ? await drainRepairLog({ primary: db.source, secondary: db.target, verify: NO_WAIT, loopCheck: { delayMs: 0, attempts: 0 } }) : null;
      expect(drain?.failed ?? [], 'repair-log rows whose repair failed').toEqual([]);
      const afterDrain = await differingRows(db);

      // The incremental verify, then a repair of exactly what it found.
      const found: Difference[] = [];
      for (const table of LEDGER_TABLES) {
        const report = await verifyIncremental({ source: db.source, target: db.target, table, changedColumn: 'updated_at', since, collect: true, ...NO_WAIT });
        found.push(...report.tables.flatMap((t) => t.differences ?? []));
      }
      const foundRows = new Set(found.map((d) => `${d.table}:${String(d.key.id)}`));
      expect([...afterDrain].filter((row) => !foundRows.has(row)), 'rows still differing after the drain that the incremental verify did not find').toEqual([]);
      for (const [table, keys] of keysByTable(found)) {
        await repairKeys({ authoritative: db.source, other: db.target, authoritativeSide: 'source', table, keys, loopCheck: { delayMs: 0, attempts: 0 } });
      }
      expect([...(await differingRows(db))], `rows differing after the drain and the incremental repair (kill ${kill})`).toEqual([]);

      const inLog = [...differed].filter((row) => !afterDrain.has(row)).length;
      totals.acknowledged += read.acknowledged;
      totals.inFlight += read.inFlight;
      totals.differed += differed.size;
      totals.inLog += inLog;
      totals.onlyVerify += afterDrain.size;
      lines.push(
        `kill ${kill}: ${read.acknowledged} acknowledged, ${read.inFlight} in flight; ${differed.size} rows differed right after the kill; ` +
          `${logRows} repair-log rows (${inLog} of the differing rows fixed by the drain); ${afterDrain.size} found only by the incremental verify (${found.length} differences reported: ` +
          `${['missing', 'extra', 'different'].map((k) => `${found.filter((d) => d.kind === k).length} ${k}`).join(', ')}; the extra ones by the reverse pass)`,
      );
    }
    process.stdout.write(lines.map((line) => `[scenario 7] ${line}\n`).join(''));
    process.stdout.write(
      `[scenario 7] ${KILLS} kills: ${totals.acknowledged} acknowledged, ${totals.inFlight} in flight at the kills; ${totals.differed} rows differed after the kills, ` +
        `${totals.inLog} fixed through the repair log, ${totals.onlyVerify} found only by the incremental verify; ${ledger.summary()}\n`,
    );
    expect(totals.differed, 'rows the kills left on one side (none: the kills tested nothing)').toBeGreaterThan(0);
    // The ledger of every run on the source, nothing unaccounted on either side, verify and the comparison identical.
    const result = await settle(db.source, db.target, ledger);
    expect(result.drain.logRows).toBe(0); // everything was repaired after each kill
  }, RUN_DEADLINE_MS);

  it('a row deleted on the primary only (no changed row left behind) is found by the reverse pass alone', async () => {
    const db = await (servers as ProxiedServers).createDatabases('deleted');
    for (const side of [db.source, db.target]) {
      await side.query('CREATE TABLE orders (id BIGINT UNSIGNED NOT NULL PRIMARY KEY, tag VARCHAR(64) NOT NULL, updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), KEY (updated_at))');
      await side.query("INSERT INTO orders (id, tag, updated_at) VALUES (1, 'a', '2026-01-01 00:00:00'), (2, 'b', '2026-01-01 00:00:00'), (3, 'c', '2026-01-01 00:00:00')");
    }
    const since = await utcSince(db.source, 1);
    // The state a process killed between the source's and the target's COMMIT of a transaction with a DELETE leaves.
    await db.source.query('DELETE FROM orders WHERE id = 2');
    const forwardOnly = await verifyIncremental({ source: db.source, target: db.target, table: 'orders', changedColumn: 'updated_at', since, reversePass: false, collect: true, ...NO_WAIT });
    expect(forwardOnly.identical).toBe(true); // the forward pass cannot see it: nothing on the source changed since
    const withReverse = await verifyIncremental({ source: db.source, target: db.target, table: 'orders', changedColumn: 'updated_at', since, collect: true, ...NO_WAIT });
    expect(withReverse.tables.flatMap((t) => t.differences ?? []).map((d) => ({ kind: d.kind, id: String(d.key.id) }))).toEqual([{ kind: 'extra', id: '2' }]);
  });

  // KNOWN GAP (the window of issue 7's scenario 7; the fix is an intent record written in the primary's transaction):
  // a process killed after the target committed the replay of an UPDATE of a row older than `since`, before the
  // source committed it, leaves the new values on the target only. The source row's `updated_at` did not change, so
  // the incremental verify's forward pass cannot see it, and the reverse pass compares keys only; nothing is in the
  // repair log. Only a full verify finds it. (The workload of the first test updates only rows it inserted during
  // the run, so it never meets this case.)
  it('a row older than `since` changed on the target only: the incremental verify misses it, a full verify finds it', async () => {
    const db = await (servers as ProxiedServers).createDatabases('older');
    for (const side of [db.source, db.target]) {
      await side.query('CREATE TABLE orders (id BIGINT UNSIGNED NOT NULL PRIMARY KEY, tag VARCHAR(64) NOT NULL, updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), KEY (updated_at))');
      await side.query("INSERT INTO orders (id, tag, updated_at) VALUES (1, 'a', '2026-01-01 00:00:00'), (2, 'b', '2026-01-01 00:00:00')");
    }
    const since = await utcSince(db.source, 1);
    await db.target.query("UPDATE orders SET tag = 'b2' WHERE id = 2"); // the replay that landed; the source rolled back
    const incremental = await verifyIncremental({ source: db.source, target: db.target, table: 'orders', changedColumn: 'updated_at', since, collect: true, ...NO_WAIT });
    expect(incremental.identical, 'the incremental verify (forward and reverse pass) finds the row: the gap is closed, update the report and docs').toBe(true);
    const full = await verify({ source: db.source, target: db.target, tables: ['orders'], collect: true, checkpointEveryMs: 0, ...NO_WAIT });
    expect(full.tables.flatMap((t) => t.differences ?? []).map((d) => ({ kind: d.kind, id: String(d.key.id) }))).toEqual([{ kind: 'different', id: '2' }]);
  });
});
