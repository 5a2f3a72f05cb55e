/**
 * Exact primary-key values as JSON: the repair log and the backfill checkpoints store keys this way so that a
 * key read back is byte for byte the key written (no number parsing, bytes kept).
 *
 * - strings stay strings (the server's exact text of numbers, dates, and character values);
 * - `Buffer`s become `{"$hex": "…"}`;
 * - `bigint`s become their decimal text; other numbers stay numbers; `null` stays `null`.
 *
 * @module
 */
import type { ExactValue } from './codec.js';

/** A JSON replacer for key values (Buffers arrive here already turned into `{type: 'Buffer', data}` by JSON.stringify). */
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value !== null && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
    return { $hex: Buffer.from((value as { data: number[] }).data).toString('hex') };
  }
  return value;
}

/** Encodes any structure of key values (a tuple, an object per row, a list of them) as exact JSON. */
export function encodeKeyJson(value: unknown): string {
  return JSON.stringify(value, replacer);
}

/**
 * Decodes a key tuple written by {@link encodeKeyJson}: strings and `null` as they were, `{"$hex"}` as a Buffer.
 *
 * @throws `TypeError` when the text is not a JSON array of such values (a damaged checkpoint)
 */
export function decodeKeyTuple(text: string): ExactValue[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) throw new TypeError(`a key tuple must be a JSON array, got ${text.slice(0, 80)}`);
  return parsed.map((value: unknown) => {
    if (value === null || typeof value === 'string') return value;
    if (typeof value === 'number') return String(value);
    if (value !== null && typeof value === 'object' && typeof (value as { $hex?: unknown }).$hex === 'string') {
      return Buffer.from((value as { $hex: string }).$hex, 'hex');
    }
    throw new TypeError(`a key value must be a string, null or {"$hex": …}, got ${JSON.stringify(value)}`);
  });
}
