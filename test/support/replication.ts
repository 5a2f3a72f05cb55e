/**
 * A private primary and a replica of it (MariaDB replication by GTID), for tests that read a real
 * replica: both servers are spawned with the run's template, the replica follows the primary from
 * its first transaction, and `database` is created on the primary (and so on the replica).
 */
import mysql from 'mysql2/promise';
import { spawnTestServer } from './databases.js';
import { urlWithDatabase, type SpawnedServer } from './servers.js';

/** A primary and its replica, each with `database` in its URL. */
export interface ReplicaPair {
  /** The primary server. */
  readonly primary: SpawnedServer;
  /** The replica server. */
  readonly replica: SpawnedServer;
  /** The primary's URL with the database. */
  readonly primaryUrl: string;
  /** The replica's URL with the database. */
  readonly replicaUrl: string;
  /** Waits until the replica has `table` in the database and `rows` rows in it. */
  caughtUp(table: string, rows: number): Promise<void>;
  /** Stops both servers. */
  stop(): Promise<void>;
}

/** Polls `check` every 50 ms until it holds, or fails after 60 s naming `what`. */
export async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs `work` on a short-lived connection to `url`. */
async function withConnection<T>(url: string, work: (connection: mysql.Connection) => Promise<T>): Promise<T> {
  const connection = await mysql.createConnection({ uri: url });
  try {
    return await work(connection);
  } finally {
    await connection.end();
  }
}

/** Spawns a primary and a replica of it, and creates `database` on the primary. */
export async function spawnReplicaPair(name: string, database: string): Promise<ReplicaPair> {
  const [primary, replica] = await Promise.all([spawnTestServer({ name: `${name}-primary` }), spawnTestServer({ name: `${name}-replica` })]);
  const port = Number(new URL(primary.url).port);
  await withConnection(replica.url, async (admin) => {
    await admin.query(`CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = ${port}, MASTER_USER = 'root', MASTER_USE_GTID = slave_pos`);
    await admin.query('START SLAVE');
  });
  await withConnection(primary.url, (setup) => setup.query(`CREATE DATABASE \`${database}\``));
  return {
    primary,
    replica,
    primaryUrl: urlWithDatabase(primary.url, database),
    replicaUrl: urlWithDatabase(replica.url, database),
    caughtUp: (table, rows) =>
      waitFor(
        () =>
          withConnection(replica.url, async (probe) => {
            const [found] = await probe.query('SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [database, table]);
            if ((found as unknown[]).length === 0) return false;
            const [counted] = await probe.query(`SELECT COUNT(*) AS n FROM \`${database}\`.\`${table}\``);
            return Number((counted as { n: number | string }[])[0]?.n) === rows;
          }),
        `the replica to have ${rows} rows in ${table}`,
      ),
    stop: async () => {
      await Promise.allSettled([primary.stop(), replica.stop()]);
    },
  };
}
