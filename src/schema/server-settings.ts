/**
 * Server variables that decide how writes are replayed, read in one round trip.
 *
 * @module
 */
import { MetadataLoadError } from '../errors.js';
import { numberOrNull, readRows, text, textOrEmpty } from './rows.js';
import type { MetadataQueryable, ServerFlavor, ServerSettings } from './types.js';

// Every variable here exists in MariaDB ≥ 10.2 and MySQL ≥ 5.7. Aliases keep
// their case in result sets on both (MySQL 8 upper-cases bare I_S column names).
const SETTINGS_SQL = `SELECT
  VERSION() AS version,
  @@version_comment AS version_comment,
  @@auto_increment_increment AS auto_increment_increment,
  @@auto_increment_offset AS auto_increment_offset,
  @@innodb_autoinc_lock_mode AS innodb_autoinc_lock_mode,
  @@lower_case_table_names AS lower_case_table_names,
  @@session.sql_mode AS sql_mode,
  @@session.time_zone AS time_zone,
  @@system_time_zone AS system_time_zone,
  @@log_bin AS log_bin,
  @@binlog_format AS binlog_format,
  @@server_id AS server_id,
  @@explicit_defaults_for_timestamp AS explicit_defaults_for_timestamp`;

/**
 * Parses a server version into major·10000 + minor·100 + patch
 * (`10.11.19-MariaDB` → 101119, `8.0.36` → 80036). Returns 0 when there is no `x.y.z`.
 */
export function parseVersionNumber(version: string): number {
  // Old MariaDB clients saw a "5.5.5-" prefix in the handshake; VERSION() does not have it, but be lenient.
  const cleaned = version.replace(/^5\.5\.5-(?=\d+\.\d+\.\d+-MariaDB)/i, '');
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(cleaned);
  if (!match) return 0;
  return Number(match[1]) * 10000 + Number(match[2]) * 100 + Number(match[3]);
}

/** `mariadb` when the version or its comment says MariaDB, else `mysql`. */
export function detectFlavor(version: string, versionComment = ''): ServerFlavor {
  return /mariadb/i.test(version) || /mariadb/i.test(versionComment) ? 'mariadb' : 'mysql';
}

function flag(value: unknown): boolean {
  const asText = text(value);
  return asText !== null && (asText === '1' || asText.toUpperCase() === 'ON');
}

/**
 * Reads the {@link ServerSettings} of the server behind `queryable` in one round trip.
 * Session values (`sql_mode`, `time_zone`, `auto_increment_*`) are those of the
 * connection that happens to run the query.
 *
 * @throws MetadataLoadError when the query fails (the database error is its `cause`).
 */
export async function loadServerSettings(queryable: MetadataQueryable): Promise<ServerSettings> {
  let row;
  try {
    row = readRows(await queryable.query(SETTINGS_SQL))[0];
  } catch (error) {
    throw new MetadataLoadError('the server settings (VERSION(), @@auto_increment_increment, @@sql_mode, …)', { cause: error });
  }
  if (row === undefined) {
    throw new MetadataLoadError('the server settings', { cause: new Error('the settings query returned no row') });
  }
  const version = textOrEmpty(row.version);
  return Object.freeze({
    flavor: detectFlavor(version, textOrEmpty(row.version_comment)),
    version,
    versionNumber: parseVersionNumber(version),
    autoIncrementIncrement: numberOrNull(row.auto_increment_increment) ?? 1,
    autoIncrementOffset: numberOrNull(row.auto_increment_offset) ?? 1,
    innodbAutoincLockMode: numberOrNull(row.innodb_autoinc_lock_mode) ?? 1,
    lowerCaseTableNames: numberOrNull(row.lower_case_table_names) ?? 0,
    sqlMode: textOrEmpty(row.sql_mode),
    timeZone: textOrEmpty(row.time_zone),
    systemTimeZone: textOrEmpty(row.system_time_zone),
    binlogFormat: flag(row.log_bin) ? (text(row.binlog_format)?.toUpperCase() ?? null) : null,
    serverId: numberOrNull(row.server_id) ?? 0,
    explicitDefaultsForTimestamp: flag(row.explicit_defaults_for_timestamp),
  });
}
