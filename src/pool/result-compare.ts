/**
 * Compares the results two sides gave for the same read (shadow reads): each value is brought to a normal form
 * under the verifier's profile rules (src/migrate/normalize.ts, same names, applied to the values mysql2 returns
 * instead of in SQL), rows are compared in order when the statement has a top-level ORDER BY and as multisets
 * otherwise, and the differences come back as a compact diff.
 *
 * @module
 */
import type { FieldPacket, QueryResult } from 'mysql2';
import type { NormalizationProfile } from '../migrate/normalize.js';

/** A result row as mysql2 returns it: an object by column name, or an array (`rowsAsArray`). */
export type ResultRow = Readonly<Record<string, unknown>> | readonly unknown[];

/** Two rows that hold the same first column but differ elsewhere (or, in an ordered result, sit at the same position). */
export interface DifferentRow {
  /** The position in the primary's result (ordered comparison), or `null` (multiset comparison). */
  readonly index: number | null;
  /** The primary side's row. */
  readonly primary: ResultRow;
  /** The shadow side's row. */
  readonly shadow: ResultRow;
  /** The columns whose normal forms differ. */
  readonly columns: readonly string[];
}

/** What differs between the primary's and the shadow side's result of one read. */
export interface ResultDiff {
  /** `true`: rows compared position by position (top-level ORDER BY); `false`: as multisets. */
  readonly ordered: boolean;
  /** Rows in the primary's result. */
  readonly primaryRows: number;
  /** Rows in the shadow side's result. */
  readonly shadowRows: number;
  /** The column names of each side, when they differ (names or order); rows are then compared by position of column. */
  readonly columns?: {
    /** The primary side's column names, in order. */
    readonly primary: readonly string[];
    /** The shadow side's column names, in order. */
    readonly shadow: readonly string[];
  };
  /** Rows of the primary's result the shadow side lacks (at most `diffRows`). */
  readonly missing: readonly ResultRow[];
  /** Rows of the shadow side's result the primary lacks (at most `diffRows`). */
  readonly extra: readonly ResultRow[];
  /** Rows present on both sides with different values (at most `diffRows`). */
  readonly different: readonly DifferentRow[];
  /** True when some part held more rows than listed. */
  readonly truncated: boolean;
}

/** One side's successful answer. */
export interface SideResult {
  /** The rows (or other result) mysql2 returned. */
  readonly result: QueryResult;
  /** The column definitions mysql2 returned (their types pick the normalisation rules), if any. */
  readonly fields: readonly FieldPacket[] | undefined;
}

// mysql2's column type codes (the protocol's MYSQL_TYPE_*).
const FLOAT_TYPES = new Set([4, 5]);
const DECIMAL_TYPES = new Set([0, 246]);
const TEMPORAL_TYPES = new Set([7, 12]);
const JSON_TYPE = 245;

/**
 * The differences between two results of the same read, or `null` when they are equal after normalisation.
 *
 * @param primary - the primary side's answer
 * @param shadow - the shadow side's answer
 * @param options - `ordered`: compare rows by position; `profile`: normalisation rules; `diffRows`: most rows listed per part
 */
export function compareResults(primary: SideResult, shadow: SideResult, options: { ordered: boolean; profile: NormalizationProfile; diffRows: number }): ResultDiff | null {
  const { profile, diffRows } = options;
  if (!Array.isArray(primary.result) || !Array.isArray(shadow.result)) {
    // Not a row set (a ResultSetHeader, say): compare the whole value.
    const same = token(primary.result, undefined, profile) === token(shadow.result, undefined, profile);
    return same ? null : { ordered: false, primaryRows: 0, shadowRows: 0, missing: [], extra: [], different: [{ index: null, primary: [primary.result], shadow: [shadow.result], columns: [] }], truncated: false };
  }
  const pRows = primary.result as ResultRow[];
  const sRows = shadow.result as ResultRow[];
  const pNames = columnNames(primary.fields, pRows);
  const sNames = columnNames(shadow.fields, sRows);
  const sameNames = pNames.length === sNames.length && pNames.every((name, i) => name === sNames[i]);
  const pTokens = pRows.map((row) => rowTokens(row, pNames, primary.fields, profile));
  const sTokens = sRows.map((row) => rowTokens(row, sNames, shadow.fields, profile));
  const missing: ResultRow[] = [];
  const extra: ResultRow[] = [];
  const different: DifferentRow[] = [];
  let truncated = false;
  const add = <T>(list: T[], item: T): void => {
    if (list.length < diffRows) list.push(item);
    else truncated = true;
  };
  const differingColumns = (a: readonly string[], b: readonly string[]): string[] =>
    pNames.filter((_, i) => a[i] !== b[i]).concat(a.length === b.length ? [] : sNames.slice(pNames.length));
  if (options.ordered) {
    const common = Math.min(pRows.length, sRows.length);
    for (let i = 0; i < common; i++) {
      const a = pTokens[i] as string[];
      const b = sTokens[i] as string[];
      if (key(a) !== key(b)) add(different, { index: i, primary: pRows[i] as ResultRow, shadow: sRows[i] as ResultRow, columns: differingColumns(a, b) });
    }
    for (let i = common; i < pRows.length; i++) add(missing, pRows[i] as ResultRow);
    for (let i = common; i < sRows.length; i++) add(extra, sRows[i] as ResultRow);
  } else {
    // Multisets: count the primary's rows by normal form, take the shadow's away.
    const counts = new Map<string, number[]>();
    pTokens.forEach((tokens, i) => {
      const k = key(tokens);
      const list = counts.get(k);
      if (list === undefined) counts.set(k, [i]);
      else list.push(i);
    });
    const unmatched: number[] = [];
    sTokens.forEach((tokens, i) => {
      const list = counts.get(key(tokens));
      if (list !== undefined && list.length > 0) list.pop();
      else unmatched.push(i);
    });
    const left = [...counts.values()].flat().sort((a, b) => a - b);
    // A missing and an extra row with the same first column (usually the key) are one changed row.
    const extraByFirst = new Map<string, number[]>();
    for (const i of unmatched) {
      const first = (sTokens[i] as string[])[0] ?? '';
      const list = extraByFirst.get(first);
      if (list === undefined) extraByFirst.set(first, [i]);
      else list.push(i);
    }
    const paired = new Set<number>();
    for (const i of left) {
      const tokens = pTokens[i] as string[];
      const match = extraByFirst.get(tokens[0] ?? '')?.shift();
      if (match === undefined) add(missing, pRows[i] as ResultRow);
      else {
        paired.add(match);
        add(different, { index: null, primary: pRows[i] as ResultRow, shadow: sRows[match] as ResultRow, columns: differingColumns(tokens, sTokens[match] as string[]) });
      }
    }
    for (const i of unmatched) if (!paired.has(i)) add(extra, sRows[i] as ResultRow);
  }
  if (sameNames && missing.length === 0 && extra.length === 0 && different.length === 0) return null;
  const diff: ResultDiff = { ordered: options.ordered, primaryRows: pRows.length, shadowRows: sRows.length, missing, extra, different, truncated };
  return sameNames ? diff : { ...diff, columns: { primary: pNames, shadow: sNames } };
}

function key(tokens: readonly string[]): string {
  return JSON.stringify(tokens);
}

function columnNames(fields: readonly FieldPacket[] | undefined, rows: readonly ResultRow[]): string[] {
  if (fields !== undefined) return fields.map((field) => field.name);
  const first = rows[0];
  if (first === undefined) return [];
  return Array.isArray(first) ? first.map((_, i) => String(i)) : Object.keys(first);
}

function rowTokens(row: ResultRow, names: readonly string[], fields: readonly FieldPacket[] | undefined, profile: NormalizationProfile): string[] {
  if (Array.isArray(row)) return row.map((value, i) => token(value, fields?.[i], profile));
  const record = row as Readonly<Record<string, unknown>>;
  return names.map((name, i) => token(record[name], fields?.[i], profile));
}

/** The normal form of one value, tagged by kind so that values of different kinds never compare equal. */
function token(value: unknown, field: FieldPacket | undefined, profile: NormalizationProfile): string {
  const type = field === undefined ? undefined : ((field as { columnType?: number }).columnType ?? field.type);
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') {
    if (profile.floatDigits !== undefined && type !== undefined && FLOAT_TYPES.has(type) && value !== 0 && Number.isFinite(value)) {
      return `n:${Number(value.toPrecision(profile.floatDigits))}`;
    }
    return `n:${value}`;
  }
  if (typeof value === 'bigint') return `n:${value}`;
  if (value instanceof Date) return `t:${Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString()}`;
  if (Buffer.isBuffer(value)) return `b:${value.toString('hex')}`;
  if (typeof value === 'string') return stringToken(value, type, profile);
  if (typeof value === 'object') {
    // A JSON column mysql2 parsed: keys sorted when documents are compared as documents.
    return profile.json === 'document' ? `j:${canonicalJson(value)}` : `o:${JSON.stringify(value)}`;
  }
  return typeof value === 'boolean' ? `bool:${value}` : typeof value;
}

function stringToken(value: string, type: number | undefined, profile: NormalizationProfile): string {
  if (type !== undefined && DECIMAL_TYPES.has(type)) return profile.decimals === 'value' ? `d:${decimalValue(value)}` : `s:${value}`;
  if (type !== undefined && TEMPORAL_TYPES.has(type)) return profile.temporal === 'instant' ? `t:${temporalInstant(value)}` : `s:${value}`;
  if (profile.json === 'document' && (type === JSON_TYPE || type === undefined || type >= 249)) {
    const document = parseJson(value);
    if (document !== undefined) return `j:${canonicalJson(document)}`;
  }
  let text = value;
  if (profile.trailingSpaces === 'ignore') text = text.replace(/ +$/, '');
  if (profile.letterCase === 'ignore') text = text.toLowerCase();
  return `s:${text}`;
}

/** `'001.500'` → `'1.5'`, `'-0.00'` → `'0'`: a decimal's value whatever its scale. */
function decimalValue(text: string): string {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (match === null) return text;
  const integer = (match[2] ?? '').replace(/^0+/, '') || '0';
  const fraction = (match[3] ?? '').replace(/0+$/, '');
  const digits = fraction === '' ? integer : `${integer}.${fraction}`;
  return digits === '0' || match[1] !== '-' ? digits : `-${digits}`;
}

/** A date-time text (`dateStrings`) with its fraction padded to 6 digits, so that precision changes compare equal. */
function temporalInstant(text: string): string {
  const match = /^(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2})(?:\.(\d{0,6}))?$/.exec(text.trim());
  if (match === null) return text;
  return `${(match[1] ?? '').replace('T', ' ')}.${(match[2] ?? '').padEnd(6, '0')}`;
}

function parseJson(text: string): unknown {
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
