/**
 * Normalisation profiles: how verify compares the values of a column whose type changed between
 * the sides (a heterogeneous or altered schema), where comparing the stored values exactly would
 * report every row.
 *
 * Without a profile, verify compares exactly (the lossless codec's values; character columns by
 * their characters in utf8mb4 whatever their charset, TIMESTAMP by the instant). A profile turns
 * on rules, each for some column types; a rule replaces the column's exact value with a normal form
 * computed by the server on each side from that side's own column type:
 *
 * | rule | columns | normal form |
 * |---|---|---|
 * | `floatDigits: n` | FLOAT, DOUBLE, REAL | rounded to `n` significant digits (FLOAT → DOUBLE keeps the float's binary value: 0.1 becomes 0.10000000149011612) |
 * | `decimals: 'value'` | DECIMAL, NUMERIC | the value with 30 fractional digits (`1.5` in DECIMAL(10,1) equals `1.50` in DECIMAL(12,2)); up to 35 integer digits |
 * | `temporal: 'instant'` | TIMESTAMP, DATETIME | the UTC date-time with 6 fractional digits; DATETIME values are read as times in `datetimeZone` (TIMESTAMP ↔ DATETIME, and fractional precision changes) |
 * | `trailingSpaces: 'ignore'` | CHAR, VARCHAR, TEXT types | trailing spaces removed (CHAR ↔ VARCHAR: CHAR drops them) |
 * | `letterCase: 'ignore'` | CHAR, VARCHAR, TEXT types | lower case (a case-insensitive collation on one side) |
 * | `json: 'document'` | JSON (MySQL), JSON and LONGTEXT (MariaDB, whose JSON is a LONGTEXT) | a valid JSON document as its normal form (MariaDB `JSON_NORMALIZE`, 10.7+; MySQL `CAST(… AS JSON)`: keys sorted, spacing and number spelling normalised); other text as text |
 *
 * A normal form is never the same for two values that differ under the rule's own meaning, and a
 * value that the rule does not touch is compared exactly. JSON documents are normalised by each
 * server's own function: MariaDB and MySQL spell numbers differently (`1.5E1` against `15.0`), so a
 * MariaDB ↔ MySQL comparison of JSON is reported different even when the documents are equal.
 *
 * verify also reports which differences disappear only after normalisation: per chunk, it keeps a
 * digest of each normalised column's exact values on both sides, and counts, per column, the chunks
 * whose exact values differ while their normalised rows match.
 *
 * @module
 */
import { InvalidOptionError } from '../errors.js';
import type { ColumnMetadata, ServerFlavor } from '../schema/types.js';
import { columnReadExpression, queryExact, type ExactQueryable } from './codec.js';

/** Which normalisation rules verify applies (see the module notes). Every rule is off unless set. */
export interface NormalizationProfile {
  /** FLOAT/DOUBLE/REAL compared rounded to this many significant digits (1–17; 7 for FLOAT ↔ DOUBLE). */
  readonly floatDigits?: number;
  /** `'value'`: DECIMAL/NUMERIC compared by value, whatever their scale. */
  readonly decimals?: 'value';
  /** `'instant'`: TIMESTAMP and DATETIME compared as UTC date-times with 6 fractional digits. */
  readonly temporal?: 'instant';
  /**
   * The time zone DATETIME values are in, for `temporal: 'instant'` (`'+00:00'`, `'-05:00'`, or a
   * named zone when the servers have time zone tables).
   * @defaultValue `'+00:00'`
   */
  readonly datetimeZone?: string;
  /** `'ignore'`: text compared without its trailing spaces. */
  readonly trailingSpaces?: 'ignore';
  /** `'ignore'`: text compared in lower case. */
  readonly letterCase?: 'ignore';
  /** `'document'`: JSON compared as documents (see the module notes). */
  readonly json?: 'document';
}

/** A rule's name, as reports show it. */
export type NormalizationRule = 'floatDigits' | 'decimals' | 'temporal' | 'trailingSpaces' | 'letterCase' | 'json';

/** A normalised column read on one side. */
export interface NormalizedColumn {
  /** The SQL expression of the column's normal form (text), or null when no rule applies to its type. */
  readonly expression: string | null;
  /** The rules applied, in the order they compose. */
  readonly rules: readonly NormalizationRule[];
}

const FLOAT_TYPES = new Set(['float', 'double', 'real']);
const DECIMAL_TYPES = new Set(['decimal', 'numeric']);
const TEXT_TYPES = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext']);
const ZONE = /^(?:[+-](?:0\d|1[0-4]):[0-5]\d|[A-Za-z][A-Za-z0-9_+\-/]{0,63})$/;

/**
 * Checks a profile given by a caller.
 *
 * @throws {@link InvalidOptionError} for an unknown rule or a bad value, saying which and what is accepted
 */
export function checkProfile(profile: NormalizationProfile, owner: string): NormalizationProfile {
  if (typeof profile !== 'object' || profile === null) throw new InvalidOptionError(owner, profile, 'a normalisation profile object (see NormalizationProfile)');
  const known = new Set(['floatDigits', 'decimals', 'temporal', 'datetimeZone', 'trailingSpaces', 'letterCase', 'json']);
  for (const key of Object.keys(profile)) {
    if (!known.has(key)) throw new InvalidOptionError(`${owner}.${key}`, (profile as Record<string, unknown>)[key], `one of the rules ${[...known].join(', ')}`);
  }
  const { floatDigits, decimals, temporal, datetimeZone, trailingSpaces, letterCase, json } = profile;
  if (floatDigits !== undefined && (!Number.isSafeInteger(floatDigits) || floatDigits < 1 || floatDigits > 17)) {
    throw new InvalidOptionError(`${owner}.floatDigits`, floatDigits, 'a number of significant digits from 1 to 17 (7 for FLOAT against DOUBLE)');
  }
  const only = (name: string, value: unknown, allowed: string): void => {
    if (value !== undefined && value !== allowed) throw new InvalidOptionError(`${owner}.${name}`, value, `'${allowed}' or no value`);
  };
  only('decimals', decimals, 'value');
  only('temporal', temporal, 'instant');
  only('trailingSpaces', trailingSpaces, 'ignore');
  only('letterCase', letterCase, 'ignore');
  only('json', json, 'document');
  if (datetimeZone !== undefined && (typeof datetimeZone !== 'string' || !ZONE.test(datetimeZone))) {
    throw new InvalidOptionError(`${owner}.datetimeZone`, datetimeZone, "a time zone such as '+00:00', '-05:00' or 'Europe/Paris'");
  }
  return profile;
}

/** True when the profile turns on at least one rule. */
export function hasRules(profile: NormalizationProfile | undefined): profile is NormalizationProfile {
  return profile !== undefined && (['floatDigits', 'decimals', 'temporal', 'trailingSpaces', 'letterCase', 'json'] as const).some((rule) => profile[rule] !== undefined);
}

/**
 * The normal form of `column` on a server of `flavor` under `profile`: an SQL expression giving
 * text (NULL stays NULL), or `expression: null` when no rule of the profile applies to the column's type.
 * Sessions must use `time_zone = '+00:00'` (verify's do), so a TIMESTAMP reads as UTC.
 */
export function normalizedColumn(column: ColumnMetadata, profile: NormalizationProfile, flavor: ServerFlavor): NormalizedColumn {
  const ref = `\`${column.name.replaceAll('`', '``')}\``;
  const type = column.dataType;
  if (profile.floatDigits !== undefined && FLOAT_TYPES.has(type)) {
    const value = columnReadExpression(column);
    // ROUND to n significant digits: n - 1 - floor(log10|x|) decimal places (negative rounds left of the point).
    return { expression: `IF(${value} = 0, '0', ROUND(${value}, ${profile.floatDigits - 1} - FLOOR(LOG10(ABS(${value})))))`, rules: ['floatDigits'] };
  }
  if (profile.decimals === 'value' && DECIMAL_TYPES.has(type)) {
    return { expression: `CAST(${ref} AS DECIMAL(65,30))`, rules: ['decimals'] };
  }
  if (profile.temporal === 'instant' && (type === 'timestamp' || type === 'datetime')) {
    const zone = profile.datetimeZone ?? '+00:00';
    if (type === 'timestamp' || zone === '+00:00') return { expression: `DATE_FORMAT(${ref}, '%Y-%m-%d %H:%i:%s.%f')`, rules: ['temporal'] };
    // CONVERT_TZ gives NULL for a zone the server does not know: the value then stays itself (marked), never NULL,
    // so a failed conversion can never make two different values equal (verify also refuses such a zone up front).
    const converted = `DATE_FORMAT(CONVERT_TZ(${ref}, '${zone}', '+00:00'), '%Y-%m-%d %H:%i:%s.%f')`;
    return { expression: `IF(${ref} IS NULL, NULL, COALESCE(${converted}, CONCAT('unconverted ', ${ref})))`, rules: ['temporal'] };
  }
  if (profile.json === 'document' && (type === 'json' || (flavor === 'mariadb' && type === 'longtext'))) {
    const text = `CONVERT(${ref} USING utf8mb4)`;
    const document = flavor === 'mariadb' ? `JSON_NORMALIZE(${ref})` : `CAST(${ref} AS JSON)`;
    // `J` + document or `T` + text: a document never equals a text that merely looks like its normal form.
    return { expression: `IF(JSON_VALID(${ref}), CONCAT('J', ${document}), CONCAT('T', ${text}))`, rules: ['json'] };
  }
  if (TEXT_TYPES.has(type) && (profile.trailingSpaces === 'ignore' || profile.letterCase === 'ignore')) {
    let text = `CONVERT(${ref} USING utf8mb4)`;
    const rules: NormalizationRule[] = [];
    if (profile.trailingSpaces === 'ignore') {
      text = `TRIM(TRAILING ' ' FROM ${text})`;
      rules.push('trailingSpaces');
    }
    if (profile.letterCase === 'ignore') {
      text = `LOWER(${text})`;
      rules.push('letterCase');
    }
    return { expression: text, rules };
  }
  return { expression: null, rules: [] };
}

/**
 * Checks that each server knows the profile's `datetimeZone` (a named zone needs the server's time
 * zone tables; without them `CONVERT_TZ` returns NULL for every value).
 *
 * @param servers - each server to read, with the name error messages give it (e.g. `source`, `target replica`)
 * @throws {@link InvalidOptionError} naming the server and saying how to load the zone or what to give instead
 */
export async function checkZoneKnown(profile: NormalizationProfile | undefined, servers: readonly { readonly name: string; readonly runner: ExactQueryable }[]): Promise<void> {
  const zone = profile?.datetimeZone;
  if (profile?.temporal !== 'instant' || zone === undefined || zone === '+00:00') return;
  // One server after the other, so the error names the first in the order given.
  for (const { name, runner } of servers) {
    const [row] = await queryExact(runner, "SELECT CONVERT_TZ('2000-01-01 00:00:00', ?, '+00:00')", [zone]);
    if (row?.[0] === null || row?.[0] === undefined) {
      throw new InvalidOptionError(
        'verify normalize.datetimeZone',
        zone,
        `a time zone the ${name} server knows: it has no zone named ${JSON.stringify(zone)} (load its time zone tables with mariadb-tzinfo-to-sql / mysql_tzinfo_to_sql, or give an offset such as '+01:00')`,
      );
    }
  }
}

/** A rule's description for reports, e.g. `float rounded to 7 significant digits`. */
export function describeRule(rule: NormalizationRule, profile: NormalizationProfile): string {
  switch (rule) {
    case 'floatDigits':
      return `floats rounded to ${profile.floatDigits ?? '?'} significant digits`;
    case 'decimals':
      return 'decimals compared by value';
    case 'temporal':
      return `date-times compared as UTC instants (DATETIME in ${profile.datetimeZone ?? '+00:00'})`;
    case 'trailingSpaces':
      return 'trailing spaces ignored';
    case 'letterCase':
      return 'letter case ignored';
    case 'json':
      return 'JSON compared as documents';
  }
}
