import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectSidesIdentical } from '../support/compare.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { finished, jsonLines, runCli, startCli } from './helpers.js';

const ROWS = 10_000;
let db: TestDatabases;

beforeAll(async () => {
  db = await createTestDatabases('cli_interrupt');
  await db.source.query('CREATE TABLE slow (id INT PRIMARY KEY, payload VARCHAR(40) NOT NULL)');
  const digits = '(SELECT 0 n UNION SELECT 1 UNION SELECT 2 UNION SELECT 3 UNION SELECT 4 UNION SELECT 5 UNION SELECT 6 UNION SELECT 7 UNION SELECT 8 UNION SELECT 9)';
  await db.source.query(
    `INSERT INTO slow SELECT a.n * 1000 + b.n * 100 + c.n * 10 + d.n + 1, CONCAT('row ', a.n, b.n, c.n, d.n) FROM ${digits} a, ${digits} b, ${digits} c, ${digits} d`,
  );
});
afterAll(() => db?.drop());

async function count(pool: TestDatabases['source'], sql: string): Promise<number> {
  const [rows] = await pool.query(sql);
  return Number((rows as { n: number | string }[])[0]?.n);
}

it('Ctrl-C (SIGINT) during a slow backfill stops after the current chunk, exits 130 with how to resume, and the next run resumes from the checkpoint', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dualwrite-cli-pause-'));
  const pauseFile = join(dir, 'pause');
  writeFileSync(pauseFile, '');
  try {
    const child = startCli(['backfill', '--source', db.sourceUrl, '--target', db.targetUrl, '--tables', 'slow', '--chunk-rows', '1', '--pause-file', pauseFile, '--json']);
    const done = finished(child, 60_000);
    // Parse stdout line by line while the command runs.
    const seen: Record<string, unknown>[] = [];
    let buffer = '';
    const waiters: { test: (line: Record<string, unknown>) => boolean; resolve: () => void }[] = [];
    child.stdout.on('data', (chunk: Buffer | string) => {
      buffer += chunk.toString();
      for (let end = buffer.indexOf('\n'); end !== -1; end = buffer.indexOf('\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 1);
        if (line.trim() === '') continue;
        const parsed = JSON.parse(line) as Record<string, unknown>;
        seen.push(parsed);
        for (const waiter of waiters.filter((w) => w.test(parsed))) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    });
    const until = (test: (line: Record<string, unknown>) => boolean): Promise<void> =>
      seen.some(test) ? Promise.resolve() : new Promise((resolve) => waiters.push({ test, resolve }));

    // Held by the pause file first: nothing copied.
    await until((line) => line.type === 'progress' && typeof line.paused === 'string' && line.paused.includes(pauseFile));
    expect(await count(db.target, 'SELECT COUNT(*) AS n FROM slow')).toBe(0);
    rmSync(pauseFile);
    await until((line) => line.type === 'progress' && line.paused === undefined && (line.rowsCopied as number) >= 50);
    child.kill('SIGINT');
    const run = await done;

    expect(run.code, run.stderr).toBe(130);
    expect(run.stderr).toMatch(/interrupted; stopped after the current chunk and kept the checkpoints on the target: run the same command again \(without --restart\) to resume job "backfill"/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    const lines = jsonLines(run.stdout); // every line of the whole run is JSON
    const summary = lines.find((line) => line.type === 'summary');
    expect(summary).toMatchObject({ command: 'backfill', done: false, aborted: true });
    expect(lines.at(-1)).toMatchObject({ type: 'interrupted', command: 'backfill', job: 'backfill' });

    // The checkpoint names exactly the rows the target has (one-row chunks, each committed before its checkpoint).
    const [checkpoint] = (await db.target.query("SELECT rows_copied, done, last_key FROM dualwrite_backfill_state WHERE job = 'backfill' AND table_name = 'slow'"))[0] as {
      rows_copied: number | string;
      done: number;
      last_key: string;
    }[];
    const copied = Number(checkpoint?.rows_copied);
    expect(checkpoint?.done).toBe(0);
    expect(copied).toBeGreaterThanOrEqual(50);
    expect(copied).toBeLessThan(ROWS);
    expect(await count(db.target, 'SELECT COUNT(*) AS n FROM slow')).toBe(copied);
    expect(JSON.parse(checkpoint?.last_key ?? 'null')).toEqual([String(copied)]);

    const status = await runCli(['status', '--source', db.sourceUrl, '--target', db.targetUrl]);
    expect(status.stdout).toMatch(new RegExp(`slow: in progress, ${copied.toLocaleString('en-US')} of ~[\\d,]+ rows copied, next after key ${copied}`));

    // Resume: the rest is copied, nothing twice.
    const resumed = await runCli(['backfill', '--source', db.sourceUrl, '--target', db.targetUrl, '--tables', 'slow', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const final = jsonLines(resumed.stdout).at(-1) as { type: string; tables: { resumedRows: number; rowsRead: number; rowsCopied: number; done: boolean }[] };
    expect(final.type).toBe('summary');
    expect(final.tables[0]).toMatchObject({ resumedRows: copied, rowsRead: ROWS - copied, rowsCopied: ROWS, done: true });
    await expectSidesIdentical(db.source, db.target, 'slow');
    expect((await runCli(['verify', '--source', db.sourceUrl, '--target', db.targetUrl, '--tables', 'slow'])).code).toBe(0);
  } finally {
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }
});
