/**
 * Statements whose size or depth is the problem: huge IN lists and VALUES lists, very deep parentheses and
 * subqueries, long identifiers, and one statement of 10 MB (sent once).
 */
import { entry, type BadInput } from './spec.js';

const group = 'sizes';

const ids = (n: number): string => Array.from({ length: n }, (_, i) => i + 1).join(', ');
const deep = (n: number, inner: string): string => '('.repeat(n) + inner + ')'.repeat(n);

const inLists: BadInput[] = [10, 1_000, 10_000, 100_000].flatMap((n) => [
  entry(group, `UPDATE with an IN list of ${n} ids`, `UPDATE items SET qty = qty + 1 WHERE id IN (${ids(n)})`),
  entry(group, `DELETE with an IN list of ${n} ids (none exists above 3 before the inserts)`, `DELETE FROM items WHERE id IN (${ids(n).replace(/\b([123])\b/g, '-$1')})`),
  entry(group, `SELECT with an IN list of ${n} ids`, `SELECT COUNT(*) AS n FROM items WHERE id IN (${ids(n)})`),
  entry(group, `UPDATE with an IN list of ${n} placeholders by execute()`, `UPDATE items SET qty = qty + 1 WHERE id IN (${Array(Math.min(n, 65_535)).fill('?').join(', ')})`, Array.from({ length: Math.min(n, 65_535) }, (_, i) => i + 1), 'execute'),
]);

const manyRows: BadInput[] = [100, 5_000].map((n) =>
  entry(group, `INSERT of ${n} rows in one VALUES list`, `INSERT INTO items (name, qty) VALUES ${Array.from({ length: n }, (_, i) => `('r${i}', ${i})`).join(', ')}`),
);

const depth: BadInput[] = [10, 100, 1_000, 10_000, 100_000].flatMap((n) => [
  entry(group, `${n} nested parentheses around a value`, `UPDATE items SET qty = ${deep(n, '1')} WHERE id = 1`),
  entry(group, `${n} unbalanced opening parentheses`, `UPDATE items SET qty = ${'('.repeat(n)}1 WHERE id = 1`),
  entry(group, `${n} nested parentheses in a WHERE`, `DELETE FROM items WHERE ${deep(n, 'id = 996')}`),
]);

const subqueries: BadInput[] = [5, 50].map((n) =>
  entry(group, `${n} nested subqueries in a DELETE`, `DELETE FROM items WHERE id IN ${'(SELECT 995 FROM DUAL WHERE 1 IN '.repeat(n)}(1)${')'.repeat(n)}`),
);

const long: BadInput[] = [
  entry(group, 'a 64-character column name (the limit)', `UPDATE items SET \`${'c'.repeat(64)}\` = 1 WHERE id = 1`),
  entry(group, 'a 65-character column name (over the limit)', `UPDATE items SET \`${'c'.repeat(65)}\` = 1 WHERE id = 1`),
  entry(group, 'a 100,000-character table name', `UPDATE \`${'t'.repeat(100_000)}\` SET qty = 1`),
  entry(group, 'a 1 MB comment before a write', `/* ${'x'.repeat(1 << 20)} */ UPDATE items SET qty = qty + 1 WHERE id = 2`),
  entry(group, 'a 1 MB string never closed', `UPDATE items SET note = '${'y'.repeat(1 << 20)}`),
];

/** The 10 MB statement: one INSERT whose note is 10 MB of text (under the server's 16 MB max_allowed_packet). */
export const tenMegabytes: BadInput = entry(group, 'a 10 MB INSERT', `INSERT INTO items (name, note) VALUES ('ten megabytes', '${'z'.repeat(10 * (1 << 20))}')`);

/** The size and depth entries (the 10 MB one apart: {@link tenMegabytes}). */
export const sizes: readonly BadInput[] = [...inLists, ...manyRows, ...depth, ...subqueries, ...long];
