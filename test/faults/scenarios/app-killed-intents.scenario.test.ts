/**
 * Scenario 7 with intent rows (pool option `intents: true`): the application process is killed (SIGKILL) in the
 * middle of the seeded 16-caller workload, as in app-killed.scenario.test.ts, but its pool writes an intent row
 * inside every primary transaction and holds the replay uncommitted until the primary side committed.
 *
 * Asserted after every kill: the repair-log drain alone (no verify of any kind) leaves the sides identical — the
 * window that scenario needs an incremental verify for is closed. At the end the ledger holds on the source, nothing
 * the ledger cannot account for is on either side, and verify and the independent comparison find them identical.
 * The drain runs with `intentGraceMs: 0`: the only writer is dead, so no intent can still be in flight.
 * `DUALWRITE_SOAK=1` runs 15 kills instead of 3.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainRepairLog } from '../../../src/migrate/index.js';
import { compareTables, formatComparison } from '../../support/compare.js';
import { seeded } from '../../support/random.js';
import { canSpawnServers } from '../../support/servers.js';
import { readJournal } from '../app-journal.js';
import { CHILD_DEADLINE_MS, runAndKill } from '../app-kill.js';
import { LEDGER_TABLES, Ledger } from '../ledger.js';
import { spawnProxiedServers, type ProxiedServers } from '../proxied-servers.js';
import { settle } from '../settle.js';
import { createWorkloadTables, scenarioSeed } from '../workload.js';

const KILLS = process.env.DUALWRITE_SOAK === '1' ? 15 : 3;
/** Liveness bound of the whole run. */
const RUN_DEADLINE_MS = 60_000 + KILLS * CHILD_DEADLINE_MS;
const NO_WAIT = { recheck: { delayMs: 0, attempts: 0 } } as const;

describe.skipIf(!canSpawnServers())('scenario 7 with intents: the application process is killed (SIGKILL) mid-workload', () => {
  let servers: ProxiedServers | undefined;
  let dir = '';
  beforeAll(async () => {
    servers = await spawnProxiedServers('s7_intents');
    dir = mkdtempSync(join(tmpdir(), 'dualwrite-s7i-'));
  });
  afterAll(async () => {
    await servers?.destroy();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it(`the repair-log drain alone leaves the sides identical after every kill (${KILLS} kills)`, async () => {
    const seed = scenarioSeed('scenario 7 application killed, intents', 7_017);
    const random = seeded(seed);
    const db = await (servers as ProxiedServers).createDatabases('app');
    await createWorkloadTables([db.source, db.target]);
    const ledger = new Ledger();
    const lines: string[] = [];
    const totals = { acknowledged: 0, inFlight: 0, differed: 0, logRows: 0, intents: 0 };
    for (let kill = 1; kill <= KILLS; kill++) {
      const journal = join(dir, `journal-${kill}.jsonl`);
      const acks = 100 + Math.floor(random() * 150);
      const stderr = await runAndKill({ sourceUrl: db.sourceUrl, targetUrl: db.targetUrl, seed: seed + kill, tagPrefix: `i${kill}c`, journal, intents: true }, acks);
      expect(stderr, 'the child reported nothing unexplained').not.toMatch(/anomalies/);
      const read = readJournal(journal, ledger);

      // Right after the kill, before any repair.
      const before = await compareTables(db.source, db.target, [...LEDGER_TABLES]);
      const differed = before.tables.reduce((n, t) => n + t.missing.length + t.extra.length + t.different.length, 0);
      const [[pending]] = await db.source.query<RowDataPacket[]>("SELECT COUNT(*) AS n, SUM(kind = 'intent') AS intents FROM dualwrite_repair_log WHERE repaired_at IS NULL");
      const drain = await drainRepairLog({ primary: db.source, secondary: db.target, intentGraceMs: 0, verify: NO_WAIT, loopCheck: { delayMs: 0, attempts: 0 } });
      expect(drain.failed, 'repair-log rows whose repair failed').toEqual([]);
      expect(drain.youngIntents).toBe(0);
      const after = await compareTables(db.source, db.target, [...LEDGER_TABLES]);
      expect(after.identical, `the sides after the drain alone (kill ${kill}):\n${formatComparison(after)}`).toBe(true);

      totals.acknowledged += read.acknowledged;
      totals.inFlight += read.inFlight;
      totals.differed += differed;
      totals.logRows += drain.logRows;
      totals.intents += Number(pending?.intents ?? 0);
      lines.push(
        `kill ${kill}: ${read.acknowledged} acknowledged, ${read.inFlight} in flight; ${differed} rows differed right after the kill; ` +
          `${drain.logRows} pending repair-log rows (${Number(pending?.intents ?? 0)} intents) drained, ${drain.keys} keys and ${drain.wholeTables} whole tables checked; sides identical`,
      );
    }
    process.stdout.write(lines.map((line) => `[scenario 7 intents] ${line}\n`).join(''));
    process.stdout.write(`[scenario 7 intents] ${KILLS} kills: ${totals.acknowledged} acknowledged, ${totals.inFlight} in flight; ${totals.differed} rows differed after the kills, all fixed by the drain alone; ${ledger.summary()}\n`);
    // Every kill interrupts writes between their intent row and its batched delete: intents were there to drain.
    expect(totals.intents, 'intent rows left by the kills (none: the kills tested nothing)').toBeGreaterThan(0);
    const result = await settle(db.source, db.target, ledger);
    expect(result.drain.logRows).toBe(0); // everything was repaired after each kill
  }, RUN_DEADLINE_MS);
});
