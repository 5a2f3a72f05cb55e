/**
 * The last options of `dualwrite verify`, run as the built command: --normalize (a target whose column types
 * changed), --source-replica / --target-replica (a real MariaDB replica, stale on purpose), and the verify jobs
 * `dualwrite status` lists (a job stopped by the library's verify with an AbortSignal).
 */
import mysql, { type Pool, type RowDataPacket } from 'mysql2/promise';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verify } from '../../src/migrate/verify.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { spawnReplicaPair, type ReplicaPair } from '../support/replication.js';
import { canSpawnServers } from '../support/servers.js';
import { closedPort, expectOneLineError, jsonLines, runCli } from './helpers.js';

const DIGITS = '(SELECT 0 n UNION SELECT 1 UNION SELECT 2 UNION SELECT 3 UNION SELECT 4 UNION SELECT 5 UNION SELECT 6 UNION SELECT 7 UNION SELECT 8 UNION SELECT 9)';

/** A derived table `s` of the integers 1..n (n at most 100,000) in a column `id`. */
function sequence(n: number): string {
  return `(SELECT a.n * 10000 + b.n * 1000 + c.n * 100 + d.n * 10 + e.n + 1 AS id FROM ${DIGITS} a, ${DIGITS} b, ${DIGITS} c, ${DIGITS} d, ${DIGITS} e) s WHERE s.id <= ${n}`;
}

async function rows(pool: Pool, sql: string, values: unknown[] = []): Promise<RowDataPacket[]> {
  return (await pool.query<RowDataPacket[]>(sql, values))[0];
}

async function tableExists(pool: Pool, table: string): Promise<boolean> {
  return (await rows(pool, 'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?', [table])).length > 0;
}

let db: TestDatabases;
let sides: string[];
let configDir: string;

beforeAll(async () => {
  db = await createTestDatabases('cli_verify_options');
  sides = ['--source', db.sourceUrl, '--target', db.targetUrl];
  configDir = mkdtempSync(join(tmpdir(), 'dualwrite-verify-options-'));
});
afterAll(async () => {
  rmSync(configDir, { recursive: true, force: true });
  await db?.drop();
});

describe('verify --normalize (column types changed between the sides)', () => {
  const ROWS = 600;
  const CHUNK = '100';
  // 600 rows in chunks of 100: six chunks hold rows (the seventh, open upward, is empty on both sides).
  const CHUNKS_WITH_ROWS = 6;

  beforeAll(async () => {
    // FLOAT → DOUBLE, DECIMAL(10,1) → DECIMAL(12,3), CHAR → VARCHAR (the target keeps the trailing spaces CHAR drops).
    await db.source.query('CREATE TABLE changed (id INT PRIMARY KEY, price FLOAT NOT NULL, amount DECIMAL(10,1) NOT NULL, code CHAR(12) NOT NULL, updated_at DATETIME NOT NULL)');
    await db.target.query('CREATE TABLE changed (id INT PRIMARY KEY, price DOUBLE NOT NULL, amount DECIMAL(12,3) NOT NULL, code VARCHAR(12) NOT NULL, updated_at DATETIME NOT NULL)');
    // The same literals on both sides, as an application writing to both would send them.
    for (const side of [db.source, db.target]) {
      await side.query(`INSERT INTO changed SELECT id, ROUND(id / 7, 3), ROUND(id / 3, 1), CONCAT('c', id, IF(id % 5 = 0, '  ', '')), '2024-06-01 00:00:00' FROM ${sequence(ROWS)}`);
    }
  });

  it('without a profile every row differs (exit 1); with float-digits=7,decimals,trailing-spaces the table is identical (exit 0) and each column says in how many chunks it was equal only after normalisation', async () => {
    const exact = await runCli(['verify', ...sides, '--tables', 'changed', '--chunk-rows', CHUNK, '--json']);
    expect(exact.code, exact.stderr).toBe(1);
    expect(jsonLines(exact.stdout).at(-1)).toMatchObject({ type: 'summary', identical: false, differences: ROWS, normalize: null });

    const normalised = await runCli(['verify', ...sides, '--tables', 'changed', '--chunk-rows', CHUNK, '--normalize', 'float-digits=7,decimals,trailing-spaces']);
    expect(normalised.code, normalised.stderr).toBe(0);
    expect(normalised.stderr).toMatch(/\(normalised: floats rounded to 7 significant digits; decimals compared by value; trailing spaces ignored\)/);
    const lines = normalised.stdout.split('\n');
    const tableLine = lines.findIndex((line) => /^changed: identical; 600 rows in 7 chunks/.test(line));
    expect(tableLine, normalised.stdout).toBeGreaterThanOrEqual(0);
    expect(lines.slice(tableLine + 1, tableLine + 4)).toEqual([
      `  equal only after normalisation: price (floats rounded to 7 significant digits) in ${CHUNKS_WITH_ROWS} chunks`,
      `  equal only after normalisation: amount (decimals compared by value) in ${CHUNKS_WITH_ROWS} chunks`,
      `  equal only after normalisation: code (trailing spaces ignored) in ${CHUNKS_WITH_ROWS} chunks`,
    ]);
    expect(normalised.stdout).toMatch(/^identical: 1 table match$/m);
  });

  it('still reports a real difference; --json carries the report\'s normalised entries as they are; the chunk holding the difference is not counted', async () => {
    await db.target.query('UPDATE changed SET amount = amount + 1 WHERE id = 150');
    try {
      const run = await runCli(['verify', ...sides, '--tables', 'changed', '--chunk-rows', CHUNK, '--normalize', 'float-digits=7,decimals,trailing-spaces', '--json']);
      expect(run.code, run.stderr).toBe(1);
      const lines = jsonLines(run.stdout);
      expect(lines.filter((line) => line.type === 'difference')).toEqual([{ type: 'difference', table: 'changed', kind: 'different', key: { id: '150' }, columns: ['amount'] }]);
      const summary = lines.at(-1) as { normalize: unknown; tables: { normalised: unknown }[] };
      expect(summary.normalize).toEqual({ floatDigits: 7, decimals: 'value', trailingSpaces: 'ignore' });
      expect(summary.tables[0]?.normalised).toEqual([
        { column: 'price', rules: 'floats rounded to 7 significant digits', chunksEqualOnlyAfterNormalisation: CHUNKS_WITH_ROWS - 1 },
        { column: 'amount', rules: 'decimals compared by value', chunksEqualOnlyAfterNormalisation: CHUNKS_WITH_ROWS - 1 },
        { column: 'code', rules: 'trailing spaces ignored', chunksEqualOnlyAfterNormalisation: CHUNKS_WITH_ROWS - 1 },
      ]);
    } finally {
      await db.target.query('UPDATE changed SET amount = amount - 1 WHERE id = 150');
    }
  });

  it('a rule left out leaves its column compared exactly', async () => {
    const run = await runCli(['verify', ...sides, '--tables', 'changed', '--chunk-rows', CHUNK, '--normalize', 'float-digits=7,decimals', '--json']);
    expect(run.code, run.stderr).toBe(1);
    const lines = jsonLines(run.stdout);
    const differing = lines.filter((line) => line.type === 'difference');
    // Exactly the rows whose CHAR value lost its trailing spaces, and only in that column.
    expect(differing).toHaveLength(ROWS / 5);
    expect(differing.every((line) => Number((line.key as { id: string }).id) % 5 === 0 && JSON.stringify(line.columns) === '["code"]')).toBe(true);
  });

  it('is read from the config file, as the command line text or as the library\'s profile object', async () => {
    for (const normalize of ['float-digits=7,decimals,trailing-spaces', { floatDigits: 7, decimals: 'value', trailingSpaces: 'ignore' }]) {
      const file = join(configDir, 'normalize.json');
      writeFileSync(file, JSON.stringify({ source: db.sourceUrl, target: db.targetUrl, tables: ['changed'], normalize }));
      const run = await runCli(['verify', '--config', file, '--chunk-rows', CHUNK]);
      expect(run.code, `${JSON.stringify(normalize)}: ${run.stderr}`).toBe(0);
      expect(run.stdout).toMatch(/^ {2}equal only after normalisation: code \(trailing spaces ignored\) in 6 chunks$/m);
    }
  });

  it('applies to an incremental verify too', async () => {
    const args = ['verify', ...sides, '--tables', 'changed', '--changed-column', 'updated_at', '--since', '2024-01-01 00:00:00', '--no-reverse-pass'];
    const exact = await runCli(args);
    expect(exact.code, exact.stderr).toBe(1);
    const normalised = await runCli([...args, '--normalize', 'float-digits=7,decimals,trailing-spaces', '--json']);
    expect(normalised.code, normalised.stderr).toBe(0);
    expect(jsonLines(normalised.stdout).at(-1)).toMatchObject({ type: 'summary', mode: 'incremental', identical: true, normalize: { floatDigits: 7 } });
  });

  it('refuses a DATETIME zone a server does not know, which would compare every DATETIME as NULL (one line, exit 2)', async () => {
    const line = expectOneLineError(
      await runCli(['verify', ...sides, '--tables', 'changed', '--normalize', 'temporal,datetime-zone=Europe/Nowhere']),
      /--normalize datetime-zone=Europe\/Nowhere: the source server mysql:\/\/\S+ does not know that time zone \(CONVERT_TZ gives NULL/,
    );
    expect(line).toMatch(/give the zone as an offset, e.g. datetime-zone=\+02:00$/);
  });
});

describe('verify --normalize and replica usage errors (one line, exit 2, before connecting)', () => {
  const rules = 'On the command line the rules are: float-digits=N \\(1-17; 7 for FLOAT against DOUBLE\\), decimals, temporal, datetime-zone=ZONE \\(with temporal\\), trailing-spaces, letter-case, json';
  const cases: [string[], RegExp][] = [
    [['--normalize', 'float-digits=20'], new RegExp(`--normalize float-digits=20: Invalid option --normalize\\.floatDigits: 20; expected a number of significant digits from 1 to 17 .*${rules}`)],
    [['--normalize', 'float-digits=seven'], /--normalize float-digits=seven: Invalid option --normalize\.floatDigits: "seven"; expected a number of significant digits/],
    [['--normalize', 'decimals,rounding'], new RegExp(`--normalize rounding: Invalid option --normalize\\.rounding: true; expected one of the rules floatDigits, decimals, temporal, datetimeZone, trailingSpaces, letterCase, json\\..*${rules}`)],
    [['--normalize', 'decimals=scale'], /--normalize decimals=scale: Invalid option --normalize\.decimals: "scale"; expected 'value' or no value/],
    [['--normalize', 'temporal,datetime-zone=+25:00'], /--normalize datetime-zone=\+25:00: Invalid option --normalize\.datetimeZone: "\+25:00"; expected a time zone such as '\+00:00'/],
    [['--normalize', 'float-digits'], /--normalize float-digits needs a value: the significant digits compared, e\.g\. float-digits=7/],
    [['--normalize', 'datetime-zone=+02:00'], /--normalize datetime-zone=\+02:00 sets the zone of DATETIME values compared by the rule temporal, which is not given: add temporal/],
    [['--normalize', 'json,letter-case,json'], /--normalize gives the rule json twice \(json and json\): give each rule once/],
    [['--normalize', ' , '], /--normalize names no rule: give at least one, as name or name=value/],
    [['--source-replica', 'mysql://root@replica/db', '--since', '2026-11-20', '--changed-column', 'updated_at'], /--source-replica belongs to a full verify: an incremental verify \(--since\) reads the primaries only; drop --source-replica/],
    [['--target-replica', 'mysql://root@replica/db', '--from-repair-log'], /--target-replica belongs to a full verify: a verify of the repair log \(--from-repair-log\) reads the primaries only/],
    [['--source', 'mysql://root@h/shop', '--source-replica', 'mysql://app:secret@replica:3306/shop_copy'], /--source-replica mysql:\/\/app:\*\*\*@replica:3306\/shop_copy names the database `shop_copy`, but --source names `shop`: .*put `shop` in the path of --source-replica/],
    [['--target', 'mysql://root@h/shop', '--target-replica', 'mysql://root@replica/'], /--target-replica mysql:\/\/root@replica\/ names no database/],
    [['--source-replica', 'postgres://x@h/db'], /--source-replica must be a mysql:\/\/ URL/],
  ];
  it.each(cases)('verify %j', async (args, pattern) => {
    const run = await runCli(['verify', ...args]);
    const line = expectOneLineError(run, pattern);
    expect(line).toMatch(/\(see `dualwrite verify --help`\)$/);
    expect(run.stderr).not.toContain('secret');
  });

  it('a bad normalize value in the config file gets the same messages', async () => {
    const cases: [unknown, RegExp][] = [
      [{ floatDigits: 0 }, /--normalize floatDigits=0: Invalid option --normalize\.floatDigits: 0; expected a number of significant digits from 1 to 17/],
      [{ json: 'yes' }, /--normalize json=yes: Invalid option --normalize\.json: "yes"; expected 'document' or no value/],
      [7, /"normalize" in .* must be a comma-separated list of rules, name or name=value \(or, in the config file, a JSON object\), got 7/],
      [{ temporal: ['instant'] }, /the value of "temporal" must be a string, a number or true\/false/],
    ];
    for (const [normalize, pattern] of cases) {
      const file = join(configDir, 'bad-normalize.json');
      writeFileSync(file, JSON.stringify({ normalize }));
      expectOneLineError(await runCli(['verify', '--config', file]), pattern);
    }
  });

  it('--help lists the flags', async () => {
    const help = (await runCli(['verify', '--help'])).stdout;
    for (const option of ['--normalize RULES', '--source-replica URL', '--target-replica URL', 'normalize, sourceReplica, targetReplica']) expect(help).toContain(option);
  });
});

describe('verify --source-replica: checks before reading', () => {
  beforeAll(async () => {
    await db.source.query('CREATE TABLE only_source (id INT PRIMARY KEY)');
  });

  it('an unreachable replica fails in one line naming the flag, its password redacted', async () => {
    const port = await closedPort();
    const replica = `mysql://root:secret@127.0.0.1:${port}/${db.name}`;
    const run = await runCli(['verify', ...sides, '--tables', 'only_source', '--source-replica', replica]);
    expectOneLineError(run, new RegExp(`cannot connect to the source replica server mysql://root:\\*\\*\\*@127\\.0\\.0\\.1:${port}/${db.name} .*ECONNREFUSED.*check the host and port in --source-replica`));
    expect(run.stderr).not.toContain('secret');
  });

  it('a replica without a table asked for is refused, naming it', async () => {
    // The target's database has the same name but not the table: as a replica that has not caught up.
    const line = expectOneLineError(
      await runCli(['verify', ...sides, '--tables', 'only_source', '--source-replica', db.targetUrl]),
      /the source replica mysql:\/\/\S+ has no table `only_source` in `[^`]+`: check that --source-replica points at a replica of --source/,
    );
    expect(line).toMatch(/leave those tables out with --tables/);
  });

  it('a replica given in the config file is ignored, with a notice, by an incremental verify', async () => {
    const file = join(configDir, 'replica.json');
    writeFileSync(file, JSON.stringify({ source: db.sourceUrl, target: db.targetUrl, sourceReplica: `mysql://root@127.0.0.1:${await closedPort()}/${db.name}` }));
    const run = await runCli(['verify', '--config', file, '--tables', 'changed', '--changed-column', 'updated_at', '--since', '2030-01-01 00:00:00', '--no-reverse-pass']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^verify: the config file's sourceReplica is not used: an incremental verify \(--since\) reads the primaries only$/m);
  });
});

describe.skipIf(!canSpawnServers())('verify --source-replica / --target-replica with a real, stale replica', () => {
  const ROWS = 2000;
  let pair: ReplicaPair;
  let primaryPool: Pool;
  let replicaPool: Pool;
  let primaryUrl: string;
  let replicaUrl: string;

  beforeAll(async () => {
    pair = await spawnReplicaPair('cli-verify', db.name);
    ({ primaryUrl, replicaUrl } = pair);
    primaryPool = mysql.createPool({ uri: primaryUrl, connectionLimit: 4 });
    // The same table on the spawned primary (replicated) and on the run's source and target.
    for (const pool of [primaryPool, db.source, db.target]) {
      await pool.query('CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, n INT NOT NULL)');
      await pool.query(`INSERT INTO t SELECT id, CONCAT('row ', id), id % 7 FROM ${sequence(ROWS)}`);
    }
    await pair.caughtUp('t', ROWS);
    replicaPool = mysql.createPool({ uri: replicaUrl, connectionLimit: 2 });
    // The replica stops applying: the rows changed from now on (on every side, as dual-writes would) are stale there.
    await replicaPool.query('STOP SLAVE SQL_THREAD');
    for (const pool of [primaryPool, db.source, db.target]) {
      await pool.query('UPDATE t SET n = n + 100 WHERE id IN (5, 250, 1001, 1999)');
      await pool.query('DELETE FROM t WHERE id = 1500');
    }
  });

  afterAll(async () => {
    await Promise.allSettled([primaryPool?.end(), replicaPool?.end()]);
    await pair?.stop();
  });

  it('--source-replica: the first pass reads the stale replica, its five candidates are resolved on the primaries, exit 0', async () => {
    const run = await runCli(['verify', '--source', primaryUrl, '--target', db.targetUrl, '--source-replica', replicaUrl, '--tables', 't', '--chunk-rows', '300']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`(first pass on the source replica ${replicaUrl}; differences re-read on the primaries)`);
    // The rows counted are the first pass's: the stale replica still holds the row deleted since.
    expect(run.stdout).toMatch(/^t: identical; 2,000 rows in 7 chunks, .*; 5 in-flight differences resolved on re-read$/m);

    const json = await runCli(['verify', '--source', primaryUrl, '--target', db.targetUrl, '--source-replica', replicaUrl, '--tables', 't', '--chunk-rows', '300', '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(jsonLines(json.stdout).at(-1)).toMatchObject({
      type: 'summary',
      replicas: { source: replicaUrl, target: null },
      identical: true,
      tables: [{ table: 't', candidates: 5, resolvedOnRecheck: 5, missing: 0, extra: 0, different: 0 }],
    });
  });

  it('--target-replica with a --job: candidates resolved on the target primary, checkpoints saved beside the replica, and a real difference still reported', async () => {
    await db.source.query("UPDATE t SET name = 'changed on the source only' WHERE id = 42");
    try {
      const run = await runCli(['verify', '--source', db.sourceUrl, '--target', primaryUrl, '--target-replica', replicaUrl, '--tables', 't', '--chunk-rows', '300', '--job', 'replica-job', '--checkpoint-every-ms', '0', '--json']);
      expect(run.code, run.stderr).toBe(1);
      const lines = jsonLines(run.stdout);
      expect(lines.filter((line) => line.type === 'difference')).toEqual([{ type: 'difference', table: 't', kind: 'different', key: { id: '42' }, columns: ['name'] }]);
      expect(lines.at(-1)).toMatchObject({ replicas: { source: null, target: replicaUrl }, tables: [{ candidates: 6, resolvedOnRecheck: 5, different: 1 }] });
      // The job completed: its checkpoints (on the target primary) are gone.
      expect(await rows(primaryPool, "SELECT 1 FROM dualwrite_verify_state WHERE job = 'replica-job'")).toEqual([]);
    } finally {
      await db.source.query("UPDATE t SET name = 'row 42' WHERE id = 42");
    }
  });
});

describe('status lists the verify jobs stopped before they completed', () => {
  let status: TestDatabases;

  beforeAll(async () => {
    status = await createTestDatabases('cli_verify_status');
    for (const side of [status.source, status.target]) {
      await side.query('CREATE TABLE a_first (id INT PRIMARY KEY, v INT NOT NULL)');
      await side.query(`INSERT INTO a_first SELECT id, id FROM ${sequence(100)}`);
      await side.query('CREATE TABLE big (id INT PRIMARY KEY, v INT NOT NULL)');
      await side.query(`INSERT INTO big SELECT id, id FROM ${sequence(30_000)}`);
      await side.query('CREATE TABLE c_last (id INT PRIMARY KEY, v INT NOT NULL)');
    }
    await status.target.query('UPDATE big SET v = 0 WHERE id = 300');
  });
  afterAll(() => status?.drop());

  it('before any verify job: none, and the state table is not created', async () => {
    const run = await runCli(['status', '--target', status.targetUrl]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^verify jobs: none \(no state table `[^`]+`\.`dualwrite_verify_state` on the target: no verify --job has run there\)$/m);
    expect(await tableExists(status.target, 'dualwrite_verify_state')).toBe(false);
  });

  it('a job aborted in its second table: listed with each table\'s checkpoint (human and --json), then gone once the job completes', async () => {
    const controller = new AbortController();
    await expect(
      verify({
        source: status.source,
        target: status.target,
        tables: ['a_first', 'big', 'c_last'],
        chunkRows: 20,
        // Reported at once (no delayed re-reads): the abort lands a chunk or two after the difference.
        recheck: { delayMs: 0, attempts: 0 },
        job: 'aborted',
        checkpointEveryMs: 0,
        signal: controller.signal,
        onDifference: () => controller.abort(new Error('stopped by the test')),
      }),
    ).rejects.toThrow('stopped by the test');
    const [saved] = await rows(status.target, "SELECT last_key FROM dualwrite_verify_state WHERE job = 'aborted' AND table_name = 'big'");
    const after = (JSON.parse(String(saved?.last_key)) as string[])[0];
    expect(Number(after)).toBeGreaterThanOrEqual(300);
    expect(Number(after)).toBeLessThan(30_000);

    const human = await runCli(['status', '--target', status.targetUrl]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(
      /^verify job "aborted": unfinished \(stopped, or still running\), 1 of 2 tables with checkpoints done, last saved \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(checkpoints in `[^`]+`\.`dualwrite_verify_state`; run the same verify --job aborted to continue, or add --restart to start over\)$/m,
    );
    expect(human.stdout).toMatch(/^ {2}a_first: done, 100 rows checked in 6 chunks, no difference; saved \S+ \S+ UTC$/m);
    expect(human.stdout).toMatch(new RegExp(`^  big: in progress, ${Number(after).toLocaleString('en-US')} rows checked in \\d+ chunks, 1 difference \\(0 missing, 0 extra, 1 different\\), next after key ${after}; saved \\S+ \\S+ UTC$`, 'm'));
    expect(human.stdout).not.toMatch(/c_last/);

    const json = jsonLines((await runCli(['status', '--target', status.targetUrl, '--json'])).stdout);
    expect(json.filter((line) => line.type === 'verify_checkpoint').map((line) => [line.job, line.table, line.done, line.after, line.different])).toEqual([
      ['aborted', 'a_first', true, null, 0],
      ['aborted', 'big', false, [after], 1],
    ]);
    expect(json.at(-1)).toMatchObject({ type: 'summary', command: 'status', verifyStateTable: true, verifyJobs: ['aborted'] });
    // --tables filters the verify checkpoints too.
    expect((await runCli(['status', '--target', status.targetUrl, '--tables', 'c_*'])).stdout).toMatch(/^verify jobs: none unfinished for these tables/m);

    // The same job run to its end by the command: it continues, completes, and deletes its checkpoints.
    const finish = await runCli(['verify', '--source', status.sourceUrl, '--target', status.targetUrl, '--tables', 'a_first,big,c_last', '--chunk-rows', '20', '--job', 'aborted']);
    expect(finish.code, finish.stderr).toBe(1);
    expect(finish.stdout).toMatch(new RegExp(`^big: 1 difference .*; resumed after key id=${after} \\(counts include the earlier run's\\)$`, 'm'));
    const after2 = await runCli(['status', '--target', status.targetUrl]);
    expect(after2.stdout).toMatch(/^verify jobs: none unfinished \(a verify --job run that completes deletes its checkpoints\)$/m);
    expect(after2.stdout).not.toMatch(/verify job "aborted"/);
  });
});
