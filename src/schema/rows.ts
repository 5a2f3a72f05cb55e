/**
 * Reading metadata result sets without trusting the client's row format:
 * rows may be objects (mysql2's default) or arrays (`rowsAsArray`), and text
 * may arrive as strings or bytes depending on the client's options.
 *
 * @module
 */

/** A metadata row keyed by (lower-case) column alias. */
export type MetadataRow = Readonly<Record<string, unknown>>;

/**
 * Turns a `[rows, fields]` query result into rows keyed by lower-case column alias.
 *
 * @throws TypeError when the result is not a row list (e.g. the client returned a write result).
 */
export function readRows(result: readonly [unknown, unknown]): MetadataRow[] {
  const [rows, fields] = result;
  if (!Array.isArray(rows)) {
    throw new TypeError('the metadata query did not return rows (is the client in a mode that returns something else?)');
  }
  const names = Array.isArray(fields)
    ? fields.map((field: unknown) => (typeof field === 'object' && field !== null && 'name' in field ? String(field.name).toLowerCase() : ''))
    : [];
  return rows.map((row: unknown): MetadataRow => {
    if (Array.isArray(row)) {
      const out: Record<string, unknown> = {};
      row.forEach((value: unknown, index) => {
        const name = names[index];
        if (name) out[name] = value;
      });
      return out;
    }
    if (typeof row !== 'object' || row === null) {
      throw new TypeError('the metadata query returned a row that is neither an object nor an array');
    }
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(row)) out[key.toLowerCase()] = value;
    return out;
  });
}

/** A value as text: null stays null, bytes are decoded as UTF-8, numbers and bigints are printed. */
export function text(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  throw new TypeError(`unexpected metadata value of type ${typeof value}`);
}

/** A value as text, with null read as the empty string. */
export function textOrEmpty(value: unknown): string {
  return text(value) ?? '';
}

/** A value as a number, or null (for SQL NULL or an empty string). */
export function numberOrNull(value: unknown): number | null {
  const asText = text(value);
  if (asText === null || asText === '') return null;
  const parsed = Number(asText);
  if (Number.isNaN(parsed)) throw new TypeError(`expected a number in metadata, got ${JSON.stringify(asText)}`);
  return parsed;
}
