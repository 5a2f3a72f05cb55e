/**
 * Statements in the shapes Sequelize's MySQL dialect emits (v6 and v7): no
 * space after commas in column lists, `VALUES (DEFAULT,?,?,?);` with a
 * trailing semicolon, `SET \`a\`=?` without spaces, values inlined by
 * bulkCreate and by finders, backtick-quoted savepoints.
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
  SAVEPOINT,
  SET_TX,
  SET_VARS,
  T,
  type CorpusEntry,
} from './spec.js';

export const sequelize: readonly CorpusEntry[] = [
  {
    sql: 'INSERT INTO `users` (`id`,`name`,`createdAt`,`updatedAt`) VALUES (DEFAULT,?,?,?);',
    note: 'Model.create(): trailing semicolon is not a second statement',
    expect: {
      class: 'write',
      verb: 'insert',
      placeholderCount: 3,
      multiStatement: false,
      unsafe: [],
      write: {
        kind: 'insert',
        form: 'values',
        table: T('users'),
        columns: ['id', 'name', 'createdAt', 'updatedAt'],
        columnList: '(`id`,`name`,`createdAt`,`updatedAt`)',
        rowCount: 1,
        rows: [[DEF(), P(0), P(1), P(2)]],
        rowTexts: ['(DEFAULT,?,?,?)'],
      },
    },
  },
  {
    sql: "INSERT INTO `users` (`id`,`name`,`createdAt`,`updatedAt`) VALUES (NULL,'alice','2024-03-01 10:00:00','2024-03-01 10:00:00'),(NULL,'bob','2024-03-01 10:00:00','2024-03-01 10:00:00');",
    note: 'bulkCreate() inlines escaped values',
    expect: {
      class: 'write',
      placeholderCount: 0,
      multiStatement: false,
      unsafe: [],
      write: {
        kind: 'insert',
        rowCount: 2,
        rows: [
          [NUL(), LIT("'alice'"), LIT("'2024-03-01 10:00:00'"), LIT("'2024-03-01 10:00:00'")],
          [NUL(), LIT("'bob'"), LIT("'2024-03-01 10:00:00'"), LIT("'2024-03-01 10:00:00'")],
        ],
      },
    },
  },
  {
    sql: "INSERT INTO `users` (`id`,`name`,`createdAt`,`updatedAt`) VALUES (NULL,'alice','2024-03-01 10:00:00','2024-03-01 10:00:00') ON DUPLICATE KEY UPDATE `name`=VALUES(`name`),`updatedAt`=VALUES(`updatedAt`);",
    note: 'bulkCreate({ updateOnDuplicate })',
    expect: {
      class: 'write',
      unsafe: ['on_duplicate_key_update'],
      multiStatement: false,
      write: {
        kind: 'insert',
        onDuplicateKeyUpdate: {
          text: 'ON DUPLICATE KEY UPDATE `name`=VALUES(`name`),`updatedAt`=VALUES(`updatedAt`)',
          rowAlias: null,
          assignments: [A('name', EXPR('VALUES(`name`)')), A('updatedAt', EXPR('VALUES(`updatedAt`)'))],
        },
      },
    },
  },
  {
    sql: "INSERT IGNORE INTO `tags` (`id`,`name`) VALUES (1,'red'),(2,'blue');",
    note: 'bulkCreate({ ignoreDuplicates })',
    expect: {
      class: 'write',
      unsafe: ['ignore'],
      write: { kind: 'insert', ignore: true, rows: [[LIT('1'), LIT("'red'")], [LIT('2'), LIT("'blue'")]] },
    },
  },
  {
    sql: 'INSERT INTO `users` (`id`,`name`,`createdAt`,`updatedAt`) VALUES (?,?,?,?) ON DUPLICATE KEY UPDATE `id`=VALUES(`id`), `name`=VALUES(`name`), `updatedAt`=VALUES(`updatedAt`);',
    note: 'Model.upsert()',
    expect: {
      class: 'write',
      placeholderCount: 4,
      unsafe: ['on_duplicate_key_update'],
      write: { kind: 'insert', rows: [[P(0), P(1), P(2), P(3)]], onDuplicateKeyUpdate: { placeholders: [] } },
    },
  },
  {
    sql: 'UPDATE `users` SET `name`=?,`updatedAt`=? WHERE `id` = ?',
    expect: {
      class: 'write',
      unsafe: [],
      write: {
        kind: 'update',
        tables: [T('users')],
        set: C('SET `name`=?,`updatedAt`=?', 0, 1),
        assignments: [A('name', P(0)), A('updatedAt', P(1))],
        where: C('WHERE `id` = ?', 2),
        limit: null,
      },
    },
  },
  {
    sql: "UPDATE `users` SET `balance`=`balance`+ 5,`updatedAt`='2024-03-01 10:00:00' WHERE `id` = 1",
    note: 'Model.increment()',
    expect: {
      class: 'write',
      placeholderCount: 0,
      unsafe: [],
      write: {
        kind: 'update',
        assignments: [A('balance', EXPR('`balance`+ 5')), A('updatedAt', LIT("'2024-03-01 10:00:00'"))],
        where: C('WHERE `id` = 1'),
      },
    },
  },
  {
    sql: 'UPDATE `users` SET `deletedAt`=? WHERE `deletedAt` IS NULL AND `id` = ?',
    note: 'paranoid destroy()',
    expect: { class: 'write', unsafe: [], write: { kind: 'update', where: C('WHERE `deletedAt` IS NULL AND `id` = ?', 1) } },
  },
  {
    sql: 'DELETE FROM `users` WHERE `id` = 1',
    expect: { class: 'write', unsafe: [], write: { kind: 'delete', tables: [T('users')], where: C('WHERE `id` = 1'), limit: null } },
  },
  {
    sql: "DELETE FROM `sessions` WHERE `expires` < '2024-03-01 10:00:00' LIMIT 100",
    note: 'destroy({ where, limit })',
    expect: {
      class: 'write',
      unsafe: ['limit_without_order_by'],
      unsafeDetails: [['limit_without_order_by', 'LIMIT']],
      write: { kind: 'delete', limit: C('LIMIT 100'), orderBy: null },
    },
  },
  {
    sql: 'SELECT `id`, `name`, `createdAt`, `updatedAt` FROM `users` AS `User` WHERE `User`.`id` = 1;',
    note: 'findByPk(): inlined value, trailing semicolon',
    expect: { class: 'read', placeholderCount: 0, multiStatement: false, unsafe: [], tablesRead: [T('users', 'User')] },
  },
  {
    sql: "SELECT `User`.`id`, `User`.`name`, `posts`.`id` AS `posts.id`, `posts`.`title` AS `posts.title` FROM `users` AS `User` LEFT OUTER JOIN `posts` AS `posts` ON `User`.`id` = `posts`.`userId` WHERE `User`.`name` LIKE '%;DROP TABLE users;--%';",
    note: 'include: association; a string holding ; and -- must not split the statement',
    expect: { class: 'read', multiStatement: false, placeholderCount: 0, unsafe: [] },
  },
  {
    sql: 'SELECT count(*) AS `count` FROM `users` AS `User`;',
    expect: { class: 'read', unsafe: [] },
  },
  {
    sql: 'SELECT `id`, `name` FROM `users` AS `User` WHERE `User`.`id` = 7 FOR UPDATE;',
    note: 'findOne({ lock: true })',
    expect: { class: 'read', primaryOnly: true, multiStatement: false },
  },
  { sql: 'START TRANSACTION;', expect: { class: 'transaction', transaction: BEGIN(), multiStatement: false } },
  { sql: 'START TRANSACTION READ ONLY', note: 'v7', expect: { class: 'transaction', transaction: BEGIN(true, false) } },
  {
    sql: 'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ;',
    note: 'v6 setIsolationLevelQuery',
    expect: { class: 'transaction', transaction: SET_TX('session') },
  },
  { sql: 'SET autocommit = 1;', note: 'v6 setAutocommitQuery', expect: { class: 'transaction', transaction: AUTOCOMMIT(true) } },
  { sql: 'SAVEPOINT `4f1f6f16-0c9a-4bbf-9d5e-2c1d7b6b5c11`;', expect: { class: 'transaction', transaction: SAVEPOINT('4f1f6f16-0c9a-4bbf-9d5e-2c1d7b6b5c11') } },
  { sql: 'ROLLBACK TO SAVEPOINT `sp-1`;', expect: { class: 'transaction', transaction: ROLLBACK_TO('sp-1') } },
  { sql: 'COMMIT;', expect: { class: 'transaction', transaction: COMMIT() } },
  { sql: 'ROLLBACK;', expect: { class: 'transaction', transaction: ROLLBACK() } },
  {
    sql: 'SELECT VERSION() as `version`',
    expect: { class: 'read', unsafe: ['nondeterministic_function'] },
  },
  {
    sql: "SET time_zone = '+00:00'",
    note: 'connection-manager on connect',
    expect: { class: 'session', session: SET_VARS(['time_zone']), unsafe: [] },
  },
  { sql: 'SET FOREIGN_KEY_CHECKS=0', expect: { class: 'session', session: SET_VARS(['foreign_key_checks']) } },
  { sql: 'SHOW FULL COLUMNS FROM `users`;', expect: { class: 'read', verb: 'show', multiStatement: false } },
  { sql: 'SHOW INDEX FROM `users`', expect: { class: 'read', verb: 'show' } },
  {
    sql: "SELECT TABLE_NAME AS `tableName`, TABLE_SCHEMA AS `schema` FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA = 'app' ORDER BY TABLE_SCHEMA, TABLE_NAME",
    expect: { class: 'read', unsafe: [], tablesRead: [T('INFORMATION_SCHEMA', 'TABLES', null)] },
  },
  {
    sql: 'CREATE TABLE IF NOT EXISTS `users` (`id` INTEGER NOT NULL auto_increment , `name` VARCHAR(255), `createdAt` DATETIME NOT NULL, `updatedAt` DATETIME NOT NULL, PRIMARY KEY (`id`)) ENGINE=InnoDB;',
    expect: { class: 'ddl', multiStatement: false, ddl: { kind: 'create table', tables: [T('users')], temporary: false } },
  },
  { sql: 'ALTER TABLE `users` ADD `age` INTEGER;', expect: { class: 'ddl', ddl: { kind: 'alter table', tables: [T('users')] } } },
  { sql: 'ALTER TABLE `User` ADD FULLTEXT INDEX `user_field_c` (`fieldC`)', expect: { class: 'ddl', ddl: { kind: 'alter table', tables: [T('User')] } } },
  { sql: 'DROP TABLE IF EXISTS `users`;', expect: { class: 'ddl', ddl: { kind: 'drop table', tables: [T('users')], temporary: false } } },
  { sql: 'RENAME TABLE `people` TO `persons`;', expect: { class: 'ddl', ddl: { kind: 'rename table', tables: [T('people'), T('persons')] } } },
  { sql: 'TRUNCATE `users`', expect: { class: 'ddl', ddl: { kind: 'truncate table', tables: [T('users')] } } },
  { sql: 'DROP INDEX `users_email` ON `users`', expect: { class: 'ddl', ddl: { kind: 'drop index', tables: [T('users')] } } },
  {
    sql: 'CREATE TABLE IF NOT EXISTS `table` (`value` FLOAT DEFAULT (RAND())) ENGINE=InnoDB;',
    note: 'a RAND() default is evaluated at insert time, not now: unsafe not asserted',
    expect: { class: 'ddl', ddl: { kind: 'create table', tables: [T('table')] } },
  },
];
