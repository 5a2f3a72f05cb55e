/**
 * An independent comparison of the two sides that uses no dualwrite code: each server counts its rows and
 * computes a SHA-256 over all of them, in primary-key order, itself (every column through QUOTE(), so NULL, '' and
 * 'NULL' differ; session time zone UTC on both sides so TIMESTAMP values print alike). Equal counts and equal
 * checksums on every table mean the same rows with the same values.
 */
import type { Connection, RowDataPacket } from 'mysql2/promise';

/** One table on one side. */
export interface TableFingerprint {
  readonly rows: number;
  /** SHA-256 hex of the concatenated per-row MD5s in primary-key order; `empty` for no rows. */
  readonly checksum: string;
}

/** Makes a connection's session print values the same way on both sides; call once per connection. */
export async function prepareSession(connection: Connection): Promise<void> {
  await connection.query("SET SESSION time_zone = '+00:00', SESSION group_concat_max_len = 1073741824");
}

/** Row count and checksum of `table` (in the connection's default database), computed by the server. */
export async function fingerprint(connection: Connection, table: string, primaryKey: readonly string[]): Promise<TableFingerprint> {
  const [columns] = await connection.query<RowDataPacket[]>(
    'SELECT column_name AS c FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position',
    [table],
  );
  const row = columns.map((c) => `QUOTE(\`${String(c.c)}\`)`).join(', ');
  const order = primaryKey.map((c) => `\`${c}\``).join(', ');
  const [result] = await connection.query<RowDataPacket[]>(
    `SELECT n, LENGTH(g) AS len, SHA2(g, 256) AS sha
       FROM (SELECT COUNT(*) AS n, GROUP_CONCAT(MD5(CONCAT_WS(',', ${row})) ORDER BY ${order} SEPARATOR '') AS g FROM \`${table}\`) AS t`,
  );
  const { n, len, sha } = result[0] as { n: number | string; len: number | string | null; sha: string | null };
  const rows = Number(n);
  if (rows > 0 && Number(len) !== rows * 32) throw new Error(`the checksum of ${table} was truncated (group_concat_max_len / max_allowed_packet too small)`);
  return { rows, checksum: sha ?? 'empty' };
}
