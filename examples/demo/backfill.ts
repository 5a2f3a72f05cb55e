/**
 * Copies given rows from the source to the target through plain mysql2 connections (not the pool): a stand-in for
 * dualwrite's backfill, which is not built yet. Values travel as the exact text the server sends (no number, date
 * or JSON conversion), with the session time zone UTC on both sides for TIMESTAMP columns. Rows the target already
 * has are left alone (INSERT IGNORE by primary key).
 */
import mysql, { type Connection, type RowDataPacket, type ResultSetHeader } from 'mysql2/promise';

/** Opens a connection that reads every value as the text the server sent. */
export async function rawTextConnection(url: string): Promise<Connection> {
  const connection = await mysql.createConnection({ uri: url, typeCast: (field) => field.string() });
  await connection.query("SET SESSION time_zone = '+00:00'");
  return connection;
}

/**
 * Copies the rows of `table` whose `keyColumn` is in `keys` from `source` to `target`, 500 keys at a time.
 * Resolves to how many rows were read and how many the target did not have yet.
 */
export async function copyRows(source: Connection, target: Connection, table: string, keyColumn: string, keys: readonly number[]): Promise<{ read: number; inserted: number }> {
  let read = 0;
  let inserted = 0;
  for (let i = 0; i < keys.length; i += 500) {
    const chunk = keys.slice(i, i + 500);
    const [rows, fields] = await source.query<RowDataPacket[]>(`SELECT * FROM \`${table}\` WHERE \`${keyColumn}\` IN (?)`, [chunk]);
    read += rows.length;
    if (rows.length === 0) continue;
    const columns = fields.map((f) => f.name);
    const values = rows.map((r) => columns.map((c) => r[c] as string | null));
    const [result] = await target.query<ResultSetHeader>(
      `INSERT IGNORE INTO \`${table}\` (${columns.map((c) => `\`${c}\``).join(', ')}) VALUES ?`,
      [values],
    );
    inserted += result.affectedRows;
  }
  return { read, inserted };
}
