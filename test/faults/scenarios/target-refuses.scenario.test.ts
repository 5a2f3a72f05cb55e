/**
 * Scenario 1 (reliability issue): in `source_first`, the target refuses new connections for a while and its open
 * connections are cut; then it returns. Callers never see the target's failure; after the drain of the repair log
 * every acknowledged write is on the source and both sides are identical.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { canSpawnServers } from '../../support/servers.js';
import { hold, progress, setUpScenario, type ScenarioSetup } from '../scenario-kit.js';
import { settle } from '../settle.js';
import { scenarioSeed, startWorkload } from '../workload.js';

describe.skipIf(!canSpawnServers())('scenario 1: the target refuses connections for a while (source_first)', () => {
  let setup: ScenarioSetup | undefined;
  afterAll(async () => {
    await setup?.servers.destroy();
  });

  it('fails no caller, loses no acknowledged write, and ends with identical sides', async () => {
    const seed = scenarioSeed('scenario 1 target refuses', 1_001);
    setup = await setUpScenario('s1_refuse');
    const { servers, db, pool } = setup;
    const proxy = servers.target.proxy;
    const workload = startWorkload(pool, { seed });
    try {
      await progress(workload, 100, 'with the target up');
      proxy.refuseNew();
      expect(proxy.cut()).toBeGreaterThan(0);
      await hold(1500);
      await progress(workload, 50, 'while the target refuses');
      expect(proxy.stats.refused).toBeGreaterThan(0);
      proxy.restore();
      await progress(workload, 150, 'after the target returned (no pool starvation)');
    } finally {
      await workload.stop();
    }
    const { ledger } = workload;
    process.stdout.write(`[scenario 1] ${ledger.summary()}; pool ${JSON.stringify(pool.stats().replayFailures)}\n`);
    expect(workload.anomalies).toEqual([]);
    expect(ledger.failures).toEqual([]); // the secondary never decides the caller's outcome
    const stats = pool.stats();
    expect(stats.replayFailures.target).toBeGreaterThan(0); // the fault did reach the pool
    expect(stats.unrecordedFailures).toBe(0);
    await pool.end();
    const result = await settle(db.source, db.target, ledger);
    expect(result.drain.logRows).toBeGreaterThan(0);
    process.stdout.write(`[scenario 1] drain: ${result.drain.logRows} log rows, ${result.drain.keys} keys repaired, ${result.drain.wholeTables} whole tables, ${result.skipped} transaction-control rows left pending\n`);
  });
});
