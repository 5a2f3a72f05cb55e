/**
 * Quotes that do not match, and identifier/value injection attempts: quotes, backticks, backslashes and comment
 * marks inside identifiers, string literals and bound values. Values sent bound must be stored as given; text
 * that closes a quote early must fail (or do exactly what the server makes of it) the same way through the pool.
 */
import { entry, type BadInput } from './spec.js';

/** Payloads that try to leave a string or identifier. */
const PAYLOADS: readonly string[] = [
  "'",
  "''",
  "\\'",
  "\\\\'",
  '"',
  '`',
  '``',
  "'; DELETE FROM items; --",
  "' OR '1'='1",
  "') ; DROP TABLE items; -- ",
  '*/ DELETE FROM items /*',
  '/*! DELETE FROM items */',
  '\\',
  '\\\\',
  '\\0',
  '\\Z',
  "x' /*",
  '` ; DELETE FROM items; -- ',
  '?',
  "'?'",
  '#',
  '-- ',
];

const group = 'quotes';

const mismatched: BadInput[] = [
  entry(group, 'string never closed', "INSERT INTO items (name) VALUES ('open)"),
  entry(group, 'double-quoted string closed by a single quote', "INSERT INTO items (name) VALUES (\"mixed')"),
  entry(group, 'single-quoted string closed by a double quote', "INSERT INTO items (name) VALUES ('mixed\")"),
  entry(group, 'backtick identifier never closed', 'UPDATE `items SET qty = 1 WHERE id = 1'),
  entry(group, 'backtick identifier closed by a quote', "UPDATE `items' SET qty = 1 WHERE id = 1"),
  entry(group, 'escaped closing quote leaves the string open', "UPDATE items SET name = 'abc\\' WHERE id = 1"),
  entry(group, 'doubled quote then end of text', "UPDATE items SET name = 'abc'' WHERE id = 1"),
  entry(group, 'three quotes', "UPDATE items SET name = ''' WHERE id = 1"),
  entry(group, 'quote inside an identifier is fine', "UPDATE `items` SET `name` = 'o''neil' WHERE `id` = 1"),
  entry(group, 'backslash-escaped backslash then a closing quote', "UPDATE items SET name = 'a\\\\' WHERE id = 1"),
  entry(group, 'stray closing backtick', 'UPDATE items` SET qty = 1 WHERE id = 1'),
  entry(group, 'empty identifier', 'UPDATE `` SET qty = 1'),
  entry(group, 'quoted empty column', 'UPDATE items SET `` = 1'),
  entry(group, 'ANSI double-quoted identifier outside ANSI_QUOTES is a string', 'UPDATE "items" SET qty = 1 WHERE id = 1'),
  entry(group, 'doubled backtick inside an identifier', 'UPDATE `it``ems` SET qty = 1 WHERE id = 1'),
  entry(group, 'string straddling a semicolon', "UPDATE items SET note = 'a; DELETE FROM items' WHERE id = 1"),
  entry(group, 'comment mark inside a string', "UPDATE items SET note = '/* not a comment' WHERE id = 2"),
  entry(group, 'unterminated comment after a complete statement', 'UPDATE items SET qty = 9 WHERE id = 2 /* open'),
  entry(group, 'comment closer without an opener', 'UPDATE items SET qty = 9 */ WHERE id = 2'),
  entry(group, 'string prefix without a string', 'UPDATE items SET name = _utf8mb4 WHERE id = 2'),
  entry(group, 'hex literal never closed', "UPDATE items SET raw = x'00ff WHERE id = 2"),
  entry(group, 'odd-length hex literal', "UPDATE items SET raw = x'0ff' WHERE id = 2"),
  entry(group, 'bit literal with a bad digit', "UPDATE items SET raw = b'012' WHERE id = 2"),
];

/** Every payload as a bound value (query and execute), written into a string literal's place, and as an identifier. */
const injected: BadInput[] = PAYLOADS.flatMap((payload, i) => [
  entry(group, `payload #${i} bound by query()`, 'INSERT INTO items (name, note) VALUES (?, ?)', [`q${i}`, payload]),
  entry(group, `payload #${i} bound by execute()`, 'INSERT INTO items (name, note) VALUES (?, ?)', [`e${i}`, payload], 'execute'),
  entry(group, `payload #${i} bound in a WHERE`, 'UPDATE items SET qty = qty + 1 WHERE name = ?', [payload]),
  entry(group, `payload #${i} pasted raw into a string literal (the application forgot to escape)`, `UPDATE items SET note = '${payload}' WHERE id = 3`),
  entry(group, `payload #${i} pasted raw into a backtick identifier`, `UPDATE \`items\` SET \`${payload}\` = 1 WHERE id = 3`),
  entry(group, `payload #${i} as a ?? identifier placeholder`, 'SELECT ?? FROM items WHERE id = 1', [payload]),
]);

/** The quote and injection entries. */
export const quotes: readonly BadInput[] = [...mismatched, ...injected];
