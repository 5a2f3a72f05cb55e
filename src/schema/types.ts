/**
 * Shapes of the metadata dualwrite reads about tables and servers.
 *
 * @module
 */

/**
 * What dualwrite needs from a database client to read metadata: a mysql2/promise
 * `Pool`, `PoolConnection` or `Connection` fits as is (structural type, so this
 * folder never loads mysql2).
 *
 * `query` must resolve to `[rows, fields]` where rows are plain objects keyed by
 * column name (mysql2's default) or arrays (`rowsAsArray`, read through `fields`).
 */
export interface MetadataQueryable {
  /** Runs `sql` with `?` placeholders bound to `values`; resolves to `[rows, fields]`. */
  query(sql: string, values?: unknown[]): Promise<[unknown, unknown]>;
}

/**
 * Where a {@link SchemaCache} gets its client: a queryable used for every load,
 * or a function called before each load (e.g. to pick the current primary side's
 * pool). Return a pool, not a checked-out connection: the cache never releases it.
 */
export type MetadataQueryableSource = MetadataQueryable | (() => MetadataQueryable | Promise<MetadataQueryable>);

/** The server program: MariaDB and MySQL differ in information_schema details and SQL. */
export type ServerFlavor = 'mariadb' | 'mysql';

/** Server variables that decide how writes must be replayed. Read in one round trip by `loadServerSettings`. */
export interface ServerSettings {
  /** `mariadb` when `VERSION()` says so, else `mysql`. */
  readonly flavor: ServerFlavor;
  /** `VERSION()`, e.g. `10.11.19-MariaDB-0+deb12u1` or `8.0.36`. */
  readonly version: string;
  /** major·10000 + minor·100 + patch, e.g. `101119` for 10.11.19, `80036` for 8.0.36. */
  readonly versionNumber: number;
  /** `@@auto_increment_increment` (session value, which starts as the global one). */
  readonly autoIncrementIncrement: number;
  /** `@@auto_increment_offset` (session value). */
  readonly autoIncrementOffset: number;
  /** `@@innodb_autoinc_lock_mode`: 0 traditional, 1 consecutive, 2 interleaved. */
  readonly innodbAutoincLockMode: number;
  /** `@@lower_case_table_names`: 0 names are case-sensitive; 1 and 2 compare them case-insensitively. */
  readonly lowerCaseTableNames: number;
  /** `@@session.sql_mode` of the connection that read the settings. */
  readonly sqlMode: string;
  /** `@@session.time_zone`, e.g. `SYSTEM` or `+00:00`. */
  readonly timeZone: string;
  /** `@@system_time_zone`, what `SYSTEM` means, e.g. `UTC`. */
  readonly systemTimeZone: string;
  /** `@@binlog_format` (`ROW`, `STATEMENT`, `MIXED`), or null when the binary log is off. */
  readonly binlogFormat: string | null;
  /** `@@server_id`. */
  readonly serverId: number;
  /** `@@explicit_defaults_for_timestamp`: when false, the first TIMESTAMP column gets implicit CURRENT_TIMESTAMP defaults. */
  readonly explicitDefaultsForTimestamp: boolean;
}

/**
 * A column's default, classified.
 *
 * - `none`: the column has no default (an INSERT must give a value), or it is generated.
 * - `null`: `DEFAULT NULL`.
 * - `literal`: a constant; `value` is its text with quotes and escapes removed
 *   (`'it''s'` → `it's`; numbers and `b'101'` as the server shows them).
 * - `expression`: evaluated at insert time, so it differs between the two sides
 *   unless pinned, e.g. `current_timestamp(6)`, `uuid()`, `rand()`.
 */
export type ColumnDefault =
  | {
      /** No default: the column must be given a value (or is NULL-able with no DEFAULT clause). */
      readonly kind: 'none';
    }
  | {
      /** `DEFAULT NULL`. */
      readonly kind: 'null';
    }
  | {
      /** A constant default. */
      readonly kind: 'literal';
      /** The constant, unquoted. */
      readonly value: string;
    }
  | {
      /** An expression default, e.g. `CURRENT_TIMESTAMP(6)` or `(uuid())`. */
      readonly kind: 'expression';
      /** The expression as the server reports it. */
      readonly expression: string;
    };

/** How a generated column is computed: on read (`virtual`) or on write (`stored`; MariaDB's PERSISTENT). */
export type GeneratedKind = 'virtual' | 'stored';

/** One column of a table, from information_schema.COLUMNS. */
export interface ColumnMetadata {
  /** Column name as the server stores it. */
  readonly name: string;
  /** 1-based position in the table. */
  readonly ordinalPosition: number;
  /** Lower-case base type, e.g. `int`, `varchar`, `datetime`, `json` (MariaDB reports JSON as `longtext`). */
  readonly dataType: string;
  /** Full type, e.g. `bigint(20) unsigned`, `datetime(6)`, `enum('a','b')`. */
  readonly columnType: string;
  /** True when the column accepts NULL. */
  readonly nullable: boolean;
  /** COLUMN_DEFAULT exactly as reported (MariaDB quotes string literals and reports `DEFAULT NULL` as the text `NULL`; MySQL does neither). */
  readonly columnDefault: string | null;
  /** The default, classified the same way for both flavors. */
  readonly default: ColumnDefault;
  /** True for the AUTO_INCREMENT column. */
  readonly autoIncrement: boolean;
  /** True when the default is CURRENT_TIMESTAMP / NOW() in any precision. */
  readonly defaultCurrentTimestamp: boolean;
  /** True for ON UPDATE CURRENT_TIMESTAMP in any precision. */
  readonly onUpdateCurrentTimestamp: boolean;
  /** Fractional-second digits of a temporal column (0–6), else null. */
  readonly datetimePrecision: number | null;
  /** Generated column kind, or null for an ordinary column. Replay must never write generated columns. */
  readonly generated: GeneratedKind | null;
  /** The generation expression, or null. */
  readonly generationExpression: string | null;
  /** True for INVISIBLE columns, which `SELECT *` leaves out. */
  readonly invisible: boolean;
  /** Character set of a text column, else null. */
  readonly characterSet: string | null;
  /** Collation of a text column, else null. */
  readonly collation: string | null;
  /** EXTRA exactly as reported (e.g. `auto_increment`, `on update current_timestamp()`, `VIRTUAL GENERATED`). */
  readonly extra: string;
}

/** A unique index (the primary key counts as one), from information_schema.STATISTICS. */
export interface UniqueKey {
  /** Index name; `PRIMARY` for the primary key. */
  readonly name: string;
  /** True for the primary key. */
  readonly primary: boolean;
  /** Column names in key order (functional key parts, MySQL only, are left out; see `hasExpressionParts`). */
  readonly columns: readonly string[];
  /** Prefix length of each entry of `columns` (`UNIQUE (name(10))` → 10), null for a whole column. */
  readonly prefixLengths: readonly (number | null)[];
  /** True when a key column is nullable: rows with NULL in it never conflict on this key. */
  readonly nullable: boolean;
  /** True when the key has functional parts (MySQL 8 `UNIQUE ((expr))`) that `columns` cannot express. */
  readonly hasExpressionParts: boolean;
}

/** Everything dualwrite knows about one table. Cached objects are frozen: never mutate them. */
export interface TableMetadata {
  /** Schema (database) name as the server stores it. */
  readonly schema: string;
  /** Table name as the server stores it. */
  readonly name: string;
  /** information_schema TABLE_TYPE: `BASE TABLE`, `VIEW`, `SYSTEM VERSIONED`, `SEQUENCE`, … */
  readonly tableType: string;
  /** Storage engine, e.g. `InnoDB`; null for views. */
  readonly engine: string | null;
  /** Columns in table order. */
  readonly columns: readonly ColumnMetadata[];
  /** Columns by lower-case name (column names are case-insensitive in MySQL and MariaDB). */
  readonly columnsByName: ReadonlyMap<string, ColumnMetadata>;
  /** Primary key columns in key order; empty when the table has no primary key (callers decide what that means). */
  readonly primaryKey: readonly string[];
  /** The AUTO_INCREMENT column (not always `id`), or null. */
  readonly autoIncrementColumn: string | null;
  /** Unique keys, the primary key first, then the others by name. */
  readonly uniqueKeys: readonly UniqueKey[];
  /** Columns whose default is CURRENT_TIMESTAMP, in table order. */
  readonly currentTimestampDefaults: readonly string[];
  /** Columns with ON UPDATE CURRENT_TIMESTAMP, in table order. */
  readonly onUpdateCurrentTimestamp: readonly string[];
  /** Generated columns (virtual or stored), in table order. Replay must not write them. */
  readonly generatedColumns: readonly string[];
  /** `Date.now()` when the metadata was read. */
  readonly loadedAt: number;
}
