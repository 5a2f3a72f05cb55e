/**
 * What every example does around its own story: find two servers (`DUALWRITE_SOURCE_URL` / `DUALWRITE_TARGET_URL`,
 * else two private MariaDB servers started for the run — test/support/dev-servers.ts), create one empty database of
 * the same name on both, run the example, drop the database, stop what was started, and exit 0 only when the
 * example said it succeeded. Plus the independent check every example ends with.
 */
import { randomBytes } from 'node:crypto';
import mysql, { type RowDataPacket } from 'mysql2/promise';
import { compareTables, formatComparison } from '../../test/support/compare.js';
import { devServers } from '../../test/support/dev-servers.js';
import { urlWithDatabase } from '../../test/support/servers.js';

/** The example's database, on both servers. */
export interface ExampleDatabases {
  /** The database's name (the same on both sides). */
  readonly name: string;
  /** The source server's URL with the database in its path. */
  readonly sourceUrl: string;
  /** The target server's URL with the database in its path. */
  readonly targetUrl: string;
}

/** Prints one line of the example's story. */
export const say = (line: string): void => console.log(line);

/**
 * Runs `example` on a fresh database and exits the process: 0 when it resolved `true`, 1 when it resolved `false`
 * or threw (the error is printed).
 *
 * @param label - names the database and any spawned servers
 */
export function runExample(label: string, example: (db: ExampleDatabases) => Promise<boolean>): void {
  const started = performance.now();
  run(label, example).then(
    (ok) => {
      say(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
      process.exit(ok ? 0 : 1);
    },
    (error: unknown) => {
      console.error(`\nNOT OK: the example failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    },
  );
}

async function run(label: string, example: (db: ExampleDatabases) => Promise<boolean>): Promise<boolean> {
  const servers = await devServers(`example-${label}`);
  try {
    say(`servers   ${servers.description}`);
    const name = `dualwrite_example_${label.replace(/\W+/g, '_')}_${randomBytes(3).toString('hex')}`;
    await Promise.all([servers.sourceUrl, servers.targetUrl].map((url) => onServer(url, `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`)));
    say(`database  ${name} (empty, on both servers)\n`);
    try {
      return await example({ name, sourceUrl: urlWithDatabase(servers.sourceUrl, name), targetUrl: urlWithDatabase(servers.targetUrl, name) });
    } finally {
      await Promise.allSettled([servers.sourceUrl, servers.targetUrl].map((url) => onServer(url, `DROP DATABASE IF EXISTS \`${name}\``)));
    }
  } finally {
    await servers.close();
  }
}

async function onServer(url: string, sql: string): Promise<void> {
  const connection = await mysql.createConnection({ uri: url });
  try {
    await connection.query(sql);
  } finally {
    await connection.end();
  }
}

/**
 * The independent check: `tables` hold the same rows on both sides (test/support/compare.ts, no dualwrite code:
 * every value as the server's bytes, rows matched by primary key), and every id the ORM handed back is in its table
 * on both sides. Prints what it found; resolves `true` when all holds.
 *
 * @param handedBack - table name → the ids the ORM returned for rows of that table that still exist
 */
export async function checkBothSides(db: ExampleDatabases, tables: readonly string[], handedBack: Record<string, readonly number[]>): Promise<boolean> {
  const comparison = await compareTables(db.sourceUrl, db.targetUrl, tables);
  const counts = comparison.tables.map((t) => `${t.table} ${t.sourceCount ?? '-'}/${t.targetCount ?? '-'}`).join(', ');
  say(`check     row by row (test/support/compare.ts): ${comparison.identical ? 'identical' : 'DIFFERENT'} (rows source/target: ${counts})`);
  if (!comparison.identical) say(formatComparison(comparison, 20).replace(/^/gm, '            '));
  let allFound = true;
  for (const [table, ids] of Object.entries(handedBack)) {
    const missing: string[] = [];
    for (const [side, url] of [['source', db.sourceUrl], ['target', db.targetUrl]] as const) {
      const connection = await mysql.createConnection({ uri: url });
      try {
        const [rows] = await connection.query<RowDataPacket[]>(`SELECT id FROM \`${table}\` WHERE id IN (?)`, [ids]);
        const found = new Set(rows.map((row) => Number(row.id)));
        for (const id of ids) if (!found.has(id)) missing.push(`${id} on the ${side}`);
      } finally {
        await connection.end();
      }
    }
    allFound &&= missing.length === 0;
    say(`check     ${table} ids the ORM handed back (${ids.join(', ')}): ${missing.length === 0 ? 'on both sides' : `MISSING: ${missing.join(', ')}`}`);
  }
  return comparison.identical && allFound;
}
