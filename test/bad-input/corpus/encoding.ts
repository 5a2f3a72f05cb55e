/**
 * Text the server may not take as utf8mb4: invalid UTF-8 bytes (as bound Buffers and as `x'…'` literals into a
 * text column), lone UTF-16 surrogates in JavaScript strings (encoded as U+FFFD by Node), NUL bytes in text,
 * values and identifiers, control characters, and characters outside the BMP.
 */
import { entry, type BadInput } from './spec.js';

const group = 'encoding';

/** Byte sequences that are not valid UTF-8 (and one that is, as a control). */
const BYTES: ReadonlyArray<readonly [string, string]> = [
  ['ff', 'a byte that never occurs in UTF-8'],
  ['c3', 'a lead byte without its continuation'],
  ['80', 'a lone continuation byte'],
  ['c0af', 'an overlong encoding of /'],
  ['eda080', 'an encoded surrogate (CESU-8)'],
  ['f4908080', 'a code point above U+10FFFF'],
  ['f09f98', 'a 4-byte sequence cut short'],
  ['00', 'a NUL byte'],
  ['5c27', "a backslash then a quote (\\')"],
  ['bf5c', 'GBK-style lead byte before a backslash'],
  ['e282ac', 'valid UTF-8 (€), the control'],
];

const bytes: BadInput[] = BYTES.flatMap(([hex, note]) => [
  entry(group, `${note}: bound Buffer into a utf8mb4 column by query()`, 'INSERT INTO items (name, note) VALUES (?, ?)', ['buf', Buffer.from(hex, 'hex')]),
  entry(group, `${note}: bound Buffer into a utf8mb4 column by execute()`, 'INSERT INTO items (name, note) VALUES (?, ?)', ['buf', Buffer.from(hex, 'hex')], 'execute'),
  entry(group, `${note}: bound Buffer into a VARBINARY column`, 'INSERT INTO items (name, raw) VALUES (?, ?)', ['bin', Buffer.from(hex, 'hex')], 'execute'),
  entry(group, `${note}: x'' literal into a utf8mb4 column`, `INSERT INTO items (name, note) VALUES ('hex', x'${hex}')`),
  entry(group, `${note}: CONVERT of the bytes to utf8mb4`, `UPDATE items SET note = CONVERT(x'${hex}' USING utf8mb4) WHERE id = 1`),
]);

/** JavaScript strings that are not well-formed UTF-16, or hold characters that stress quoting. */
const STRINGS: ReadonlyArray<readonly [string, string]> = [
  ['\ud800', 'a lone high surrogate'],
  ['\udc00', 'a lone low surrogate'],
  ['a\ud83dz', 'a high surrogate between letters'],
  ['\udc00\ud800', 'surrogates in the wrong order'],
  ['😀', 'a well-formed astral character (control)'],
  ['\u0000', 'a NUL character'],
  ['a\u0000b', 'a NUL between letters'],
  ['\u0000\'; DELETE FROM items; --', 'a NUL before an injection payload'],
  ['\u001a', 'Ctrl-Z (\\Z to MySQL)'],
  ['\r\n\t\b', 'control characters'],
  ['\u2028\u2029', 'line and paragraph separators'],
  ['\ufeff', 'a byte-order mark'],
  ['\u202e', 'a right-to-left override'],
];

const strings: BadInput[] = STRINGS.flatMap(([text, note]) => [
  entry(group, `${note}: bound by query()`, 'INSERT INTO items (name, note) VALUES (?, ?)', ['str', text]),
  entry(group, `${note}: bound by execute()`, 'INSERT INTO items (name, note) VALUES (?, ?)', ['str', text], 'execute'),
  entry(group, `${note}: inside a string literal`, `INSERT INTO items (name, note) VALUES ('lit', '${text.replace(/'/g, "''")}')`),
  entry(group, `${note}: inside a backtick identifier`, `UPDATE items SET \`${text}\` = 1 WHERE id = 1`),
  entry(group, `${note}: in code position`, `UPDATE items SET qty = 1 ${text} WHERE id = 1`),
]);

/** The encoding entries. */
export const encoding: readonly BadInput[] = [...bytes, ...strings];
