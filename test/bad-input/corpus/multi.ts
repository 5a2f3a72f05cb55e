/**
 * More than one statement in a text, executable comments (`/*! … *\/`, `/*!50700 … *\/`, `/*M! … *\/`), nested
 * comments, `DELIMITER` (a client command, not SQL), and other statements the pool must not replay on trust.
 * Statements with lasting effects outside the table (SHUTDOWN, GRANT, triggers, XA, LOCK TABLES) are left out:
 * the raw pool they are compared with would run them for real.
 */
import { entry, type BadInput } from './spec.js';

const group = 'multi';

const FIRSTS = [
  "INSERT INTO items (name) VALUES ('m1')",
  'UPDATE items SET qty = qty + 1 WHERE id = 1',
  'DELETE FROM items WHERE id = 999',
  'SELECT 1',
  'BEGIN',
  'SET @x = 1',
];
const SECONDS = [
  'DELETE FROM items',
  'DROP TABLE items',
  "INSERT INTO items (name) VALUES ('m2')",
  'SELECT * FROM items',
  'COMMIT',
  '',
];

const pairs: BadInput[] = FIRSTS.flatMap((a, i) =>
  SECONDS.map((b, j) => entry(group, `statement ${i} then statement ${j} after a ;`, b === '' ? `${a};;` : `${a}; ${b}`)),
);

const executable: BadInput[] = [
  ['/*! DELETE FROM items */', 'a whole DELETE in an executable comment'],
  ['SELECT 1 /*! ; DELETE FROM items */', 'a second statement hidden in an executable comment of a read'],
  ["INSERT INTO items (name) VALUES ('e1') /*! , ('e2') */", 'an extra row in an executable comment'],
  ["INSERT INTO items (name) VALUES ('e3') /*!99999 , ('e4') */", 'a version-gated comment the server skips'],
  ["INSERT INTO items (name) VALUES ('e5') /*!50700 , ('e6') */", 'a version-gated comment the server runs'],
  ["INSERT INTO items (name) VALUES ('e7') /*M! , ('e8') */", 'a MariaDB-only executable comment'],
  ["INSERT INTO items (name) VALUES ('e9') /*M!100100 , ('e10') */", 'a MariaDB version-gated comment'],
  ['UPDATE items SET qty = 1 /*! WHERE id = 1 */', 'the WHERE clause inside an executable comment'],
  ['UPDATE items SET qty = 2 /* WHERE id = 1 */', 'the WHERE clause inside a plain comment: updates every row'],
  ['DELETE FROM items WHERE id = 998 /*! OR 1=1 */', 'an OR 1=1 inside an executable comment'],
  ['/*!40101 SET @saved = @@sql_mode */', 'a mysqldump-style executable SET'],
  ['UPDATE items SET qty = 3 WHERE id = 1 /*! /* nested */ */', 'a comment nested in an executable comment'],
  ['UPDATE items SET qty = 4 WHERE id = 1 /* outer /* inner */ still? */', 'a nested comment: MySQL ends it at the first */'],
  ['UPDATE items SET qty = 5 WHERE id = 1 /* /* */ */', 'a closer after the comment ended'],
  ['UPDATE items SET qty = 6 WHERE id = 1 /*/ odd */', '/*/ opens a comment'],
  ['UPDATE items SET qty = 7 WHERE id = 1 /**/', 'an empty comment'],
  ['UPDATE items SET qty = 8 WHERE id = 1 /*!*/', 'an empty executable comment'],
  ['/*!', 'an executable comment opener alone'],
  ['/*!UPDATE items SET qty = 9 WHERE id = 1', 'an executable comment never closed'],
].map(([sql, note]) => entry(group, note as string, sql as string));

const delimiter: BadInput[] = [
  'DELIMITER //',
  'DELIMITER //\nUPDATE items SET qty = 1 WHERE id = 1//\nDELIMITER ;',
  'DELIMITER ;',
  'delimiter $$ UPDATE items SET qty = 1 $$',
  'CREATE PROCEDURE p() BEGIN UPDATE items SET qty = 1; END',
  '\\g',
  'UPDATE items SET qty = 1 WHERE id = 1 \\G',
  'source /etc/passwd',
  'SELECT 1\\G',
].map((sql) => entry(group, `client command or compound statement: ${JSON.stringify(sql.slice(0, 30))}`, sql));

const other: BadInput[] = [
  ['LOAD DATA LOCAL INFILE \'/etc/passwd\' INTO TABLE items', 'LOAD DATA LOCAL INFILE: the file would come from the client'],
  ["LOAD DATA LOCAL INFILE '/tmp/none.csv' INTO TABLE items FIELDS TERMINATED BY ','", 'LOAD DATA LOCAL with options'],
  ["LOAD DATA INFILE '/nonexistent-dualwrite/x.csv' INTO TABLE items", 'LOAD DATA of a server file that does not exist'],
  ["LOAD XML LOCAL INFILE '/tmp/x.xml' INTO TABLE items", 'LOAD XML LOCAL'],
  ["SELECT * FROM items INTO OUTFILE '/nonexistent-dualwrite/x.out'", 'SELECT … INTO OUTFILE a path the server cannot write'],
  ['SELECT id INTO @v FROM items LIMIT 1', 'SELECT … INTO a user variable'],
  ['CALL no_such_procedure()', 'CALL of a missing procedure'],
  ['DO SLEEP(0)', 'DO'],
  ["PREPARE s FROM 'DELETE FROM items'", 'server-side PREPARE of a DELETE'],
  ['EXECUTE s', 'EXECUTE of a server-side statement'],
  ["SET @q = 'DELETE FROM items'", 'a DELETE kept in a user variable'],
  ['KILL 999999', 'KILL of a missing connection'],
  ['', 'the empty text'],
  ['   ', 'only spaces'],
  [';', 'only a semicolon'],
  ['/* nothing */', 'only a comment'],
  ['-- nothing', 'only a line comment'],
  ['UPDATE', 'a lone verb'],
  ['INSERT INTO', 'a verb and INTO'],
  ['DELETE FROM items WHERE', 'WHERE with no condition'],
  ['UPDATE items SET', 'SET with no assignment'],
  ['INSERT INTO items VALUES', 'VALUES with no row'],
  ['INSERT INTO items () VALUES ()', 'an empty row (valid: every default)'],
  ['INSERT INTO items VALUES ()', 'an empty row without a column list'],
  ['WITH x AS (SELECT 1) DELETE FROM items WHERE id = 997', 'a CTE ending in DELETE'],
].map(([sql, note]) => entry(group, note as string, sql as string));

/** The multi-statement, executable-comment, client-command and unsupported-statement entries. */
export const multi: readonly BadInput[] = [...pairs, ...executable, ...delimiter, ...other];
