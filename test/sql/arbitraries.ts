/**
 * Generators of SQL texts for the analyzer's property tests.
 *
 * Every generated text is built from pieces that know what they are: a piece
 * records the offsets of the `?` it puts in code position, so the expected
 * placeholder offsets (and the expected class) come from how the text was
 * built, never from re-lexing it.
 */
import fc from 'fast-check';

/** A fragment of SQL and the offsets (relative to its start) of its code-position `?`. */
export interface Piece {
  readonly text: string;
  readonly qs: readonly number[];
}

const piece = (text: string, qs: readonly number[] = []): Piece => ({ text, qs });

/** Concatenate pieces, shifting each one's `?` offsets. */
export function join(pieces: readonly Piece[], sep = ''): Piece {
  let text = '';
  const qs: number[] = [];
  pieces.forEach((p, i) => {
    if (i > 0) text += sep;
    for (const q of p.qs) qs.push(text.length + q);
    text += p.text;
  });
  return { text, qs };
}

/** Words that would make a statement a write (or DDL) if they were code. */
export const WRITE_WORDS = [
  'INSERT',
  'UPDATE',
  'DELETE',
  'REPLACE',
  'CREATE',
  'DROP',
  'ALTER',
  'TRUNCATE',
  'LOAD',
  'INTO',
  'INTO OUTFILE',
  'ON DUPLICATE KEY UPDATE',
  'DELETE FROM t',
  'INSERT INTO t VALUES (1)',
  'LOAD DATA INFILE',
] as const;

/** Characters and sequences that trip lexers: quotes of all kinds, escapes, comment marks, separators. */
const TRICKY = [
  "'",
  '"',
  '`',
  '\\',
  '\\\\',
  ';',
  '?',
  '??',
  '--',
  '-- ',
  '#',
  '/*',
  '*/',
  '/*!',
  '/*M!',
  '*',
  '\n',
  '\r\n',
  '\t',
  ' ',
  '@',
  '@@',
  '$',
  '(',
  ')',
  ',',
  'é',
  '𝄞',
  '\u0000',
  ...WRITE_WORDS,
  ...WRITE_WORDS.map((w) => w.toLowerCase()),
  'SELECT',
  'NOW()',
  'RAND()',
];

/** Arbitrary content for something that is not code (string, identifier, comment body). */
const noise: fc.Arbitrary<string> = fc
  .array(fc.oneof(fc.constantFrom(...TRICKY), fc.string({ maxLength: 4 })), { maxLength: 8 })
  .map((parts) => parts.join(''));

/** A single-quoted string literal holding `s`, escaped in one of the ways MySQL accepts. */
const singleQuoted = (s: string, doubling: boolean): string =>
  "'" + s.replace(/\\/g, '\\\\').replace(/'/g, doubling ? "''" : "\\'") + "'";

/** A double-quoted string literal (an identifier under ANSI_QUOTES: non-code either way). */
const doubleQuoted = (s: string, doubling: boolean): string =>
  '"' + s.replace(/\\/g, '\\\\').replace(/"/g, doubling ? '""' : '\\"') + '"';

/** A backtick-quoted identifier; inside backticks only the backtick needs escaping (by doubling). */
const backticked = (s: string): string => '`' + s.replace(/`/g, '``') + '`';

/** A string literal with arbitrary content. */
export const stringLit: fc.Arbitrary<Piece> = fc
  .tuple(noise, fc.boolean(), fc.boolean(), fc.constantFrom('', '_utf8mb4', 'N'))
  .map(([s, single, doubling, prefix]) =>
    piece(single ? prefix + singleQuoted(s, doubling) : doubleQuoted(s, doubling)),
  );

/** A quoted identifier with arbitrary (non-empty) content. */
export const quotedIdent: fc.Arbitrary<Piece> = noise.map((s) => piece(backticked(s.length ? s : 'x')));

/** A comment with arbitrary content that is not an executable comment. */
export const comment: fc.Arbitrary<Piece> = fc.oneof(
  noise.map((s) => {
    let body = s.replace(/\*\//g, '* /');
    // `/*!` and `/*M!` are executable comments: code, not comment.
    if (body.startsWith('!') || body.startsWith('M!')) body = ' ' + body;
    return piece('/*' + body + '*/');
  }),
  noise.map((s) => piece('-- ' + s.replace(/[\r\n]/g, ' ') + '\n')),
  noise.map((s) => piece('#' + s.replace(/[\r\n]/g, ' ') + '\n')),
);

/** Whitespace, possibly with comments in it. */
export const gap: fc.Arbitrary<Piece> = fc
  .tuple(fc.constantFrom(' ', '  ', '\n', '\t', ' \r\n '), fc.option(comment, { freq: 4 }), fc.constantFrom(' ', '\n'))
  .map(([a, c, b]) => join([piece(a), c ?? piece(''), piece(b)]));

/** Plain identifiers, some of which contain write words as substrings. */
const plainIdent = fc.constantFrom(
  'id',
  'name',
  'created_at',
  'updated_at',
  'deleted',
  'updates',
  'inserted_by',
  'drop_count',
  'loader',
  'replaced',
  'creator',
  'into_x',
  't_delete',
);

/** A column reference: plain, quoted, or qualified. */
export const column: fc.Arbitrary<Piece> = fc.oneof(
  plainIdent.map((s) => piece(s)),
  quotedIdent,
  fc.tuple(plainIdent, quotedIdent).map(([q, c]) => piece(q + '.' + c.text)),
);

const QMARK = piece('?', [0]);

/** A scalar expression with no unsafe construct; may hold placeholders in code position. */
export const scalar: fc.Arbitrary<Piece> = fc.letrec<{ e: Piece }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    column,
    stringLit,
    fc.constant(QMARK),
    fc.integer({ min: 0, max: 99999 }).map((n) => piece(String(n))),
    fc.constantFrom('NULL', 'TRUE', "X'ab'", '0x1F', "b'101'", '1.5e3').map((s) => piece(s)),
    // Functions named like write statements, called as functions.
    fc.tuple(tie('e'), stringLit, stringLit).map(([x, a, b]) => join([piece('REPLACE('), x, piece(', '), a, piece(', '), b, piece(')')])),
    fc.tuple(tie('e'), tie('e')).map(([x, y]) => join([piece('INSERT('), x, piece(', 1, 2, '), y, piece(')')])),
    fc.tuple(tie('e'), tie('e')).map(([x, y]) => join([piece('CONCAT('), x, piece(', '), y, piece(')')])),
    fc.tuple(tie('e'), tie('e')).map(([x, y]) => join([piece('COALESCE('), x, piece(', '), y, piece(')')])),
    tie('e').map((x) => join([piece('LOWER('), x, piece(')')])),
    fc.tuple(tie('e'), gap, fc.constantFrom('=', '<>', '+', '*', 'LIKE', 'AND', 'OR'), gap, tie('e')).map(([x, g1, op, g2, y]) =>
      join([x, g1, piece(op), g2, y]),
    ),
    fc.tuple(tie('e'), gap).map(([x, g]) => join([piece('('), g, x, piece(')')])),
  ),
})).e;

/** A table name (plain, quoted — possibly named like a keyword — or schema-qualified). */
export const tableName: fc.Arbitrary<Piece> = fc.oneof(
  fc.constantFrom('t', 'orders', 'app.orders', 'updates', 'deleted_rows').map((s) => piece(s)),
  fc.constantFrom('insert', 'update', 'delete', 'select', 'drop', 'into').map((s) => piece(backticked(s))),
  quotedIdent,
);

export type LockClause = 'FOR UPDATE' | 'FOR SHARE' | 'LOCK IN SHARE MODE' | null;

/** A SELECT statement whose strings, identifiers and comments may hold anything. */
export interface GeneratedSelect extends Piece {
  /** The locking clause the statement ends with, if any. */
  readonly lock: LockClause;
}

const selectCore: fc.Arbitrary<Piece> = fc
  .tuple(
    fc.array(fc.tuple(scalar, fc.option(fc.oneof(plainIdent.map((a) => piece(a)), quotedIdent), { freq: 3 })), { minLength: 1, maxLength: 4 }),
    fc.option(tableName, { freq: 5 }),
    fc.option(scalar, { freq: 2 }),
    fc.option(fc.tuple(column, fc.boolean()), { freq: 3 }),
    fc.option(fc.constantFrom(piece('?', [0]), piece('10'), piece('?, ?', [0, 3]), piece('? OFFSET ?', [0, 9])), { freq: 3 }),
    gap,
    gap,
  )
  .map(([items, from, where, orderBy, limit, g1, g2]) => {
    const parts: Piece[] = [piece('SELECT'), g1];
    parts.push(
      join(
        items.map(([e, alias]) => (alias ? join([e, piece(' AS '), alias]) : e)),
        ', ',
      ),
    );
    if (from) parts.push(g2, piece('FROM '), from);
    if (from && where) parts.push(piece(' WHERE '), where);
    if (from && orderBy) parts.push(piece(' ORDER BY '), orderBy[0], piece(orderBy[1] ? ' DESC' : ' ASC'));
    if (from && limit) parts.push(piece(' LIMIT '), limit);
    return join(parts);
  });

/** A read: SELECT, possibly wrapped in WITH or parentheses, with an optional lock, `;` and trailing comment. */
export const readStatement: fc.Arbitrary<GeneratedSelect> = fc
  .tuple(
    selectCore,
    fc.constantFrom<'plain' | 'with' | 'paren' | 'union'>('plain', 'with', 'paren', 'union'),
    selectCore,
    fc.constantFrom<LockClause>(null, null, 'FOR UPDATE', 'FOR SHARE', 'LOCK IN SHARE MODE'),
    fc.option(comment),
    fc.option(comment),
    fc.boolean(),
  )
  .map(([core, shape, other, lock, lead, trail, semi]) => {
    let body: Piece;
    switch (shape) {
      case 'plain':
        body = core;
        break;
      case 'with':
        body = join([piece('WITH `c` AS ('), other, piece(') '), core]);
        break;
      case 'paren':
        body = join([piece('('), core, piece(')')]);
        break;
      case 'union':
        body = join([piece('('), core, piece(') UNION ALL ('), other, piece(')')]);
        break;
    }
    const parts: Piece[] = [];
    if (lead) parts.push(lead, piece(' '));
    parts.push(body);
    // A locking clause goes at the end of a simple query block.
    const lockable = shape === 'plain' || shape === 'with';
    const usedLock = lockable ? lock : null;
    if (usedLock) parts.push(piece(' ' + usedLock));
    if (semi) parts.push(piece(';'));
    if (trail) parts.push(piece(' '), trail);
    return { ...join(parts), lock: usedLock };
  });

/** A write placed in code position, in one of the ways that hides it behind a read. */
export interface HiddenWrite extends Piece {
  readonly how: string;
}

const writeBody: fc.Arbitrary<Piece> = fc.oneof(
  fc.tuple(tableName, scalar).map(([t, w]) => join([piece('DELETE FROM '), t, piece(' WHERE '), w])),
  fc.tuple(tableName, column, scalar).map(([t, c, v]) => join([piece('UPDATE '), t, piece(' SET '), c, piece(' = '), v])),
  fc.tuple(tableName, scalar).map(([t, v]) => join([piece('INSERT INTO '), t, piece(' VALUES ('), v, piece(')')])),
  fc.tuple(tableName, scalar).map(([t, v]) => join([piece('REPLACE INTO '), t, piece(' VALUES ('), v, piece(')')])),
  tableName.map((t) => join([piece("LOAD DATA LOCAL INFILE '/tmp/x.csv' INTO TABLE "), t])),
);

export const hiddenWrite: fc.Arbitrary<HiddenWrite> = fc.oneof(
  fc.tuple(selectCore, gap, writeBody).map(([r, g, w]) => ({
    ...join([r, piece(';'), g, w]),
    how: 'second statement',
  })),
  fc
    .tuple(
      fc.constantFrom(
        'SELECT `a\\`', // a backslash does not escape inside backticks
        "SELECT 'a\\\\'", // an escaped backslash ends the string
        'SELECT "a\\\\"',
        "SELECT 'a'''",
        'SELECT 1 --1', // `--` without a following space is not a comment
        'SELECT 1 #x\n', // a # comment ends at the newline
        'SELECT 1 /*/ x */',
        'SELECT 1 -- x\n',
        "SELECT _utf8mb4'\\''",
      ),
      gap,
      writeBody,
    )
    .map(([sel, g, w]) => ({ ...join([piece(sel), piece(';'), g, w]), how: 'second statement' })),
  fc.tuple(fc.constantFrom('/*!', '/*!50000 ', '/*M!100000 ', '/*!  '), writeBody).map(([open, w]) => ({
    ...join([piece(open), w, piece(' */')]),
    how: 'executable comment',
  })),
  fc.tuple(selectCore, fc.constantFrom('/*!', '/*!50000 ', '/*M!100000 '), writeBody).map(([r, open, w]) => ({
    ...join([r, piece(' '), piece(open), piece('; '), w, piece(' */')]),
    how: 'executable comment after a read',
  })),
  fc.tuple(scalar, tableName, fc.constantFrom('INTO @v', 'INTO @a, @b', "INTO OUTFILE '/tmp/o.csv'", "INTO DUMPFILE '/tmp/o.bin'")).map(
    ([e, t, into]) => ({
      ...join([piece('SELECT '), e, piece(' FROM '), t, piece(' ' + into)]),
      how: 'select into',
    }),
  ),
  fc.tuple(scalar, tableName, scalar).map(([e, t, w]) => ({
    ...join([piece('SELECT '), e, piece(' INTO @v FROM '), t, piece(' WHERE '), w]),
    how: 'select into before from',
  })),
  fc.tuple(selectCore, tableName, scalar, fc.boolean()).map(([cte, t, w, del]) => ({
    ...join(
      del
        ? [piece('WITH `c` AS ('), cte, piece(') DELETE FROM '), t, piece(' WHERE '), w]
        : [piece('WITH `c` AS ('), cte, piece(') UPDATE '), t, piece(' SET `x` = '), w],
    ),
    how: 'cte ending in DML',
  })),
  fc.tuple(fc.option(comment), writeBody).map(([c, w]) => ({
    ...join(c ? [c, piece(' '), w] : [w]),
    how: 'leading write verb',
  })),
);

/** SQL-ish token soup: keywords, quotes, comment marks, escapes, unterminated anything. */
export const tokenSoup: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        'SELECT',
        'INSERT',
        'INTO',
        'VALUES',
        'VALUE',
        'SET',
        'UPDATE',
        'DELETE',
        'FROM',
        'WHERE',
        'ORDER BY',
        'LIMIT',
        'ON DUPLICATE KEY UPDATE',
        'AS',
        'WITH',
        'REPLACE',
        'IGNORE',
        'BEGIN',
        'START TRANSACTION',
        'COMMIT',
        'ROLLBACK TO',
        'SAVEPOINT',
        'CREATE',
        'TABLE',
        'TEMPORARY',
        'DROP',
        'ALTER',
        'RENAME',
        'TRUNCATE',
        'LOAD DATA',
        'LOCAL',
        'INFILE',
        'CALL',
        'FOR UPDATE',
        'JOIN',
        'USING',
        'DEFAULT',
        'NULL',
        'NOW()',
        'UUID(',
        'NEXT VALUE FOR',
        't',
        '`t`',
        'db.t',
        '(',
        ')',
        ',',
        '=',
        '.',
        '?',
        ';',
        "'",
        '"',
        '`',
        '\\',
        "\\'",
        '--',
        '-- ',
        '#',
        '/*',
        '*/',
        '/*!',
        '/*!50000',
        '/*M!',
        '/*+',
        '@',
        '@@',
        '@x',
        '@@session.x',
        "_utf8mb4'",
        "X'",
        "b'",
        '0x',
        '-1',
        '\n',
        '\r',
        '\u2028',
        '𝄞',
      ),
      fc.string({ maxLength: 3 }),
    ),
    { maxLength: 40 },
  )
  .chain((tokens) =>
    fc
      .array(fc.constantFrom('', ' ', ' ', '\n'), { minLength: tokens.length, maxLength: tokens.length })
      .map((seps) => tokens.map((t, i) => t + (seps[i] ?? '')).join('')),
  );

/** A SELECT made of code `?` (some glued to operators) and non-code pieces that contain `?`. */
export const placeholderSoup: fc.Arbitrary<Piece> = fc
  .array(
    fc.oneof(
      fc.constant(piece('?', [0])),
      fc.constant(piece('?,?', [0, 2])),
      fc.constant(piece('(?)', [1])),
      fc.constant(piece('?+?', [0, 2])),
      fc.constant(piece('--?', [2])),
      fc.constant(piece('a=?', [2])),
      fc.constant(piece('@x', [])),
      fc.constantFrom('1', 'a', '+', ',', '(', ')', 'AND', '`a`.`b`').map((t) => piece(t)),
      stringLit,
      quotedIdent,
      comment,
    ),
    { maxLength: 30 },
  )
  .chain((items) =>
    fc
      .array(fc.constantFrom(' ', '\n', '\t', ' '), { minLength: items.length, maxLength: items.length })
      .map((seps) => join([piece('SELECT '), ...items.flatMap((p, i) => [p, piece(seps[i] ?? ' ')])])),
  );
