/**
 * Truncated statements: well-formed writes and reads cut short inside a string, a quoted identifier, a comment,
 * a parenthesis or a keyword. Generated: every base statement is cut just after each character that opens
 * something (a quote, a backtick, `/*`, `(`, `#`, `--`), and at a few fixed fractions of its length.
 */
import { entry, type BadInput } from './spec.js';

/** Valid statements on `items`, each holding strings, identifiers and comments worth cutting inside. */
const BASES: readonly string[] = [
  "INSERT INTO items (name, qty, note) VALUES ('cut', 1, 'a \\'quoted\\' note')",
  "INSERT INTO `items` (`name`, `qty`) VALUES ('x', 2), ('y', 3) /* two rows */",
  "UPDATE items SET note = 'it''s \"fine\"' WHERE id = 1 -- trailing comment\n",
  "UPDATE `items` SET `qty` = `qty` + 1 WHERE `name` IN ('apple', 'pear') # hash comment\n",
  "DELETE FROM items WHERE note = 'never /* a comment */ here' AND id > 100",
  "INSERT INTO items (name, note) VALUES (\"double\", 'single') ON DUPLICATE KEY UPDATE qty = qty + 1",
  "SELECT id, name FROM items WHERE name LIKE '%p%' AND note IS NOT NULL ORDER BY id",
  "INSERT INTO items SET name = 'set form', qty = (1 + (2 * 3)), note = CONCAT('a', 'b')",
  "UPDATE items SET name = x'6869', raw = 0x00ff WHERE id = 2 /* hex */",
  "DELETE FROM `items` WHERE (`id` = 3 AND (`qty` > 0 OR `note` = '(paren)'))",
  "INSERT INTO items (name) VALUES (_utf8mb4'charset intro'), (N'national')",
  "UPDATE items SET note = CONCAT(note, '-- not a comment') WHERE id = 1",
];

const OPENERS = new Set(["'", '"', '`', '(', '#']);

function cutPoints(sql: string): number[] {
  const points = new Set<number>();
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i] as string;
    if (OPENERS.has(c)) points.add(i + 1);
    if (sql.startsWith('/*', i)) points.add(i + 2);
    if (sql.startsWith('-- ', i)) points.add(i + 3);
    if (c === '\\') points.add(i + 1); // a string ending in a lone backslash
  }
  for (const f of [0.2, 0.5, 0.8]) points.add(Math.floor(sql.length * f));
  points.delete(sql.length);
  return [...points].filter((p) => p > 0).sort((a, b) => a - b);
}

/** The truncated statements, with where they were cut. */
export const truncated: readonly BadInput[] = BASES.flatMap((base, b) =>
  cutPoints(base).map((at) => {
    const before = base.slice(Math.max(0, at - 12), at);
    return entry('truncated', `base #${b} cut at ${at}/${base.length}, after ${JSON.stringify(before)}`, base.slice(0, at));
  }),
);
