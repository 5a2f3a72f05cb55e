/**
 * Scenario 6 (reliability issue): under the 16-caller workload, the mode is switched source_first → target_first →
 * source_first five times (`pool.setMode()`), with faults active during some of the switches:
 * - fault 2 (cuts mid-statement and mid-COMMIT) on the side leaving or taking the secondary role, armed across the
 *   switch, so it hits that side as secondary before the switch and as primary after it;
 * - fault 1 (refuses new connections, open ones cut) on the secondary side, still active when the switch makes it
 *   the primary: callers then get the primary side's connection errors, which the ledger accounts for as writes of
 *   unknown outcome.
 * Each switch follows the playbook ("repair before the next step"): callers are held before their next write, the
 * mode is switched, the outgoing primary's repair log is drained into the incoming primary, and the callers go on
 * (a hold as long as the drain). Without that drain the incoming primary lacks the writes its replays missed, and
 * callers see it (the skipped test below). The final mode is source_first: `settle` drains its log with the source
 * authoritative; the ledger holds on the source, and the sides are identical.
 */
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainRepairLog, type DrainRepairLogResult } from '../../../src/migrate/index.js';
import type { Mode } from '../../../src/mode/modes.js';
import type { ReplayFailure } from '../../../src/replay/failure.js';
import { until } from '../../pool/helpers.js';
import { canSpawnServers } from '../../support/servers.js';
import type { FaultProxy, StatementCutOptions } from '../fault-proxy.js';
import type { FailedWrite } from '../ledger.js';
import { spawnProxiedServers, type ProxiedServers } from '../proxied-servers.js';
import { CONNECTION_LOST, PROGRESS_DEADLINE_MS, hold, openScenario, progress } from '../scenario-kit.js';
import { settle } from '../settle.js';
import { scenarioSeed, startWorkload } from '../workload.js';

/** Data changes of the workload (not the pool's own repair-log INSERT: cutting that is a second, unrelated fault). */
const WRITE = /^\s*(SET\s+STATEMENT\s+.*?\s+FOR\s+)?(INSERT|UPDATE|DELETE)\b(?!.*dualwrite_repair_log)/is;
const COMMIT = /^\s*COMMIT\b/i;
/** mysql2's error for a command on a pooled connection it already knows to be closed (cut while idle). */
const MYSQL2_CLOSED = /^Can't add new command when connection is in closed state$/;
/** Writes per mode period. */
const WRITES_PER_PERIOD = 30;
/** Liveness bound of the whole run (ten switches with their drains; about 20 s on an idle machine). */
const RUN_DEADLINE_MS = 120_000;

const primaryError = (failure: FailedWrite): boolean => CONNECTION_LOST.test(failure.code) || (failure.code === 'Error' && MYSQL2_CLOSED.test(failure.message));

describe.skipIf(!canSpawnServers())('scenario 6: mode switched source_first → target_first → source_first five times under load', () => {
  let servers: ProxiedServers | undefined;
  beforeAll(async () => {
    servers = await spawnProxiedServers('s6_switch');
  });
  afterAll(async () => {
    await servers?.destroy();
  });

  /**
   * Runs the five round trips with their faults. `drainAtSwitch`: each switch holds the callers and drains the
   * outgoing primary's log (the playbook); without it the logs of both sides are drained at the end only.
   */
  async function switchesUnderLoad(name: string, seed: number, drainAtSwitch: boolean): Promise<void> {
    const { db, pool } = await openScenario(servers as ProxiedServers, name);
    const unrecorded: string[] = [];
    pool.pool.on('replayFailure', (failure: ReplayFailure, recorded: boolean) => {
      if (!recorded) unrecorded.push(`${failure.mode} ${failure.kind} ${failure.table?.name ?? '-'}: ${failure.sql.slice(0, 80)} (${failure.error?.message ?? ''})`);
    });
    const workload = startWorkload(pool, { seed });
    const switches: string[] = [];
    const drains: DrainRepairLogResult[] = [];
    /** How long each switch held the callers (pause, switch, drain), for the output. */
    const holds: number[] = [];

    /**
     * The switch itself, as the playbook has it ("repair before the next step"), under load: callers are held before
     * their next write (nothing in flight, no connection checked out), the mode is switched, the outgoing primary's
     * repair log is drained into the incoming primary (direct connections, not through the proxies), and the callers
     * go on. The hold lasts as long as the drain.
     */
    const switchTo = async (to: Mode): Promise<void> => {
      const from = pool.mode;
      if (!drainAtSwitch) {
        await pool.setMode(to);
        return;
      }
      const started = performance.now();
      await workload.pause();
      try {
        await pool.setMode(to);
        const [outgoing, incoming] = from === 'source_first' ? [db.source, db.target] : [db.target, db.source];
        const drain = await drainRepairLog({ primary: outgoing, secondary: incoming, verify: { recheck: { delayMs: 0, attempts: 0 } }, loopCheck: { delayMs: 0, attempts: 0 } });
        expect(drain.failed, `repair-log rows of ${from} whose repair failed at the switch to ${to}`).toEqual([]);
        drains.push(drain);
      } finally {
        workload.resume();
        holds.push(performance.now() - started);
      }
    };
    /** Fault 2 across a switch: cuts armed on `proxy`, half of them fired before the switch, the rest after. */
    const cutsAcross = async (proxy: FaultProxy, to: Mode, cuts: readonly [RegExp, StatementCutOptions][]): Promise<void> => {
      const traps = cuts.map(([pattern, options]) => proxy.cutOnStatement(pattern, options));
      const fired = (): number => traps.reduce((n, trap) => n + trap.count, 0);
      const all = cuts.reduce((n, [, options]) => n + (options.times ?? 1), 0);
      await until(() => fired() >= all / 2, `half the cuts before the switch to ${to}`, PROGRESS_DEADLINE_MS);
      await switchTo(to);
      await until(() => fired() >= all, `the rest of the cuts after the switch to ${to}`, PROGRESS_DEADLINE_MS);
      proxy.restore();
    };
    /** Fault 1 across a switch: the secondary side refuses and is cut, the switch makes it primary, then it returns. */
    const outageAcross = async (proxy: FaultProxy, to: Mode): Promise<void> => {
      proxy.refuseNew();
      proxy.cut();
      await hold(500);
      await switchTo(to);
      await hold(300);
      expect(proxy.stats.refused, 'connections refused during the outage').toBeGreaterThan(0);
      proxy.restore();
    };

    try {
      await progress(workload, WRITES_PER_PERIOD, 'in source_first before any switch');
      for (let cycle = 1; cycle <= 5; cycle++) {
        for (const to of ['target_first', 'source_first'] as const) {
          const from = pool.mode;
          const step = switches.length + 1;
          const secondary = from === 'source_first' ? 'target' : 'source';
          if (step === 1 || step === 7) {
            // The target: secondary before the switch to target_first, primary after.
            await cutsAcross((servers as ProxiedServers).target.proxy, to, [
              [WRITE, { at: 'before', times: 2 }],
              [COMMIT, { at: 'reply', times: 2 }],
            ]);
            switches.push(`${from} → ${to} with target cuts`);
          } else if (step === 4) {
            // The source: secondary before the switch to source_first, primary after.
            await cutsAcross((servers as ProxiedServers).source.proxy, to, [
              [COMMIT, { at: 'before', times: 2 }],
              [WRITE, { at: 'reply', times: 2 }],
            ]);
            switches.push(`${from} → ${to} with source cuts`);
          } else if (step === 2 || step === 5) {
            await outageAcross((servers as ProxiedServers)[secondary].proxy, to);
            switches.push(`${from} → ${to} with the ${secondary} refusing`);
          } else {
            await switchTo(to);
            switches.push(`${from} → ${to}`);
          }
          await progress(workload, WRITES_PER_PERIOD, `in ${to} after switch ${step}`);
        }
      }
    } finally {
      await (servers as ProxiedServers).restoreAll();
      await workload.stop();
    }

    const { ledger } = workload;
    const stats = pool.stats();
    process.stdout.write(`[scenario 6 ${name}] ${switches.length} switches: ${switches.join('; ')}\n`);
    process.stdout.write(`[scenario 6 ${name}] ${ledger.summary()}; replay failures ${JSON.stringify(stats.replayFailures)}, unrecorded ${stats.unrecordedFailures}\n`);
    expect(switches).toHaveLength(10);
    expect(pool.mode).toBe('source_first');
    expect(workload.anomalies).toEqual([]);
    // Callers saw only the primary side's own connection errors (fault 1 on the side that became primary, fault 2 on the primary).
    expect(ledger.failures.filter((failure) => !primaryError(failure))).toEqual([]);
    expect(stats.replayFailures.source, 'failures logged in target_first (the source as secondary)').toBeGreaterThan(0);
    expect(stats.replayFailures.target, 'failures logged in source_first (the target as secondary)').toBeGreaterThan(0);
    expect(unrecorded, 'replay failures that never reached a repair log').toEqual([]);
    await pool.end();

    if (drainAtSwitch) {
      // Every target_first period's log was drained at the switch that ended it; settle drains the last period's.
      const [pending] = await db.target.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM dualwrite_repair_log WHERE repaired_at IS NULL AND table_name IS NOT NULL');
      expect(Number(pending[0]?.n), "target_first repair-log rows left pending after the switches' drains").toBe(0);
    } else {
      // The target_first periods' log, the target authoritative. (Which of the two logs should win for a row both
      // name depends on which failure came last; UPDATE and DELETE replays are logged as whole tables, so no order
      // of the two drains is right for every row.)
      const earlier = await drainRepairLog({ primary: db.target, secondary: db.source, verify: { recheck: { delayMs: 0, attempts: 0 } }, loopCheck: { delayMs: 0, attempts: 0 } });
      drains.push(earlier);
    }
    const result = await settle(db.source, db.target, ledger);
    const sum = (pick: (d: DrainRepairLogResult) => number): number => drains.reduce((n, d) => n + pick(d), 0);
    process.stdout.write(
      `[scenario 6 ${name}] drains at the switches: ${sum((d) => d.logRows)} log rows, ${sum((d) => d.keys)} keys (per switch: ${drains.map((d) => d.logRows).join(', ')}); ` +
        `callers held ${holds.map((ms) => ms.toFixed(0)).join(', ')} ms; final drain: ${result.drain.logRows} log rows, ${result.drain.keys} keys; ${result.skipped} transaction-control rows left pending\n`,
    );
  }

  it('with faults during some switches and the repair log drained at each switch: the ledger holds, the sides end identical', async () => {
    await switchesUnderLoad('drained', scenarioSeed('scenario 6 mode switches', 6_006), true);
  }, RUN_DEADLINE_MS);

  // KNOWN GAP (reported, not fixed here; docs/modes.md asks to repair before the next step): switched under load
  // without draining the outgoing primary's log, the incoming primary lacks every write whose replay failed before
  // the switch. Callers then see it: UPDATE/DELETE of their own acknowledged rows affect 0 rows (seed 6016: 133 such
  // anomalies, e.g. "caller 10: UPDATE orders affected 0 rows, expected 1", with 516 + 492 replay failures);
  // auto-increment values can collide across the sides (docs/modes.md); and both sides end with a log whose rows for
  // the same table (UPDATE/DELETE replays are logged as whole tables) need opposite authoritative sides, so no order
  // of draining the two logs afterwards is right for every row.
  it.skip('with faults during some switches and no drain at the switches', async () => {
    await switchesUnderLoad('undrained', scenarioSeed('scenario 6 mode switches, no drain at the switches', 6_016), false);
  }, RUN_DEADLINE_MS);
});
