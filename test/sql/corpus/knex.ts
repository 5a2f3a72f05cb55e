/**
 * Statements in the shapes Knex emits for the mysql/mysql2 clients
 * (lowercase keywords, backticks, `?` bindings, `values (?, ?), (?, ?)`),
 * its transaction statements (`BEGIN;`, `SAVEPOINT trx2;` …) and the
 * statements of its migrator.
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
  T,
  placeholderRows,
  type CorpusEntry,
} from './spec.js';

export const knex: readonly CorpusEntry[] = [
  // --- reads -------------------------------------------------------------
  {
    sql: 'select * from `users` where `id` = ?',
    expect: {
      class: 'read',
      verb: 'select',
      placeholderCount: 1,
      multiStatement: false,
      primaryOnly: false,
      unsafe: [],
      tablesRead: [T('users')],
      write: null,
      understood: true,
    },
  },
  {
    sql: 'select distinct `foo`, `bar` from `users`',
    expect: { class: 'read', verb: 'select', placeholderCount: 0, unsafe: [] },
  },
  {
    sql: 'select * from `users` where `name` like ? COLLATE utf8_bin and `name` like ? COLLATE utf8_bin or `name` like ? COLLATE utf8_bin',
    expect: { class: 'read', placeholderCount: 3, unsafe: [] },
  },
  {
    sql: 'select * from `users` where (`a`, `b`) in ((?, ?), (?, ?), (?, ?))',
    expect: { class: 'read', placeholderCount: 6, unsafe: [] },
  },
  {
    sql: 'select * from `users` where COALESCE(`id`, ?) in (?, ?, ?)',
    note: 'COALESCE is a deterministic built-in',
    expect: { class: 'read', placeholderCount: 4, unsafe: [] },
  },
  {
    sql: '(select * from `users` where `id` = ?) union all (select * from `users` where `id` = ?) union all (select * from `users` where `id` = ?)',
    note: 'a leading parenthesis still gives verb select',
    expect: { class: 'read', verb: 'select', placeholderCount: 3, unsafe: [], primaryOnly: false },
  },
  {
    sql: 'select * from `users` where `id` in ((select max(`id`) from `users`) union (select min(`id`) from `users`))',
    expect: { class: 'read', placeholderCount: 0, unsafe: [] },
  },
  {
    sql: 'select * from `users` limit 18446744073709551615 offset ?',
    expect: { class: 'read', placeholderCount: 1, unsafe: [] },
  },
  {
    sql: 'select `e`.`lastname`, `e`.`salary`, (select `salary` from `employee` where dept_no = e.dept_no order by `salary` desc limit ?) as `top_dept_salary` from `employee` as `e` where `dept_no` = ?',
    expect: { class: 'read', placeholderCount: 2, unsafe: [] },
  },
  {
    sql: 'select * from `foo` where `bar` = ? for update',
    expect: { class: 'read', primaryOnly: true, placeholderCount: 1, unsafe: [] },
  },
  {
    sql: 'select * from `foo` where `bar` = ? lock in share mode',
    expect: { class: 'read', primaryOnly: true, unsafe: [] },
  },
  {
    sql: 'select * from `foo` limit ? for update skip locked',
    expect: { class: 'read', primaryOnly: true, placeholderCount: 1, unsafe: [] },
  },
  {
    sql: 'with `withClause` as (select `foo` from `users`) select * from `withClause`',
    expect: { class: 'read', verb: 'with', placeholderCount: 0, unsafe: [], write: null },
  },
  {
    sql: 'select * from information_schema.tables where table_name = ? and table_schema = database()',
    note: 'knex hasTable(): DATABASE() differs between the two servers',
    expect: {
      class: 'read',
      placeholderCount: 1,
      primaryOnly: false,
      unsafe: ['nondeterministic_function'],
      unsafeDetails: [['nondeterministic_function', 'DATABASE']],
      tablesRead: [T('information_schema', 'tables', null)],
    },
  },
  {
    sql: 'show columns from `users`',
    note: 'knex columnInfo()',
    expect: { class: 'read', verb: 'show', unsafe: [] },
  },

  // --- inserts -----------------------------------------------------------
  {
    sql: 'insert into `users` (`email`, `name`) values (?, ?), (?, ?)',
    expect: {
      class: 'write',
      verb: 'insert',
      placeholderCount: 4,
      unsafe: [],
      tablesWritten: [T('users')],
      write: {
        kind: 'insert',
        ignore: false,
        form: 'values',
        table: T('users'),
        columns: ['email', 'name'],
        columnList: '(`email`, `name`)',
        textBeforeAfterTable: '`users`',
        sourceStartsWith: 'values',
        rowCount: 2,
        rows: placeholderRows(2, 2),
        rowTexts: ['(?, ?)', '(?, ?)'],
        set: [],
        onDuplicateKeyUpdate: null,
      },
    },
  },
  {
    sql: 'insert into `table` (`a`, `b`, `c`) values (?, DEFAULT, DEFAULT), (DEFAULT, ?, DEFAULT), (?, DEFAULT, ?)',
    note: 'knex fills missing keys of a multi-row insert with DEFAULT',
    expect: {
      class: 'write',
      placeholderCount: 4,
      unsafe: [],
      write: {
        kind: 'insert',
        table: T('table'),
        columns: ['a', 'b', 'c'],
        rowCount: 3,
        rows: [
          [P(0), DEF(), DEF()],
          [DEF(), P(1), DEF()],
          [P(2), DEF(), P(3)],
        ],
      },
    },
  },
  {
    sql: 'insert into `users` () values ()',
    note: 'knex insert({}): an empty column list is not the same as no column list',
    expect: {
      class: 'write',
      placeholderCount: 0,
      unsafe: [],
      write: { kind: 'insert', form: 'values', columns: [], columnList: '()', rowCount: 1, rows: [[]] },
    },
  },
  {
    sql: 'insert ignore into `users` (`email`) values (?), (?)',
    note: 'onConflict().ignore()',
    expect: {
      class: 'write',
      unsafe: ['ignore'],
      unsafeDetails: [['ignore', 'IGNORE']],
      write: { kind: 'insert', ignore: true, columns: ['email'], rowCount: 2, rows: [[P(0)], [P(1)]] },
    },
  },
  {
    sql: 'insert into `users` (`email`, `name`) values (?, ?), (?, ?) on duplicate key update `email` = values(`email`), `name` = values(`name`)',
    note: 'onConflict().merge(): VALUES(col) is the ODKU built-in, not a stored function',
    expect: {
      class: 'write',
      placeholderCount: 4,
      unsafe: ['on_duplicate_key_update'],
      write: {
        kind: 'insert',
        rowCount: 2,
        onDuplicateKeyUpdate: {
          text: 'on duplicate key update `email` = values(`email`), `name` = values(`name`)',
          placeholders: [],
          rowAlias: null,
          assignments: [A('email', EXPR('values(`email`)')), A('name', EXPR('values(`name`)'))],
        },
      },
    },
  },
  {
    sql: 'insert into `users` (`email`, `name`) values (?, ?), (?, ?) on duplicate key update `name` = ?',
    note: 'onConflict().merge({ name })',
    expect: {
      class: 'write',
      placeholderCount: 5,
      unsafe: ['on_duplicate_key_update'],
      write: {
        kind: 'insert',
        rows: placeholderRows(2, 2),
        onDuplicateKeyUpdate: { placeholders: [4], assignments: [A('name', P(4))] },
      },
    },
  },
  {
    sql: 'insert into `entries` (`secret`, `sequence`) values (?, (select count(*) from `entries` where `secret` = ?))',
    note: 'a subquery inside VALUES',
    expect: {
      class: 'write',
      placeholderCount: 2,
      unsafe: ['subquery'],
      write: {
        kind: 'insert',
        form: 'values',
        rowCount: 1,
        rows: [[P(0), EXPR('(select count(*) from `entries` where `secret` = ?)', 1)]],
      },
    },
  },
  {
    sql: 'insert into recipients (recipient_id, email) select ?, ? where not exists (select 1 from `recipients` where `recipient_id` = ?)',
    note: 'insert … select: insert_select only (the inner subquery is part of the select)',
    expect: {
      class: 'write',
      placeholderCount: 3,
      unsafe: ['insert_select'],
      write: {
        kind: 'insert',
        form: 'select',
        table: T('recipients'),
        columns: ['recipient_id', 'email'],
        rowCount: null,
        rows: [],
        sourceStartsWith: 'select ?, ?',
      },
    },
  },
  {
    sql: 'insert into `votes` select * from `votes` where `id` = ?',
    expect: {
      class: 'write',
      unsafe: ['insert_select'],
      write: { kind: 'insert', form: 'select', columns: null, columnList: null, rowCount: null, textBeforeAfterTable: '`votes`' },
    },
  },
  {
    sql: 'with `withClause` as (select `foo` from `users`) insert into `users` select * from "withClause"',
    note: 'knex emits this CTE-then-insert shape; whatever MySQL thinks of it, it is not a read',
    expect: { class: 'write', verb: 'with', placeholderCount: 0 },
  },

  // --- updates and deletes ----------------------------------------------
  {
    sql: 'update `users` set `email` = ?, `name` = ? where `id` = ? order by `foo` desc limit ?',
    expect: {
      class: 'write',
      verb: 'update',
      placeholderCount: 4,
      unsafe: [],
      write: {
        kind: 'update',
        ignore: false,
        multiTable: false,
        tables: [T('users')],
        set: { ...C('set `email` = ?, `name` = ?', 0, 1), body: '`email` = ?, `name` = ?' },
        assignments: [A('email', P(0)), A('name', P(1))],
        where: { ...C('where `id` = ?', 2), body: '`id` = ?' },
        orderBy: C('order by `foo` desc'),
        limit: C('limit ?', 3),
      },
    },
  },
  {
    sql: 'update `users` set `email` = ?, `name` = ? where `users`.`id` = ? limit ?',
    expect: {
      class: 'write',
      unsafe: ['limit_without_order_by'],
      write: { kind: 'update', where: C('where `users`.`id` = ?', 2), orderBy: null, limit: C('limit ?', 3) },
    },
  },
  {
    sql: 'update `users` set `balance` = `balance` + ?, `times` = `times` + ?, `value` = `value` - ?, `subvalue` = `subvalue` - ? where `id` = ?',
    note: 'increment()/decrement() of several columns',
    expect: {
      class: 'write',
      unsafe: [],
      write: {
        kind: 'update',
        assignments: [
          A('balance', EXPR('`balance` + ?', 0)),
          A('times', EXPR('`times` + ?', 1)),
          A('value', EXPR('`value` - ?', 2)),
          A('subvalue', EXPR('`subvalue` - ?', 3)),
        ],
        where: C('where `id` = ?', 4),
      },
    },
  },
  {
    sql: 'update `users` inner join `orders` on `users`.`id` = `orders`.`user_id` set `email` = ?, `name` = ? where `users`.`id` = ?',
    expect: {
      class: 'write',
      unsafe: ['multi_table'],
      write: {
        kind: 'update',
        multiTable: true,
        tables: [T('users'), T('orders')],
        set: C('set `email` = ?, `name` = ?', 0, 1),
        where: C('where `users`.`id` = ?', 2),
      },
    },
  },
  {
    sql: 'update `tblPerson` inner join `tblPersonData` on `tblPersonData`.`PersonId` = `tblPerson`.`PersonId` set `tblPerson`.`City` = ? where `tblPersonData`.`DataId` = ? and `tblPerson`.`PersonId` = ?',
    expect: {
      class: 'write',
      unsafe: ['multi_table'],
      write: {
        kind: 'update',
        multiTable: true,
        tables: [T('tblPerson'), T('tblPersonData')],
        assignments: [A('City', P(0), 'tblPerson')],
        where: C('where `tblPersonData`.`DataId` = ? and `tblPerson`.`PersonId` = ?', 1, 2),
      },
    },
  },
  {
    sql: 'delete from `users` where `email` = ?',
    expect: {
      class: 'write',
      verb: 'delete',
      unsafe: [],
      tablesWritten: [T('users')],
      write: {
        kind: 'delete',
        ignore: false,
        multiTable: false,
        tables: [T('users')],
        referencedTables: [T('users')],
        where: C('where `email` = ?', 0),
        orderBy: null,
        limit: null,
      },
    },
  },
  {
    sql: 'delete from `users` where `email` = ? limit ?',
    expect: {
      class: 'write',
      unsafe: ['limit_without_order_by'],
      write: { kind: 'delete', where: C('where `email` = ?', 0), limit: C('limit ?', 1), orderBy: null },
    },
  },
  {
    sql: 'delete from `word` where `page_id` in (select `id` from `page` where `chapter_id` in (select `id` from `chapter` where `book` = ?))',
    expect: {
      class: 'write',
      placeholderCount: 1,
      unsafe: ['subquery'],
      write: { kind: 'delete', multiTable: false, tables: [T('word')] },
    },
  },
  {
    sql: 'truncate `users`',
    expect: { class: 'ddl', verb: 'truncate', ddl: { kind: 'truncate table', tables: [T('users')], temporary: false }, write: null },
  },

  // --- transactions --------------------------------------------------------
  { sql: 'BEGIN;', expect: { class: 'transaction', verb: 'begin', multiStatement: false, transaction: BEGIN(), unsafe: [] } },
  { sql: 'SAVEPOINT trx2;', expect: { class: 'transaction', verb: 'savepoint', transaction: SAVEPOINT('trx2') } },
  { sql: 'ROLLBACK TO SAVEPOINT trx2', expect: { class: 'transaction', verb: 'rollback', transaction: ROLLBACK_TO('trx2') } },
  { sql: 'RELEASE SAVEPOINT trx2;', expect: { class: 'transaction', verb: 'release', transaction: RELEASE('trx2') } },
  { sql: 'COMMIT;', expect: { class: 'transaction', verb: 'commit', transaction: COMMIT() } },
  { sql: 'ROLLBACK', expect: { class: 'transaction', verb: 'rollback', transaction: ROLLBACK() } },
  {
    sql: 'SET TRANSACTION ISOLATION LEVEL read committed;',
    note: 'knex transaction({ isolationLevel })',
    expect: { class: 'transaction', verb: 'set', transaction: SET_TX('next'), session: null },
  },
  {
    sql: 'SET TRANSACTION ISOLATION LEVEL serializable READ ONLY;',
    note: 'knex transaction({ isolationLevel, readOnly })',
    expect: { class: 'transaction', transaction: SET_TX('next') },
  },

  // --- migrator ------------------------------------------------------------
  {
    sql: 'create table `knex_migrations` (`id` int unsigned not null auto_increment primary key, `name` varchar(255), `batch` int, `migration_time` timestamp)',
    expect: {
      class: 'ddl',
      verb: 'create',
      placeholderCount: 0,
      tablesWritten: [T('knex_migrations')],
      ddl: { kind: 'create table', tables: [T('knex_migrations')], temporary: false },
    },
  },
  {
    sql: 'create table `knex_migrations_lock` (`index` int unsigned not null auto_increment primary key, `is_locked` int)',
    expect: { class: 'ddl', ddl: { kind: 'create table', tables: [T('knex_migrations_lock')] } },
  },
  {
    sql: 'update `knex_migrations_lock` set `is_locked` = ? where `is_locked` = ?',
    expect: {
      class: 'write',
      unsafe: [],
      write: { kind: 'update', tables: [T('knex_migrations_lock')], set: C('set `is_locked` = ?', 0), where: C('where `is_locked` = ?', 1) },
    },
  },
  {
    sql: 'select `name` from `knex_migrations` order by `id` asc',
    expect: { class: 'read', unsafe: [], tablesRead: [T('knex_migrations')] },
  },
  {
    sql: 'select max(`batch`) as `max_batch` from `knex_migrations`',
    expect: { class: 'read', unsafe: [] },
  },
  {
    sql: 'insert into `knex_migrations` (`name`, `batch`, `migration_time`) values (?, ?, ?)',
    expect: { class: 'write', unsafe: [], write: { kind: 'insert', columns: ['name', 'batch', 'migration_time'], rows: placeholderRows(1, 3) } },
  },
  {
    sql: 'alter table `person` add constraint `person_user_id_foreign` foreign key (`user_id`) references `users` (`id`) on delete SET NULL',
    note: 'the referenced table is not altered',
    expect: { class: 'ddl', verb: 'alter', ddl: { kind: 'alter table', tables: [T('person')], temporary: false } },
  },
  {
    sql: 'alter table `users` add unique `users_email_unique`(`email`)',
    expect: { class: 'ddl', ddl: { kind: 'alter table', tables: [T('users')] } },
  },
  {
    sql: 'create table `users_like` like `users`',
    expect: { class: 'ddl', ddl: { kind: 'create table', tables: [T('users_like')], temporary: false } },
  },
];
