/**
 * The application process of scenario 7: a `source_first` dual-write pool (the library's defaults) and the seeded
 * workload, journaling every write and every acknowledgement to a file (`app-journal.ts`) until it is killed.
 * Started by the scenario with `child_process.fork(…, { execArgv: ['--import', 'tsx'] })`; its one argument is a JSON
 * {@link AppChildConfig}. It never stops on its own.
 */
import { createPool } from '../../src/promise.js';
import { JournalLedger } from './app-journal.js';
import { startWorkload } from './workload.js';

/** What the parent passes. */
export interface AppChildConfig {
  /** The source database's URL. */
  readonly sourceUrl: string;
  /** The target database's URL. */
  readonly targetUrl: string;
  /** The workload's seed. */
  readonly seed: number;
  /** Prefix of the callers' tags, unique per run. */
  readonly tagPrefix: string;
  /** The journal file. */
  readonly journal: string;
  /** Run the pool with `intents: true` (scenario 7 with intent rows). Default: the library's default (off). */
  readonly intents?: boolean;
}

const config = JSON.parse(process.argv[2] ?? '') as AppChildConfig;
const pool = createPool({
  mode: 'source_first',
  source: { uri: config.sourceUrl, connectionLimit: 20 },
  target: { uri: config.targetUrl, connectionLimit: 20 },
  ...(config.intents === true ? { intents: true } : {}),
});
const ledger = new JournalLedger(config.journal);
const workload = startWorkload(pool, { seed: config.seed, tagPrefix: config.tagPrefix, ledger, journal: ledger });
// Nothing a caller sees should be unexplained: report it on stderr for the parent's output.
setInterval(() => {
  if (workload.anomalies.length > 0) process.stderr.write(`anomalies: ${JSON.stringify(workload.anomalies)}\n`);
}, 500).unref();
