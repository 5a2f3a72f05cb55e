/**
 * Placeholders that do not match their values: too few, too many, none; stray `?` forms (`??`, `???`, `?` glued
 * to words, inside strings, comments and identifiers); values of odd types. Generated over both methods: `query()`
 * (mysql2 writes the values into the text) and `execute()` (the server binds them).
 */
import { entry, type BadInput } from './spec.js';

const group = 'placeholders';

/** Statements with `n` code-position placeholders, and how many that is. */
const SHAPES: ReadonlyArray<readonly [string, number]> = [
  ['INSERT INTO items (name, qty) VALUES (?, ?)', 2],
  ['UPDATE items SET qty = ? WHERE id = ?', 2],
  ['DELETE FROM items WHERE id = ?', 1],
  ['INSERT INTO items (name) VALUES (?), (?), (?)', 3],
  ['SELECT name FROM items WHERE id = ? AND qty >= ?', 2],
  ["INSERT INTO items (name, note) VALUES ('?', ?)", 1],
  ['UPDATE items SET note = ? /* ? */ WHERE id = ? -- ?\n', 2],
];

/** Value counts tried against each shape: none, one short, right, one over, many over. */
const counts = (n: number): number[] => [...new Set([0, Math.max(0, n - 1), n, n + 1, n + 5])];

const valuesOf = (k: number): unknown[] => Array.from({ length: k }, (_, i) => (i % 2 === 0 ? `v${i}` : i + 1));

const wrongCounts: BadInput[] = SHAPES.flatMap(([sql, n], s) =>
  counts(n).flatMap((k) =>
    (['query', 'execute'] as const).map((method) =>
      entry(group, `shape #${s} (${n} placeholders) with ${k} values by ${method}()`, sql, valuesOf(k), method),
    ),
  ),
);

const stray: ReadonlyArray<readonly [string, readonly unknown[], string]> = [
  ['UPDATE items SET qty = ?? WHERE id = 1', [5], 'a ?? (mysql2: identifier placeholder) where a value belongs'],
  ['UPDATE ?? SET qty = ? WHERE id = ?', ['items', 5, 1], '?? as the table of an UPDATE'],
  ['UPDATE ?? SET qty = ? WHERE id = ?', ['items` SET qty = 0 WHERE 1=1 -- ', 5, 1], '?? with an identifier-injection payload'],
  ['INSERT INTO ?? (name) VALUES (?)', ['items', 'ident'], '?? as the table of an INSERT'],
  ['UPDATE items SET qty = ??? WHERE id = 1', [5], 'three ? in a row (mysql2 leaves them alone)'],
  ['UPDATE items SET qty = ???? WHERE id = ?', [5, 1], 'four ? in a row'],
  ['UPDATE items SET qty = 1?2 WHERE id = 1', [5], '? glued between digits'],
  ['UPDATE items SET name = a? WHERE id = 1', ['x'], '? glued after a word'],
  ['UPDATE items SET qty = ?1 WHERE id = 1', [5], '? glued before a digit'],
  ['UPDATE items SET qty = $1 WHERE id = 2', [5], 'a PostgreSQL-style $1 placeholder'],
  ['UPDATE items SET qty = :qty WHERE id = 2', [5], 'a named placeholder without namedPlaceholders'],
  ['UPDATE items SET qty = @? WHERE id = 2', [5], '@? (user variable syntax)'],
  ['UPDATE items SET `qty?` = ? WHERE id = 2', [5], '? inside a backtick identifier'],
  ['UPDATE items SET qty = ? WHERE name = "?"', [5], '? inside a double-quoted string'],
  ["UPDATE items SET qty = ? WHERE name = '\\'?'", [5], '? after an escaped quote in a string'],
  ['UPDATE items SET qty = ? WHERE id = 2 # ?', [5, 6], '? in a hash comment with a value for it'],
  ['UPDATE items SET qty = ? WHERE id = 2 --?', [5, 6], '--? is not a comment: two minus signs then ?'],
  ['UPDATE items SET qty = ? /*! + ? */ WHERE id = 2', [5, 6], '? inside an executable comment'],
  ['UPDATE items SET qty = (?) WHERE id = (?)', [5, 2], 'parenthesised placeholders'],
  ['UPDATE items SET qty = ? WHERE id IN (?)', [5, [1, 2, 3]], 'an array value (mysql2 expands it to a list)'],
  ['UPDATE items SET ? WHERE id = 2', [{ qty: 7, note: "o'k" }], 'an object value (mysql2 SET ? expansion)'],
  ['UPDATE items SET ? WHERE id = 2', [{ 'qty` = 0, `name': 'x' }], 'an object whose key tries identifier injection'],
  ['UPDATE items SET qty = ? WHERE id = 2', [null], 'NULL into a NOT NULL column'],
  ['UPDATE items SET qty = ? WHERE id = 2', ['not a number'], 'a string into an INT column'],
  ['UPDATE items SET qty = ? WHERE id = 2', [Number.NaN], 'NaN'],
  ['UPDATE items SET qty = ? WHERE id = 2', [Number.POSITIVE_INFINITY], 'Infinity'],
  ['UPDATE items SET qty = ? WHERE id = 2', [2n ** 70n], 'a bigint beyond BIGINT'],
  ['UPDATE items SET qty = ? WHERE id = 2', [true], 'a boolean'],
  ['UPDATE items SET note = ? WHERE id = 2', [new Date(0)], 'a Date'],
  ['UPDATE items SET note = ? WHERE id = 2', [new Date(Number.NaN)], 'an invalid Date'],
  ['UPDATE items SET qty = ? WHERE id = 2', [undefined], 'undefined'],
  ['UPDATE items SET qty = ? WHERE id = 2', [() => 1], 'a function'],
  ['UPDATE items SET qty = ? WHERE id = 2', [Symbol('s')], 'a symbol'],
  ['UPDATE items SET note = ? WHERE id = 2', [{ toSqlString: () => "'raw' , qty = 0" }], 'a toSqlString() object (raw SQL by design)'],
];

const strayEntries: BadInput[] = stray.flatMap(([sql, values, note]) =>
  (['query', 'execute'] as const).map((method) => entry(group, `${note} by ${method}()`, sql, values, method)),
);

/** The placeholder entries. */
export const placeholders: readonly BadInput[] = [...wrongCounts, ...strayEntries];
