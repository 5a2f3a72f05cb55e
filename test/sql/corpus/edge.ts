/**
 * The lexer's hard cases: `?` inside strings, quoted identifiers and
 * comments; escapes; `--` that is not a comment; executable comments;
 * statement separators inside strings; trailing semicolons; write keywords
 * that are function names, identifiers or string content; empty texts;
 * unicode; literal forms.
 */
import { A, C, EXPR, LIT, P, T, type CorpusEntry } from './spec.js';

export const edgeCases: readonly CorpusEntry[] = [
  // --- placeholders --------------------------------------------------------------
  { sql: "SELECT '?' FROM t WHERE a = ?", expect: { class: 'read', placeholderCount: 1, placeholders: [28] } },
  {
    sql: 'SELECT "?", `?` FROM t WHERE a = ? -- ?\n AND b = ? # ?\n /* ? */',
    expect: { class: 'read', placeholderCount: 2, multiStatement: false },
  },
  { sql: "SELECT 'it''s ?', 'a\\'b?', ?", note: 'doubled quote and backslash escape', expect: { class: 'read', placeholderCount: 1 } },
  { sql: 'SELECT "say \\"hi\\" ?", "x""?", ?', expect: { class: 'read', placeholderCount: 1 } },
  { sql: 'SELECT `we``ird?` FROM t WHERE x = ?', note: 'doubled backtick inside an identifier', expect: { class: 'read', placeholderCount: 1 } },
  { sql: 'SELECT ?+?', expect: { class: 'read', placeholderCount: 2, placeholders: [7, 9] } },
  { sql: 'SELECT ? --?', note: '`--` not followed by a space is two minus signs', expect: { class: 'read', placeholderCount: 2 } },
  { sql: 'SELECT ? -- ?', note: '`-- ` starts a comment', expect: { class: 'read', placeholderCount: 1 } },
  { sql: 'SELECT ? --\t?\n, ?', note: '`--` followed by a tab is a comment too', expect: { class: 'read', placeholderCount: 2 } },
  { sql: 'SELECT ? # ?\n, ?', expect: { class: 'read', placeholderCount: 2 } },
  { sql: 'SELECT /* ? */ ?', expect: { class: 'read', placeholderCount: 1, placeholders: [15] } },
  { sql: "SELECT doc->>'$.a?' FROM t WHERE id = ?", expect: { class: 'read', placeholderCount: 1 } },
  { sql: "SELECT 'héllo ✓ 𝄞' AS s, ? AS p", note: 'offsets are UTF-16 code units', expect: { class: 'read', placeholderCount: 1, placeholders: [26] } },
  { sql: "INSERT INTO t (a) VALUES ('?')", expect: { class: 'write', placeholderCount: 0, write: { kind: 'insert', rows: [[LIT("'?'")]] } } },
  {
    sql: "UPDATE `db`.`t` SET `a` = 'WHERE b = ?' WHERE id = ?",
    expect: {
      class: 'write',
      placeholderCount: 1,
      write: { kind: 'update', tables: [T('db', 't', null)], set: C("SET `a` = 'WHERE b = ?'"), where: C('WHERE id = ?', 0) },
    },
  },

  {
    sql: 'UPDATE t SET a = ? /* c */ WHERE id = ? /* d */ ORDER BY id /* e */ LIMIT 1 /* f */;',
    note: 'clause spans end at their last token: comments and the ; are outside',
    expect: {
      class: 'write',
      multiStatement: false,
      unsafe: [],
      write: {
        kind: 'update',
        set: { ...C('SET a = ?', 0), body: 'a = ?' },
        where: { ...C('WHERE id = ?', 1), body: 'id = ?' },
        orderBy: { ...C('ORDER BY id'), body: 'id' },
        limit: { ...C('LIMIT 1'), body: '1' },
      },
    },
  },
  {
    sql: 'INSERT INTO t (a) VALUES (?) /* c */ ON DUPLICATE KEY UPDATE a = ? /* d */ ;',
    expect: { class: 'write', multiStatement: false, write: { kind: 'insert', onDuplicateKeyUpdate: { text: 'ON DUPLICATE KEY UPDATE a = ?', placeholders: [1] } } },
  },
  {
    sql: 'INSERT INTO t (\n  `a`,\n  `b`\n) VALUES (\n  ?,\n  ?\n)',
    expect: { class: 'write', write: { kind: 'insert', columns: ['a', 'b'], columnList: '(\n  `a`,\n  `b`\n)', rowTexts: ['(\n  ?,\n  ?\n)'], rows: [[P(0), P(1)]] } },
  },

  // --- statement separators ---------------------------------------------------------
  { sql: 'SELECT 1;', expect: { class: 'read', multiStatement: false, unsafe: [] } },
  { sql: 'SELECT 1;  -- done\n', expect: { class: 'read', multiStatement: false, unsafe: [] } },
  { sql: 'SELECT 1; /* done */ ', expect: { class: 'read', multiStatement: false } },
  { sql: 'SELECT 1; SELECT 2', expect: { multiStatement: true, unsafeIncludes: ['multiple_statements'] } },
  { sql: 'SELECT ?; SELECT ?', expect: { multiStatement: true, placeholderCount: 2 } },
  { sql: 'SELECT 1; DELETE FROM t', expect: { multiStatement: true, notRead: true, unsafeIncludes: ['multiple_statements'] } },
  { sql: "SELECT * FROM t WHERE note = 'x; DELETE FROM t'", expect: { class: 'read', multiStatement: false, unsafe: [] } },
  { sql: "SELECT '\\\\'; DELETE FROM t", note: "'\\\\' is one backslash: the string ends before the ;", expect: { multiStatement: true, notRead: true } },
  { sql: "SELECT '\\\\'' ; DELETE FROM t'", note: "escaped backslash, then a doubled quote: all one string", expect: { class: 'read', multiStatement: false, unsafe: [] } },
  { sql: 'SELECT `a;b` FROM t', expect: { class: 'read', multiStatement: false } },
  { sql: 'SELECT 1 -- ; DELETE FROM t', expect: { class: 'read', multiStatement: false, unsafe: [] } },

  // --- empty texts ---------------------------------------------------------------------
  { sql: '', expect: { verb: 'empty', placeholderCount: 0, multiStatement: false, write: null } },
  { sql: '   \n\t', expect: { verb: 'empty', placeholderCount: 0, multiStatement: false } },
  { sql: '-- only a comment ?', expect: { verb: 'empty', placeholderCount: 0 } },
  { sql: '/* c */ ;', expect: { verb: 'empty', multiStatement: false } },

  // --- leading comments, case, parentheses ---------------------------------------------------
  { sql: '/* app=billing */ SELECT 1', expect: { class: 'read', verb: 'select' } },
  { sql: '-- c\nUPDATE t SET a = 1', expect: { class: 'write', verb: 'update', write: { kind: 'update', set: C('SET a = 1') } } },
  { sql: '# c\nDELETE FROM t', expect: { class: 'write', verb: 'delete', write: { kind: 'delete', where: null } } },
  { sql: 'sElEcT 1', expect: { class: 'read', verb: 'select' } },
  { sql: '((SELECT 1))', expect: { class: 'read', verb: 'select' } },
  {
    sql: '\n\n  INSERT\nINTO\n t\n(a)\nVALUES\n(?)\n',
    expect: { class: 'write', verb: 'insert', write: { kind: 'insert', table: T('t'), columns: ['a'], rows: [[P(0)]], rowTexts: ['(?)'] } },
  },
  { sql: 'INSERT /* c */ INTO t (a) VALUES (?)', expect: { class: 'write', write: { kind: 'insert', table: T('t'), columns: ['a'] } } },

  // --- executable comments -------------------------------------------------------------------
  { sql: 'SELECT /*!40001 SQL_NO_CACHE */ * FROM t', expect: { class: 'read', unsafe: ['executable_comment'] } },
  { sql: '/*!40101 SET NAMES utf8mb4 */', note: 'mysqldump header', expect: { class: 'session', unsafeIncludes: ['executable_comment'] } },
  { sql: 'SELECT * FROM t WHERE id = ? /*! FOR UPDATE */', expect: { class: 'read', primaryOnly: true, placeholderCount: 1, unsafeIncludes: ['executable_comment'] } },
  { sql: 'SELECT 1 /*!50000 ; DELETE FROM t */', expect: { notRead: true, unsafeIncludes: ['executable_comment'] } },
  { sql: 'SELECT 1 /*M!100000 , ? */', note: 'MariaDB executable comment: its ? is code', expect: { class: 'read', placeholderCount: 1, unsafeIncludes: ['executable_comment'] } },
  {
    sql: 'SELECT /*m! DELETE FROM t */ 1',
    note: "MariaDB only honours an upper-case M (sql_lex.cc checks yyPeekn(2) == 'M'): this is a plain comment",
    expect: { class: 'read', unsafe: [], write: null },
  },
  {
    sql: 'SELECT /*+ MAX_EXECUTION_TIME(1000) */ * FROM t WHERE id = ?',
    note: 'an optimizer hint is a comment, not code',
    expect: { class: 'read', placeholderCount: 1, unsafe: [] },
  },

  { sql: 'SELECT ? /*! ? */ ?', note: 'the ? of an executable comment is code', expect: { class: 'read', placeholderCount: 3, unsafe: ['executable_comment'] } },
  {
    sql: '/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER trg BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1 */;;',
    note: 'mysqldump trigger',
    expect: { class: 'ddl', verb: 'create', ddl: { kind: 'create trigger' }, unsafeIncludes: ['executable_comment'] },
  },
  {
    sql: '/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;',
    note: 'mysqldump footer',
    expect: { class: 'session', session: { kind: 'set', variables: ['time_zone'], global: false }, unsafe: ['executable_comment', 'user_variable'] },
  },

  // --- write words that are not writes --------------------------------------------------------
  { sql: 'SELECT `delete`, `update` FROM `insert` WHERE `replace` = ?', expect: { class: 'read', unsafe: [], write: null } },
  { sql: "SELECT REPLACE(name, 'a', 'b') FROM t", expect: { class: 'read', unsafe: [] } },
  { sql: "SELECT INSERT('Quadratic', 3, 4, 'What')", expect: { class: 'read', unsafe: [] } },
  { sql: "SELECT 'INTO OUTFILE' AS x, 'FOR UPDATE' AS y, 'LAST_INSERT_ID()' AS z", expect: { class: 'read', primaryOnly: false, unsafe: [] } },
  { sql: 'SELECT now, rand, uuid FROM t', note: 'columns named like functions, no call', expect: { class: 'read', unsafe: [] } },
  { sql: 'SELECT * FROM t WHERE id = ? FOR SHARE NOWAIT', expect: { class: 'read', primaryOnly: true } },
  { sql: 'SELECT * FROM t JOIN u ON u.id = t.uid FOR UPDATE OF t SKIP LOCKED', expect: { class: 'read', primaryOnly: true } },
  { sql: 'SELECT db.my_func(1)', note: 'a schema-qualified stored function', expect: { class: 'read', unsafe: ['unknown_function'] } },
  { sql: 'SELECT @`quoted var`, @@GLOBAL.max_connections', expect: { class: 'read', unsafe: ['user_variable', 'system_variable'] } },

  // --- writes hidden in reads -------------------------------------------------------------
  { sql: 'WITH x AS (SELECT id FROM t WHERE a = ?) DELETE FROM t WHERE id IN (SELECT id FROM x)', expect: { class: 'write', verb: 'with', placeholderCount: 1 } },
  { sql: 'WITH x AS (SELECT 1 AS v) UPDATE t JOIN x SET t.a = x.v', expect: { class: 'write', verb: 'with' } },
  { sql: 'SELECT a, b INTO @a, @b FROM t WHERE id = 1', expect: { class: 'write', write: { kind: 'select_into', into: 'variables' } } },
  { sql: "SELECT 1 INTO OUTFILE '/tmp/x' -- ok", expect: { class: 'write', write: { kind: 'select_into', into: 'outfile' } } },

  {
    sql: 'CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END',
    note: 'the ; inside a compound body does not end the statement',
    expect: { class: 'ddl', multiStatement: false, ddl: { kind: 'create procedure' } },
  },
  { sql: 'UPDATE t SET', note: 'an incomplete statement is not understood', expect: { class: 'write', understood: false } },

  // --- literal forms and INSERT details ----------------------------------------------------
  {
    sql: "INSERT INTO t (a, b, c, d, e, f, g, h, i) VALUES (_utf8mb4'x', X'ab', 0x1F, b'101', -1, 1.5e3, TRUE, FALSE, N'n')",
    expect: {
      class: 'write',
      unsafe: [],
      write: {
        kind: 'insert',
        rows: [[LIT("_utf8mb4'x'"), LIT("X'ab'"), LIT('0x1F'), LIT("b'101'"), LIT('-1'), LIT('1.5e3'), LIT('TRUE'), LIT('FALSE'), LIT("N'n'")]],
      },
    },
  },
  {
    sql: 'INSERT INTO t (a, b, c) VALUES ((?), ? + 1, /* x */ ? /* y */)',
    note: 'value spans are trimmed of whitespace and comments',
    expect: { class: 'write', write: { kind: 'insert', rows: [[EXPR('(?)', 0), EXPR('? + 1', 1), P(2)]] } },
  },
  { sql: 'INSERT INTO t(a) VALUES(?)', expect: { class: 'write', write: { kind: 'insert', columns: ['a'], columnList: '(a)', rows: [[P(0)]] } } },
  {
    sql: 'INSERT INTO shop.t PARTITION (p0) (a) VALUES (?)',
    expect: {
      class: 'write',
      write: { kind: 'insert', table: T('shop', 't', null), columns: ['a'], columnList: '(a)', textBeforeAfterTable: 'PARTITION (p0)' },
    },
  },
  { sql: 'INSERT LOW_PRIORITY IGNORE INTO t (a) VALUES (?)', expect: { class: 'write', unsafe: ['ignore'], write: { kind: 'insert', ignore: true, table: T('t') } } },
  {
    sql: "INSERT INTO `t` VALUES (1,'a\\'b','c\\\\'),(2,'','\\0');",
    note: 'mysqldump escapes',
    expect: { class: 'write', multiStatement: false, write: { kind: 'insert', columns: null, rows: [[LIT('1'), LIT("'a\\'b'"), LIT("'c\\\\'")], [LIT('2'), LIT("''"), LIT("'\\0'")]] } },
  },
  { sql: 'INSERT t (a) VALUES (?)', note: 'INTO is optional', expect: { class: 'write', write: { kind: 'insert', table: T('t'), columns: ['a'] } } },
  { sql: 'INSERT INTO t (`order`, `key`, `we``ird`) VALUES (?, ?, ?)', expect: { class: 'write', write: { kind: 'insert', columns: ['order', 'key', 'we`ird'] } } },
  {
    sql: 'INSERT INTO t (a, b) VALUES (?, ?) , (?, ?) ON DUPLICATE KEY UPDATE b = b + VALUES(b)',
    expect: {
      class: 'write',
      write: {
        kind: 'insert',
        rowCount: 2,
        rowTexts: ['(?, ?)', '(?, ?)'],
        onDuplicateKeyUpdate: { rowAlias: null, assignments: [A('b', EXPR('b + VALUES(b)'))] },
      },
    },
  },
];
