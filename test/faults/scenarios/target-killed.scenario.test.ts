/**
 * Scenario 4 (reliability issue): in `source_first`, during a transaction-heavy workload (two thirds of the writes
 * are multi-statement transactions), the target server is killed with SIGKILL and started again (InnoDB crash
 * recovery). Callers never see it; every acknowledged write is on the source; after the drain of the repair log the
 * sides are identical. The output reports the repair-log rows and the keys the drain repaired.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { canSpawnServers } from '../../support/servers.js';
import { hold, progress, setUpScenario, type ScenarioSetup } from '../scenario-kit.js';
import { settle } from '../settle.js';
import { scenarioSeed, startWorkload } from '../workload.js';

describe.skipIf(!canSpawnServers())('scenario 4: the target is killed with -9 and restarted (source_first)', () => {
  let setup: ScenarioSetup | undefined;
  afterAll(async () => {
    await setup?.servers.destroy();
  });

  it('fails no caller, loses no acknowledged write, and ends with identical sides', async () => {
    const seed = scenarioSeed('scenario 4 target killed', 4_004);
    setup = await setUpScenario('s4_kill');
    const { servers, db, pool } = setup;
    const workload = startWorkload(pool, { seed, transactionShare: 0.5 });
    let failuresWhileDown = 0;
    try {
      await progress(workload, 100, 'with the target up');
      const before = pool.stats().replayFailures.target;
      await servers.target.server.kill();
      await progress(workload, 50, 'while the target is down');
      await hold(500);
      failuresWhileDown = pool.stats().replayFailures.target - before;
      await servers.target.server.start();
      await progress(workload, 150, 'after the target restarted (no pool starvation)');
    } finally {
      await workload.stop();
    }
    const { ledger } = workload;
    const stats = pool.stats();
    process.stdout.write(`[scenario 4] ${ledger.summary()}; replay failures ${JSON.stringify(stats.replayFailures)} (${failuresWhileDown} while down)\n`);
    expect(workload.anomalies).toEqual([]);
    expect(ledger.failures).toEqual([]); // the killed secondary never decides the caller's outcome
    expect(failuresWhileDown).toBeGreaterThan(0); // the kill did reach the pool
    expect(stats.unrecordedFailures).toBe(0);
    await pool.end();
    const result = await settle(db.source, db.target, ledger);
    expect(result.drain.logRows).toBeGreaterThan(0);
    process.stdout.write(`[scenario 4] drain: ${result.drain.logRows} log rows, ${result.drain.keys} keys repaired (${result.drain.inserted} inserted, ${result.drain.updated} updated, ${result.drain.deleted} deleted), ${result.skipped} transaction-control rows left pending\n`);
  });
});
