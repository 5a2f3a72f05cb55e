/**
 * Hand-written statements of the kind applications send through mysql2
 * directly: every statement class, every unsafe reason, every INSERT form,
 * transaction and session control in their various spellings, DDL objects.
 */
import {
  A,
  AUTOCOMMIT,
  BEGIN,
  C,
  COMMIT,
  DEF,
  EXPR,
  LIT,
  NUL,
  P,
  ROLLBACK,
  ROLLBACK_TO,
  SET_TX,
  SET_VARS,
  T,
  USE,
  type CorpusEntry,
} from './spec.js';

export const handWritten: readonly CorpusEntry[] = [
  // --- reads ---------------------------------------------------------------------
  { sql: 'SELECT 1', expect: { class: 'read', verb: 'select', placeholderCount: 0, unsafe: [], understood: true, primaryOnly: false } },
  { sql: 'SHOW TABLES', expect: { class: 'read', verb: 'show', unsafe: [] } },
  { sql: 'SHOW CREATE TABLE `orders`', expect: { class: 'read', verb: 'show' } },
  { sql: 'DESCRIBE orders', expect: { class: 'read', verb: 'describe' } },
  { sql: 'DESC orders', expect: { class: 'read', verb: 'desc' } },
  { sql: 'EXPLAIN SELECT * FROM orders WHERE id = ?', expect: { class: 'read', verb: 'explain', placeholderCount: 1 } },
  { sql: "HELP 'contents'", expect: { class: 'read', verb: 'help' } },
  { sql: 'TABLE orders ORDER BY id LIMIT 2', expect: { class: 'read', verb: 'table' } },
  { sql: 'VALUES ROW(1, 2), ROW(3, 4)', expect: { class: 'read', verb: 'values', unsafe: [] } },
  {
    sql: 'SELECT * FROM events WHERE starts_at > NOW()',
    note: 'unsafe findings are computed for reads too',
    expect: { class: 'read', primaryOnly: false, unsafe: ['time_function'], unsafeDetails: [['time_function', 'NOW']], unsafeSpans: [['time_function', 'NOW()']] },
  },
  {
    sql: 'SELECT LAST_INSERT_ID()',
    expect: { class: 'read', primaryOnly: true, unsafe: ['session_function'], unsafeDetails: [['session_function', 'LAST_INSERT_ID']] },
  },
  { sql: 'SELECT ROW_COUNT()', expect: { class: 'read', unsafe: ['session_function'] } },
  { sql: 'SELECT FOUND_ROWS()', expect: { class: 'read', unsafe: ['session_function'] } },
  { sql: 'SELECT @@session.transaction_isolation', expect: { class: 'read', unsafe: ['system_variable'], unsafeDetails: [['system_variable', '@@session.transaction_isolation']] } },
  { sql: 'SELECT @total', expect: { class: 'read', unsafe: ['user_variable'], unsafeDetails: [['user_variable', '@total']] } },
  {
    sql: 'SELECT CURRENT_DATE, CURDATE(), CURTIME(), LOCALTIME, LOCALTIMESTAMP, UTC_TIMESTAMP(), UTC_DATE(), CURRENT_TIMESTAMP()',
    expect: {
      class: 'read',
      unsafe: ['time_function'],
      unsafeDetails: [
        ['time_function', 'CURRENT_DATE'],
        ['time_function', 'CURDATE'],
        ['time_function', 'CURTIME'],
        ['time_function', 'LOCALTIME'],
        ['time_function', 'LOCALTIMESTAMP'],
        ['time_function', 'UTC_TIMESTAMP'],
        ['time_function', 'UTC_DATE'],
        ['time_function', 'CURRENT_TIMESTAMP'],
      ],
    },
  },
  { sql: 'SELECT USER(), CURRENT_USER()', expect: { class: 'read', unsafe: ['nondeterministic_function'] } },
  { sql: "SELECT IS_FREE_LOCK('jobs')", expect: { class: 'read', unsafe: ['nondeterministic_function'] } },
  { sql: 'SELECT NEXTVAL(order_seq)', note: 'MariaDB sequence', expect: { class: 'read', primaryOnly: true, unsafe: ['nondeterministic_function'] } },
  { sql: 'SELECT NEXT VALUE FOR order_seq', note: 'MariaDB sequence', expect: { class: 'read', unsafe: ['nondeterministic_function'] } },
  { sql: 'SELECT SETVAL(order_seq, 1000)', expect: { class: 'read', unsafe: ['nondeterministic_function'] } },
  { sql: 'SELECT LASTVAL(order_seq)', expect: { class: 'read', unsafe: ['nondeterministic_function'] } },
  { sql: "SELECT UNIX_TIMESTAMP('2024-01-01')", expect: { class: 'read', unsafe: [] } },
  { sql: 'SELECT CURRENT_USER', note: 'CURRENT_USER without parentheses', expect: { class: 'read', unsafe: ['nondeterministic_function'] } },
  { sql: 'SELECT * FROM (SELECT * FROM t WHERE id = ? FOR UPDATE) AS x', expect: { class: 'read', primaryOnly: true } },
  { sql: 'SELECT 1 FROM DUAL', note: 'DUAL is not a table', expect: { class: 'read', unsafe: [], tablesRead: [] } },
  {
    sql: "SELECT jt.a FROM JSON_TABLE(?, '$[*]' COLUMNS (a INT PATH '$')) AS jt",
    note: 'COLUMNS (…) is JSON_TABLE syntax, not a function call',
    expect: { class: 'read', placeholderCount: 1, unsafe: [] },
  },
  { sql: 'SELECT order_total(42)', note: 'a stored function', expect: { class: 'read', unsafe: ['unknown_function'], unsafeDetails: [['unknown_function', 'ORDER_TOTAL']] } },

  // --- INSERT forms ----------------------------------------------------------------
  {
    sql: 'INSERT INTO orders (id, created_at) VALUES (?, NOW())',
    expect: {
      class: 'write',
      unsafe: ['time_function'],
      write: { kind: 'insert', columns: ['id', 'created_at'], rows: [[P(0), EXPR('NOW()')]] },
    },
  },
  {
    sql: 'INSERT INTO sessions (id, user_id) VALUES (UUID(), ?)',
    expect: { class: 'write', unsafe: ['uuid'], unsafeDetails: [['uuid', 'UUID']], write: { kind: 'insert', rows: [[EXPR('UUID()'), P(0)]] } },
  },
  {
    sql: 'INSERT INTO audit (at) VALUES (SYSDATE())',
    note: 'SYSDATE is not fixed by SET timestamp',
    expect: { class: 'write', unsafeIncludes: ['sysdate'] },
  },
  {
    sql: 'INSERT INTO audit (who, conn) VALUES (CURRENT_USER(), CONNECTION_ID())',
    expect: { class: 'write', unsafe: ['nondeterministic_function'] },
  },
  {
    sql: 'INSERT INTO orders (id) VALUES (NEXT VALUE FOR order_seq)',
    expect: { class: 'write', unsafe: ['nondeterministic_function'], write: { kind: 'insert', rows: [[EXPR('NEXT VALUE FOR order_seq')]] } },
  },
  {
    sql: 'INSERT INTO t (a) VALUES (my_func(1))',
    expect: { class: 'write', unsafe: ['unknown_function'], write: { kind: 'insert', rows: [[EXPR('my_func(1)')]] } },
  },
  {
    sql: 'INSERT INTO t SET a = ?, b = DEFAULT, c = NULL',
    expect: {
      class: 'write',
      unsafe: [],
      write: {
        kind: 'insert',
        form: 'set',
        columns: ['a', 'b', 'c'],
        columnList: null,
        textBeforeAfterTable: 'INSERT INTO t',
        sourceStartsWith: 'SET',
        rowCount: 1,
        rows: [],
        set: [A('a', P(0)), A('b', DEF()), A('c', NUL())],
      },
    },
  },
  {
    sql: 'INSERT INTO t VALUE (?, ?)',
    note: 'VALUE is a synonym of VALUES',
    expect: { class: 'write', write: { kind: 'insert', form: 'values', columns: null, columnList: null, rows: [[P(0), P(1)]], sourceStartsWith: 'VALUE' } },
  },
  {
    sql: 'insert into grades (id,class_id,user_id,grade) value (default,?,?,?);',
    expect: { class: 'write', multiStatement: false, write: { kind: 'insert', rows: [[DEF('default'), P(0), P(1), P(2)]] } },
  },
  {
    sql: 'INSERT INTO t (a, b) VALUES (?, ?) AS new ON DUPLICATE KEY UPDATE b = new.b',
    note: 'MySQL 8.0.19 row alias',
    expect: {
      class: 'write',
      unsafe: ['on_duplicate_key_update'],
      write: {
        kind: 'insert',
        rows: [[P(0), P(1)]],
        onDuplicateKeyUpdate: {
          text: 'ON DUPLICATE KEY UPDATE b = new.b',
          rowAlias: 'new',
          assignments: [A('b', EXPR('new.b'))],
        },
      },
    },
  },
  {
    sql: 'INSERT INTO t (a, b) VALUES (?, ?) AS n(x, y) ON DUPLICATE KEY UPDATE b = y + ?',
    note: 'row alias with column aliases',
    expect: {
      class: 'write',
      placeholderCount: 3,
      write: { kind: 'insert', rows: [[P(0), P(1)]], onDuplicateKeyUpdate: { rowAlias: 'n', placeholders: [2], assignments: [A('b', EXPR('y + ?', 2))] } },
    },
  },
  {
    sql: 'INSERT INTO t (a) VALUES (?) ON DUPLICATE KEY UPDATE a = VALUES(a) + 1, touched_at = NOW()',
    expect: { class: 'write', unsafe: ['on_duplicate_key_update', 'time_function'] },
  },
  {
    sql: "REPLACE INTO settings (k, v) VALUES ('theme', 'dark')",
    expect: {
      class: 'write',
      verb: 'replace',
      unsafe: ['replace'],
      unsafeDetails: [['replace', 'REPLACE']],
      write: { kind: 'replace', form: 'values', rows: [[LIT("'theme'"), LIT("'dark'")]] },
    },
  },
  { sql: 'REPLACE INTO t SET a = 1', expect: { class: 'write', unsafe: ['replace'], write: { kind: 'replace', form: 'set', set: [A('a', LIT('1'))], rowCount: 1 } } },
  {
    sql: 'REPLACE INTO archive SELECT * FROM orders WHERE created_at < ?',
    expect: { class: 'write', unsafe: ['replace', 'insert_select'], write: { kind: 'replace', form: 'select', rowCount: null } },
  },
  {
    sql: 'INSERT INTO totals (day, n) SELECT day, COUNT(*) FROM orders GROUP BY day ON DUPLICATE KEY UPDATE n = VALUES(n)',
    expect: { class: 'write', unsafe: ['insert_select', 'on_duplicate_key_update'], write: { kind: 'insert', form: 'select' } },
  },
  {
    sql: 'INSERT INTO archive (id) TABLE orders',
    expect: { class: 'write', unsafe: ['insert_select'], write: { kind: 'insert', form: 'select', columns: ['id'], sourceStartsWith: 'TABLE' } },
  },
  {
    sql: 'INSERT INTO archive (id) (SELECT id FROM orders WHERE id < ?)',
    expect: { class: 'write', unsafe: ['insert_select'], write: { kind: 'insert', form: 'select', columns: ['id'], sourceStartsWith: '(SELECT' } },
  },
  {
    sql: 'INSERT INTO archive (id) WITH old AS (SELECT id FROM orders WHERE id < ?) SELECT id FROM old',
    expect: { class: 'write', verb: 'insert', unsafe: ['insert_select'], write: { kind: 'insert', form: 'select', sourceStartsWith: 'WITH' } },
  },

  // --- UPDATE / DELETE -------------------------------------------------------------
  {
    sql: 'UPDATE accounts SET balance = balance - ? WHERE id = ? AND balance >= ?',
    expect: {
      class: 'write',
      unsafe: [],
      write: { kind: 'update', set: C('SET balance = balance - ?', 0), where: C('WHERE id = ? AND balance >= ?', 1, 2) },
    },
  },
  {
    sql: 'UPDATE IGNORE t SET a = ? WHERE id = ?',
    expect: { class: 'write', unsafe: ['ignore'], write: { kind: 'update', ignore: true, tables: [T('t')] } },
  },
  {
    sql: 'UPDATE t SET a = RAND()',
    expect: { class: 'write', unsafe: ['random'], unsafeDetails: [['random', 'RAND']], write: { kind: 'update', where: null, orderBy: null, limit: null } },
  },
  { sql: 'UPDATE t SET token = UUID_SHORT() WHERE id = ?', expect: { class: 'write', unsafe: ['uuid'] } },
  { sql: 'UPDATE t SET ts = UNIX_TIMESTAMP() WHERE id = ?', expect: { class: 'write', unsafe: ['time_function'] } },
  {
    sql: 'UPDATE t SET ts = UNIX_TIMESTAMP(created_at) WHERE id = ?',
    note: 'UNIX_TIMESTAMP with an argument is deterministic',
    expect: { class: 'write', unsafe: [] },
  },
  {
    sql: "UPDATE t SET a = COALESCE(?, a), b = IFNULL(b, 0), c = CONCAT(LOWER(?), UPPER(d)), e = JSON_OBJECT('k', ?), f = SUBSTRING(f, 1, 3), g = JSON_EXTRACT(doc, '$.a') WHERE id = ?",
    expect: { class: 'write', placeholderCount: 4, unsafe: [], write: { kind: 'update', where: C('WHERE id = ?', 3) } },
  },
  {
    sql: "UPDATE t SET d = DATE_ADD(d, INTERVAL 1 DAY), f = DATE_FORMAT(d, '%Y'), g = CAST(? AS UNSIGNED), h = IF(x > 0, 1, 0), i = GREATEST(a, b), j = ROUND(k, 2), l = ABS(m), n = FROM_UNIXTIME(?), o = STR_TO_DATE(?, '%Y-%m-%d'), p = LENGTH(q), r = TRIM(s), y = CONVERT(z, CHAR) WHERE id = ?",
    note: 'deterministic built-ins',
    expect: { class: 'write', placeholderCount: 4, unsafe: [] },
  },
  {
    sql: 'UPDATE t AS x SET x.a = ? WHERE x.id = ?',
    expect: { class: 'write', write: { kind: 'update', multiTable: false, tables: [T('t', 'x')], assignments: [A('a', P(0), 'x')] } },
  },
  {
    sql: 'UPDATE t SET a = ? ORDER BY id LIMIT 10',
    expect: { class: 'write', unsafe: [], write: { kind: 'update', where: null, orderBy: C('ORDER BY id'), limit: C('LIMIT 10') } },
  },
  {
    sql: 'DELETE IGNORE FROM t WHERE id = ?',
    expect: { class: 'write', unsafe: ['ignore'], write: { kind: 'delete', ignore: true, tables: [T('t')] } },
  },
  {
    sql: 'DELETE FROM sessions WHERE expires_at < NOW() - INTERVAL 30 DAY',
    expect: { class: 'write', unsafe: ['time_function'], write: { kind: 'delete', where: C('WHERE expires_at < NOW() - INTERVAL 30 DAY') } },
  },
  {
    sql: 'DELETE t FROM t LEFT JOIN u ON u.id = t.uid WHERE u.id IS NULL',
    expect: {
      class: 'write',
      unsafe: ['multi_table'],
      write: { kind: 'delete', multiTable: true, tables: [T('t')], referencedTables: [T('t'), T('u')], where: C('WHERE u.id IS NULL') },
    },
  },

  {
    sql: 'UPDATE t SET a = ?, b = ? WHERE c = ? ORDER BY d LIMIT ?, ?',
    expect: {
      class: 'write',
      unsafe: [],
      write: { kind: 'update', set: C('SET a = ?, b = ?', 0, 1), where: C('WHERE c = ?', 2), orderBy: C('ORDER BY d'), limit: { ...C('LIMIT ?, ?', 3, 4), body: '?, ?' } },
    },
  },
  {
    sql: 'UPDATE t SET a = 1 ORDER BY RAND() LIMIT 1',
    note: 'an ORDER BY exists, but RAND() makes the rows chosen random',
    expect: { class: 'write', unsafe: ['random'], write: { kind: 'update', orderBy: C('ORDER BY RAND()'), limit: C('LIMIT 1') } },
  },
  {
    sql: 'UPDATE t SET a = DEFAULT, b = NULL, c = \'x\', d = -5, e = ? WHERE id = 1',
    expect: {
      class: 'write',
      write: { kind: 'update', assignments: [A('a', DEF()), A('b', NUL()), A('c', LIT("'x'")), A('d', LIT('-5')), A('e', P(0))] },
    },
  },
  {
    sql: 'INSERT INTO t SET a = ? ON DUPLICATE KEY UPDATE a = ?',
    expect: { class: 'write', unsafe: ['on_duplicate_key_update'], write: { kind: 'insert', form: 'set', set: [A('a', P(0))], onDuplicateKeyUpdate: { placeholders: [1], assignments: [A('a', P(1))] } } },
  },
  {
    sql: 'INSERT INTO t VALUES ROW(1, 2), ROW(3, ?)',
    note: 'VALUES ROW(…) form',
    expect: { class: 'write', write: { kind: 'insert', form: 'values', rowCount: 2, rows: [[LIT('1'), LIT('2')], [LIT('3'), P(0)]] } },
  },
  {
    sql: 'DELETE FROM t1, t2 USING t1 INNER JOIN t2 INNER JOIN t3 WHERE t1.id = t2.id AND t2.id = t3.id',
    expect: {
      class: 'write',
      unsafe: ['multi_table'],
      write: { kind: 'delete', multiTable: true, tables: [T('t1'), T('t2')], referencedTables: [T('t1'), T('t2'), T('t3')] },
    },
  },
  {
    sql: 'DELETE t1.* FROM t1 JOIN t2 ON t1.id = t2.id',
    expect: { class: 'write', unsafe: ['multi_table'], write: { kind: 'delete', multiTable: true, tables: [T('t1')], referencedTables: [T('t1'), T('t2')] } },
  },

  // --- LOAD DATA and SELECT … INTO -------------------------------------------------
  {
    sql: "LOAD DATA LOCAL INFILE '/tmp/orders.csv' INTO TABLE orders FIELDS TERMINATED BY ',' LINES TERMINATED BY '\\n'",
    expect: { class: 'write', verb: 'load', unsafe: ['load_data'], write: { kind: 'load_data', table: T('orders'), local: true } },
  },
  {
    sql: "LOAD DATA INFILE '/var/lib/mysql-files/o.csv' REPLACE INTO TABLE shop.orders",
    expect: { class: 'write', unsafeIncludes: ['load_data'], write: { kind: 'load_data', table: T('shop', 'orders', null), local: false } },
  },
  {
    sql: "LOAD XML LOCAL INFILE 'person.xml' INTO TABLE person ROWS IDENTIFIED BY '<person>'",
    expect: { class: 'write', verb: 'load', unsafeIncludes: ['load_data'], write: { kind: 'load_data', table: T('person'), local: true } },
  },
  {
    sql: 'SELECT id INTO @id FROM orders WHERE ref = ?',
    expect: { class: 'write', verb: 'select', unsafeIncludes: ['user_variable'], write: { kind: 'select_into', into: 'variables' } },
  },
  { sql: "SELECT * FROM orders INTO OUTFILE '/tmp/orders.csv'", expect: { class: 'write', write: { kind: 'select_into', into: 'outfile' } } },
  { sql: "SELECT doc FROM files WHERE id = 1 INTO DUMPFILE '/tmp/doc.bin'", expect: { class: 'write', write: { kind: 'select_into', into: 'dumpfile' } } },
  { sql: 'TABLE orders INTO @a, @b', note: 'TABLE … INTO assigns user variables', expect: { class: 'write', verb: 'table', unsafe: ['user_variable'], write: { kind: 'select_into', into: 'variables' } } },
  { sql: 'VALUES ROW(1, 2) INTO @a, @b', expect: { class: 'write', verb: 'values', unsafe: ['user_variable'], write: { kind: 'select_into', into: 'variables' } } },

  // --- transaction control -----------------------------------------------------------
  { sql: 'BEGIN WORK', expect: { class: 'transaction', verb: 'begin', transaction: BEGIN() } },
  { sql: 'START TRANSACTION WITH CONSISTENT SNAPSHOT', expect: { class: 'transaction', transaction: BEGIN(false, true) } },
  { sql: 'START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT', expect: { class: 'transaction', transaction: BEGIN(true, true) } },
  { sql: 'COMMIT AND CHAIN', expect: { class: 'transaction', transaction: COMMIT(true, false) } },
  { sql: 'COMMIT WORK AND NO CHAIN RELEASE', expect: { class: 'transaction', transaction: COMMIT(false, true) } },
  { sql: 'ROLLBACK AND CHAIN NO RELEASE', expect: { class: 'transaction', transaction: ROLLBACK(true, false) } },
  { sql: 'ROLLBACK WORK TO SAVEPOINT s1', expect: { class: 'transaction', transaction: ROLLBACK_TO('s1') } },
  { sql: 'SET autocommit=0', expect: { class: 'transaction', verb: 'set', transaction: AUTOCOMMIT(false), session: null } },
  { sql: 'SET @@autocommit = 1', note: 'an assigned @@variable is not read', expect: { class: 'transaction', transaction: AUTOCOMMIT(true), unsafe: [] } },
  { sql: 'SET autocommit = ?', expect: { class: 'transaction', placeholderCount: 1, transaction: AUTOCOMMIT(null) } },
  {
    sql: 'SET GLOBAL autocommit = 0',
    note: "GLOBAL sets the default for new sessions; this session's autocommit is unchanged",
    expect: { class: 'session', session: SET_VARS(['autocommit'], true), transaction: null },
  },
  { sql: 'SET SESSION autocommit=OFF', expect: { class: 'transaction', transaction: AUTOCOMMIT(false) } },
  { sql: 'set autocommit = on', expect: { class: 'transaction', transaction: AUTOCOMMIT(true) } },
  { sql: 'SET @@session.autocommit = 0', expect: { class: 'transaction', transaction: AUTOCOMMIT(false) } },
  { sql: 'SET autocommit = @saved_autocommit', expect: { class: 'transaction', transaction: AUTOCOMMIT(null) } },
  { sql: 'SET GLOBAL TRANSACTION ISOLATION LEVEL READ COMMITTED', expect: { class: 'transaction', transaction: SET_TX('global') } },
  { sql: 'SET SESSION TRANSACTION READ ONLY', expect: { class: 'transaction', transaction: SET_TX('session') } },

  // --- session -------------------------------------------------------------------------
  { sql: 'USE app_db', expect: { class: 'session', verb: 'use', session: USE('app_db'), unsafe: [] } },
  { sql: 'USE `my-app`;', expect: { class: 'session', session: USE('my-app') } },
  { sql: 'SET NAMES utf8mb4', expect: { class: 'session', session: SET_VARS(['names']) } },
  { sql: 'SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci', expect: { class: 'session', session: SET_VARS(['names']) } },
  { sql: "SET SESSION sql_mode = 'STRICT_TRANS_TABLES'", expect: { class: 'session', session: SET_VARS(['sql_mode'], false) } },
  {
    sql: "SET @@SESSION.sql_mode = 'ANSI'",
    note: 'assigning a system variable is not reading one: no system_variable finding',
    expect: { class: 'session', session: SET_VARS(['sql_mode'], false), unsafe: [] },
  },
  { sql: 'SET GLOBAL max_connections = 500', expect: { class: 'session', session: SET_VARS(['max_connections'], true) } },
  { sql: 'SET PERSIST max_connections = 500', expect: { class: 'session', session: SET_VARS(['max_connections'], true) } },
  { sql: 'SET @x = 1', expect: { class: 'session', session: SET_VARS(['@x']), unsafe: ['user_variable'] } },
  { sql: 'SET @a = 1, @b = ?', expect: { class: 'session', placeholderCount: 1, session: SET_VARS(['@a', '@b']) } },
  { sql: 'SET timestamp = 1700000000', expect: { class: 'session', session: SET_VARS(['timestamp']) } },
  {
    sql: "SET sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES')",
    expect: { class: 'session', session: SET_VARS(['sql_mode']), unsafe: ['system_variable'] },
  },

  // --- other ------------------------------------------------------------------------------
  { sql: 'CALL refresh_totals(?)', expect: { class: 'other', verb: 'call', placeholderCount: 1, understood: false, unsafe: ['unknown'] } },
  { sql: 'DO SLEEP(1)', expect: { class: 'other', verb: 'do', unsafeIncludes: ['nondeterministic_function'] } },
  { sql: 'LOCK TABLES orders WRITE, customers READ', expect: { class: 'other', verb: 'lock', write: null } },
  { sql: 'UNLOCK TABLES', expect: { class: 'other', verb: 'unlock' } },
  { sql: "XA START 'trx-1'", expect: { class: 'other', verb: 'xa', understood: false, unsafeIncludes: ['unknown'] } },
  { sql: "PREPARE stmt FROM 'DELETE FROM orders WHERE id = ?'", note: 'the ? is in a string', expect: { class: 'other', verb: 'prepare', placeholderCount: 0, understood: false, unsafeIncludes: ['unknown'] } },
  { sql: 'EXECUTE stmt USING @id', expect: { class: 'other', verb: 'execute', understood: false, unsafe: ['unknown', 'user_variable'] } },
  { sql: 'CALL p(@out)', note: 'findings are computed for every class', expect: { class: 'other', understood: false, unsafe: ['unknown', 'user_variable'] } },
  { sql: 'GET DIAGNOSTICS @n = NUMBER', note: 'assigns a user variable', expect: { class: 'other', verb: 'get', unsafeIncludes: ['user_variable'] } },
  { sql: "DO GET_LOCK('migrate', 10)", expect: { class: 'other', primaryOnly: false, unsafe: ['nondeterministic_function'] } },
  { sql: 'DEALLOCATE PREPARE stmt', expect: { class: 'other', verb: 'deallocate' } },
  { sql: 'FLUSH PRIVILEGES', expect: { class: 'other', verb: 'flush' } },
  { sql: 'ANALYZE TABLE orders', note: 'not a read, whatever its name', expect: { class: 'other', verb: 'analyze' } },
  { sql: 'OPTIMIZE TABLE orders', expect: { class: 'other', verb: 'optimize' } },
  { sql: 'CHECK TABLE orders', expect: { class: 'other', verb: 'check' } },
  { sql: 'REPAIR TABLE orders', expect: { class: 'other', verb: 'repair' } },
  { sql: 'HANDLER orders OPEN', expect: { class: 'other', verb: 'handler' } },
  { sql: "GRANT SELECT ON shop.* TO 'reporter'@'%'", expect: { class: 'other', verb: 'grant', write: null } },
  { sql: 'KILL 42', expect: { class: 'other', verb: 'kill' } },

  // --- DDL objects ------------------------------------------------------------------------------
  { sql: 'CREATE TEMPORARY TABLE tmp_ids (id INT PRIMARY KEY)', expect: { class: 'ddl', ddl: { kind: 'create table', tables: [T('tmp_ids')], temporary: true } } },
  { sql: 'DROP TEMPORARY TABLE IF EXISTS tmp_ids', expect: { class: 'ddl', ddl: { kind: 'drop table', tables: [T('tmp_ids')], temporary: true } } },
  { sql: 'DROP TABLE a, shop.b', expect: { class: 'ddl', ddl: { kind: 'drop table', tables: [T('a'), T('shop', 'b', null)], temporary: false } } },
  { sql: 'RENAME TABLE a TO a_old, b TO b_old', expect: { class: 'ddl', ddl: { kind: 'rename table', tables: [T('a'), T('a_old'), T('b'), T('b_old')] } } },
  { sql: 'TRUNCATE TABLE logs', expect: { class: 'ddl', verb: 'truncate', ddl: { kind: 'truncate table', tables: [T('logs')] } } },
  {
    sql: 'CREATE TABLE orders_copy AS SELECT * FROM orders WHERE id > ?',
    expect: { class: 'ddl', placeholderCount: 1, unsafeIncludes: ['insert_select'], ddl: { kind: 'create table', tables: [T('orders_copy')] } },
  },
  { sql: 'CREATE DATABASE IF NOT EXISTS shop', expect: { class: 'ddl', ddl: { kind: 'create database', tables: [] } } },
  { sql: 'CREATE SCHEMA shop2 DEFAULT CHARACTER SET utf8mb4', expect: { class: 'ddl', ddl: { kind: 'create database', tables: [] } } },
  { sql: 'DROP DATABASE shop2', expect: { class: 'ddl', ddl: { kind: 'drop database', tables: [] } } },
  { sql: 'CREATE FULLTEXT INDEX ft_body ON posts (body)', expect: { class: 'ddl', ddl: { kind: 'create index', tables: [T('posts')] } } },
  { sql: 'CREATE SPATIAL INDEX sp_geo ON places (geo)', expect: { class: 'ddl', ddl: { kind: 'create index', tables: [T('places')] } } },
  { sql: 'CREATE OR REPLACE VIEW v_orders AS SELECT id, total FROM orders', expect: { class: 'ddl', ddl: { kind: 'create view' } } },
  {
    sql: 'CREATE ALGORITHM=MERGE DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW v_open AS SELECT * FROM orders WHERE closed = 0',
    expect: { class: 'ddl', ddl: { kind: 'create view' } },
  },
  { sql: 'CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2', expect: { class: 'ddl', ddl: { kind: 'create function' } } },
  { sql: 'CREATE PROCEDURE touch_order(IN oid INT) UPDATE orders SET touched = 1 WHERE id = oid', note: 'an UPDATE inside a routine body is not run now', expect: { class: 'ddl', ddl: { kind: 'create procedure' }, write: null } },
  {
    sql: 'CREATE TRIGGER orders_bi BEFORE INSERT ON orders FOR EACH ROW SET NEW.created_at = NOW()',
    expect: { class: 'ddl', verb: 'create', ddl: { kind: 'create trigger' }, write: null, transaction: null },
  },
  {
    sql: 'CREATE EVENT purge_sessions ON SCHEDULE EVERY 1 HOUR DO DELETE FROM sessions WHERE expires_at < NOW()',
    expect: { class: 'ddl', ddl: { kind: 'create event' }, write: null },
  },
  { sql: 'CREATE SEQUENCE order_seq START WITH 1 INCREMENT BY 1', note: 'MariaDB', expect: { class: 'ddl', ddl: { kind: 'create sequence' } } },
  {
    sql: 'ALTER TABLE orders ADD COLUMN note VARCHAR(255) NULL DEFAULT NULL, ALGORITHM=INPLACE, LOCK=NONE',
    expect: { class: 'ddl', ddl: { kind: 'alter table', tables: [T('orders')], temporary: false } },
  },
];
