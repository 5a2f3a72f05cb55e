/**
 * The modes of `dualwrite verify`, run as the built command: resumable (--job, killed with SIGKILL and run again),
 * incremental (--since/--changed-column), the keys of the pool's repair log (--from-repair-log), and the usage
 * errors of their flags.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import type { RowDataPacket } from 'mysql2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/promise.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { seeded } from '../support/random.js';
import { expectOneLineError, finished, jsonLines, runCli, startCli, type CliRun } from './helpers.js';

const ROWS = 30_000;
const DIGITS = '(SELECT 0 n UNION SELECT 1 UNION SELECT 2 UNION SELECT 3 UNION SELECT 4 UNION SELECT 5 UNION SELECT 6 UNION SELECT 7 UNION SELECT 8 UNION SELECT 9)';

/** A derived table `s` of the integers 1..n (n at most 100,000) in a column `id`. */
function sequence(n: number): string {
  return `(SELECT a.n * 10000 + b.n * 1000 + c.n * 100 + d.n * 10 + e.n + 1 AS id FROM ${DIGITS} a, ${DIGITS} b, ${DIGITS} c, ${DIGITS} d, ${DIGITS} e) s WHERE s.id <= ${n}`;
}

let db: TestDatabases;
let sides: string[];

async function rows(pool: TestDatabases['source'], sql: string, values: unknown[] = []): Promise<RowDataPacket[]> {
  return (await pool.query<RowDataPacket[]>(sql, values))[0];
}

async function tableExists(pool: TestDatabases['source'], table: string): Promise<boolean> {
  return (await rows(pool, 'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?', [table])).length > 0;
}

/** `kind table key` for a difference JSON line, e.g. `different big id=17`. */
function show(line: Record<string, unknown>): string {
  const key = Object.entries(line.key as Record<string, string>)
    .map(([column, value]) => `${column}=${value}`)
    .join(',');
  return `${String(line.kind)} ${String(line.table)} ${key}`;
}

/** The complete JSON lines of a run's stdout (a killed run's last line could be cut short). */
function completeJsonLines(text: string): Record<string, unknown>[] {
  return jsonLines(text.slice(0, text.lastIndexOf('\n') + 1));
}

/** Collects the child's stdout; `until` polls `test` on the text so far (every 20 ms) and resolves once it holds. */
function watchStdout(child: ChildProcessWithoutNullStreams): { text: () => string; until: (test: (text: string) => boolean | Promise<boolean>) => Promise<void> } {
  let text = '';
  child.stdout.on('data', (chunk: Buffer | string) => (text += chunk.toString()));
  return {
    text: () => text,
    until: async (test) => {
      for (;;) {
        if (await test(text)) return;
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the command ended before the awaited moment: ${text}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

beforeAll(async () => {
  db = await createTestDatabases('cli_verify_modes');
  sides = ['--source', db.sourceUrl, '--target', db.targetUrl];
  for (const side of [db.source, db.target]) {
    await side.query('CREATE TABLE big (id INT PRIMARY KEY, label VARCHAR(40) NOT NULL, n INT NOT NULL)');
    await side.query(`INSERT INTO big SELECT id, CONCAT('row ', id), id % 97 FROM ${sequence(ROWS)}`);
  }
});
afterAll(() => db?.drop());

describe('verify --job (resumable)', () => {
  const injected = new Set<string>();
  const counts = { missing: 0, extra: 0, different: 0 };

  beforeAll(async () => {
    // Differences spread over the whole table: changed on the target, missing there, extra there.
    const random = seeded(4);
    const ids = new Set<number>();
    while (ids.size < 60) ids.add(1 + Math.floor(random() * ROWS));
    const [different, missing, extra] = [[...ids].slice(0, 40), [...ids].slice(40, 52), [...ids].slice(52)];
    for (const id of different) await db.target.query('UPDATE big SET n = n + 1 WHERE id = ?', [id]);
    for (const id of missing) await db.target.query('DELETE FROM big WHERE id = ?', [id]);
    for (const id of extra) await db.source.query('DELETE FROM big WHERE id = ?', [id]);
    for (const [kind, list] of [['different', different], ['missing', missing], ['extra', extra]] as const) {
      for (const id of list) injected.add(`${kind} big id=${id}`);
      counts[kind] = list.length;
    }
  });

  it('without --job writes nothing anywhere, and Ctrl-C says how to make it resumable', async () => {
    const child = startCli(['verify', ...sides, '--tables', 'big', '--chunk-rows', '20']);
    const done = finished(child);
    const out = watchStdout(child);
    await out.until((text) => /^(different|missing|extra) +big/m.test(text));
    child.kill('SIGINT');
    const run = await done;
    expect(run.code, run.stderr).toBe(130);
    expect(run.stderr).toMatch(/interrupted; nothing was written\. Run it again to compare from the start; give --job NAME to make a verify resumable/);
    expect(await tableExists(db.target, 'dualwrite_verify_state')).toBe(false);
  });

  it('killed (SIGKILL) in the middle, the same command continues after the checkpoint: together the runs print exactly the injected differences, with the final counts', async () => {
    const args = ['verify', ...sides, '--tables', 'big', '--chunk-rows', '20', '--job', 'killed', '--checkpoint-every-ms', '0', '--json'];
    const child = startCli(args);
    const done = finished(child);
    const out = watchStdout(child);
    // Killed once a checkpoint past some differences was saved.
    await out.until(async (text) => {
      if (!/"type":"difference"/.test(text) || !(await tableExists(db.target, 'dualwrite_verify_state'))) return false;
      return (await rows(db.target, "SELECT 1 FROM dualwrite_verify_state WHERE job = 'killed' AND last_key IS NOT NULL AND missing + extra + different > 0")).length > 0;
    });
    child.kill('SIGKILL');
    const first = await done;
    expect(first.signal).toBe('SIGKILL');
    const [saved] = await rows(db.target, "SELECT last_key, done FROM dualwrite_verify_state WHERE job = 'killed' AND table_name = 'big'");
    expect(saved?.done).toBe(0);
    const savedKey = JSON.parse(String(saved?.last_key)) as string[];
    const firstDifferences = completeJsonLines(first.stdout).filter((line) => line.type === 'difference');
    expect(firstDifferences.length).toBeGreaterThan(0);
    expect(firstDifferences.length).toBeLessThan(injected.size);

    const second = await runCli(args);
    expect(second.code, second.stderr).toBe(1);
    const lines = jsonLines(second.stdout);
    const summary = lines.at(-1) as { type: string; job: string; differences: number; tables: Record<string, unknown>[] };
    expect(summary).toMatchObject({ type: 'summary', command: 'verify', mode: 'full', job: 'killed', identical: false, differences: injected.size });
    expect(summary.tables[0]).toMatchObject({ table: 'big', status: 'verified', resumedAfter: { id: savedKey[0] }, rowsChecked: ROWS - counts.extra, ...counts });
    const secondDifferences = lines.filter((line) => line.type === 'difference');
    expect(secondDifferences.every((line) => injected.has(show(line)))).toBe(true);
    expect(new Set([...firstDifferences, ...secondDifferences].map(show))).toEqual(injected);
    // It resumed: this run compared fewer keys than the whole table holds differences.
    expect(secondDifferences.length).toBeLessThan(injected.size);
    // The run completed: its checkpoints are gone.
    expect(await rows(db.target, "SELECT 1 FROM dualwrite_verify_state WHERE job = 'killed'")).toEqual([]);
  });

  it('Ctrl-C with --job says how to continue; the next run says where it resumed; --restart forgets the checkpoints', async () => {
    const args = ['verify', ...sides, '--tables', 'big', '--chunk-rows', '20', '--job', 'stopped', '--checkpoint-every-ms', '0'];
    const interrupt = async (): Promise<CliRun> => {
      const child = startCli(args);
      const done = finished(child);
      const out = watchStdout(child);
      await out.until(async (text) => /^(different|missing|extra) +big/m.test(text) && (await tableExists(db.target, 'dualwrite_verify_state')) && (await rows(db.target, "SELECT 1 FROM dualwrite_verify_state WHERE job = 'stopped' AND last_key IS NOT NULL")).length > 0);
      child.kill('SIGINT');
      return done;
    };
    const stopped = await interrupt();
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toMatch(/interrupted; the chunks finished so far are kept in job "stopped"'s checkpoints in `[^`]+`\.`dualwrite_verify_state` on the target: run the same command again \(without --restart\) to continue after them/);
    const [saved] = await rows(db.target, "SELECT last_key FROM dualwrite_verify_state WHERE job = 'stopped' AND table_name = 'big'");
    const savedKey = (JSON.parse(String(saved?.last_key)) as string[])[0];

    const resumed = await runCli(args);
    expect(resumed.code, resumed.stderr).toBe(1);
    expect(resumed.stdout).toMatch(
      new RegExp(`^big: ${injected.size} differences \\(${counts.missing} missing, ${counts.extra} extra, ${counts.different} different\\); [\\d,]+ rows in [\\d,]+ chunks, .*; resumed after key id=${savedKey} \\(counts include the earlier run's\\)$`, 'm'),
    );

    // Stopped again, then --restart: every difference is found again by this run alone.
    expect((await interrupt()).code).toBe(130);
    const restarted = await runCli([...args, '--restart', '--json']);
    expect(restarted.code, restarted.stderr).toBe(1);
    const lines = jsonLines(restarted.stdout);
    expect(new Set(lines.filter((line) => line.type === 'difference').map(show))).toEqual(injected);
    expect((lines.at(-1) as { tables: Record<string, unknown>[] }).tables[0]).not.toHaveProperty('resumedAfter');
  });
});

describe('verify --since --changed-column (incremental)', () => {
  const since = '2024-06-01 00:00:00';

  beforeAll(async () => {
    for (const side of [db.source, db.target]) {
      await side.query('CREATE TABLE changes (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL, updated_at DATETIME(6) NOT NULL, KEY by_updated (updated_at))');
      await side.query('CREATE TABLE changes_noidx (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL, updated_at DATETIME(6) NOT NULL)');
      for (const table of ['changes', 'changes_noidx']) {
        await side.query(`INSERT INTO ${table} SELECT id, CONCAT('v', id), '2024-01-01 00:00:00' FROM ${sequence(2000)}`);
      }
    }
    // Differences of the target only, older than --since: not seen by an incremental run.
    await db.target.query("UPDATE changes SET v = 'old drift' WHERE id = 10");
    // After --since on the source: an update and an insert the target did not get, and a delete.
    await db.source.query("UPDATE changes SET v = 'new', updated_at = '2024-06-02 08:00:00.5' WHERE id = 20");
    await db.source.query("INSERT INTO changes VALUES (5000, 'inserted', '2024-06-03 00:00:00')");
    await db.source.query('DELETE FROM changes WHERE id = 30');
    await db.source.query("UPDATE changes_noidx SET v = 'new', updated_at = '2024-06-01 00:00:00' WHERE id = 7");
  });

  async function utcNow(): Promise<string> {
    const [row] = await rows(db.source, "SELECT DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%d %H:%i:%s.%f') AS now");
    return String(row?.now);
  }

  it('finds the rows changed since --since and the rows deleted on the source, not an older difference, and prints nextSince', async () => {
    const before = await utcNow();
    const run = await runCli(['verify', ...sides, '--tables', 'changes,changes_noidx', '--changed-column', 'updated_at', '--since', since]);
    expect(run.code, run.stderr).toBe(1);
    const differences = run.stdout.split('\n').filter((line) => /^(different|missing|extra) /.test(line));
    expect(differences.map((line) => line.replace(/ +/g, ' ')).sort()).toEqual(
      ['different changes id=20 columns: v, updated_at', 'different changes_noidx id=7 columns: v, updated_at', 'extra changes id=30', 'missing changes id=5000'].sort(),
    );
    expect(run.stdout).toMatch(/^changes: 3 differences \(1 missing, 1 extra, 1 different\); 2 changed rows compared \(read through an index on updated_at\), 2,000 target keys looked up for deletes/m);
    expect(run.stdout).toMatch(/^changes_noidx: 1 difference .*1 changed rows compared \(no index starts with updated_at: the whole table was read; add one for large tables\)/m);
    const next = /^nextSince: (\S+ \S+) {2}\(the next run: --changed-column updated_at --since '(\S+ \S+)'\)$/m.exec(run.stdout);
    expect(next?.[1]).toBe(next?.[2]);
    expect(next?.[1]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/);
    expect((next?.[1] ?? '') >= before).toBe(true);
  });

  it('--no-reverse-pass skips the deletes; --json carries nextSince; an ISO 8601 --since is read as UTC; --overlap-ms moves nextSince back', async () => {
    const before = await utcNow();
    const json = await runCli(['verify', ...sides, '--tables', 'changes*', '--changed-column', 'updated_at', '--since', '2024-06-01T02:00:00+02:00', '--no-reverse-pass', '--json']);
    expect(json.code, json.stderr).toBe(1);
    const lines = jsonLines(json.stdout);
    expect(new Set(lines.filter((line) => line.type === 'difference').map(show))).toEqual(new Set(['different changes id=20', 'missing changes id=5000', 'different changes_noidx id=7']));
    const summary = lines.at(-1) as { nextSince: string; tables: { table: string; targetKeysScanned: number; changedRows: number; forwardOrder: string }[] };
    expect(summary).toMatchObject({ type: 'summary', command: 'verify', mode: 'incremental', changedColumn: 'updated_at', since, identical: false, differences: 3 });
    expect(summary.tables.map((table) => [table.table, table.changedRows, table.targetKeysScanned, table.forwardOrder])).toEqual([
      ['changes', 2, 0, 'changedColumn'],
      ['changes_noidx', 1, 0, 'primaryKey'],
    ]);
    expect(summary.nextSince >= before).toBe(true);

    // From that nextSince nothing changed: identical (without the reverse pass, which would find id 30 again).
    const later = await runCli(['verify', ...sides, '--tables', 'changes*', '--changed-column', 'updated_at', '--since', summary.nextSince, '--no-reverse-pass', '--overlap-ms', '3600000', '--json']);
    expect(later.code, later.stderr).toBe(0);
    const laterSummary = jsonLines(later.stdout).at(-1) as { identical: boolean; nextSince: string };
    expect(laterSummary.identical).toBe(true);
    // An hour of overlap: the next starting point lies before this run began.
    expect(laterSummary.nextSince < summary.nextSince).toBe(true);
  });

  it('refuses a table without the changed column, naming it, before comparing anything (one line, exit 2)', async () => {
    const line = expectOneLineError(await runCli(['verify', ...sides, '--tables', 'changes,big', '--changed-column', 'updated_at', '--since', since]), /--changed-column updated_at: table `big` of the source database `[^`]+` has no DATETIME or TIMESTAMP column updated_at/);
    expect(line).toMatch(/name the tables that have it in --tables/);
    expectOneLineError(await runCli(['verify', ...sides, '--tables', 'changes', '--changed-column', 'v', '--since', since]), /table `changes` .* has no DATETIME or TIMESTAMP column v/);
  });
});

describe('verify --from-repair-log', () => {
  let pendingBefore: number;

  async function pending(pool: TestDatabases['source']): Promise<number> {
    return Number((await rows(pool, 'SELECT COUNT(*) AS n FROM dualwrite_repair_log WHERE repaired_at IS NULL'))[0]?.n);
  }

  beforeAll(async () => {
    for (const side of [db.source, db.target]) {
      await side.query('CREATE TABLE logged (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20) NOT NULL)');
      await side.query(`INSERT INTO logged SELECT id, CONCAT('row ', id) FROM ${sequence(200)}`);
      await side.query('CREATE TABLE logged_whole (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL)');
      await side.query(`INSERT INTO logged_whole SELECT id, CONCAT('row ', id) FROM ${sequence(50)}`);
    }
    // source_first while the target's tables are away: every replay fails and lands in the source's repair log.
    await db.target.query('RENAME TABLE logged TO logged_away, logged_whole TO logged_whole_away');
    const sourceFirst = createPool({ source: { uri: db.sourceUrl, connectionLimit: 2 }, target: { uri: db.targetUrl, connectionLimit: 2 }, mode: 'source_first', circuitBreaker: false });
    try {
      await sourceFirst.query("INSERT INTO logged (v) VALUES ('new a'), ('new b')"); // ids 201 and 202, logged by key
      await sourceFirst.query("REPLACE INTO logged (id, v) VALUES (5, 'replaced')"); // row image, logged by key
      await sourceFirst.query("REPLACE INTO logged (id, v) VALUES (7, 'row 7')"); // logged, though the row stays equal
      await sourceFirst.query("REPLACE INTO logged (id, v) VALUES (9, 'once')");
      await sourceFirst.query("REPLACE INTO logged (id, v) VALUES (9, 'twice')"); // the same key in two log rows
      await sourceFirst.query("UPDATE logged_whole SET v = 'whole' WHERE id = 3"); // a statement: logged without keys
    } finally {
      await sourceFirst.end();
    }
    await db.target.query('RENAME TABLE logged_away TO logged, logged_whole_away TO logged_whole');
    // target_first while the source's table is away: the failure lands in the target's repair log.
    await db.target.query('ALTER TABLE logged AUTO_INCREMENT = 1000');
    await db.source.query('RENAME TABLE logged TO logged_away');
    const targetFirst = createPool({ source: { uri: db.sourceUrl, connectionLimit: 2 }, target: { uri: db.targetUrl, connectionLimit: 2 }, mode: 'target_first', circuitBreaker: false });
    try {
      await targetFirst.query("INSERT INTO logged (v) VALUES ('on the target')"); // id 1000
    } finally {
      await targetFirst.end();
    }
    await db.source.query('RENAME TABLE logged_away TO logged');
    // A difference no log row names, and a logged key whose log row was repaired already: neither is checked.
    await db.target.query("UPDATE logged SET v = 'drift' WHERE id = 100");
    const log = await rows(db.source, 'SELECT id, primary_keys FROM dualwrite_repair_log ORDER BY id');
    const five = log.filter((row) => row.primary_keys !== null && (JSON.parse(String(row.primary_keys)) as { id: unknown }[]).some((key) => String(key.id) === '5'));
    expect(five).toHaveLength(1);
    await db.source.query('UPDATE dualwrite_repair_log SET repaired_at = UTC_TIMESTAMP(6) WHERE id = ?', [five[0]?.id]);
    pendingBefore = (await pending(db.source)) + (await pending(db.target));
  });

  it('checks exactly the keys of the pending log rows on both sides (each once; a row without keys: the whole table), marks nothing, exits 1', async () => {
    const run = await runCli(['verify', ...sides, '--from-repair-log', '--json']);
    expect(run.code, run.stderr).toBe(1);
    const lines = jsonLines(run.stdout);
    const differences = lines.filter((line) => line.type === 'difference').map(show);
    expect(differences.sort()).toEqual(['different logged id=9', 'different logged_whole id=3', 'extra logged id=1000', 'missing logged id=201', 'missing logged id=202'].sort());
    const summary = lines.at(-1) as { tables: Record<string, unknown>[] };
    expect(summary).toMatchObject({ type: 'summary', command: 'verify', mode: 'repair-log', logTable: 'dualwrite_repair_log', logRows: { source: 5, target: 1 }, skipped: [], identical: false, differences: 5 });
    expect(summary.tables.map((table) => [table.table, table.whole, table.keysChecked, table.logRows])).toEqual([
      ['logged', false, 5, { source: 4, target: 1 }],
      ['logged_whole', true, 0, { source: 1, target: 0 }],
    ]);
    expect((await pending(db.source)) + (await pending(db.target))).toBe(pendingBefore);

    const human = await runCli(['verify', ...sides, '--from-repair-log', '--tables', 'logged']);
    expect(human.code, human.stderr).toBe(1);
    expect(human.stdout).toMatch(/^repair log on the source \(`[^`]+`\.`dualwrite_repair_log`\): 5 pending rows$/m);
    expect(human.stdout).toMatch(/^repair log on the target \(`[^`]+`\.`dualwrite_repair_log`\): 1 pending row$/m);
    expect(human.stdout).toMatch(/^logged: 4 differences \(2 missing, 1 extra, 1 different\); 5 logged keys checked \(log rows: 4 on the source, 1 on the target\)/m);
    expect(human.stdout).not.toMatch(/logged_whole/);
    expect(human.stdout).toMatch(/^NOT identical: 4 rows differ$/m);
  });

  it('with nothing pending for the tables asked, or no log table of that name, there is nothing to check (exit 0)', async () => {
    const none = await runCli(['verify', ...sides, '--from-repair-log', '--tables', 'big']);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toMatch(/nothing to check: no pending repair-log row names a table matching --tables/);
    const other = await runCli(['verify', ...sides, '--from-repair-log', '--repair-log-table', 'other_log']);
    expect(other.code, other.stderr).toBe(0);
    expect(other.stdout).toMatch(/nothing to check: no repair log `other_log` on either side/);
  });

  it('a log row that names no table cannot be checked: reported, and the run is not identical (exit 1)', async () => {
    await db.target.query(
      "INSERT INTO dualwrite_repair_log (created_at, kind, secondary_side, mode, statement_digest, statement) VALUES (UTC_TIMESTAMP(6), 'statement', 'source', 'target_first', REPEAT('0', 64), 'CALL p()')",
    );
    try {
      const run = await runCli(['verify', ...sides, '--from-repair-log', '--tables', 'logged_whole']);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stdout).toMatch(/^logged_whole: 1 difference/m);
      expect(run.stdout).toMatch(/^not checked: repair-log row \d+ on the target: the log row names no table/m);
      expect(run.stdout).toMatch(/^NOT identical: 1 row differs; 1 repair-log row could not be checked \(listed above\)/m);
    } finally {
      await db.target.query('DELETE FROM dualwrite_repair_log WHERE table_name IS NULL');
    }
  });
});

describe('verify usage errors (one line, exit 2, before connecting)', () => {
  const cases: [string[], RegExp][] = [
    [['--since', '2026-11-20 10:00:00'], /--since needs --changed-column: name the updated_at-style column/],
    [['--changed-column', 'updated_at'], /--changed-column needs --since: give the UTC time to check from/],
    [['--from-repair-log', '--since', '2026-11-20', '--changed-column', 'updated_at'], /--from-repair-log and --since exclude each other/],
    [['--from-repair-log', '--changed-column', 'updated_at'], /--from-repair-log and --changed-column exclude each other/],
    [['--job', 'j', '--since', '2026-11-20', '--changed-column', 'updated_at'], /--job makes a full verify resumable; an incremental verify \(--since\) keeps no checkpoint/],
    [['--job', 'j', '--from-repair-log'], /--job makes a full verify resumable; a verify of the repair log \(--from-repair-log\) keeps no checkpoint/],
    [['--restart'], /--restart belongs to a resumable verify: give it with --job NAME/],
    [['--checkpoint-every-ms', '0'], /--checkpoint-every-ms belongs to a resumable verify/],
    [['--no-reverse-pass'], /--no-reverse-pass belongs to an incremental verify: give it with --since and --changed-column/],
    [['--overlap-ms', '1000'], /--overlap-ms belongs to an incremental verify/],
    [['--repair-log-table', 'my_log'], /--repair-log-table names the log read by --from-repair-log/],
    [['--from-repair-log', '--repair-log-table', 'my log'], /--repair-log-table must be a table name of letters, digits, _ and \$/],
    [['--since', 'yesterday', '--changed-column', 'updated_at'], /--since "yesterday" is not a date-time: give a UTC time like '2026-11-20 10:00:00'/],
    [['--since', '2026-02-30 10:00:00', '--changed-column', 'updated_at'], /--since "2026-02-30 10:00:00" is not a valid date and time/],
    [['--job', 'j'.repeat(65)], /--job must be at most 64 characters, got 65/],
  ];
  it.each(cases)('verify %j', async (args, pattern) => {
    const line = expectOneLineError(await runCli(['verify', ...args]), pattern);
    expect(line).toMatch(/\(see `dualwrite verify --help`\)$/);
  });

  it('--help lists the modes, their flags and examples', async () => {
    const help = (await runCli(['verify', '--help'])).stdout;
    for (const option of ['--job', '--restart', '--checkpoint-every-ms', '--since', '--changed-column', '--no-reverse-pass', '--overlap-ms', '--from-repair-log', '--repair-log-table']) expect(help).toContain(option);
    expect(help).toMatch(/Without --job,\s+verify keeps\s+no\s+checkpoint/);
    expect(help).toContain('--no-record');
    expect(help).toContain("dualwrite verify --config migrate.json --tables orders --changed-column updated_at --since '2026-11-20 10:00:00'");
    expect(help).toContain('dualwrite verify --config migrate.json --from-repair-log');
  });
});
