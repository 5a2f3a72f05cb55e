/**
 * Statements in the shapes Prisma's query engine (quaint) sends to MySQL:
 * every column fully qualified with the database name, `LIMIT ? OFFSET ?`
 * as parameters, `VALUES (?,?)` without spaces, `(… AND 1=1)` predicates,
 * upper-case transaction statements.
 */
import { BEGIN, C, COMMIT, P, ROLLBACK, SET_TX, T, type CorpusEntry } from './spec.js';

export const prisma: readonly CorpusEntry[] = [
  {
    sql: 'SELECT `db`.`User`.`id`, `db`.`User`.`email` FROM `db`.`User` WHERE `db`.`User`.`id` = ? LIMIT ? OFFSET ?',
    expect: { class: 'read', placeholderCount: 3, unsafe: [], primaryOnly: false, tablesRead: [T('db', 'User', null)] },
  },
  {
    sql: 'SELECT `dev`.`Post`.`id`, `dev`.`Post`.`createdAt`, `dev`.`Post`.`title`, `dev`.`Post`.`author` AS `__ParentModel__` FROM `dev`.`Post` WHERE (1=1 AND `dev`.`Post`.`author` IN (?)) LIMIT ? OFFSET ?',
    expect: { class: 'read', placeholderCount: 3, unsafe: [] },
  },
  {
    sql: 'SELECT COUNT(*) AS `_count._all` FROM (SELECT `db`.`User`.`id` FROM `db`.`User` WHERE 1=1 LIMIT ? OFFSET ?) AS `sub`',
    note: 'a dot inside a quoted alias',
    expect: { class: 'read', placeholderCount: 2, unsafe: [] },
  },
  {
    sql: 'INSERT INTO `db`.`User` (`email`,`name`) VALUES (?,?)',
    expect: {
      class: 'write',
      unsafe: [],
      tablesWritten: [T('db', 'User', null)],
      write: {
        kind: 'insert',
        table: T('db', 'User', null),
        columns: ['email', 'name'],
        columnList: '(`email`,`name`)',
        rows: [[P(0), P(1)]],
        rowTexts: ['(?,?)'],
        rowCount: 1,
      },
    },
  },
  {
    sql: 'INSERT INTO `db`.`Post` (`id`,`title`,`createdAt`,`authorId`) VALUES (?,?,?,?), (?,?,?,?)',
    note: 'createMany()',
    expect: { class: 'write', placeholderCount: 8, write: { kind: 'insert', rowCount: 2, rows: [[P(0), P(1), P(2), P(3)], [P(4), P(5), P(6), P(7)]] } },
  },
  {
    sql: 'INSERT IGNORE INTO `db`.`User` (`email`) VALUES (?), (?)',
    note: 'createMany({ skipDuplicates: true })',
    expect: { class: 'write', unsafe: ['ignore'], write: { kind: 'insert', ignore: true, rowCount: 2 } },
  },
  {
    sql: 'UPDATE `db`.`User` SET `name` = ? WHERE (`db`.`User`.`id` = ? AND 1=1)',
    expect: {
      class: 'write',
      unsafe: [],
      write: {
        kind: 'update',
        multiTable: false,
        tables: [T('db', 'User', null)],
        set: C('SET `name` = ?', 0),
        where: C('WHERE (`db`.`User`.`id` = ? AND 1=1)', 1),
      },
    },
  },
  {
    sql: 'UPDATE `db`.`Post` SET `views` = (`db`.`Post`.`views` + ?) WHERE (`db`.`Post`.`id` = ? AND 1=1)',
    note: 'update({ data: { views: { increment } } })',
    expect: { class: 'write', unsafe: [], write: { kind: 'update', set: C('SET `views` = (`db`.`Post`.`views` + ?)', 0) } },
  },
  {
    sql: 'DELETE FROM `db`.`Post` WHERE (`db`.`Post`.`id` IN (?,?) AND 1=1)',
    expect: {
      class: 'write',
      unsafe: [],
      write: { kind: 'delete', multiTable: false, tables: [T('db', 'Post', null)], where: C('WHERE (`db`.`Post`.`id` IN (?,?) AND 1=1)', 0, 1) },
    },
  },
  {
    sql: 'SELECT `db`.`User`.`id` FROM `db`.`User` WHERE `db`.`User`.`email` = ? FOR UPDATE',
    expect: { class: 'read', primaryOnly: true },
  },
  { sql: 'BEGIN', expect: { class: 'transaction', transaction: BEGIN() } },
  { sql: 'COMMIT', expect: { class: 'transaction', transaction: COMMIT() } },
  { sql: 'ROLLBACK', expect: { class: 'transaction', transaction: ROLLBACK() } },
  { sql: 'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', expect: { class: 'transaction', transaction: SET_TX('next') } },
  {
    sql: 'SELECT @@lower_case_table_names',
    note: 'introspection',
    expect: { class: 'read', unsafe: ['system_variable'], unsafeDetails: [['system_variable', '@@lower_case_table_names']] },
  },
  {
    sql: 'SELECT GET_LOCK(?, 10)',
    note: 'migrate advisory lock',
    expect: { class: 'read', primaryOnly: true, placeholderCount: 1, unsafe: ['nondeterministic_function'] },
  },
  {
    sql: 'CREATE TABLE `User` (\n    `id` INTEGER NOT NULL AUTO_INCREMENT,\n    `email` VARCHAR(191) NOT NULL,\n    `name` VARCHAR(191) NULL,\n\n    UNIQUE INDEX `User_email_key`(`email`),\n    PRIMARY KEY (`id`)\n) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;',
    note: 'prisma migrate SQL file',
    expect: { class: 'ddl', multiStatement: false, ddl: { kind: 'create table', tables: [T('User')], temporary: false } },
  },
  {
    sql: 'ALTER TABLE `Post` ADD CONSTRAINT `Post_authorId_fkey` FOREIGN KEY (`authorId`) REFERENCES `User`(`id`) ON DELETE RESTRICT ON UPDATE CASCADE;',
    expect: { class: 'ddl', ddl: { kind: 'alter table', tables: [T('Post')] } },
  },
  {
    sql: 'CREATE TABLE _prisma_migrations (\n    id                      VARCHAR(36) PRIMARY KEY NOT NULL,\n    checksum                VARCHAR(64) NOT NULL,\n    finished_at             DATETIME(3),\n    migration_name          VARCHAR(255) NOT NULL,\n    logs                    TEXT,\n    rolled_back_at          DATETIME(3),\n    started_at              DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),\n    applied_steps_count     INTEGER UNSIGNED NOT NULL DEFAULT 0\n) DEFAULT CHARACTER SET utf8mb4',
    expect: { class: 'ddl', ddl: { kind: 'create table', tables: [T('_prisma_migrations')] } },
  },
  {
    note: 'bookkeeping insert written in the style of Prisma (hand-written)',
    sql: 'INSERT INTO `_prisma_migrations` (`id`, `checksum`, `logs`, `started_at`, `finished_at`, `migration_name`, `applied_steps_count`, `rolled_back_at`) VALUES (?, ?, NULL, now(3), NULL, ?, 0, NULL)',
    expect: {
      class: 'write',
      unsafe: ['time_function'],
      unsafeDetails: [['time_function', 'NOW']],
      write: {
        kind: 'insert',
        rows: [[P(0), P(1), { kind: 'null', text: 'NULL', placeholders: [] }, { kind: 'expression', text: 'now(3)', placeholders: [] }, { kind: 'null', text: 'NULL', placeholders: [] }, P(2), { kind: 'literal', text: '0', placeholders: [] }, { kind: 'null', text: 'NULL', placeholders: [] }]],
      },
    },
  },
];
