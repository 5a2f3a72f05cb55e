/**
 * Statements in the shapes TypeORM's MySQL driver and query builders emit:
 * upper-case keywords, `INSERT INTO \`t\`(\`a\`, \`b\`) VALUES (DEFAULT, ?)`
 * with no space before the column list, `WHERE \`id\` IN (?)`, entity aliases
 * on SELECT, `CURRENT_TIMESTAMP` for @UpdateDateColumn, `typeorm_N` savepoints,
 * and the schema / migration statements of its query runner.
 */
import {
  A,
  BEGIN,
  C,
  COMMIT,
  DEF,
  EXPR,
  P,
  RELEASE,
  ROLLBACK,
  ROLLBACK_TO,
  SAVEPOINT,
  SET_TX,
  SET_VARS,
  T,
  type CorpusEntry,
} from './spec.js';

export const typeorm: readonly CorpusEntry[] = [
  // --- transactions ----------------------------------------------------------
  { sql: 'START TRANSACTION', expect: { class: 'transaction', verb: 'start', transaction: BEGIN(), unsafe: [] } },
  {
    sql: 'SET TRANSACTION ISOLATION LEVEL READ COMMITTED',
    expect: { class: 'transaction', verb: 'set', transaction: SET_TX('next') },
  },
  { sql: 'SAVEPOINT typeorm_1', expect: { class: 'transaction', transaction: SAVEPOINT('typeorm_1') } },
  { sql: 'RELEASE SAVEPOINT typeorm_1', expect: { class: 'transaction', transaction: RELEASE('typeorm_1') } },
  { sql: 'ROLLBACK TO SAVEPOINT typeorm_1', expect: { class: 'transaction', transaction: ROLLBACK_TO('typeorm_1') } },
  { sql: 'COMMIT', expect: { class: 'transaction', transaction: COMMIT() } },
  { sql: 'ROLLBACK', expect: { class: 'transaction', transaction: ROLLBACK() } },

  // --- query runner: server and schema inspection ---------------------------
  {
    sql: 'SELECT version() as version',
    expect: { class: 'read', verb: 'select', unsafe: ['nondeterministic_function'], unsafeDetails: [['nondeterministic_function', 'VERSION']] },
  },
  {
    sql: 'SELECT DATABASE() AS `db_name`',
    expect: { class: 'read', unsafe: ['nondeterministic_function'], primaryOnly: false },
  },
  {
    sql: 'SELECT SCHEMA() AS `schema_name`',
    expect: { class: 'read', unsafe: ['nondeterministic_function'] },
  },
  {
    sql: 'SELECT * FROM `INFORMATION_SCHEMA`.`COLUMNS` WHERE `TABLE_SCHEMA` = ? AND `TABLE_NAME` = ?',
    expect: {
      class: 'read',
      placeholderCount: 2,
      unsafe: [],
      tablesRead: [T('INFORMATION_SCHEMA', 'COLUMNS', null)],
    },
  },
  {
    sql: "SELECT concat('DROP TABLE IF EXISTS `', table_schema, '`.`', table_name, '`') AS `query` FROM `INFORMATION_SCHEMA`.`TABLES` WHERE `TABLE_SCHEMA` = ?",
    note: 'clearDatabase(): DROP TABLE inside strings, backticks inside strings',
    expect: { class: 'read', verb: 'select', placeholderCount: 1, unsafe: [], multiStatement: false },
  },
  {
    sql: "SELECT concat('DROP VIEW IF EXISTS `', table_schema, '`.`', table_name, '`') AS `query` FROM `INFORMATION_SCHEMA`.`VIEWS` WHERE `TABLE_SCHEMA` = ?",
    expect: { class: 'read', placeholderCount: 1, unsafe: [] },
  },
  {
    sql: 'SET FOREIGN_KEY_CHECKS = 0;',
    expect: { class: 'session', verb: 'set', session: SET_VARS(['foreign_key_checks']), transaction: null, unsafe: [] },
  },

  // --- entity manager / query builder ----------------------------------------
  {
    sql: 'SELECT `Post`.`id` AS `Post_id`, `Post`.`title` AS `Post_title` FROM `post` `Post` WHERE ((`Post`.`id` = ?)) LIMIT 1',
    note: 'findOne()',
    expect: { class: 'read', placeholderCount: 1, unsafe: [], tablesRead: [T('post', 'Post')], primaryOnly: false },
  },
  {
    sql: 'SELECT DISTINCT `distinctAlias`.`Post_id` AS `ids_Post_id` FROM (SELECT `Post`.`id` AS `Post_id`, `Post`.`title` AS `Post_title` FROM `post` `Post` LEFT JOIN `category` `Post__Post_categories` ON `Post__Post_categories`.`postId`=`Post`.`id`) `distinctAlias` ORDER BY `Post_id` ASC LIMIT 10',
    note: 'find({ take }) with a relation',
    expect: { class: 'read', placeholderCount: 0, unsafe: [] },
  },
  {
    sql: 'SELECT `User`.`id` AS `User_id` FROM `user` `User` WHERE `User`.`id` = ? FOR UPDATE',
    note: "setLock('pessimistic_write')",
    expect: { class: 'read', primaryOnly: true, unsafe: [] },
  },
  {
    sql: 'SELECT `User`.`id` AS `User_id` FROM `user` `User` WHERE `User`.`id` = ? LOCK IN SHARE MODE',
    note: "setLock('pessimistic_read') on MySQL 5.7",
    expect: { class: 'read', primaryOnly: true },
  },
  {
    sql: 'SELECT `User`.`id` AS `User_id` FROM `user` `User` WHERE `User`.`id` = ? FOR SHARE',
    note: "setLock('pessimistic_read') on MySQL 8",
    expect: { class: 'read', primaryOnly: true },
  },
  {
    sql: 'INSERT INTO `post`(`id`, `title`) VALUES (DEFAULT, ?)',
    expect: {
      class: 'write',
      verb: 'insert',
      placeholderCount: 1,
      unsafe: [],
      write: {
        kind: 'insert',
        ignore: false,
        form: 'values',
        table: T('post'),
        columns: ['id', 'title'],
        columnList: '(`id`, `title`)',
        textBeforeAfterTable: 'INSERT INTO `post`',
        sourceStartsWith: 'VALUES',
        rowCount: 1,
        rows: [[DEF(), P(0)]],
        rowTexts: ['(DEFAULT, ?)'],
        onDuplicateKeyUpdate: null,
      },
    },
  },
  {
    sql: 'INSERT INTO `post`(`id`, `title`, `createdAt`) VALUES (DEFAULT, ?, DEFAULT), (DEFAULT, ?, DEFAULT)',
    note: 'save([a, b])',
    expect: {
      class: 'write',
      write: { kind: 'insert', rowCount: 2, rows: [[DEF(), P(0), DEF()], [DEF(), P(1), DEF()]] },
    },
  },
  {
    sql: 'INSERT IGNORE INTO `post`(`id`, `title`) VALUES (DEFAULT, ?)',
    note: 'orIgnore()',
    expect: { class: 'write', unsafe: ['ignore'], write: { kind: 'insert', ignore: true, table: T('post') } },
  },
  {
    sql: 'INSERT INTO `post`(`id`, `title`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `title` = VALUES(`title`) ',
    note: 'upsert(): TypeORM leaves a trailing space',
    expect: {
      class: 'write',
      unsafe: ['on_duplicate_key_update'],
      write: {
        kind: 'insert',
        rows: [[P(0), P(1)]],
        onDuplicateKeyUpdate: {
          text: 'ON DUPLICATE KEY UPDATE `title` = VALUES(`title`)',
          rowAlias: null,
          assignments: [A('title', EXPR('VALUES(`title`)'))],
        },
      },
    },
  },
  {
    sql: 'INSERT INTO `typeorm_test`.`migrations`(`timestamp`, `name`) VALUES (?, ?)',
    note: 'migration bookkeeping into a schema-qualified table',
    expect: {
      class: 'write',
      tablesWritten: [T('typeorm_test', 'migrations', null)],
      write: {
        kind: 'insert',
        table: T('typeorm_test', 'migrations', null),
        columns: ['timestamp', 'name'],
        textBeforeAfterTable: '`typeorm_test`.`migrations`',
      },
    },
  },
  {
    sql: 'SELECT * FROM `typeorm_test`.`migrations` `migrations` ORDER BY `id` DESC',
    expect: { class: 'read', tablesRead: [T('typeorm_test', 'migrations', 'migrations')] },
  },
  {
    sql: 'DELETE FROM `typeorm_test`.`migrations` WHERE `timestamp` = ? AND `name` = ?',
    expect: {
      class: 'write',
      unsafe: [],
      write: {
        kind: 'delete',
        tables: [T('typeorm_test', 'migrations', null)],
        where: C('WHERE `timestamp` = ? AND `name` = ?', 0, 1),
      },
    },
  },
  {
    sql: 'UPDATE `post` SET `title` = ?, `updatedAt` = CURRENT_TIMESTAMP WHERE `id` IN (?)',
    note: '@UpdateDateColumn: CURRENT_TIMESTAMP without parentheses',
    expect: {
      class: 'write',
      unsafe: ['time_function'],
      unsafeDetails: [['time_function', 'CURRENT_TIMESTAMP']],
      unsafeSpans: [['time_function', 'CURRENT_TIMESTAMP']],
      write: {
        kind: 'update',
        tables: [T('post')],
        set: C('SET `title` = ?, `updatedAt` = CURRENT_TIMESTAMP', 0),
        assignments: [A('title', P(0)), A('updatedAt', EXPR('CURRENT_TIMESTAMP'))],
        where: C('WHERE `id` IN (?)', 1),
        orderBy: null,
        limit: null,
      },
    },
  },
  {
    sql: 'UPDATE `post` SET `title` = ?, `version` = `version` + 1, `updatedAt` = CURRENT_TIMESTAMP WHERE `id` IN (?)',
    note: '@VersionColumn',
    expect: {
      class: 'write',
      unsafe: ['time_function'],
      write: {
        kind: 'update',
        assignments: [A('title', P(0)), A('version', EXPR('`version` + 1')), A('updatedAt', EXPR('CURRENT_TIMESTAMP'))],
      },
    },
  },
  {
    sql: 'UPDATE `post` SET `deletedAt` = CURRENT_TIMESTAMP WHERE `id` IN (?, ?)',
    note: 'softDelete()',
    expect: { class: 'write', placeholderCount: 2, unsafe: ['time_function'], write: { kind: 'update', where: C('WHERE `id` IN (?, ?)', 0, 1) } },
  },
  {
    sql: 'DELETE FROM `post` WHERE `id` IN (?, ?)',
    expect: { class: 'write', unsafe: [], write: { kind: 'delete', multiTable: false, tables: [T('post')], where: C('WHERE `id` IN (?, ?)', 0, 1) } },
  },

  // --- schema sync / migrations DDL ---------------------------------------------
  {
    sql: 'CREATE TABLE `post` (`id` int NOT NULL AUTO_INCREMENT, `title` varchar(255) NOT NULL, `createdAt` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), PRIMARY KEY (`id`)) ENGINE=InnoDB',
    note: 'unsafe not asserted: whether a DEFAULT clock expression in DDL counts is a design question',
    expect: { class: 'ddl', verb: 'create', placeholderCount: 0, ddl: { kind: 'create table', tables: [T('post')], temporary: false } },
  },
  {
    sql: 'CREATE INDEX `IDX_b0f4b0f2` ON `post` (`title`)',
    expect: { class: 'ddl', ddl: { kind: 'create index', tables: [T('post')] } },
  },
  {
    sql: 'CREATE UNIQUE INDEX `IDX_e12875dfb3` ON `user` (`email`)',
    expect: { class: 'ddl', ddl: { kind: 'create index', tables: [T('user')] } },
  },
  {
    sql: 'ALTER TABLE `post` ADD CONSTRAINT `FK_c6fb082a3114f35d0cc27c518e0` FOREIGN KEY (`authorId`) REFERENCES `user`(`id`) ON DELETE NO ACTION ON UPDATE NO ACTION',
    note: 'ON DELETE / ON UPDATE here are referential actions, not statements',
    expect: { class: 'ddl', verb: 'alter', ddl: { kind: 'alter table', tables: [T('post')] }, write: null },
  },
  {
    sql: 'ALTER TABLE `post` CHANGE `title` `name` varchar(255) NOT NULL',
    expect: { class: 'ddl', ddl: { kind: 'alter table', tables: [T('post')] } },
  },
  {
    sql: 'DROP INDEX `IDX_b0f4b0f2` ON `post`',
    expect: { class: 'ddl', verb: 'drop', ddl: { kind: 'drop index', tables: [T('post')] } },
  },
  {
    sql: 'RENAME TABLE `typeorm_test`.`post` TO `typeorm_test`.`article`',
    expect: {
      class: 'ddl',
      verb: 'rename',
      ddl: { kind: 'rename table', tables: [T('typeorm_test', 'post', null), T('typeorm_test', 'article', null)] },
    },
  },
  {
    sql: 'CREATE VIEW `post_view` AS SELECT `post`.`id` AS `id`, `post`.`title` AS `title` FROM `post` `post`',
    expect: { class: 'ddl', ddl: { kind: 'create view', tables: [] } },
  },
  {
    sql: 'DROP VIEW IF EXISTS `post_view`',
    expect: { class: 'ddl', ddl: { kind: 'drop view' } },
  },
  {
    sql: 'INSERT INTO `typeorm_test`.`typeorm_metadata`(`database`, `schema`, `table`, `type`, `name`, `value`) VALUES (DEFAULT, ?, DEFAULT, ?, ?, ?)',
    expect: {
      class: 'write',
      placeholderCount: 4,
      write: {
        kind: 'insert',
        table: T('typeorm_test', 'typeorm_metadata', null),
        columns: ['database', 'schema', 'table', 'type', 'name', 'value'],
        rows: [[DEF(), P(0), DEF(), P(1), P(2), P(3)]],
      },
    },
  },
];
