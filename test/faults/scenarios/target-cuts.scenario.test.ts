/**
 * Scenario 2 (reliability issue): in `source_first`, target connections are cut mid-statement (an INSERT or UPDATE
 * replay that never reaches the target) and mid-COMMIT (before the COMMIT reaches the target, and after it ran but
 * before its reply came back), a few times during the run. Callers never see it; after the drain of the repair log
 * every acknowledged write is on the source and both sides are identical.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { until } from '../../pool/helpers.js';
import { canSpawnServers } from '../../support/servers.js';
import type { StatementCutOptions } from '../fault-proxy.js';
import { PROGRESS_DEADLINE_MS, progress, setUpScenario, type ScenarioSetup } from '../scenario-kit.js';
import { settle } from '../settle.js';
import { scenarioSeed, startWorkload } from '../workload.js';

const WRITE = /^\s*(SET\s+STATEMENT\s+.*?\s+FOR\s+)?(INSERT|UPDATE)\b/is;
const COMMIT = /^\s*COMMIT\b/i;

describe.skipIf(!canSpawnServers())('scenario 2: target connections cut mid-statement and mid-COMMIT (source_first)', () => {
  let setup: ScenarioSetup | undefined;
  afterAll(async () => {
    await setup?.servers.destroy();
  });

  it('fails no caller, loses no acknowledged write, and ends with identical sides', async () => {
    const seed = scenarioSeed('scenario 2 target cuts', 2_002);
    setup = await setUpScenario('s2_cuts');
    const { servers, db, pool } = setup;
    const proxy = servers.target.proxy;
    const workload = startWorkload(pool, { seed });
    const cuts: [RegExp, StatementCutOptions][] = [
      [WRITE, { at: 'before', times: 3 }],
      [COMMIT, { at: 'before', times: 3 }],
      [COMMIT, { at: 'reply', times: 3 }],
      [WRITE, { at: 'reply', times: 3 }],
    ];
    let fired = 0;
    try {
      await progress(workload, 100, 'with the target up');
      for (const [pattern, options] of cuts) {
        const trap = proxy.cutOnStatement(pattern, options);
        await until(() => trap.count >= (options.times ?? 1), `${String(pattern)} cut ${options.at} to fire ${options.times} times`, PROGRESS_DEADLINE_MS);
        fired += trap.count;
        await progress(workload, 50, `after the cuts of ${String(pattern)} ${options.at}`);
      }
      proxy.restore();
      await progress(workload, 150, 'after the cuts stopped (no pool starvation)');
    } finally {
      await workload.stop();
    }
    const { ledger } = workload;
    const stats = pool.stats();
    process.stdout.write(`[scenario 2] ${ledger.summary()}; ${fired} cuts; replay failures ${JSON.stringify(stats.replayFailures)}\n`);
    expect(fired).toBe(12);
    expect(workload.anomalies).toEqual([]);
    expect(ledger.failures).toEqual([]); // the secondary never decides the caller's outcome
    expect(stats.replayFailures.target).toBeGreaterThan(0);
    expect(stats.unrecordedFailures).toBe(0);
    await pool.end();
    const result = await settle(db.source, db.target, ledger);
    process.stdout.write(`[scenario 2] drain: ${result.drain.logRows} log rows, ${result.drain.keys} keys repaired, ${result.skipped} transaction-control rows left pending\n`);
  });
});
